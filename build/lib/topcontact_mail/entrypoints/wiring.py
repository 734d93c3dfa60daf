"""Wiring: the configuration turned into adapters and services, in one place for every command.

Nothing connects at import time; a backend's modules load only when it is chosen.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from topcontact_mail.adapters.sqlite_store import SqliteStore
from topcontact_mail.adapters.texts import TextRenderer
from topcontact_mail.config import Settings
from topcontact_mail.domain.message import Address
from topcontact_mail.domain.screening import ScreeningPolicy
from topcontact_mail.ports import Mailbox
from topcontact_mail.services.acknowledge import AcknowledgeService, Options
from topcontact_mail.services.alerts import Alerts


class SystemClock:
    def now(self) -> datetime:
        return datetime.now().astimezone()


def open_mailbox(settings: Settings) -> Mailbox:
    """The configured backend's mailbox (imported here so no backend loads unless chosen)."""
    if settings.connection.backend == "graph":
        from topcontact_mail.adapters.graph import connect as connect_graph

        return connect_graph(settings)
    from topcontact_mail.adapters.ews import connect as connect_ews

    return connect_ews(settings)


def open_store(settings: Settings) -> SqliteStore:
    return SqliteStore(state_file(settings))


def state_file(settings: Settings) -> Path:
    return settings.service.state_dir / "topcontact.sqlite3"


def service_options(settings: Settings) -> Options:
    """The acknowledge service's options as the configuration sets them."""
    ack = settings.acknowledgement
    return Options(
        dry_run=settings.service.dry_run,
        category=settings.tracking.category,
        languages=tuple(ack.languages),
        default_language=ack.default_language,
        language_rule=ack.language_rule,
        in_doubt_seconds=settings.service.in_doubt_seconds,
    )


def screening_policy(settings: Settings) -> ScreeningPolicy:
    return ScreeningPolicy.from_settings(settings.screening, settings.connection.shared_mailbox)


def build_service(settings: Settings, mailbox: Mailbox, store: SqliteStore) -> AcknowledgeService:
    texts = TextRenderer.from_settings(settings)
    clock = SystemClock()
    admin = settings.service.admin_address
    return AcknowledgeService(
        mailbox=mailbox,
        store=store,
        texts=texts,
        clock=clock,
        alerts=Alerts(mailbox, texts, clock, Address(admin) if admin else None),
        calendar=settings.calendar.build(),
        policy=screening_policy(settings),
        options=service_options(settings),
    )
