"""Wiring: the configuration turned into adapters and services, in one place for every command.

Nothing connects at import time; a backend's modules load only when it is chosen.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from topcontact_mail.adapters.sqlite_store import SqliteStore
from topcontact_mail.adapters.texts import TextRenderer
from topcontact_mail.config import Settings
from topcontact_mail.domain.message import Address
from topcontact_mail.domain.screening import ScreeningPolicy
from topcontact_mail.domain.tracking import AnsweredPolicy, AnswerMethod, SchedulePolicy
from topcontact_mail.ports import Clock, Mailbox, StateStore
from topcontact_mail.ports.callbacks import CallbackSource, NoCallbacks
from topcontact_mail.reports.mails import TeamMails
from topcontact_mail.reports.templating import report_environment
from topcontact_mail.services.acknowledge import AcknowledgeService, Options
from topcontact_mail.services.alerts import Alerts
from topcontact_mail.services.tracking import TrackingOptions, TrackingService

if TYPE_CHECKING:
    from topcontact_mail.adapters.postgres import PostgresStore


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


def open_store(settings: Settings) -> SqliteStore | PostgresStore:
    """The configured state store; the shared PostgreSQL one only while holding the mailbox's
    lease (docs/scale-out.md). Raises `StoreError` when it cannot be used."""
    if settings.service.store == "postgresql":
        from topcontact_mail.entrypoints.shared_store import open_leased_store

        return open_leased_store(settings)
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


def tracking_options(settings: Settings) -> TrackingOptions:
    """The tracking service's options as the configuration sets them."""
    tracking = settings.tracking
    team = settings.team
    return TrackingOptions(
        answered=AnsweredPolicy(
            methods=frozenset(AnswerMethod(m) for m in tracking.answered_methods),
            done_folders=frozenset(tracking.done_folders),
            done_categories=frozenset(tracking.done_categories),
        ),
        schedule=SchedulePolicy(warn_workdays_before=tracking.warn_workdays_before),
        enabled=tracking.enabled,
        answer_category=tracking.category,
        warning_category=tracking.warning_category,
        overdue_category=tracking.overdue_category,
        team_lead=Address(tracking.team_lead_address) if tracking.team_lead_address else None,
        team=Address(tracking.team_address) if tracking.team_address else None,
        own_names=tuple(n for n in (team.name, team.organisation) if n),
        dry_run=settings.service.dry_run,
        in_doubt_seconds=settings.service.in_doubt_seconds,
    )


def callback_source(settings: Settings) -> CallbackSource:
    """Where the callbacks come from: none yet (booking them is a later feature)."""
    return NoCallbacks()


def build_tracking(
    settings: Settings, mailbox: Mailbox, store: StateStore, clock: Clock | None = None
) -> TrackingService:
    calendar = settings.calendar.build()
    return TrackingService(
        mailbox=mailbox,
        store=store,
        clock=clock or SystemClock(),
        calendar=calendar,
        texts=TeamMails(
            report_environment(settings.acknowledgement.templates_dir),
            calendar,
            settings.team.name,
        ),
        options=tracking_options(settings),
        callbacks=callback_source(settings),
    )


def build_service(
    settings: Settings,
    mailbox: Mailbox,
    store: StateStore,
    tracking: TrackingService | None = None,
) -> AcknowledgeService:
    """The acknowledge service; with `tracking`, each message gets its answer target at intake."""
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
        targets=tracking,
    )
