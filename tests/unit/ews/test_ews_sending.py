"""The EWS mailbox sending acknowledgements: what goes out, and what each failure means for the tenant."""

from __future__ import annotations

import email
import email.policy

import pytest

from topcontact_mail.adapters.ews import EwsMailbox
from topcontact_mail.domain.message import Address
from topcontact_mail.ports import MailboxUnavailable

from .support import (
    FakeEws,
    Sleeps,
    connection_dropped,
    create_answer,
    fault,
    outgoing,
    sent_mime,
)


def test_an_acknowledgement_goes_out_as_complete_mime_with_a_copy_in_sent_items(
    ews: FakeEws, mailbox: EwsMailbox
) -> None:
    ews.on("CreateItem", create_answer("NoError"))

    (outcome,) = mailbox.send_acknowledgements([outgoing(1)])

    assert outcome.ok
    assert outcome.key == "ref1"
    (request,) = ews.sent("CreateItem")
    assert 'MessageDisposition="SendAndSaveCopy"' in request
    assert 'DistinguishedFolderId Id="sentitems"' in request
    (mime,) = sent_mime(request)
    sent = email.message_from_bytes(mime, policy=email.policy.default)
    assert sent["Auto-Submitted"] == "auto-replied"
    assert sent["Message-ID"] == "<ref1@woonservice.example>"
    assert sent["In-Reply-To"] == "<m1@example.nl>"
    assert sent["To"] == "Jan Jansen <huurder1@example.nl>"


def test_a_batch_goes_out_in_one_request_with_one_outcome_per_acknowledgement(
    ews: FakeEws, mailbox: EwsMailbox
) -> None:
    ews.on("CreateItem", create_answer("NoError", "NoError", "NoError"))

    outcomes = mailbox.send_acknowledgements([outgoing(n) for n in (1, 2, 3)])

    assert [(o.key, o.ok) for o in outcomes] == [("ref1", True), ("ref2", True), ("ref3", True)]
    assert len(sent_mime(ews.sent("CreateItem")[0])) == 3


def test_a_busy_server_gets_the_send_again_after_its_back_off_milliseconds(
    ews: FakeEws, mailbox: EwsMailbox, sleeps: Sleeps
) -> None:
    ews.on("CreateItem", fault("ErrorServerBusy", back_off_ms=2500), create_answer("NoError"))

    (outcome,) = mailbox.send_acknowledgements([outgoing(1)])

    assert outcome.ok
    assert sleeps == [2.5]
    assert len(ews.sent("CreateItem")) == 2


def test_a_server_that_stays_busy_leaves_the_send_for_later_after_three_tries(
    ews: FakeEws, mailbox: EwsMailbox, sleeps: Sleeps
) -> None:
    ews.on("CreateItem", *[fault("ErrorServerBusy")] * 3)

    (outcome,) = mailbox.send_acknowledgements([outgoing(1)])

    assert not outcome.ok
    assert outcome.transient
    assert "server stayed busy" in outcome.error
    assert len(ews.sent("CreateItem")) == 3
    assert sleeps == [1.0, 2.0]  # no BackOffMilliseconds: doubling from the configured wait


@pytest.mark.parametrize(
    "answer",
    [
        connection_dropped(),
        (503, "<html><body>Service Unavailable</body></html>"),
        (500, "<html><body>500 - Internal server error.</body></html>"),
        fault("ErrorTimeoutExpired", "The request timed out."),
        fault("ErrorInternalServerTransientError", "An internal server error occurred."),
        # exchangelib calls any failed answer with `Connection: close` ErrorServerBusy itself.
        (502, "<html><body>Bad Gateway</body></html>", {"Connection": "close"}),
    ],
    ids=[
        "dropped",
        "http-503",
        "http-500-page",
        "timeout-fault",
        "internal-transient-fault",
        "closed-by-proxy",
    ],
)
def test_a_send_that_may_have_gone_out_is_reported_interrupted_and_never_repeated(
    ews: FakeEws, mailbox: EwsMailbox, sleeps: Sleeps, answer: object
) -> None:
    ews.on("CreateItem", answer, create_answer("NoError"))  # type: ignore[arg-type]

    (outcome,) = mailbox.send_acknowledgements([outgoing(1)])

    assert len(ews.sent("CreateItem")) == 1
    assert not outcome.ok
    assert outcome.transient  # the service looks in Sent Items before sending again
    assert outcome.error.startswith("send interrupted")
    assert sleeps == []


def test_a_refused_send_is_reported_permanent(
    ews: FakeEws, mailbox: EwsMailbox, sleeps: Sleeps
) -> None:
    ews.on("CreateItem", fault("ErrorAccessDenied", "Access is denied."))

    (outcome,) = mailbox.send_acknowledgements([outgoing(1)])

    assert not outcome.ok
    assert not outcome.transient
    assert "ErrorAccessDenied" in outcome.error
    assert len(ews.sent("CreateItem")) == 1
    assert sleeps == []


def test_per_item_errors_give_each_acknowledgement_its_own_outcome_without_a_resend(
    ews: FakeEws, mailbox: EwsMailbox, sleeps: Sleeps
) -> None:
    ews.on(
        "CreateItem",
        create_answer(
            "NoError", "ErrorSendAsDenied", "ErrorMailboxStoreUnavailable", "ErrorServerBusy"
        ),
    )

    sent, refused, store_down, busy = mailbox.send_acknowledgements(
        [outgoing(n) for n in (1, 2, 3, 4)]
    )

    assert [(o.ok, o.transient) for o in (sent, refused, store_down, busy)] == [
        (True, False),
        (False, False),
        (False, True),
        (False, True),
    ]
    assert refused.error.startswith("ErrorSendAsDenied")
    assert len(ews.sent("CreateItem")) == 1  # the first one went out: nothing is sent again
    assert sleeps == []


def test_a_notice_that_cannot_be_sent_raises(ews: FakeEws, mailbox: EwsMailbox) -> None:
    ews.on("CreateItem", connection_dropped())

    with pytest.raises(MailboxUnavailable, match="notice not sent"):
        mailbox.send_notice(Address("beheer@woonservice.example"), "Alert", "Tekst")
    assert len(ews.sent("CreateItem")) == 1


def test_a_notice_goes_out_to_the_administrator(ews: FakeEws, mailbox: EwsMailbox) -> None:
    ews.on("CreateItem", create_answer("NoError"))

    mailbox.send_notice(Address("beheer@woonservice.example"), "Alert", "Tekst")

    (request,) = ews.sent("CreateItem")
    assert "beheer@woonservice.example" in request
    assert 'MessageDisposition="SendAndSaveCopy"' in request
