"""The Exchange Server (on-premises) backend: Exchange Web Services through exchangelib."""

from topcontact_mail.adapters.ews.mailbox import EwsMailbox, connect

__all__ = ["EwsMailbox", "connect"]
