"""Wiring: the configuration turned into adapters and services, in one place for every command.

Nothing connects at import time; a backend's modules load only when it is chosen.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from topcontact_mail.adapters.sqlite_store import SqliteStore
from topcontact_mail.adapters.texts import TextRenderer
from topcontact_mail.config import Settings
from topcontact_mail.domain.callbacks import SlotRules, StaffMember, WorkingHours
from topcontact_mail.domain.callbacks.followup import FollowUpPolicy
from topcontact_mail.domain.message import Address
from topcontact_mail.domain.screening import ScreeningPolicy
from topcontact_mail.domain.tracking import AnsweredPolicy, AnswerMethod, SchedulePolicy
from topcontact_mail.ports import Clock, Mailbox, StateStore
from topcontact_mail.ports.calendar import CallbackBackend, CallbackStore, ServiceStore
from topcontact_mail.ports.callbacks import CallbackSource, NoCallbacks
from topcontact_mail.ports.progress import Progress, no_progress
from topcontact_mail.reports.mails import TeamMails
from topcontact_mail.reports.templating import report_environment
from topcontact_mail.services.acknowledge import AcknowledgeService, Options
from topcontact_mail.services.alerts import Alerts
from topcontact_mail.services.callback_plans import Planner, PlanOptions
from topcontact_mail.services.callbacks import CallbackOptions, CallbackService, StoreCallbacks
from topcontact_mail.services.tracking import TrackingOptions, TrackingService

if TYPE_CHECKING:  # the daemon's modules (the scheduler) load only for the commands that run it
    pass


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


def open_store(settings: Settings) -> ServiceStore:
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
    policy = ScreeningPolicy.from_settings(settings.screening, settings.connection.shared_mailbox)
    # Booking mails come to the shared mailbox (told by the keyword) unless they have their own.
    if settings.callbacks.enabled and settings.callbacks.mailbox is None:
        policy = replace(policy, callback_keyword=settings.callbacks.subject_keyword)
    return policy


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


def callback_source(settings: Settings, store: CallbackStore) -> CallbackSource:
    """The callbacks booked as meeting requests (docs/callbacks.md), when callbacks are on."""
    return StoreCallbacks(store) if settings.callbacks.enabled else NoCallbacks()


def build_tracking(
    settings: Settings, mailbox: Mailbox, store: ServiceStore, clock: Clock | None = None
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
        callbacks=callback_source(settings, store),
    )


def build_service(
    settings: Settings,
    mailbox: Mailbox,
    store: StateStore,
    tracking: TrackingService | None = None,
    progress: Progress = no_progress,
) -> AcknowledgeService:
    """The acknowledge service; with `tracking`, each message gets its answer target at intake;
    `progress` is told how a catch-up goes (`adapters.progress.progress_for`)."""
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
        progress=progress,
    )


# -- callbacks (docs/callbacks.md) -------------------------------------------------------------


def open_calendars(settings: Settings) -> CallbackBackend:
    """The configured backend's calendars, directory and mail bodies (imported when chosen)."""
    if settings.connection.backend == "graph":
        from topcontact_mail.adapters.graph.calendar import connect_calendars as graph_calendars

        return graph_calendars(settings)
    from topcontact_mail.adapters.ews.calendar import connect_calendars as ews_calendars

    return ews_calendars(settings)


def open_callback_mailbox(settings: Settings, shared: Mailbox) -> Mailbox:
    """Where booking mails arrive: a mailbox of their own, or the shared mailbox itself."""
    own = settings.callbacks.mailbox
    if own is None or own.casefold() == settings.connection.shared_mailbox.casefold():
        return shared
    connection = settings.connection.model_copy(update={"shared_mailbox": own})
    return open_mailbox(settings.model_copy(update={"connection": connection}))


def staff_members(settings: Settings) -> tuple[StaffMember, ...]:
    return tuple(
        StaffMember(
            s.name,
            s.address,
            aliases=tuple(s.aliases),
            working_hours=WorkingHours(s.working_hours.intervals()) if s.working_hours else None,
            fallback=s.fallback,
        )
        for s in settings.callbacks.staff
    )


def build_callbacks(
    settings: Settings, mailbox: Mailbox, store: CallbackStore, calendars: CallbackBackend
) -> CallbackService:
    """The callback service; `mailbox` is where booking mails arrive (`open_callback_mailbox`)."""
    cb = settings.callbacks
    texts = TextRenderer.from_settings(settings)
    calendar = settings.calendar.build()
    own_mailbox = (
        cb.mailbox is not None
        and mailbox.address.key != settings.connection.shared_mailbox.casefold()
    )
    planner = Planner(
        calendars=calendars,
        directory=calendars,
        texts=texts,
        calendar=calendar,
        staff=staff_members(settings),
        options=PlanOptions(
            category=cb.category,
            reminder_minutes=cb.reminder_minutes,
            rules=SlotRules(
                length=timedelta(minutes=cb.slot_minutes),
                lead_time=timedelta(minutes=cb.lead_minutes),
                grid=timedelta(minutes=cb.grid_minutes),
                horizon_workdays=cb.horizon_workdays,
            ),
            done_category=cb.done_categories[0] if cb.done_categories else "",
            use_directory=cb.use_directory,
        ),
    )
    return CallbackService(
        mailbox=mailbox,
        calendars=calendars,
        bodies=calendars,
        store=store,
        planner=planner,
        clock=SystemClock(),
        calendar=calendar,
        policy=screening_policy(settings),
        options=CallbackOptions(
            keyword=cb.subject_keyword,
            own_mailbox=own_mailbox,
            rejected_category=cb.rejected_category,
            follow_up=FollowUpPolicy(
                done_categories=tuple(cb.done_categories),
                missed_after=timedelta(minutes=cb.missed_after_minutes),
            ),
            check_interval=timedelta(seconds=cb.check_interval_seconds),
            max_rebookings=cb.max_rebookings,
            time_zone=settings.calendar.timezone,
            dry_run=settings.service.dry_run,
            in_doubt_seconds=settings.service.in_doubt_seconds,
        ),
    )
