"""The callback ports' backends under test (memory, EWS and Graph on the sandbox) and Outlook's side.

A `CalendarHarness` holds the adapter and lets a test do what people and
Exchange do around it: deliver a booking mail, look into a colleague's
calendar and inbox, move a meeting, set a category on the colleague's copy,
decline as the colleague (through the backend's real operation).
"""

from __future__ import annotations

import email.utils
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

import pytest
import requests
from exchangelib import IMPERSONATION, NTLM, Account, Configuration, Credentials
from exchangelib.items import MeetingRequest

from exchange_sandbox import GraphSandbox, Item, SandboxHandle, serve_graph_tls, start_sandbox
from exchange_sandbox.store import Address as StoreAddress
from exchange_sandbox.store import CalendarFields, NewItem
from tests.integration.conftest import PASSWORD, USER, write_config
from topcontact_mail.adapters.memory_calendar import MemoryCalendars
from topcontact_mail.config import load_settings
from topcontact_mail.domain.callbacks import BusyKind, BusyPeriod, WorkingHours
from topcontact_mail.domain.message import Address
from topcontact_mail.entrypoints.wiring import open_calendars, open_mailbox
from topcontact_mail.ports import Mailbox
from topcontact_mail.ports.calendar import CallbackBackend, MailBody

SHARED = "klantcontact@woonservice.example"
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
JAN = "j.devries@woonservice.example"
ANOUK = "a.bakker@woonservice.example"


@dataclass(frozen=True)
class Copy:
    """An attendee's copy of a meeting, as the colleague sees it in Outlook."""

    uid: str
    subject: str
    start: datetime
    end: datetime
    categories: tuple[str, ...]
    #: The organiser cancelled it: Outlook shows "Canceled: …" until the colleague removes it.
    cancelled: bool = False


@dataclass
class CalendarHarness:
    name: str
    backend: CallbackBackend
    _memory: MemoryCalendars | None = None
    _sandbox: SandboxHandle | None = None
    _graph: GraphSandbox | None = None
    _mailbox: Mailbox | None = None

    # -- the transport's and the people's side ----------------------------------------------

    def deliver(self, raw: bytes, body: MailBody) -> str:
        """A mail arrives in the shared mailbox; returns the backend's item id."""
        if self._memory is not None:
            item_id = f"mail-{len(self._memory.bodies) + 1}"
            self._memory.bodies[(SHARED, item_id)] = body
            return item_id
        assert self._sandbox is not None
        assert self._mailbox is not None
        self._sandbox.store.deliver(SHARED, raw)
        message_id = email.message_from_bytes(raw)["Message-ID"]
        page = self._mailbox.fetch_changes(None)
        return next(
            f.message.item_id or "" for f in page.messages if f.message.message_id == message_id
        )

    def busy(self, mailbox: str, start: datetime, end: datetime, kind: str = "Busy") -> None:
        """Something in the colleague's calendar."""
        if self._memory is not None:
            period = BusyPeriod(start, end, BusyKind(kind.lower()))
            self._memory.busy.setdefault(mailbox, []).append(period)
            return
        assert self._sandbox is not None
        me = StoreAddress(mailbox, mailbox)
        self._sandbox.store.create(
            mailbox,
            "calendar",
            NewItem(
                item_class="IPM.Appointment",
                subject="Overleg",
                from_=me,
                calendar=CalendarFields(start=start, end=end, organizer=me, free_busy=kind),
            ),
        )

    def working_hours(self, mailbox: str, hours: WorkingHours) -> None:
        """The colleague's own working hours in Outlook."""
        if self._memory is not None:
            self._memory.working_hours[mailbox] = hours
            return
        assert self._sandbox is not None
        # Exchange keeps one time range for the work days (the sandbox refuses more, as it can).
        (interval,) = {i for day in hours.by_weekday.values() for i in day}
        answer = requests.post(
            f"{self._sandbox.url}/_sandbox/calendar/working-hours",
            json={
                "mailbox": mailbox,
                "days": [WEEKDAYS[d - 1] for d in sorted(hours.by_weekday)],
                "start": f"{interval.start:%H:%M}",
                "end": f"{interval.end:%H:%M}",
                "time_zone": "Europe/Amsterdam",
            },
            timeout=10,
        )
        assert answer.status_code == 200, answer.text

    def copies(self, attendee: str) -> list[Copy]:
        if self._memory is not None:
            return [
                Copy(c.uid, c.subject, c.start, c.end, tuple(c.categories), c.cancelled)
                for c in self._memory.copies.get(attendee, [])
            ]
        assert self._sandbox is not None
        return [
            Copy(
                i.calendar.uid,
                i.subject,
                i.calendar.start,
                i.calendar.end,
                i.categories,
                i.calendar.is_cancelled,
            )
            for i in self._sandbox.store.items(attendee, "calendar")
            if i.calendar is not None and i.calendar.organizer.email.lower() == SHARED
        ]

    def inbox(self, attendee: str) -> list[str]:
        """What arrived in the colleague's inbox from the organiser: "request", "cancelled"."""
        if self._memory is not None:
            return [kind for kind, _ in self._memory.inboxes.get(attendee, [])]
        assert self._sandbox is not None
        kinds = {
            "ipm.schedule.meeting.request": "request",
            "ipm.schedule.meeting.canceled": "cancelled",
        }
        return [
            kinds.get(i.item_class.lower(), i.item_class)
            for i in reversed(self._sandbox.store.items(attendee, "inbox"))
        ]

    def organiser_item(self, uid: str) -> Item:
        assert self._sandbox is not None
        return next(
            i
            for i in self._sandbox.store.items(SHARED, "calendar")
            if i.calendar is not None and i.calendar.uid == uid
        )

    def attendee_item(self, attendee: str, uid: str) -> Item:
        assert self._sandbox is not None
        return next(
            i
            for i in self._sandbox.store.items(attendee, "calendar")
            if i.calendar is not None and i.calendar.uid == uid
        )

    def move(self, ref: str, uid: str, start: datetime, end: datetime) -> None:
        """Staff move the meeting in the shared calendar."""
        if self._memory is not None:
            self._memory.move(ref, start, end)
            return
        assert self._sandbox is not None
        item = self.organiser_item(uid)
        self._sandbox.store.update(
            item.id,
            lambda it: replace(it, calendar=replace(it.calendar, start=start, end=end)),  # type: ignore[arg-type]
        )

    def categorise_copy(self, attendee: str, ref: str, uid: str, category: str) -> None:
        """The colleague sets a category on their own copy."""
        if self._memory is not None:
            self._memory.categorise(attendee, ref, category)
            return
        assert self._sandbox is not None
        for item in self._sandbox.store.items(attendee, "calendar"):
            if item.calendar is not None and item.calendar.uid == uid:
                self._sandbox.store.update(
                    item.id, lambda it: replace(it, categories=(*it.categories, category))
                )

    def decline(self, ref: str, attendee: str) -> None:
        """The colleague declines, through the backend's own operation (EWS DeclineItem on the
        meeting request, Graph `POST /events/{id}/decline`)."""
        if self._memory is not None:
            self._memory.respond(ref, "declined")
            return
        assert self._sandbox is not None
        if self._graph is None:
            config = Configuration(
                service_endpoint=self._sandbox.ews_url,
                credentials=Credentials(USER, PASSWORD),
                auth_type=NTLM,
            )
            account = Account(
                attendee, config=config, autodiscover=False, access_type=IMPERSONATION
            )
            request = next(i for i in account.inbox.all() if isinstance(i, MeetingRequest))
            request.decline(message_disposition="SendAndSaveCopy")
            return
        session = requests.Session()
        session.verify = str(self._graph.ca_file)
        session.trust_env = False
        app = self._graph.app.config.apps[0]
        token = session.post(
            f"{self._graph.base_url}/{self._graph.app.config.tenant_id}/oauth2/v2.0/token",
            data={
                "grant_type": "client_credentials",
                "client_id": app.client_id,
                "client_secret": app.client_secret,
                "scope": "https://graph.microsoft.com/.default",
            },
        ).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        events = session.get(
            f"{self._graph.graph_url}/users/{attendee}/calendarView",
            params={"startDateTime": "2026-01-01T00:00:00Z", "endDateTime": "2028-01-01T00:00:00Z"},
            headers=headers,
        ).json()["value"]
        answer = session.post(
            f"{self._graph.graph_url}/users/{attendee}/events/{events[0]['id']}/decline",
            json={"comment": "Lukt niet", "sendResponse": True},
            headers=headers,
        )
        answer.raise_for_status()

    def response_ids(self) -> list[str]:
        """Item ids of the meeting responses in the organiser's inbox."""
        if self._memory is not None:
            return list(self._memory.responses)
        assert self._mailbox is not None
        page = self._mailbox.fetch_changes(None)
        return [
            f.message.item_id or ""
            for f in page.messages
            if (f.message.item_class or "").lower().startswith("ipm.schedule.meeting.resp")
        ]

    def lose_answers(self) -> None:
        """The next create is carried out but its answer never arrives."""
        if self._memory is not None:
            self._memory.lost_answers = 1
            return
        assert self._sandbox is not None
        ops = "graph.events.create" if self._graph is not None else "CreateItem"
        self._sandbox.set_faults(f"lost=1.0,ops={ops},seed=1")

    def heal(self) -> None:
        if self._sandbox is not None:
            self._sandbox.set_faults("")


@pytest.fixture(params=["memory", "ews", "graph"])
def calendars(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[CalendarHarness]:
    if request.param == "memory":
        memory = MemoryCalendars(Address(SHARED, "Team Klantcontact"))
        yield CalendarHarness("memory", memory, _memory=memory)
        return
    sandbox = start_sandbox()
    graph = (
        serve_graph_tls(sandbox.server, tls_dir=tmp_path / "tls")
        if request.param == "graph"
        else None
    )
    config = tmp_path / "topcontact.toml"
    write_config(config, request.param, sandbox, tmp_path / "state", graph=graph)
    settings = load_settings(config)
    backend = open_calendars(settings)
    mailbox = open_mailbox(settings)
    try:
        yield CalendarHarness(
            request.param, backend, _sandbox=sandbox, _graph=graph, _mailbox=mailbox
        )
    finally:
        backend.close()
        mailbox.close()
        if graph is not None:
            graph.stop()
        sandbox.stop()


def eml(subject: str, body: str, *, html: bool = False) -> bytes:
    kind = "html" if html else "plain"
    return (
        f"From: Petra de Jong <p.dejong@woonservice.example>\r\nTo: {SHARED}\r\n"
        f"Subject: {subject}\r\nDate: {email.utils.format_datetime(datetime.now().astimezone())}\r\n"
        f"Message-ID: <{abs(hash(body))}@ex01.woonservice.example>\r\n"
        f"Content-Type: text/{kind}; charset=utf-8\r\n\r\n{body}\r\n"
    ).encode()
