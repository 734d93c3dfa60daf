"""A small world for the callback service's tests: a shared mailbox, calendars, a store, a clock.

Booking mails arrive in the in-memory shared mailbox as Outlook would deliver
them; the acknowledge service screens them (as the daemon's pass does) and the
callback service takes them up. Calendars are the in-memory ones.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from topcontact_mail.adapters.memory import MemoryMailbox
from topcontact_mail.adapters.memory_calendar import MemoryCalendars
from topcontact_mail.adapters.sqlite_store import SqliteStore
from topcontact_mail.adapters.texts import TextRenderer
from topcontact_mail.config import Settings
from topcontact_mail.domain.calendar import default_calendar
from topcontact_mail.domain.callbacks import SlotRules, StaffMember
from topcontact_mail.domain.message import Address, IncomingMessage
from topcontact_mail.domain.screening import ScreeningPolicy
from topcontact_mail.ports.calendar import MailBody
from topcontact_mail.services.acknowledge import AcknowledgeService
from topcontact_mail.services.callback_plans import Planner, PlanOptions
from topcontact_mail.services.callbacks import CallbackOptions, CallbackService, CallbackSummary

AMS = ZoneInfo("Europe/Amsterdam")
SHARED = Address("klantcontact@woonservice.example", "Team Klantcontact")
BOOKER = Address("p.dejong@woonservice.example", "Petra de Jong")
#: Monday 30 November 2026 10:00: callback_by is Tuesday 1 December 17:00.
MONDAY_10 = datetime(2026, 11, 30, 10, 0, tzinfo=AMS)

JAN = StaffMember(
    "Jan de Vries", "j.devries@woonservice.example", fallback="a.bakker@woonservice.example"
)
JAN_B = StaffMember("Jan Bakker", "jan.bakker@woonservice.example")
ANOUK = StaffMember("Bakker, Anouk", "a.bakker@woonservice.example")
STAFF = (JAN, JAN_B, ANOUK)

FORM = (
    "Voor: Jan de Vries\nNaam: mevr. Jansen\nTelefoon: 06-12345678\n"
    "Onderwerp: lekkage badkamer\nNotities: tweede keer deze maand\n"
)


class Clock:
    def __init__(self, moment: datetime) -> None:
        self.moment = moment

    def now(self) -> datetime:
        return self.moment

    def advance(self, **delta: float) -> None:
        self.moment += timedelta(**delta)


@dataclass
class World:
    mailbox: MemoryMailbox
    calendars: MemoryCalendars
    store: SqliteStore
    clock: Clock
    acknowledge: AcknowledgeService
    callbacks: CallbackService
    delivered: list[str] = field(default_factory=list)

    def book_by_mail(
        self,
        body: str,
        *,
        sender: Address = BOOKER,
        subject: str = "Terugbelverzoek",
        html: bool = False,
        received: datetime | None = None,
    ) -> str:
        """A booking mail arrives in the shared inbox; returns its item id."""
        n = len(self.delivered) + 1
        item_id = f"booking-{n}"
        message = IncomingMessage(
            subject=subject,
            sender=sender,
            recipients=(SHARED,),
            headers=(("From", f"{sender.name} <{sender.email}>"), ("Subject", subject)),
            message_id=f"<booking-{n}@ex01.woonservice.example>",
            received=received or self.clock.now(),
            item_id=item_id,
            conversation_id=f"conv-booking-{n}",
            text_sample=body[:200],
        )
        self.calendars.bodies[(SHARED.email, item_id)] = MailBody(body, html)
        self.mailbox.deliver(message)
        self.delivered.append(item_id)
        return item_id

    def deliver_response(self, item_id: str) -> None:
        """A meeting response message arrives in the organiser's (the shared) inbox."""
        self.mailbox.deliver(
            IncomingMessage(
                subject="Geweigerd: Terugbellen",
                sender=Address(JAN.address, JAN.name),
                item_class="IPM.Schedule.Meeting.Resp.Neg",
                message_id=f"<{item_id}@ex01.woonservice.example>",
                received=self.clock.now(),
                item_id=item_id,
            )
        )

    def run(self) -> CallbackSummary:
        """One daemon pass: screening and acknowledgements, then the callbacks."""
        self.acknowledge.run_once()
        return self.callbacks.run_once()

    def replies(self) -> list[tuple[str, str, str]]:
        """(kind, subject, text) of every reply to a booker that went out, in order."""
        kinds = {r.ref: r.kind for c in self.store.callbacks() for r in self.store.replies(c.id)}
        result = [
            (
                kinds.get(s.outgoing.ref, "?"),
                s.outgoing.acknowledgement.subject,
                s.outgoing.acknowledgement.text_body,
            )
            for s in self.mailbox.sent
            if s.outgoing.ref in kinds
        ]
        result += [("notice", subject, text) for _, subject, text in self.mailbox.notices]
        return result

    def acknowledged(self) -> list[str]:
        """Item ids the acknowledge service answered (bookers must never be among them)."""
        return [
            s.outgoing.original_item_id
            for s in self.mailbox.sent
            if s.outgoing.ref
            not in {r.ref for c in self.store.callbacks() for r in self.store.replies(c.id)}
        ]


def make_world(
    tmp_path: Path,
    *,
    staff: tuple[StaffMember, ...] = STAFF,
    now: datetime = MONDAY_10,
    **options: object,
) -> World:
    settings = Settings()
    mailbox = MemoryMailbox(SHARED, page_size=10)
    calendars = MemoryCalendars(SHARED)
    store = SqliteStore(tmp_path / "state.sqlite3")
    clock = Clock(now)
    calendar = default_calendar()
    policy = ScreeningPolicy.from_settings(settings.screening, SHARED.email)
    policy = ScreeningPolicy(**{**policy.__dict__, "callback_keyword": "Terugbelverzoek"})
    texts = TextRenderer.from_settings(settings)
    acknowledge = AcknowledgeService(
        mailbox=mailbox,
        store=store,
        texts=texts,
        clock=clock,
        calendar=calendar,
        policy=policy,
    )
    planner = Planner(
        calendars=calendars,
        directory=calendars,
        texts=texts,
        calendar=calendar,
        staff=staff,
        options=PlanOptions(rules=SlotRules()),
    )
    callbacks = CallbackService(
        mailbox=mailbox,
        calendars=calendars,
        bodies=calendars,
        store=store,
        planner=planner,
        clock=clock,
        calendar=calendar,
        policy=policy,
        options=CallbackOptions(**options),  # type: ignore[arg-type]
    )
    return World(mailbox, calendars, store, clock, acknowledge, callbacks)


def at(day: int, hour: int, minute: int = 0) -> datetime:
    """A moment in December 2026 (or 30 November when `day` is 30), Amsterdam time."""
    month = 11 if day == 30 else 12
    return datetime(2026, month, day, hour, minute, tzinfo=AMS)


def body_path(root: Path, name: str) -> str:
    return (root / name).read_text(encoding="utf-8")
