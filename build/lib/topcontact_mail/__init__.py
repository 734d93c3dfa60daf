"""topcontact-mail: keeps the Top Contact response terms in an Exchange shared mailbox."""

__version__ = "0.1.0"
