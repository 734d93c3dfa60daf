"""Asynchronous submission over EWS, driven by exchangelib: Sent Items and recipients only after the delay."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from exchangelib import DELEGATE, IMPERSONATION, ExtendedProperty, Message
from exchangelib.errors import TransportError

from sandbox_helpers import account, eml
from submission_helpers import DELAYS, DEVRIES, SHARED, delivered_after, sandbox_with_clock


class AckRef(ExtendedProperty):
    """A named property in a private set, as the product marks what it sends."""

    property_set_id = "c11ff724-aa03-4555-9952-8fa248a11c3e"
    property_name = "TopContactAckRef"
    property_type = "String"


@pytest.fixture(autouse=True)
def _register_ack_ref() -> Iterator[None]:
    Message.register("ack_ref", AckRef)
    yield None
    Message.deregister("ack_ref")


def acknowledgement(ref: str = "ref-1") -> bytes:
    return eml(
        subject="Ontvangstbevestiging",
        sender=f"Klantcontact <{SHARED}>",
        to=f"Jan <{DEVRIES}>",
        extra=(
            "In-Reply-To: <vraag-1@example.org>\r\nReferences: <vraag-1@example.org>\r\n"
            "Auto-Submitted: auto-replied\r\nX-Topcontact-Ref: " + ref + "\r\n"
            "Received: from client.example by sandbox-ex01\r\nOrganization: Woonservice\r\n"
        ),
    )


@pytest.mark.parametrize("delay_ms", DELAYS)
@pytest.mark.parametrize("in_transit", ["outbox", "hidden"])
def test_send_and_save_copy_reaches_sent_items_and_the_recipient_after_the_delay(
    delay_ms: int, in_transit: str
) -> None:
    with sandbox_with_clock(delay_ms, in_transit) as (handle, clock):
        shared = account(handle, SHARED, DELEGATE)
        devries = account(handle, DEVRIES, IMPERSONATION)
        Message(
            account=shared, folder=shared.sent, mime_content=acknowledgement(), ack_ref="ref-1"
        ).send_and_save()

        if delay_ms:
            assert list(shared.sent.all()) == []
            assert list(devries.inbox.all()) == []
            waiting = list(shared.outbox.all())
            if in_transit == "outbox":
                [item] = waiting
                assert item.is_draft
                assert item.subject == "Ontvangstbevestiging"
                assert item.ack_ref == "ref-1"
            else:
                assert waiting == []
            assert len(handle.store.in_transit(SHARED)) == 1

        delivered_after(handle.store, clock, delay_ms)

        [copy] = list(shared.sent.all())
        assert list(shared.outbox.all()) == []
        assert copy.ack_ref == "ref-1"  # the MAPI property set at creation stays
        assert copy.in_reply_to == "<vraag-1@example.org>"
        headers = {h.name.lower(): h.value for h in copy.headers or []}
        assert headers["x-topcontact-ref"] == "ref-1"
        assert headers["auto-submitted"] == "auto-replied"
        assert headers["message-id"] == copy.message_id
        assert "received" not in headers
        assert "organization" not in headers
        assert b"Received:" not in copy.mime_content
        [received] = list(devries.inbox.all())
        assert received.message_id == copy.message_id
        assert received.ack_ref is None  # the sender's properties do not travel


def test_send_item_of_a_draft_waits_in_the_outbox_and_leaves_drafts_at_once() -> None:
    with sandbox_with_clock(5_000) as (handle, clock):
        shared = account(handle, SHARED, DELEGATE)
        draft = Message(
            account=shared,
            folder=shared.drafts,
            subject="Concept",
            body="Hallo",
            to_recipients=[DEVRIES],
            ack_ref="ref-2",
        )
        draft.save()
        draft.send(save_copy=True, copy_to_folder=shared.sent)
        assert list(shared.drafts.all()) == []
        [waiting] = list(shared.outbox.all())
        assert waiting.ack_ref == "ref-2"
        assert list(shared.sent.all()) == []
        delivered_after(handle.store, clock, 5_000)
        [copy] = list(shared.sent.all())
        assert copy.ack_ref == "ref-2"
        assert copy.id != waiting.id  # a new item in Sent Items


def test_a_lost_answer_still_submits_the_message() -> None:
    with sandbox_with_clock(5_000) as (handle, clock):
        shared = account(handle, SHARED, DELEGATE)
        handle.set_faults("lost=1.0,ops=CreateItem")
        with pytest.raises(TransportError):
            Message(
                account=shared, folder=shared.sent, mime_content=acknowledgement()
            ).send_and_save()
        handle.set_faults("")
        assert len(handle.store.in_transit(SHARED)) == 1
        assert list(shared.sent.all()) == []
        delivered_after(handle.store, clock, 5_000)
        assert len(list(shared.sent.all())) == 1
        assert handle.server.stats.faults["lost"] == 1


def test_a_dropped_request_submits_nothing() -> None:
    with sandbox_with_clock(5_000) as (handle, _clock):
        shared = account(handle, SHARED, DELEGATE)
        handle.set_faults("drop=1.0,ops=CreateItem")
        with pytest.raises(TransportError):
            Message(
                account=shared, folder=shared.sent, mime_content=acknowledgement()
            ).send_and_save()
        handle.set_faults("")
        assert handle.store.in_transit() == []
        assert handle.store.run_due_submissions(everything=True) == []
        assert list(shared.outbox.all()) == []
        assert list(shared.sent.all()) == []


def test_a_slow_answer_is_submitted_and_delivered_after_the_delay() -> None:
    with sandbox_with_clock(5_000) as (handle, clock):
        shared = account(handle, SHARED, DELEGATE)
        handle.set_faults("slow=1.0,slow_ms=150,ops=CreateItem")
        Message(account=shared, folder=shared.sent, mime_content=acknowledgement()).send_and_save()
        handle.set_faults("")
        assert handle.server.stats.faults["slow"] == 1
        assert list(shared.sent.all()) == []
        delivered_after(handle.store, clock, 5_000)
        assert len(list(shared.sent.all())) == 1
