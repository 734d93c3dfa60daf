"""The shared mailbox's exchangelib account: credentials, configuration, and the first request.

exchangelib runs with `FailFast`: it neither waits nor repeats a request by
itself (its `FaultTolerance` would sleep for up to an hour, take a 401 for
throttling and repeat sends blindly). The adapter's retries are those of
`topcontact_mail.adapters.retry`; see `faults.py` for how exchangelib's errors
are read.
"""

from __future__ import annotations

from typing import Any

from exchangelib import (
    BASIC,
    DELEGATE,
    IMPERSONATION,
    NTLM,
    OAUTH2,
    Account,
    Configuration,
    Credentials,
    OAuth2Credentials,
)
from exchangelib.protocol import FailFast

from topcontact_mail.adapters.ews.faults import attempt
from topcontact_mail.adapters.ews.transport import use_large_chunks
from topcontact_mail.adapters.retry import Failure, Retry
from topcontact_mail.config import EwsSettings, Settings
from topcontact_mail.logs import get_logger
from topcontact_mail.ports import CredentialsRejected, MailboxUnavailable

#: Answers that mean the service account may not open the shared mailbox (not a passing fault).
NO_ACCESS = frozenset(
    {"ErrorAccessDenied", "ErrorNonExistentMailbox", "ErrorImpersonateUserDenied"}
)


def _credentials(ews: EwsSettings, mailbox: str) -> Any:
    credentials: Any
    if ews.auth_type == "oauth":
        secret = ews.client_secret.get_secret_value() if ews.client_secret else ""
        credentials = OAuth2Credentials(
            client_id=ews.client_id, client_secret=secret, tenant_id=ews.tenant_id
        )
    else:
        password = ews.password.get_secret_value() if ews.password else ""
        credentials = Credentials(ews.username, password)
    # exchangelib keeps one protocol (one pool of `max_connections` sessions) per endpoint and
    # credentials, compared by all their attributes. Several mailboxes served by one service
    # account in one process would share one pool: each streaming subscription holds a session
    # for minutes, so a few mailboxes starve the rest, and one mailbox's close() would empty
    # the others' pool. Naming the mailbox here gives each mailbox a pool of its own, as if it
    # ran in a process of its own (the same mailbox reconnecting reuses its pool).
    credentials.topcontact_mailbox = mailbox.lower()
    return credentials


def build_account(settings: Settings, ews: EwsSettings) -> Account:
    """The shared mailbox's exchangelib account; no request is made yet (unless autodiscover)."""
    if not ews.verify_tls:
        get_logger("ews").warning("TLS verification is OFF: only acceptable against a test server")
    use_large_chunks(ews.verify_tls)
    config = Configuration(
        service_endpoint=ews.service_endpoint,
        credentials=_credentials(ews, settings.connection.shared_mailbox),
        auth_type={"oauth": OAUTH2, "ntlm": NTLM, "basic": BASIC}[ews.auth_type],
        retry_policy=FailFast(),
        max_connections=4,
    )
    account = Account(
        primary_smtp_address=settings.connection.shared_mailbox,
        config=config,
        autodiscover=ews.autodiscover,
        access_type=IMPERSONATION if ews.access_type == "impersonation" else DELEGATE,
    )
    # exchangelib shares one protocol per endpoint and credentials, and keeps these as class
    # defaults: this account's protocol gets the policy and times set here.
    account.protocol.config.retry_policy = FailFast()
    account.protocol.RETRY_WAIT = 0  # a missing back-off stays missing (faults.py)
    account.protocol.TIMEOUT = ews.timeout_seconds
    return account


def probe(account: Account, mailbox: str, retry: Retry) -> None:
    """The first request: a refused credential or mailbox is reported at once, a busy server retried."""
    result = retry.run("GetFolder", attempt(lambda: account.inbox.refresh(), idempotent=True))
    if not isinstance(result, Failure):
        return
    if result.status == 401:
        raise CredentialsRejected(
            f"Exchange refuses the credentials of the service account for {mailbox}: {result.detail}",
            error="unauthorized",
        )
    if result.code in NO_ACCESS:
        raise MailboxUnavailable(f"no access to {mailbox}: {result.describe()}")
    raise MailboxUnavailable(f"cannot open {mailbox}: {result.describe()}")
