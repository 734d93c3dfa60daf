"""Callbacks against the sandbox over HTTP, with the real daemon and command line, on both backends.

A colleague (Anouk Bakker, a sandbox mailbox, so she receives the replies)
books callbacks for Jan de Vries by mail to the shared mailbox or with
`topcontact-mail callback book`; the organiser is the shared mailbox. Jan has
set his own working hours (09:00-16:00, through the sandbox's calendar control,
as in Outlook); the service reads them from Exchange. He declines with the
backend's own operation or as in Outlook (the calendar control).
"""

from __future__ import annotations

import contextlib
import html
import json
import random
import re
import sqlite3
import subprocess
import sys
import time
import tomllib
from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import requests
from exchangelib import IMPERSONATION, NTLM, Account, Configuration, Credentials
from exchangelib.items import MeetingRequest

from exchange_sandbox import Item
from exchange_sandbox.store import Address as StoreAddress
from exchange_sandbox.store import CalendarFields, NewItem
from tests.integration.conftest import PASSWORD, SHARED, USER, Backend

pytestmark = pytest.mark.integration

AMS = ZoneInfo("Europe/Amsterdam")
JAN = "j.devries@woonservice.example"
ANOUK = "a.bakker@woonservice.example"
CALLBACKS = f"""
[callbacks]
check_interval_seconds = 5
[[callbacks.staff]]
name = "Jan de Vries"
address = "{JAN}"
fallback = "{ANOUK}"
[[callbacks.staff]]
name = "Anouk Bakker"
address = "{ANOUK}"
[[callbacks.staff]]
name = "Jan Bakker"
address = "jan.bakker@woonservice.example"
"""
FORM = "Voor: Jan de Vries\nNaam: {name}\nTelefoon: 06-12345678\nOnderwerp: lekkage badkamer\n"


def booking_mail(
    n: int, body: str, *, html: bool = False, subject: str = "Terugbelverzoek"
) -> bytes:
    kind = "html" if html else "plain"
    return (
        f"From: Anouk Bakker <{ANOUK}>\r\nTo: {SHARED}\r\nSubject: {subject}\r\n"
        f"Message-ID: <booking-{n}@ex01.woonservice.example>\r\n"
        f"Content-Type: text/{kind}; charset=utf-8\r\n\r\n" + body.replace("\n", "\r\n")
    ).encode()


#: Jan's own working hours, as he set them in Outlook (the service reads them from Exchange).
JAN_HOURS = {"days": ["monday", "tuesday", "wednesday", "thursday", "friday"]}
JAN_START, JAN_END = (9, 0), (16, 0)


def control(backend: Backend, path: str, **body: object) -> dict[str, object]:
    """What a colleague does in Outlook, through the sandbox's calendar controls."""
    answer = requests.post(f"{backend.sandbox.url}/_sandbox/{path}", json=body, timeout=30)
    assert answer.status_code in (200, 201), answer.text
    result: dict[str, object] = answer.json()
    return result


@pytest.fixture
def booked(backend: Backend) -> Backend:
    backend.reconfigure(extra=CALLBACKS)
    control(
        backend,
        "calendar/working-hours",
        mailbox=JAN,
        **JAN_HOURS,
        start="{:02d}:{:02d}".format(*JAN_START),
        end="{:02d}:{:02d}".format(*JAN_END),
        time_zone="Europe/Amsterdam",
    )
    return backend


def meetings(backend: Backend) -> list[Item]:
    """The organiser's (shared mailbox's) callback meetings."""
    return [
        i
        for i in backend.sandbox.store.items(SHARED, "calendar")
        if i.subject.startswith("Terugbellen:")
    ]


def copies(backend: Backend, mailbox: str = JAN) -> list[Item]:
    return [
        i
        for i in backend.sandbox.store.items(mailbox, "calendar")
        if i.subject.startswith("Terugbellen:")
    ]


def replies(backend: Backend) -> list[Item]:
    """What the booker received from the service, oldest first."""
    found = [
        i
        for i in backend.sandbox.store.items(ANOUK, "inbox")
        if i.from_ is not None and i.from_.email.lower() == SHARED
    ]
    return sorted(found, key=lambda i: i.date_received or datetime.min.replace(tzinfo=UTC))


def requests_to(backend: Backend, mailbox: str = JAN) -> list[Item]:
    """The meeting requests in a colleague's inbox."""
    return [
        i
        for i in backend.sandbox.store.items(mailbox, "inbox")
        if i.item_class.startswith("IPM.Schedule.Meeting.Request")
    ]


def text_of(item: Item) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", item.body)).replace("\r\n", "\n")


def local(moment: datetime) -> datetime:
    return moment.astimezone(AMS)


def assert_in_working_hours_and_term(backend: Backend, meeting: Item, booked_at: datetime) -> None:
    """Within Jan's own working hours (JAN_HOURS), on a workday, ending by callback_by."""
    cal = meeting.calendar
    assert cal is not None
    start, end = local(cal.start), local(cal.end)
    assert start.weekday() < 5
    assert (start.hour, start.minute) >= JAN_START
    assert (end.hour, end.minute) <= JAN_END
    # callback_by: the end of the workday after the booking's reception day (no holidays here).
    reception = local(booked_at)
    if reception.weekday() >= 5 or reception.hour >= 17:
        reception += timedelta(days=(7 - reception.weekday()) % 7 or 1)
    term = reception + timedelta(days=1)
    while term.weekday() >= 5:
        term += timedelta(days=1)
    assert end <= term.replace(hour=17, minute=0, second=0, microsecond=0)


def assert_one_request_in_a_free_slot(backend: Backend, meeting: Item) -> None:
    """The colleague has exactly one copy (tentative, at the meeting's time, reminding 15
    minutes before) and one request, and nothing else of theirs takes that time."""
    cal = meeting.calendar
    assert cal is not None
    (copy,) = copies(backend)
    assert copy.calendar is not None
    assert (copy.calendar.start, copy.calendar.end) == (cal.start, cal.end)
    assert copy.calendar.free_busy == "Tentative"
    assert (copy.calendar.reminder_set, copy.calendar.reminder_minutes) == (True, 15)
    (request,) = requests_to(backend)
    assert request.calendar is not None
    assert request.calendar.uid == cal.uid == copy.calendar.uid
    others = [
        i
        for i in backend.sandbox.store.items(JAN, "calendar")
        if i.id != copy.id
        and i.calendar is not None
        and i.calendar.free_busy != "Free"
        and i.calendar.start < cal.end
        and cal.start < i.calendar.end
    ]
    assert others == [], "the slot was not free in Jan's calendar"


def test_a_booking_mail_becomes_one_meeting_and_a_confirmation_within_seconds(
    booked: Backend,
) -> None:
    # Jan is busy on the first working morning: the slot must avoid it.
    now = datetime.now(UTC)
    first_day = local(now) + timedelta(days=1)
    while first_day.weekday() >= 5:
        first_day += timedelta(days=1)
    busy_start = first_day.replace(hour=8, minute=0, second=0, microsecond=0)
    jan = StoreAddress(JAN, "Jan de Vries")
    booked.sandbox.store.create(
        JAN,
        "calendar",
        NewItem(
            item_class="IPM.Appointment",
            subject="Overleg",
            from_=jan,
            calendar=CalendarFields(busy_start, busy_start + timedelta(hours=4), jan),
        ),
    )
    daemon = booked.start_daemon()
    time.sleep(3)  # started and idle

    delivered = time.monotonic()
    booked.deliver(booking_mail(1, FORM.format(name="mevr. Jansen")), use_date=False)
    deadline = time.monotonic() + 30
    while not replies(booked) and time.monotonic() < deadline:
        time.sleep(0.1)
    elapsed = time.monotonic() - delivered
    daemon.terminate()
    daemon.wait(timeout=30)

    assert elapsed < 10, f"the confirmation took {elapsed:.1f} s"
    (meeting,) = meetings(booked)
    assert meeting.subject == "Terugbellen: mevr. Jansen — 06 12345678 — lekkage badkamer"
    assert meeting.calendar is not None
    assert [a.address.email for a in meeting.calendar.attendees] == [JAN]
    assert not (busy_start <= meeting.calendar.start < busy_start + timedelta(hours=4))
    assert_in_working_hours_and_term(booked, meeting, now)
    assert_one_request_in_a_free_slot(booked, meeting)
    (reply,) = replies(booked)
    start = local(meeting.calendar.start)
    end = local(meeting.calendar.end)
    assert f"tussen {start:%H:%M} en {end:%H:%M}" in text_of(reply)
    assert "Jan de Vries belt mevr. Jansen terug op" in text_of(reply)
    assert reply.in_reply_to == "<booking-1@ex01.woonservice.example>"
    # The booking mail got no acknowledgement: the shared mailbox sent the reply, and Exchange
    # kept a copy of the meeting request in Sent Items (SendToAllAndSaveCopy; Graph's POST
    # events likewise), as it does for every meeting the organiser sends.
    sent = sorted((i.item_class, i.subject) for i in booked.sent_items())
    assert sent == [
        ("IPM.Note", reply.subject),
        ("IPM.Schedule.Meeting.Request", meeting.subject),
    ]


def test_a_callback_booked_on_the_command_line_is_one_meeting(booked: Backend) -> None:
    now = datetime.now(UTC)
    result = subprocess.run(
        booked.command(
            "callback", "book", "--for", "Jan de Vries", "--name", "dhr. Bos",
            "--phone", "0313 123456", "--subject", "huurachterstand", "--json",
        ),
        capture_output=True,
        timeout=120,
        check=False,
    )  # fmt: skip

    assert result.returncode == 0, result.stderr.decode()[-2000:]
    answer = json.loads(result.stdout)
    assert answer["in_calendar"] is True
    (meeting,) = meetings(booked)
    assert meeting.calendar is not None
    assert datetime.fromisoformat(answer["slot_start"]) == meeting.calendar.start
    assert answer["sentence"].startswith("Jan de Vries belt dhr. Bos terug op ")
    start, end = local(meeting.calendar.start), local(meeting.calendar.end)
    assert f"tussen {start:%H:%M} en {end:%H:%M}" in answer["sentence"]
    assert_in_working_hours_and_term(booked, meeting, now)
    assert_one_request_in_a_free_slot(booked, meeting)
    assert booked.run_once().returncode == 0
    assert len(meetings(booked)) == 1, "the daemon does not book it a second time"
    assert len(requests_to(booked)) == 1
    listed = subprocess.run(
        booked.command("callback", "list", "--json"), capture_output=True, timeout=60, check=True
    )
    (row,) = [json.loads(line) for line in listed.stdout.splitlines()]
    assert (row["id"], row["state"], row["in_calendar"]) == (answer["id"], "planned", True)


BAD_FORMS = {
    "missing phone": (
        "Voor: Jan de Vries\nNaam: mevr. Jansen\nOnderwerp: lekkage",
        False,
        "Het telefoonnummer ontbreekt.",
    ),
    "unknown colleague": (
        FORM.format(name="dhr. Ali").replace("Jan de Vries", "Kees Pieters"),
        False,
        "We kennen geen collega 'Kees Pieters'.",
    ),
    "two colleagues with the same first name": (
        FORM.format(name="dhr. Ali").replace("Jan de Vries", "Jan"),
        False,
        "Bedoelt u Jan de Vries of Jan Bakker?",
    ),
    "a phone number with letters": (
        FORM.format(name="dhr. Ali").replace("06-12345678", "06-1234567 of buurvrouw"),
        False,
        "staan letters",
    ),
    "an empty mail": ("", False, "We vinden geen gegevens in uw bericht."),
    "an HTML-only mail with a signature": (
        "<html><body><p>Hoi, kun je deze inplannen?</p><p>Met vriendelijke groet,<br>Anouk Bakker"
        "<br>Klantcontact</p></body></html>",
        True,
        "We vinden geen gegevens in uw bericht.",
    ),
}


def test_bad_forms_each_get_a_clear_reply_and_are_kept(booked: Backend) -> None:
    for n, (body, is_html, _) in enumerate(BAD_FORMS.values(), start=1):
        booked.deliver(
            booking_mail(n, body, html=is_html, subject=f"Terugbelverzoek {n}"), use_date=False
        )

    assert booked.run_once().returncode == 0

    assert meetings(booked) == []
    answers = {r.in_reply_to: text_of(r) for r in replies(booked)}
    for n, (case, (_, _, expected)) in enumerate(BAD_FORMS.items(), start=1):
        text = answers[f"<booking-{n}@ex01.woonservice.example>"]
        assert expected in text, case
        assert "Voor: \nNaam: \nTelefoon: " in text, f"{case}: the form travels along"
    kept = [i for i in booked.inbox() if i.subject.startswith("Terugbelverzoek")]
    assert len(kept) == len(BAD_FORMS)
    for item in kept:
        assert "Top Contact: terugbelverzoek niet ingepland" in item.categories
    assert len(booked.sent_items()) == len(BAD_FORMS), "no acknowledgement, one reply each"


def test_a_meeting_moved_past_the_term_is_booked_anew_and_the_booker_told(
    booked: Backend,
) -> None:
    booked.deliver(booking_mail(1, FORM.format(name="mevr. Jansen")), use_date=False)
    assert booked.run_once().returncode == 0
    (meeting,) = meetings(booked)
    assert meeting.calendar is not None
    later = meeting.calendar.start + timedelta(days=7)
    moved = replace(meeting.calendar, start=later, end=later + timedelta(minutes=15))
    booked.sandbox.store.update(meeting.id, lambda it: replace(it, calendar=moved))

    assert booked.run_once().returncode == 0

    live = [m for m in meetings(booked) if m.calendar and m.calendar.start != later]
    assert len(live) == 1
    assert live[0].id != meeting.id
    kinds = [r.subject.split(":")[0] for r in replies(booked)]
    assert sorted(kinds) == ["Ingepland", "Opnieuw ingepland"]
    rebooked = next(r for r in replies(booked) if r.subject.startswith("Opnieuw"))
    assert "verzet naar een moment na de termijn" in text_of(rebooked)


def decline_as(backend: Backend, attendee: str) -> None:
    """The colleague declines the meeting request with the backend's own operation."""
    if backend.name == "ews":
        config = Configuration(
            service_endpoint=backend.sandbox.ews_url,
            credentials=Credentials(USER, PASSWORD),
            auth_type=NTLM,
        )
        account = Account(attendee, config=config, autodiscover=False, access_type=IMPERSONATION)
        request = next(i for i in account.inbox.all() if isinstance(i, MeetingRequest))
        request.decline(message_disposition="SendAndSaveCopy")
        return
    graph = tomllib.loads(backend.config_file.read_text(encoding="utf-8"))["connection"]["graph"]
    base = backend.sandbox.url.rstrip("/")  # Graph is served over plain HTTP there too
    token = requests.post(
        f"{base}/{graph['tenant_id']}/oauth2/v2.0/token",
        data={
            "grant_type": "client_credentials",
            "client_id": graph["client_id"],
            "client_secret": graph["client_secret"],
            "scope": "https://graph.microsoft.com/.default",
        },
        timeout=30,
    ).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    view = requests.get(
        f"{base}/v1.0/users/{attendee}/calendarView",
        params={"startDateTime": "2026-01-01T00:00:00Z", "endDateTime": "2028-01-01T00:00:00Z"},
        headers=headers,
        timeout=30,
    ).json()["value"]
    answer = requests.post(
        f"{base}/v1.0/users/{attendee}/events/{view[0]['id']}/decline",
        json={"comment": "Lukt niet", "sendResponse": True},
        headers=headers,
        timeout=30,
    )
    answer.raise_for_status()


@pytest.mark.parametrize("how", ["protocol", "outlook"])
def test_a_decline_books_a_new_slot_and_tells_the_booker(booked: Backend, how: str) -> None:
    """Jan declines the request, with the backend's own operation (EWS DeclineItem, Graph
    decline) or as in Outlook (the sandbox's calendar control): the response reaches the shared
    mailbox, the next pass books another slot and tells the booker."""
    now = datetime.now(UTC)
    booked.deliver(booking_mail(1, FORM.format(name="mevr. Jansen")), use_date=False)
    assert booked.run_once().returncode == 0
    (first,) = meetings(booked)
    assert first.calendar is not None

    if how == "protocol":
        decline_as(booked, JAN)
    else:
        control(
            booked,
            "calendar/respond",
            mailbox=JAN,
            event=first.calendar.uid,
            response="decline",
            comment="Dan heb ik overleg",
        )
    responses = [
        i
        for i in booked.inbox()
        if i.item_class.startswith("IPM.Schedule.Meeting.Resp.Neg") and i.from_ is not None
    ]
    assert [r.from_.email for r in responses if r.from_] == [JAN]
    time.sleep(6)  # past check_interval_seconds: the next pass looks at the meeting again
    assert booked.run_once().returncode == 0

    (live,) = meetings(booked)
    assert live.id != first.id
    assert live.calendar is not None
    assert live.calendar.start != first.calendar.start
    assert_in_working_hours_and_term(booked, live, now)
    (copy,) = copies(booked)  # the declined one left Jan's calendar; the new one is there
    assert copy.calendar is not None
    assert copy.calendar.uid == live.calendar.uid
    assert [r.subject.split(":")[0] for r in replies(booked)] == ["Ingepland", "Opnieuw ingepland"]
    rebooked = text_of(replies(booked)[1])
    assert "heeft het verzoek om mevr. Jansen terug te bellen geweigerd" in rebooked
    start, end = local(live.calendar.start), local(live.calendar.end)
    assert f"tussen {start:%H:%M} en {end:%H:%M}" in rebooked


def progress(backend: Backend) -> int:
    """How far the service got: callbacks recorded, meetings created, replies sent."""
    state = backend.state_dir / "topcontact.sqlite3"
    recorded = 0
    if state.exists():
        with contextlib.closing(sqlite3.connect(f"{state.as_uri()}?mode=ro", uri=True)) as db:
            try:
                recorded = db.execute("SELECT COUNT(*) FROM callbacks").fetchone()[0]
            except sqlite3.OperationalError:  # not created yet
                recorded = 0
    return recorded + len(meetings(backend)) + len(replies(backend))


@pytest.mark.slow
def test_sigkill_during_booking_never_leaves_two_meetings_or_none(booked: Backend) -> None:
    """Twenty SIGKILLs, each while the daemon books (intake, claim, create, reply)."""
    seed = random.randrange(1_000_000)
    rng = random.Random(seed)
    booked.sandbox.server.latency_ms = 40
    names = [f"huurder {n}" for n in range(20)]
    for n, name in enumerate(names):
        booked.deliver(
            booking_mail(n, FORM.format(name=name), subject=f"Terugbelverzoek {n}"),
            use_date=False,
        )

    kills_while_booking = 0
    for _ in range(20):
        before = progress(booked)
        daemon = booked.start_daemon()
        deadline = time.monotonic() + 8
        while progress(booked) == before and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(rng.uniform(0.0, 0.4))
        daemon.kill()
        daemon.wait()
        busy = progress(booked) > before
        kills_while_booking += busy
        if not busy and len(replies(booked)) == len(names):
            break  # nothing left to interrupt

    booked.sandbox.server.latency_ms = 0
    result = booked.run_once()
    assert result.returncode == 0, f"seed {seed}: {result.stderr.decode()[-2000:]}"
    per_tenant = Counter(
        m.subject.split(" — ")[0].removeprefix("Terugbellen: ") for m in meetings(booked)
    )
    assert per_tenant == Counter(dict.fromkeys(names, 1)), f"seed {seed}"
    assert Counter(c.subject for c in copies(booked)) == Counter(
        m.subject for m in meetings(booked)
    )
    assert Counter(r.subject for r in requests_to(booked)) == Counter(
        m.subject for m in meetings(booked)
    ), f"seed {seed}: one meeting request each in Jan's inbox"
    confirmations = Counter(r.in_reply_to for r in replies(booked))
    assert set(confirmations.values()) == {1}, f"seed {seed}: {confirmations}"
    assert len(confirmations) == len(names)
    # The kills really hit the booking, not only start-ups and an idle daemon at the end.
    assert kills_while_booking >= 4, f"seed {seed}"


def test_the_demo_books_a_callback_and_shows_it_in_the_colleagues_calendar(
    tmp_path: Path,
) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "topcontact_mail", "demo", "--output", str(tmp_path / "out")],
        capture_output=True,
        timeout=240,
        check=False,
        cwd=tmp_path,
    )

    output = result.stdout.decode()
    assert result.returncode == 0, result.stderr.decode()[-2000:]
    assert "Agenda van Jan de Vries" in output
    assert "Terugbellen: mevr. Jansen — 06 12345678 — lekkage badkamer" in output
    assert "vergaderverzoek" in output
    assert "Anouk kreeg de bevestiging: Ingepland: terugbellen mevr. Jansen" in " ".join(
        output.split()
    )
    assert len(list((tmp_path / "out").glob("terugbelverzoek-*.eml"))) == 1
