"""The sandbox Exchange server driven by the real exchangelib client over HTTP."""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import requests
from exchangelib import (
    BASIC,
    DELEGATE,
    IMPERSONATION,
    NTLM,
    Account,
    CalendarItem,
    EWSDateTime,
    ExtendedProperty,
    HTMLBody,
    Mailbox,
    Message,
)
from exchangelib.errors import (
    ErrorAccessDenied,
    ErrorImpersonateUserDenied,
    ErrorInvalidSyncStateData,
    ErrorNonExistentMailbox,
    ErrorServerBusy,
    UnauthorizedError,
)
from exchangelib.items import SEND_TO_ALL_AND_SAVE_COPY

from exchange_sandbox.server import SandboxHandle, start_sandbox
from sandbox_helpers import (
    BAKKER,
    DEVRIES,
    SHARED,
    account,
    eml,
    folder_items,
)

AMS = ZoneInfo("Europe/Amsterdam")


class TopContactState(ExtendedProperty):
    """A named property in a private property set, as the product stores its bookkeeping."""

    property_set_id = "c11ff724-aa03-4555-9952-8fa248a11c3e"
    property_name = "TopContactState"
    property_type = "String"


class FlagStatus(ExtendedProperty):
    """PidTagFlagStatus: exchangelib 5.6 has no Flag field, so flags travel as MAPI properties."""

    property_tag = 0x1090
    property_type = "Integer"


class TaskDueDate(ExtendedProperty):
    """PidLidTaskDueDate, the due date of a follow-up flag."""

    distinguished_property_set_id = "Task"
    property_id = 0x8105
    property_type = "SystemTime"


@pytest.fixture(autouse=True)
def _register_extended_properties() -> Iterator[None]:
    Message.register("topcontact_state", TopContactState)
    Message.register("flag_status", FlagStatus)
    Message.register("flag_due", TaskDueDate)
    yield None
    Message.deregister("topcontact_state")
    Message.deregister("flag_status")
    Message.deregister("flag_due")


def test_delivered_mail_is_paged_by_sync_items_and_the_sync_state_resumes(
    sandbox: SandboxHandle, shared: Account, deliver: Callable[..., dict[str, str]]
) -> None:
    for n in range(7):
        deliver(eml(subject=f"Vraag {n}"))
    first = list(shared.inbox.sync_items(max_changes_returned=3, only_fields=["subject"]))
    assert [c for c, _ in first] == ["create"] * 7
    assert sorted(i.subject for _, i in first) == [f"Vraag {n}" for n in range(7)]
    assert sandbox.server.stats.snapshot()["operations"]["SyncFolderItems"] == 3
    state = shared.inbox.item_sync_state

    deliver(eml(subject="Nieuw na de sync"))
    again = list(shared.inbox.sync_items(sync_state=state, only_fields=["subject"]))
    assert [(c, i.subject) for c, i in again] == [("create", "Nieuw na de sync")]
    nothing = list(shared.inbox.sync_items(sync_state=shared.inbox.item_sync_state))
    assert nothing == []


def test_a_sync_state_of_another_folder_is_rejected(
    shared: Account, deliver: Callable[..., dict[str, str]]
) -> None:
    deliver(eml())
    list(shared.inbox.sync_items())
    with pytest.raises(ErrorInvalidSyncStateData):
        list(shared.sent.sync_items(sync_state=shared.inbox.item_sync_state))


def test_fetch_returns_headers_mime_and_threads_replies_into_one_conversation(
    shared: Account, deliver: Callable[..., dict[str, str]]
) -> None:
    original = eml(subject="Geen verwarming")
    first = deliver(original)
    reply = deliver(
        eml(subject="Re: Geen verwarming", extra=f"In-Reply-To: {_message_id(original)}\r\n")
    )
    unrelated = deliver(eml(subject="Iets anders"))
    items = list(
        shared.fetch(
            ids=[(first["id"], None), (reply["id"], None), (unrelated["id"], None)],
            only_fields=[
                "mime_content",
                "headers",
                "conversation_id",
                "message_id",
                "datetime_received",
                "sender",
                "author",
                "is_read",
                "item_class",
                "subject",
            ],
        )
    )
    assert items[0].mime_content == original
    assert items[0].message_id == _message_id(original)
    assert {h.name: h.value for h in items[0].headers}["Subject"] == "Geen verwarming"
    assert items[0].author.email_address == "piet@example.org"
    assert items[0].item_class == "IPM.Note"
    assert items[0].is_read is False
    assert items[0].conversation_id == items[1].conversation_id
    assert items[2].conversation_id != items[0].conversation_id


def test_a_thread_index_header_decides_the_conversation(
    sandbox: SandboxHandle, deliver: Callable[..., dict[str, str]]
) -> None:
    guid = "0123456789abcdef0123456789abcdef"
    index = bytes([1, 0, 0, 0, 0, 0]) + bytes.fromhex(guid) + b"\x00\x00\x00\x00\x01"
    result = deliver(eml(extra=f"Thread-Index: {base64.b64encode(index).decode()}\r\n"))
    assert result["conversation_id"] == guid


def test_send_and_save_lands_in_sent_items_and_in_a_sandbox_recipients_inbox(
    sandbox: SandboxHandle, shared: Account
) -> None:
    mime = eml(
        subject="Ontvangstbevestiging",
        sender=f"Klantcontact <{SHARED}>",
        to=f"Jan <{DEVRIES}>, piet@example.org",
        extra="Auto-Submitted: auto-replied\r\n",
    )
    Message(account=shared, folder=shared.sent, mime_content=mime).send_and_save()
    sent = folder_items(sandbox, SHARED, "sentitems")
    assert [s["subject"] for s in sent] == ["Ontvangstbevestiging"]
    assert ["Auto-Submitted", "auto-replied"] in sent[0]["headers"]  # type: ignore[operator]  # JSON list
    inbox = folder_items(sandbox, DEVRIES, "inbox")
    assert [i["subject"] for i in inbox] == ["Ontvangstbevestiging"]
    assert folder_items(sandbox, SHARED, "inbox") == []


def test_bulk_create_saves_drafts_and_send_delivers_them(
    sandbox: SandboxHandle, shared: Account
) -> None:
    drafts = [
        Message(
            account=shared,
            folder=shared.drafts,
            subject=f"Concept {n}",
            body=HTMLBody("<p>Hallo</p>"),
            to_recipients=[Mailbox(email_address=BAKKER)],
        )
        for n in range(2)
    ]
    ids = shared.bulk_create(folder=shared.drafts, items=drafts)
    assert len(ids) == 2
    fetched = list(shared.fetch(ids=ids))
    assert all(m.is_draft for m in fetched)
    fetched[0].send(save_copy=True, copy_to_folder=shared.sent)
    assert [i["subject"] for i in folder_items(sandbox, BAKKER, "inbox")] == ["Concept 0"]
    assert [i["subject"] for i in folder_items(sandbox, SHARED, "drafts")] == ["Concept 1"]
    assert [i["subject"] for i in folder_items(sandbox, SHARED, "sentitems")] == ["Concept 0"]


def test_flag_categories_and_extended_property_update_change_the_key_and_sync_as_update(
    sandbox: SandboxHandle, shared: Account, deliver: Callable[..., dict[str, str]]
) -> None:
    deliver(eml())
    list(shared.inbox.sync_items())
    state = shared.inbox.item_sync_state
    item = next(iter(shared.inbox.all()))
    old_key = item.changekey
    due = EWSDateTime(2026, 12, 4, 17, 0, tzinfo=AMS)
    item.flag_status = 2
    item.flag_due = due
    item.categories = ["Top Contact", "Wacht op antwoord"]
    item.topcontact_state = "acknowledged"
    item.save(update_fields=["flag_status", "flag_due", "categories", "topcontact_state"])
    assert item.changekey != old_key

    changes = list(
        shared.inbox.sync_items(
            sync_state=state,
            only_fields=["flag_status", "flag_due", "categories", "topcontact_state", "subject"],
        )
    )
    assert [c for c, _ in changes] == ["update"]
    updated = changes[0][1]
    assert updated.flag_status == 2
    assert updated.flag_due == due
    assert updated.categories == ["Top Contact", "Wacht op antwoord"]
    assert updated.topcontact_state == "acknowledged"
    # The MAPI properties and the EWS/Graph flag are one and the same state.
    (stored,) = folder_items(sandbox, SHARED, "inbox")
    assert stored["flag"] == {
        "status": "Flagged",
        "start": None,
        "due": "2026-12-04T16:00:00+00:00",
        "complete": None,
    }

    item.is_read = True
    item.save(update_fields=["is_read"])
    read = list(shared.inbox.sync_items(sync_state=shared.inbox.item_sync_state))
    assert [c for c, _ in read] == ["read_flag_change"]


def test_bulk_update_and_delete_item_field(
    shared: Account, deliver: Callable[..., dict[str, str]]
) -> None:
    deliver(eml(subject="A"))
    deliver(eml(subject="B"))
    items = list(shared.inbox.all())
    for it in items:
        it.categories = ["Beantwoord"]
        it.topcontact_state = "answered"
    shared.bulk_update(items=[(it, ["categories", "topcontact_state"]) for it in items])
    fresh = list(shared.inbox.all().only("categories", "topcontact_state"))
    assert {tuple(f.categories) for f in fresh} == {("Beantwoord",)}
    first = fresh[0]
    first.categories = None
    first.save(update_fields=["categories"])
    assert shared.inbox.get(id=first.id).categories is None


def test_meeting_request_lands_in_the_attendees_calendar_and_inbox(
    sandbox: SandboxHandle, shared: Account, devries: Account
) -> None:
    start = EWSDateTime(2026, 11, 30, 10, 0, tzinfo=AMS)
    CalendarItem(
        account=shared,
        folder=shared.calendar,
        subject="Terugbelverzoek: mevrouw Jansen",
        start=start,
        end=start + timedelta(minutes=15),
        required_attendees=[DEVRIES],
        body="Bel mevrouw Jansen terug over de lekkage.",
    ).save(send_meeting_invitations=SEND_TO_ALL_AND_SAVE_COPY)

    requests_in_inbox = list(devries.inbox.all())
    assert [r.__class__.__name__ for r in requests_in_inbox] == ["MeetingRequest"]
    assert requests_in_inbox[0].subject == "Terugbelverzoek: mevrouw Jansen"
    assert requests_in_inbox[0].item_class == "IPM.Schedule.Meeting.Request"
    in_calendar = list(
        devries.calendar.view(start=start - timedelta(hours=1), end=start + timedelta(hours=1))
    )
    assert [(c.subject, c.legacy_free_busy_status) for c in in_calendar] == [
        ("Terugbelverzoek: mevrouw Jansen", "Tentative")
    ]
    organizer = list(shared.calendar.all())
    assert organizer[0].organizer.email_address == SHARED


def test_free_busy_reflects_calendar_items(sandbox: SandboxHandle, devries: Account) -> None:
    start = EWSDateTime(2026, 11, 30, 9, 0, tzinfo=AMS)
    CalendarItem(
        account=devries,
        folder=devries.calendar,
        subject="Overleg",
        start=start,
        end=start + timedelta(hours=1),
    ).save()
    window_start = EWSDateTime(2026, 11, 30, 8, 0, tzinfo=AMS)
    views = list(
        devries.protocol.get_free_busy_info(
            accounts=[(devries, "Required", False), (BAKKER, "Required", False)],
            start=window_start,
            end=window_start + timedelta(hours=4),
            merged_free_busy_interval=30,
        )
    )
    busy, free = views
    assert [(e.start, e.end, e.busy_type) for e in busy.calendar_events] == [
        (start.replace(tzinfo=AMS), (start + timedelta(hours=1)).replace(tzinfo=AMS), "Busy")
    ]
    assert busy.merged == "00220000"
    assert free.calendar_events is None or list(free.calendar_events) == []
    assert free.merged == "0" * 8


def test_pull_subscription_reports_new_mail(
    shared: Account, deliver: Callable[..., dict[str, str]]
) -> None:
    with shared.inbox.pull_subscription() as (subscription_id, watermark):
        delivered = deliver(eml(subject="Melding"))
        notification = next(iter(shared.inbox.get_events(subscription_id, watermark)))
        kinds = [e.__class__.__name__ for e in notification.events]
        assert "NewMailEvent" in kinds
        assert delivered["id"] in {
            e.item_id.id for e in notification.events if hasattr(e, "item_id")
        }
        quiet = next(
            iter(shared.inbox.get_events(subscription_id, notification.events[-1].watermark))
        )
        assert [e.__class__.__name__ for e in quiet.events] == ["StatusEvent"]


@pytest.mark.parametrize("auth", [BASIC, NTLM])
def test_the_right_password_works_and_a_wrong_one_raises_unauthorized(
    sandbox: SandboxHandle, auth: str
) -> None:
    good = account(sandbox, SHARED, DELEGATE, auth_type=auth)
    assert good.inbox.total_count == 0
    bad = account(sandbox, SHARED, DELEGATE, auth_type=auth, password="wrong")
    with pytest.raises(UnauthorizedError):
        bad.inbox.total_count  # noqa: B018  # the property access is the request


def test_exchangelib_can_probe_the_server_version(sandbox: SandboxHandle) -> None:
    probing = account(sandbox, SHARED, DELEGATE, probe=True)
    assert probing.version.build.major_version == 15
    assert probing.version.api_version == "Exchange2016"


def test_unknown_mailbox_and_missing_rights_give_exchange_errors(sandbox: SandboxHandle) -> None:
    with pytest.raises(ErrorNonExistentMailbox):
        account(sandbox, "nobody@woonservice.example", DELEGATE).inbox  # noqa: B018  # access is the request
    with pytest.raises(ErrorAccessDenied):
        account(sandbox, DEVRIES, DELEGATE).inbox  # noqa: B018  # delegate rights are on the shared box only
    with pytest.raises(ErrorImpersonateUserDenied):
        account(sandbox, SHARED, IMPERSONATION, user="j.devries").inbox  # noqa: B018  # no impersonation role


def test_server_busy_surfaces_as_error_server_busy_with_back_off(
    sandbox: SandboxHandle, shared: Account
) -> None:
    assert shared.inbox.total_count == 0
    sandbox.set_faults("server_busy=1.0,backoff_ms=1500,ops=FindItem")
    with pytest.raises(ErrorServerBusy) as caught:
        list(shared.inbox.all())
    assert caught.value.back_off == 1.5
    assert sandbox.server.stats.snapshot()["faults"] == {"server_busy": 1}
    sandbox.set_faults("")
    assert list(shared.inbox.all()) == []


def test_everything_survives_a_restart_with_a_state_dir(tmp_path: Path) -> None:
    first = start_sandbox(state_dir=tmp_path)
    try:
        requests.post(
            f"{first.url}/_sandbox/deliver",
            params={"mailbox": SHARED},
            data=eml(subject="Blijft"),
            timeout=10,
        ).raise_for_status()
        acc = account(first, SHARED, DELEGATE)
        list(acc.inbox.sync_items())
        state = acc.inbox.item_sync_state
    finally:
        first.stop()
    second = start_sandbox(state_dir=tmp_path)
    try:
        acc = account(second, SHARED, DELEGATE)
        assert [i.subject for i in acc.inbox.all()] == ["Blijft"]
        assert list(acc.inbox.sync_items(sync_state=state)) == []
    finally:
        second.stop()


def _message_id(mime: bytes) -> str:
    for line in mime.decode().split("\r\n"):
        if line.startswith("Message-ID: "):
            return line[len("Message-ID: ") :]
    raise AssertionError("no Message-ID")


def test_received_time_given_at_delivery_is_reported(
    shared: Account, deliver: Callable[..., dict[str, str]]
) -> None:
    deliver(eml(), received="2026-11-27T18:00:00+01:00")
    item = next(iter(shared.inbox.all().only("datetime_received")))
    assert item.datetime_received == datetime(2026, 11, 27, 17, 0, tzinfo=ZoneInfo("UTC"))


def test_streaming_subscription_delivers_new_mail_events(
    sandbox: SandboxHandle, shared: Account, deliver: Callable[..., dict[str, str]]
) -> None:
    with shared.inbox.streaming_subscription() as subscription_id:
        delivered = deliver(eml(subject="Stroom"))
        seen: set[str] = set()
        for notification in shared.inbox.get_streaming_events(
            subscription_id, connection_timeout=1
        ):
            seen |= {e.item_id.id for e in notification.events if hasattr(e, "item_id")}
            if delivered["id"] in seen:
                break
    assert delivered["id"] in seen


def test_concurrent_deliveries_and_syncs_lose_nothing(
    sandbox: SandboxHandle, shared: Account
) -> None:
    from concurrent.futures import ThreadPoolExecutor

    def deliver_some(worker: int) -> list[str]:
        with requests.Session() as session:
            return [
                session.post(
                    f"{sandbox.url}/_sandbox/deliver",
                    params={"mailbox": SHARED},
                    data=eml(subject=f"w{worker}-{n}"),
                    timeout=10,
                ).json()["id"]
                for n in range(15)
            ]

    seen: set[str] = set()
    with ThreadPoolExecutor(max_workers=6) as pool:
        futures = [pool.submit(deliver_some, w) for w in range(5)]
        state = None
        while not all(f.done() for f in futures):
            seen |= {
                i.id for _, i in shared.inbox.sync_items(sync_state=state, max_changes_returned=7)
            }
            state = shared.inbox.item_sync_state
        delivered = {i for f in futures for i in f.result()}
    seen |= {i.id for _, i in shared.inbox.sync_items(sync_state=state)}
    assert seen == delivered
    assert len(delivered) == 75
