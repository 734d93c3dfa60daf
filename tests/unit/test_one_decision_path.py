"""`explain` and the daemon give the same verdict for the same message and the same history.

The whole fixture corpus (and the demo mail) goes through both, message after
message, sharing one state file: `explain` first, reading the state as the
daemon left it, then the daemon itself. Copies, second messages in a
conversation and a busy sender make the history matter.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner

from topcontact_mail.adapters.memory import MemoryMailbox
from topcontact_mail.adapters.sqlite_store import SqliteStore
from topcontact_mail.adapters.texts import TextRenderer
from topcontact_mail.config import load_settings
from topcontact_mail.domain.message import Address
from topcontact_mail.domain.mime import UnreadableMessage, parse_message
from topcontact_mail.entrypoints.cli import cli
from topcontact_mail.entrypoints.wiring import screening_policy, service_options, state_file
from topcontact_mail.services.acknowledge import AcknowledgeService

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "mail"
DEMO = ROOT / "topcontact_mail" / "entrypoints" / "demo_mail"
RECEIVED = datetime(2026, 11, 27, 10, 0, tzinfo=ZoneInfo("Europe/Amsterdam"))
SHARED = "klantcontact@woonservice.example"


class FixedClock:
    def now(self) -> datetime:
        return RECEIVED


def _corpus() -> list[tuple[str, bytes, str | None]]:
    """(name, raw, conversation id): every sample, then copies and follow-ups that need history."""
    samples = [*sorted(FIXTURES.glob("*.eml")), *sorted(DEMO.glob("*.eml"))]
    corpus = [(p.name, p.read_bytes(), f"conv-{p.stem}") for p in samples]
    person = (DEMO / "01-nl-lekkage.eml").read_bytes()
    busy = (
        "From: Piet Druk <piet.druk@example.nl>\r\nTo: klantcontact@woonservice.example\r\n"
        "Subject: Vraag {n}\r\nMessage-ID: <druk-{n}@example.nl>\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n\r\nBeste mensen, vraag {n}.\r\n"
    )
    corpus += [
        ("copy of 01", person, "conv-copy"),  # same Message-ID as recorded: a duplicate
        (
            "follow-up in the thread of 02",
            (DEMO / "02-nl-huur.eml")
            .read_bytes()
            .replace(
                b"Message-ID: <demo-02-huur@example.nl>",
                b"Message-ID: <re-02@example.nl>\r\nIn-Reply-To: <demo-02-huur@example.nl>",
            ),
            "conv-02-nl-huur",
        ),
    ]
    corpus += [(f"busy sender {n}", busy.format(n=n).encode(), f"conv-druk-{n}") for n in range(5)]
    return corpus


@pytest.mark.slow  # the whole corpus through both paths: `make test`
def test_explain_and_the_daemon_agree_on_every_message(tmp_path: Path) -> None:
    config = tmp_path / "topcontact.toml"
    config.write_text(
        f'[connection]\nshared_mailbox = "{SHARED}"\n'
        f'[service]\nstate_dir = "{tmp_path / "state"}"\n',
        encoding="utf-8",
    )
    settings = load_settings(config)
    store = SqliteStore(state_file(settings))
    mailbox = MemoryMailbox(Address(SHARED, "Team Klantcontact"))
    service = AcknowledgeService(
        mailbox=mailbox,
        store=store,
        texts=TextRenderer.from_settings(settings),
        clock=FixedClock(),
        calendar=settings.calendar.build(),
        policy=screening_policy(settings),
        options=service_options(settings),
    )
    compared = 0
    for number, (name, raw, conversation) in enumerate(_corpus()):
        eml = tmp_path / f"{number:03d}.eml"
        eml.write_bytes(raw)
        result = CliRunner().invoke(
            cli,
            [
                "explain",
                "--json",
                "--config",
                str(config),
                "--received",
                RECEIVED.isoformat(),
                str(eml),
            ],
        )
        assert result.exit_code == 0, result.output
        explained = json.loads(result.stdout)
        try:
            message = parse_message(raw, RECEIVED)
        except UnreadableMessage:
            assert explained["reason"] == "unreadable"
            continue
        mailbox.deliver(replace(message, item_id=f"item-{number}", conversation_id=conversation))
        service.run_once()
        recorded = store.get(f"item-{number}")
        assert recorded is not None
        assert (explained["acknowledge"], explained["reason"]) == (
            recorded.acknowledge,
            recorded.reason,
        ), name
        compared += 1
    reasons = {r.reason for r in store.records()}
    # The history really mattered: copies, threads and the daily limit all occurred.
    assert {
        "duplicate_message",
        "conversation_already_acknowledged",
        "sender_daily_limit",
    } <= reasons
    assert compared >= 60
