"""Alerts to the administrator: a storm pauses acknowledgements and says so, once an hour."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from tests.unit.services.test_acknowledge import FRIDAY_10, SHARED, FixedClock, make_service, person
from topcontact_mail.adapters.memory import MemoryMailbox
from topcontact_mail.adapters.sqlite_store import SqliteStore
from topcontact_mail.adapters.texts import TextRenderer
from topcontact_mail.config import Settings
from topcontact_mail.domain.message import Address
from topcontact_mail.domain.screening import ScreeningPolicy
from topcontact_mail.ports import MailboxUnavailable
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
