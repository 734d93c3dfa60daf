"""The Exchange Online (Microsoft 365) backend: Microsoft Graph with app-only tokens from msal."""

from topcontact_mail.adapters.graph.auth import CredentialsRejected
from topcontact_mail.adapters.graph.mailbox import GraphMailbox, connect

__all__ = ["CredentialsRejected", "GraphMailbox", "connect"]
