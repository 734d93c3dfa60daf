"""The administrator hears of what a person must act on, by mail, once an hour (over the sandbox)."""

from __future__ import annotations

import time
from datetime import datetime
from email.message import EmailMessage

import pytest

from tests.integration.conftest import PASSWORD, SHARED, Backend
from tests.integration.test_acknowledge_loop import AMS, tenant_mail

pytestmark = pytest.mark.integration

ADMIN = "beheer@woonservice.example"


def alerts(backend: Backend) -> list[EmailMessage]:
    return [m for m in backend.sent() if str(m["To"]) == ADMIN]


def wait_for(check: object, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and not check():  # type: ignore[operator]
        time.sleep(0.2)


@pytest.mark.parametrize("backend", ["ews"], indirect=True)  # GetItem faults by item are EWS's
def test_messages_the_service_cannot_handle_reach_the_administrator_once_an_hour(
    backend: Backend,
) -> None:
    backend.reconfigure(service_keys={"admin_address": ADMIN})
    first = backend.deliver(tenant_mail(1, datetime(2026, 11, 23, 8, 0, tzinfo=AMS)))
    backend.sandbox.set_faults(f"drop=1.0,ops=GetItem,match={first.id}")
    daemon = backend.start_daemon()
    wait_for(lambda: alerts(backend), 60)
    (alert,) = alerts(backend)
    subject = str(alert["Subject"])
    text = alert.get_content()
    assert "Berichten niet verwerkt" in subject
    assert SHARED in subject
    assert "kon 1 bericht" in text
    for private in (PASSWORD, "Vraag nummer 1", "mijn vraag nummer", "huurder1@example.nl"):
        assert private not in subject + text, f"the alert carries {private!r}"

    # A second one within the hour: the log has it, the administrator's inbox no second mail.
    second = backend.deliver(tenant_mail(2, datetime(2026, 11, 23, 8, 5, tzinfo=AMS)))
    backend.sandbox.set_faults(f"drop=1.0,ops=GetItem,match={second.id}")
    log = backend.config_file.parent / "daemon.log"
    wait_for(lambda: second.id in log.read_text("utf-8"), 60)
    time.sleep(3)  # a while longer: a second alert would come now
    daemon.terminate()
    assert daemon.wait(timeout=30) == 0
    assert "messages quarantined" in log.read_text("utf-8")
    assert len(alerts(backend)) == 1
