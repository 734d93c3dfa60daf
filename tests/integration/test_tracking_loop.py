"""The daemon keeps the promise against the sandbox over HTTP, on both backends.

Four tenants write; the daemon (`run --once`, as a process) acknowledges and
records each target. Then staff act as Exchange would show it: a reply from
the shared mailbox in the conversation (its copy in Sent Items), Outlook's last
verb on a message answered from elsewhere, a completed follow-up flag, a done
category; a fifth message gets nothing. The next `run --once` records each
answer with how it was given, and `status --json` shows only the one still
open. The sandbox's gaps (it never sets the last verb itself; no folders of
one's own) are worked around here and listed in docs/tracking.md.
"""

from __future__ import annotations

import email.utils
import json
import subprocess
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from exchange_sandbox.store import Flag, NewItem, PropertyKey, write_property
from tests.integration.conftest import SHARED, Backend
from topcontact_mail.adapters.sqlite_store import SqliteStore

pytestmark = pytest.mark.integration


def tenant_mail(n: int, day: datetime) -> bytes:
    return (
        f"From: Huurder {n} <huurder{n}@example.nl>\r\nTo: {SHARED}\r\n"
        f"Subject: Vraag {n}\r\nDate: {email.utils.format_datetime(day)}\r\n"
        f"Message-ID: <track-{n}@example.nl>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
        f"Beste mensen, mijn vraag nummer {n}: wanneer komt de monteur?\r\n"
    ).encode()


def inbox_item(backend: Backend, n: int) -> str:
    return next(i.id for i in backend.inbox() if i.message_id == f"<track-{n}@example.nl>")


def run_once(backend: Backend) -> None:
    result = backend.run_once()
    assert result.returncode == 0, result.stderr.decode()[-2000:]


def test_each_way_of_answering_is_recorded_and_status_shows_what_is_open(
    backend: Backend,
) -> None:
    backend.reconfigure(extra='[tracking]\ndone_categories = ["Afgehandeld"]\n')
    received = datetime.now(UTC).replace(microsecond=0) - timedelta(days=1)
    for n in range(1, 6):
        backend.deliver(tenant_mail(n, received + timedelta(minutes=n)))
    run_once(backend)
    assert len(backend.sent_items()) == 5  # the acknowledgements
    answered_at = datetime.now(UTC).replace(microsecond=0)
    store = backend.sandbox.store

    # 1: a colleague replies from the shared mailbox, in the conversation.
    reply = (
        f"From: {SHARED}\r\nTo: huurder1@example.nl\r\nSubject: RE: Vraag 1\r\n"
        f"Date: {email.utils.format_datetime(answered_at)}\r\n"
        "In-Reply-To: <track-1@example.nl>\r\nReferences: <track-1@example.nl>\r\n\r\n"
        "De monteur komt dinsdag.\r\n"
    ).encode()
    store.send(SHARED, NewItem(mime=reply))
    # 2: answered as the shared mailbox from a colleague's own mailbox: no copy here, but
    # Outlook recorded the reply on the message (the sandbox does not do this by itself).
    # Ten minutes after the acknowledgement (sent just now): a verb within five minutes of
    # it is taken for the acknowledgement's own.
    verb_at = answered_at + timedelta(minutes=10)
    stamp = verb_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    store.update(
        inbox_item(backend, 2),
        lambda item: write_property(
            write_property(item, PropertyKey("Integer", property_tag=0x1081), "102"),
            PropertyKey("SystemTime", property_tag=0x1082),
            stamp,
        ),
    )
    # 3: answered by phone; the colleague marks the flag complete.
    store.update(
        inbox_item(backend, 3),
        lambda item: replace(
            item, flag=Flag("Complete", item.flag.start, item.flag.due, answered_at)
        ),
    )
    # 4: filed with the done category.
    store.update(
        inbox_item(backend, 4),
        lambda item: replace(item, categories=(*item.categories, "Afgehandeld")),
    )
    run_once(backend)

    state = SqliteStore(backend.state_dir / "topcontact.sqlite3")
    by_message_id = {r.internet_message_id: r.item_id for r in state.records()}
    targets = {t.item_id: t for t in state.targets()}
    state.close()
    found = [targets[by_message_id[f"<track-{n}@example.nl>"]] for n in range(1, 6)]
    assert [t.answered_how for t in found] == [
        "reply_sent",
        "reply_verb",
        "flag_completed",
        "done_category",
        None,
    ]
    assert found[0].answered_at == answered_at  # the reply's send time
    assert found[1].answered_at == verb_at  # the verb's time
    assert found[2].answered_at == answered_at  # the flag's completion

    later = (verb_at + timedelta(minutes=1)).isoformat()
    status = subprocess.run(
        backend.command("status", "--json", "--as-of", later),
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert status.returncode == 0, status.stderr.decode()  # nothing late yet
    data = json.loads(status.stdout)
    assert (data["counts"]["open"], data["counts"]["messages"]) == (1, 1)
    assert data["open"][0]["item_id"] == found[4].item_id
    assert data["open"][0]["state"] == "on_time"
