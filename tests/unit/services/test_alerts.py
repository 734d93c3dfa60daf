"""Alerts to the administrator: a storm pauses acknowledgements and says so, once an hour."""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from pathlib import Path

from structlog.testing import capture_logs

from tests.unit.services.test_acknowledge import FRIDAY_10, SHARED, FixedClock, make_service, person
from topcontact_mail.adapters.memory import MemoryMailbox
from topcontact_mail.adapters.sqlite_store import SqliteStore
from topcontact_mail.adapters.texts import TextRenderer
from topcontact_mail.config import Settings
from topcontact_mail.domain.message import Address
from topcontact_mail.domain.screening import ScreeningPolicy
from topcontact_mail.entrypoints.daemon import Daemon
from topcontact_mail.entrypoints.health import MailboxHealth
from topcontact_mail.ports import ChangePage, MailboxUnavailable
from topcontact_mail.services.alerts import Alerts

ROOT = Path(__file__).resolve().parents[3]
ADMIN = Address("beheer@woonservice.example")


def texts() -> TextRenderer:
    return TextRenderer.from_settings(Settings())


def test_the_hourly_cap_pauses_acknowledgements_and_mails_the_administrator_once(
    tmp_path: Path,
) -> None:
    mailbox = MemoryMailbox(SHARED)
    store = SqliteStore(tmp_path / "state.sqlite3")
    service = make_service(mailbox, store)
    service.policy = ScreeningPolicy.from_settings(
        Settings().screening.model_copy(update={"global_per_hour": 2}), SHARED.email
    )
    clock = FixedClock(FRIDAY_10)
    service.alerts = Alerts(mailbox, texts(), clock, ADMIN)
    for n in range(5):
        mailbox.deliver(person(n))
    service.run_once()

    assert len(mailbox.sent) == 2
    (notice,) = mailbox.notices
    to, subject, text = notice
    assert to == ADMIN
    assert "te veel berichten" in subject
    assert "global_per_hour" in text
    assert "klantcontact@woonservice.example" in text
    # later in the same hour: no second mail; the next hour: again
    mailbox.deliver(person(9))
    service.run_once()
    assert len(mailbox.notices) == 1
    clock.moment = FRIDAY_10 + timedelta(hours=1, minutes=5)
    assert service.alerts.raise_alert("storm", limit=2)
    assert len(mailbox.notices) == 2


def test_an_alert_that_cannot_be_mailed_is_logged_not_raised() -> None:
    class Refusing(MemoryMailbox):
        def send_notice(self, to: Address, subject: str, text: str) -> None:
            raise MailboxUnavailable("credentials refused")

    alerts = Alerts(Refusing(SHARED), texts(), FixedClock(FRIDAY_10), ADMIN)
    assert alerts.raise_alert("credentials", detail="AADSTS7000222: secret expired") is False


def test_without_an_administrator_address_nothing_is_mailed() -> None:
    mailbox = MemoryMailbox(SHARED)
    assert (
        Alerts(mailbox, texts(), FixedClock(FRIDAY_10), None).raise_alert("storm", limit=200)
        is False
    )
    assert mailbox.notices == []


def test_the_credentials_alert_names_the_servers_answer_and_the_way_out() -> None:
    subject, text = texts().alert(
        "credentials",
        mailbox=SHARED.email,
        detail="AADSTS7000222: secret expired",
        limit=0,
        moment="nu",
    )
    assert "Inloggegevens geweigerd" in subject
    assert "AADSTS7000222" in text
    assert "test-connection" in text


# -- conditions a person must act on: one mail per kind and mailbox an hour ---------------------


class Outage(MemoryMailbox):
    """A mailbox whose reading fails while `down` (a network fault): sending still works."""

    down = False

    def fetch_changes(self, watermark: str | None) -> ChangePage:
        if self.down:
            raise MailboxUnavailable("connection refused by mail.woonservice.example:443")
        return super().fetch_changes(watermark)


def daemon_over(
    mailbox: MemoryMailbox, tmp_path: Path, clock: FixedClock, health: MailboxHealth
) -> Daemon:
    """A mailbox's daemon as `run` makes it anew after each restart, with its alerts."""
    service = make_service(mailbox, SqliteStore(tmp_path / "state.sqlite3"))
    service.alerts = Alerts(mailbox, texts(), clock, ADMIN)
    return Daemon(Settings(), service, mailbox, health=health)


def attempt(daemon: Daemon) -> None:
    """One pass of the loop (an unreachable mailbox is reported as the loop does)."""
    daemon.drain(max_seconds=0)


def admin_mails(mailbox: MemoryMailbox) -> list[tuple[str, str]]:
    return [(subject, text) for to, subject, text in mailbox.notices if to == ADMIN]


def test_an_unreachable_mailbox_is_mailed_once_after_ten_minutes_and_its_recovery_once(
    tmp_path: Path,
) -> None:
    mailbox = Outage(SHARED)
    clock = FixedClock(FRIDAY_10)
    health = MailboxHealth(SHARED.email, threading.RLock())
    daemon = daemon_over(mailbox, tmp_path, clock, health)
    mailbox.down = True
    attempt(daemon)
    clock.moment = FRIDAY_10 + timedelta(minutes=9)
    attempt(daemon)
    assert admin_mails(mailbox) == [], "a short fault passes by itself: no mail"

    for minutes in (11, 20, 45, 59, 70, 130):
        clock.moment = FRIDAY_10 + timedelta(minutes=minutes)
        attempt(daemon)
    ((subject, text),) = admin_mails(mailbox)
    assert "Mailbox niet bereikbaar" in subject
    assert SHARED.email in subject
    assert "connection refused by mail.woonservice.example" in text
    assert "test-connection" in text  # what to do

    mailbox.down = False
    clock.moment = FRIDAY_10 + timedelta(minutes=140)
    attempt(daemon)
    attempt(daemon)
    assert [s for s, _ in admin_mails(mailbox)][1:] == [
        f"[topcontact-mail] Opgelost: Mailbox niet bereikbaar: er wordt niets verwerkt ({SHARED.email})"
    ]


def test_a_restarted_loop_does_not_mail_the_same_condition_again(tmp_path: Path) -> None:
    mailbox = Outage(SHARED)
    clock = FixedClock(FRIDAY_10)
    health = MailboxHealth(SHARED.email, threading.RLock())
    mailbox.down = True
    attempt(daemon_over(mailbox, tmp_path, clock, health))
    clock.moment = FRIDAY_10 + timedelta(minutes=12)
    attempt(daemon_over(mailbox, tmp_path, clock, health))
    clock.moment = FRIDAY_10 + timedelta(minutes=14)
    # The loop failed and `run` made a new daemon (and a new `Alerts`) for the mailbox.
    attempt(daemon_over(mailbox, tmp_path, clock, health))
    assert len(admin_mails(mailbox)) == 1


def test_a_loop_that_fails_again_and_again_is_mailed_once_an_hour_at_most(
    tmp_path: Path,
) -> None:
    mailbox = MemoryMailbox(SHARED)
    clock = FixedClock(FRIDAY_10)
    health = MailboxHealth(SHARED.email, threading.RLock())
    health.loop_failed("the loop failed: KeyError")
    attempt(daemon_over(mailbox, tmp_path, clock, health))
    assert admin_mails(mailbox) == [], "one failure is restarted and forgotten"
    for n in range(5):
        health.loop_failed("the loop failed: KeyError")
        clock.moment = FRIDAY_10 + timedelta(minutes=n)
        attempt(daemon_over(mailbox, tmp_path, clock, health))
    ((subject, text),) = admin_mails(mailbox)
    assert "stopt steeds door een fout" in subject
    assert "KeyError" in text


def test_quarantined_messages_are_mailed_once_an_hour_with_how_many(tmp_path: Path) -> None:
    mailbox = MemoryMailbox(SHARED)
    clock = FixedClock(FRIDAY_10)
    health = MailboxHealth(SHARED.email, threading.RLock())
    daemon = daemon_over(mailbox, tmp_path, clock, health)
    for n in (1, 2, 3):
        mailbox.deliver(person(n))
    mailbox.unreadable["item-2"] = "GetItem failed: connection closed"
    attempt(daemon)
    for n in (4, 5):
        mailbox.deliver(person(n))
        mailbox.unreadable[f"item-{n}"] = "GetItem failed: connection closed"
    clock.moment = FRIDAY_10 + timedelta(minutes=30)
    attempt(daemon)
    ((subject, text),) = admin_mails(mailbox)
    assert "Berichten niet verwerkt" in subject
    assert "kon 1 bericht" in text
    assert "collega" in text

    mailbox.deliver(person(6))
    mailbox.unreadable["item-6"] = "GetItem failed: connection closed"
    clock.moment = FRIDAY_10 + timedelta(minutes=65)
    attempt(daemon)
    assert "kon 3 berichten" in admin_mails(mailbox)[1][1]  # the two held back, and this one


def test_an_alert_carries_no_secret_and_no_tenants_text(tmp_path: Path) -> None:
    """The mail names the mailbox and the condition; never a password or a message's content."""
    secret = "Geheim-Wachtwoord-2026!"
    mailbox = Outage(SHARED)
    clock = FixedClock(FRIDAY_10)
    health = MailboxHealth(SHARED.email, threading.RLock())
    daemon = daemon_over(mailbox, tmp_path, clock, health)
    tenant = person(1, text_sample="Mijn BSN is 123456782 en mijn wachtwoord is " + secret)
    mailbox.deliver(tenant)
    mailbox.unreadable["item-1"] = "GetItem failed: connection closed"
    attempt(daemon)
    mailbox.down = True
    attempt(daemon)
    clock.moment = FRIDAY_10 + timedelta(minutes=15)
    attempt(daemon)
    for _ in range(3):
        health.loop_failed("the loop failed: RuntimeError")
    attempt(daemon)
    mails = admin_mails(mailbox)
    assert len(mails) == 3  # quarantined, unreachable, loop failed
    for subject, text in mails:
        for private in (secret, "123456782", "kraan", "Vraag 1", "huurder1@example.nl"):
            assert private not in subject + text


def test_a_condition_that_cannot_be_mailed_is_logged_once_an_hour(tmp_path: Path) -> None:
    class Down(Outage):
        def send_notice(self, to: Address, subject: str, text: str) -> None:
            raise MailboxUnavailable("connection refused")

    mailbox = Down(SHARED)
    mailbox.down = True
    clock = FixedClock(FRIDAY_10)
    health = MailboxHealth(SHARED.email, threading.RLock())
    daemon = daemon_over(mailbox, tmp_path, clock, health)
    with capture_logs() as logs:
        for minutes in (0, 11, 20, 40, 75):
            clock.moment = FRIDAY_10 + timedelta(minutes=minutes)
            attempt(daemon)
    failed = [e for e in logs if e["event"] == "alert mail could not be sent"]
    assert [e["kind"] for e in failed] == ["mailbox_unreachable", "mailbox_unreachable"]
    assert health.snapshot(time.time())["reasons"] == ["mailbox_unreachable"]


def test_a_lagging_sync_is_mailed_after_ten_minutes_unless_the_mailbox_is_down_which_says_it(
    tmp_path: Path,
) -> None:
    mailbox = Outage(SHARED)
    clock = FixedClock(FRIDAY_10)
    health = MailboxHealth(SHARED.email, threading.RLock())
    health.last_sync = time.time() - 3600  # an hour without a good pass: a stuck catch-up
    daemon = daemon_over(mailbox, tmp_path, clock, health)
    daemon.watch(now=True)
    clock.moment = FRIDAY_10 + timedelta(minutes=11)
    daemon.watch(now=True)
    ((subject, text),) = admin_mails(mailbox)
    assert "niet op tijd verwerkt" in subject
    assert "no successful sync for" in text

    other = Outage(Address("verhuur@woonservice.example"))
    lagging = MailboxHealth("verhuur@woonservice.example", threading.RLock())
    lagging.last_sync = time.time() - 3600
    other.down = True
    down = daemon_over(other, tmp_path / "other", clock, lagging)
    for minutes in (0, 12):
        clock.moment = FRIDAY_10 + timedelta(minutes=11 + minutes)
        attempt(down)
    assert [s for s, _ in admin_mails(other)] == [
        "[topcontact-mail] Mailbox niet bereikbaar: er wordt niets verwerkt (verhuur@woonservice.example)"
    ]
