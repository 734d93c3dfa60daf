"""EWS front of the sandbox Exchange server (a test double): SOAP operations over the mailbox store.

:class:`EwsService` answers one SOAP request; the HTTP server (:mod:`exchange_sandbox.server`)
authenticates it (:mod:`exchange_sandbox.ews.auth`) and serves streaming notifications.
"""

from exchange_sandbox.ews.service import EwsService, operation_of

__all__ = ["EwsService", "operation_of"]
