"""Warnings, overdue, escalations and the daily overview at the right local times, never outside
office hours, across a weekend, a holiday and both daylight-saving changes, and exactly once
across restarts.

Every moment below was worked out by hand (office hours Mon-Fri 08:30-17:00,
Europe/Amsterdam; see tests/unit/tracking/test_schedule_table.py for the
calendar facts). The service is driven as the daemon drives it: a pass, then
sleep until the pass's `next_wakeup`.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from topcontact_mail.domain.tracking import CallbackState, SchedulePolicy, TrackedCallback
from topcontact_mail.ports.callbacks import FixedCallbacks

from ..tracking.support import at
from .tracking_world import LEAD, TEAM, World, local

WARNING = "Top Contact: bijna te laat"
OVERDUE = "Top Contact: te laat"
ANSWER = "Top Contact: antwoord vóór 4 dec"


@pytest.fixture
def world(tmp_path: Path) -> World:
    # Received Fri 27 Nov 2026 10:00: answer_by Fri 4 Dec 17:00.
    world = World(tmp_path / "state.sqlite3", "vr 27 nov 2026 10:00")
    world.deliver(1)
    return world


def test_the_warning_comes_at_the_opening_of_the_due_day_and_not_before(world: World) -> None:
    world.track("do 3 dec 2026 16:59")
    assert world.progress("item-1").category == "none"
    world.track("vr 4 dec 2026 08:29")  # before opening
    assert world.categories("item-1") == [ANSWER]

    summary = world.track("vr 4 dec 2026 08:30")

    assert summary.warned == 1
    assert world.categories("item-1") == [ANSWER, WARNING]
    assert world.progress("item-1").warned_at == at("vr 4 dec 2026 08:30")


def test_the_warning_is_given_once_and_the_overdue_category_replaces_it(world: World) -> None:
    world.track("vr 4 dec 2026 08:30")
    assert world.track("vr 4 dec 2026 12:00").warned == 0  # once per message

    summary = world.track("vr 4 dec 2026 17:00")  # exactly at answer_by: overdue

    assert summary.overdue == 1
    assert world.categories("item-1") == [ANSWER, OVERDUE]


def test_the_answer_takes_the_services_categories_off_again(world: World) -> None:
    world.track("vr 4 dec 2026 17:00")
    world.mailbox.categorise("item-1", "Jan", at("ma 7 dec 2026 08:00"))
    world.mailbox.staff_send("item-1", at("ma 7 dec 2026 08:45"))

    summary = world.track("ma 7 dec 2026 09:00")

    assert summary.cleared == 1
    assert world.categories("item-1") == [ANSWER, "Jan"]
    assert world.store.progress() == {}


def test_a_warning_lead_of_two_workdays_starts_earlier_and_lists_it_in_the_overview(
    tmp_path: Path,
) -> None:
    world = World(
        tmp_path / "s.sqlite3",
        "vr 27 nov 2026 10:00",
        schedule=SchedulePolicy(warn_workdays_before=2),
    )
    world.deliver(1)

    world.track("wo 2 dec 2026 08:30")  # two workdays before Fri 4 Dec

    assert world.categories("item-1")[-1] == WARNING
    (overview,) = world.overviews()
    assert "BINNENKORT BEANTWOORDEN (1)" in overview.notice.text
    assert "Vraag 1" in overview.notice.text


def test_over_a_weekend_escalation_waits_for_monday_and_comes_once_a_workday(
    world: World,
) -> None:
    passes = world.run_until("wo 9 dec 2026 12:00")

    escalations = [local(world, m.sent_at) for m in world.escalations()]
    assert escalations == ["ma 7 dec 2026 08:30", "di 8 dec 2026 08:30", "wo 9 dec 2026 08:30"]
    first = world.escalations()[0].notice
    assert first.to == (LEAD,)
    assert first.subject == "[Top Contact] Termijn voorbij: 1 e-mail heeft nog geen antwoord"
    assert "- Vraag 1\n  Van: Huurder 1" in first.text
    assert "Termijn: vr 4 dec 2026 17:00" in first.text
    assert "Nog door niemand opgepakt" in first.text
    # Driven by next_wakeup: no pass in the night or the weekend but the state changes.
    weekend = [local(world, p) for p in passes if world.calendar.local(p).weekday() >= 5]
    assert weekend == []


def test_the_escalation_names_who_has_the_message(world: World) -> None:
    world.mailbox.categorise("item-1", "Anneke", at("vr 4 dec 2026 10:00"))

    world.track("ma 7 dec 2026 08:30")

    (mail,) = world.escalations()
    assert "Opgepakt door: Anneke" in mail.notice.text


def test_the_overview_goes_out_at_opening_time_on_workdays_only(world: World) -> None:
    world.run_until("di 8 dec 2026 18:00")

    days = [local(world, m.sent_at) for m in world.overviews()]
    assert days == [
        "vr 27 nov 2026 10:00",  # the service started after opening: sent at once
        "ma 30 nov 2026 08:30",
        "di 1 dec 2026 08:30",
        "wo 2 dec 2026 08:30",
        "do 3 dec 2026 08:30",
        "vr 4 dec 2026 08:30",
        "ma 7 dec 2026 08:30",
        "di 8 dec 2026 08:30",
    ]
    friday = world.overviews()[5].notice
    assert friday.to == (TEAM,)
    assert friday.subject == (
        "[Top Contact] Overzicht vrijdag 4 december 2026: 0 te laat, 1 vandaag, 0 keer terugbellen"
    )
    monday = world.overviews()[6].notice.text
    assert "TERMIJN VOORBIJ (1)" in monday
    assert "Vraag 1" in monday


def test_no_mail_ever_leaves_outside_office_hours(world: World) -> None:
    # Every quarter of an hour from Friday to Tuesday, besides the wakeups.
    world.run_until("di 8 dec 2026 09:00", step=timedelta(minutes=15))

    assert world.mailbox.team_mails
    for mail in world.mailbox.team_mails:
        assert world.calendar.is_open(mail.sent_at), local(world, mail.sent_at)


def test_nothing_on_a_holiday(tmp_path: Path) -> None:
    # Received Tue 20 Apr 2027 10:00: Koningsdag Tue 27 Apr is no workday, so the 5th workday
    # after Tue 20 is Wed 28 Apr (21, 22, 23, 26, 28).
    world = World(tmp_path / "s.sqlite3", "di 20 apr 2027 10:00")
    world.deliver(1)
    assert world.target("item-1").answer_by == at("wo 28 apr 2027 17:00")

    world.run_until("do 29 apr 2027 12:00")

    overview_days = [local(world, m.sent_at).rsplit(" ", 1)[0] for m in world.overviews()]
    assert "di 27 apr 2027" not in overview_days
    assert overview_days[-3:] == ["ma 26 apr 2027", "wo 28 apr 2027", "do 29 apr 2027"]
    assert [local(world, m.sent_at) for m in world.escalations()] == ["do 29 apr 2027 08:30"]
    assert world.progress("item-1").warned_at == at("wo 28 apr 2027 08:30")


@pytest.mark.parametrize(
    ("received", "due", "escalated", "utc_hour"),
    [
        # Summer time starts Sun 29 Mar 2026: Mon 30 Mar 08:30 is 06:30 UTC (was 07:30).
        ("vr 20 mrt 2026 10:00", "vr 27 mrt 2026 17:00", "ma 30 mrt 2026 08:30", 6),
        # Summer time ends Sun 25 Oct 2026: Mon 26 Oct 08:30 is 07:30 UTC (was 06:30).
        ("vr 16 okt 2026 10:00", "vr 23 okt 2026 17:00", "ma 26 okt 2026 08:30", 7),
        # 2027: Good Friday 26 Mar and Easter Monday 29 Mar around the change on Sun 28 Mar.
        ("do 18 mrt 2027 10:00", "do 25 mrt 2027 17:00", "di 30 mrt 2027 08:30", 6),
        ("vr 22 okt 2027 10:00", "vr 29 okt 2027 17:00", "ma 1 nov 2027 08:30", 7),
    ],
)
def test_across_daylight_saving_changes_the_times_stay_local(
    tmp_path: Path, received: str, due: str, escalated: str, utc_hour: int
) -> None:
    world = World(tmp_path / "s.sqlite3", received)
    world.deliver(1)
    assert world.target("item-1").answer_by == at(due)

    world.run_until(escalated[:-5] + "12:00")

    first = world.escalations()[0].sent_at
    assert local(world, first) == escalated
    assert first.utctimetuple().tm_hour == utc_hour
    assert world.progress("item-1").category == "overdue"
    for mail in world.mailbox.team_mails:
        assert world.calendar.is_open(mail.sent_at)


def test_a_restart_mid_day_sends_nothing_twice(world: World) -> None:
    world.track("ma 7 dec 2026 08:30")
    assert (len(world.escalations()), len(world.overviews())) == (1, 1)

    world.restart()
    world.track("ma 7 dec 2026 10:00")
    world.restart()
    world.track("ma 7 dec 2026 16:59")

    assert (len(world.escalations()), len(world.overviews())) == (1, 1)


def test_a_restart_misses_no_warning(world: World) -> None:
    world.track("do 3 dec 2026 16:00")
    world.restart()  # down all night and the first hours of Friday

    summary = world.track("vr 4 dec 2026 11:00")

    assert summary.warned == 1
    assert [local(world, m.sent_at) for m in world.overviews()][-1] == "vr 4 dec 2026 11:00"


def test_a_mail_whose_answer_was_lost_is_found_and_not_sent_again(world: World) -> None:
    world.mailbox.lost_answers = 1  # the escalation goes out, but its answer never arrives
    world.track("ma 7 dec 2026 08:30")
    assert world.tracking.has_pending()

    world.restart()
    world.track("ma 7 dec 2026 08:35")

    assert len(world.escalations()) == 1
    assert not world.tracking.has_pending()


def test_a_mail_refused_for_a_while_goes_out_later(world: World) -> None:
    world.mailbox.transient_failures = 2  # the overview and the escalation: server busy
    world.track("ma 7 dec 2026 08:30")
    assert world.mailbox.team_mails == []

    world.track("ma 7 dec 2026 08:40")

    assert (len(world.escalations()), len(world.overviews())) == (1, 1)
    assert [local(world, m.sent_at) for m in world.mailbox.team_mails] == [
        "ma 7 dec 2026 08:40",
        "ma 7 dec 2026 08:40",
    ]


def test_the_mailbox_away_interrupts_the_pass_and_the_next_one_catches_up(world: World) -> None:
    world.mailbox.unobservable.add("item-1")
    world.deliver(2, "ma 30 nov 2026 09:00")
    world.deliver(3, "ma 30 nov 2026 09:01")
    world.mailbox.unobservable.update({"item-2", "item-3"})

    summary = world.track("ma 7 dec 2026 08:30")

    assert summary.interrupted
    assert world.mailbox.team_mails == []
    world.mailbox.unobservable.clear()
    world.track("ma 7 dec 2026 08:31")
    assert len(world.escalations()) == 1


def test_without_addresses_only_the_categories_tell(tmp_path: Path) -> None:
    world = World(tmp_path / "s.sqlite3", "vr 27 nov 2026 10:00", team_lead=None, team=None)
    world.deliver(1)

    world.run_until("ma 7 dec 2026 12:00")

    assert world.mailbox.team_mails == []
    assert world.categories("item-1")[-1] == OVERDUE


def test_dry_run_marks_and_mails_nothing(tmp_path: Path) -> None:
    world = World(tmp_path / "s.sqlite3", "vr 27 nov 2026 10:00", dry_run=True)
    world.deliver(1)

    world.track("ma 7 dec 2026 08:30")

    assert world.mailbox.team_mails == []
    assert OVERDUE not in world.categories("item-1")


def test_switched_off_it_records_targets_but_does_nothing_else(tmp_path: Path) -> None:
    world = World(tmp_path / "s.sqlite3", "vr 27 nov 2026 10:00", enabled=False)
    world.deliver(1)
    world.mailbox.staff_send("item-1", at("ma 30 nov 2026 11:00"))

    world.track("ma 7 dec 2026 08:30")

    assert world.target("item-1").answered_at is None
    assert world.mailbox.team_mails == []


def test_the_overview_lists_callbacks_through_their_seam(tmp_path: Path) -> None:
    callbacks = FixedCallbacks(
        [
            TrackedCallback(
                "cb1",
                booked_at=at("vr 4 dec 2026 15:00"),
                callback_by=at("ma 7 dec 2026 17:00"),
                slot_start=at("ma 7 dec 2026 10:00"),
                colleague="Jan de Vries",
                tenant="mevrouw Yilmaz",
            ),
            TrackedCallback(
                "cb2",
                booked_at=at("do 3 dec 2026 15:00"),
                callback_by=at("vr 4 dec 2026 17:00"),
                slot_start=at("vr 4 dec 2026 11:00"),
                state=CallbackState.MISSED,
                colleague="Anneke Bakker",
            ),
        ]
    )
    world = World(tmp_path / "s.sqlite3", "ma 7 dec 2026 08:30", callbacks=callbacks)

    world.track()

    (overview,) = world.overviews()
    assert "1 keer terugbellen" in overview.notice.subject
    assert "ma 7 dec 2026 10:00: Jan de Vries belt mevrouw Yilmaz." in overview.notice.text
    assert "TERUGBELLEN GEMIST (1)" in overview.notice.text
