"""Opening the shared mailbox over EWS: the first request tells a refused credential from a busy server."""

from __future__ import annotations

import pytest

from topcontact_mail.adapters.ews import EwsMailbox
from topcontact_mail.adapters.ews.account import probe
from topcontact_mail.adapters.retry import Retry
from topcontact_mail.ports import CredentialsRejected, MailboxUnavailable

from .support import SHARED, FakeEws, Sleeps, connection_dropped, fault


def retry(sleeps: Sleeps) -> Retry:
    return Retry(first_wait=1.0, attempts=4, sleep=sleeps)


def test_refused_credentials_are_reported_at_once_not_taken_for_throttling(
    ews: FakeEws, mailbox: EwsMailbox, sleeps: Sleeps
) -> None:
    ews.on("GetFolder", (401, ""))

    with pytest.raises(CredentialsRejected, match="refuses the credentials"):
        probe(mailbox.account, SHARED, retry(sleeps))
    assert len(ews.sent("GetFolder")) == 1
    assert sleeps == []


def test_a_mailbox_the_account_may_not_open_is_reported_with_its_code(
    ews: FakeEws, mailbox: EwsMailbox, sleeps: Sleeps
) -> None:
    ews.on("GetFolder", fault("ErrorNonExistentMailbox", "No mailbox with such guid."))

    with pytest.raises(MailboxUnavailable, match=r"no access to .*ErrorNonExistentMailbox"):
        probe(mailbox.account, SHARED, retry(sleeps))
    assert sleeps == []


def test_a_busy_or_unreachable_server_is_tried_again_honouring_its_back_off(
    ews: FakeEws, mailbox: EwsMailbox, sleeps: Sleeps
) -> None:
    ews.on("GetFolder", fault("ErrorServerBusy", back_off_ms=3000), connection_dropped())

    probe(mailbox.account, SHARED, retry(sleeps))

    assert sleeps == [3.0, 2.0]


def test_a_server_that_stays_away_makes_the_mailbox_unavailable_after_four_tries(
    ews: FakeEws, mailbox: EwsMailbox, sleeps: Sleeps
) -> None:
    ews.on("GetFolder", *[connection_dropped()] * 4)

    with pytest.raises(MailboxUnavailable, match="cannot open"):
        probe(mailbox.account, SHARED, retry(sleeps))
    assert sleeps == [1.0, 2.0, 4.0]


def test_a_busy_answer_to_the_version_probe_is_waited_out_as_the_server_asked(
    ews: FakeEws, mailbox: EwsMailbox, sleeps: Sleeps
) -> None:
    """exchangelib learns the server's version from a ConvertId first and wraps a refusal of it
    in a TransportError ("No valid version headers"); its BackOffMilliseconds still counts (it
    was taken for a lost answer, and the probe asked again after 0.2 s: the proving ground's
    early retries)."""
    ews.on("ConvertId", fault("ErrorServerBusy", back_off_ms=1500))

    probe(mailbox.account, SHARED, retry(sleeps))

    assert len(ews.sent("ConvertId")) == 2
    assert sleeps == [1.5]
