"""The daemon keeps the promise against the sandbox over HTTP, on both backends.

Six tenants write; the daemon (`run --once`, as a process) acknowledges and
records each target. Then staff answer as they do in Outlook, over the real
protocols (`tests/contract/staff.py`): a reply from the shared mailbox in the
conversation (its copy in Sent Items), a reply sent without a copy (only the
last verb the server leaves on the message shows it), a completed follow-up
flag, a done category, a move into the done folder `Inbox/Afgehandeld` made for
it; a sixth message gets nothing. The next `run --once` records each answer
with how it was given, and `status --json` shows only the one still open.
"""

from __future__ import annotations

import email.utils
import json
import subprocess
from datetime import UTC, datetime, timedelta

import pytest

from tests.contract.staff import EwsStaff, staff_for, transport_clock
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


def run_once(backend: Backend) -> None:
    result = backend.run_once()
    assert result.returncode == 0, result.stderr.decode()[-2000:]


def test_each_way_of_answering_is_recorded_and_status_shows_what_is_open(
    backend: Backend,
) -> None:
    backend.reconfigure(
        extra='[tracking]\ndone_categories = ["Afgehandeld"]\ndone_folders = ["Afgehandeld"]\n'
    )
    received = datetime.now(UTC).replace(microsecond=0) - timedelta(days=1)
    for n in range(1, 7):
        backend.deliver(tenant_mail(n, received + timedelta(minutes=n)))
    run_once(backend)
    assert len(backend.sent_items()) == 6  # the acknowledgements
    answered_at = datetime.now(UTC).replace(microsecond=0)
    staff = staff_for(backend.name, backend.sandbox)

    # 1: a colleague replies from the shared mailbox, in the conversation.
    with transport_clock(backend.sandbox, answered_at):
        staff.reply("<track-1@example.nl>", "reply")
    # 2: a reply sent without a copy in the shared mailbox's Sent Items: only the last verb
    # Exchange leaves on the message shows it. Graph keeps a copy of every reply, so this one
    # is sent as Outlook can, through EWS (SendOnly), on either backend. Ten minutes after the
    # acknowledgement (sent just now): a verb within five minutes of it is taken for its own.
    verb_at = answered_at + timedelta(minutes=10)
    with transport_clock(backend.sandbox, verb_at):
        EwsStaff(backend.sandbox).reply("<track-2@example.nl>", "reply", keep_copy=False)
    # 3: answered by phone; the colleague marks the flag complete.
    staff.complete_flag("<track-3@example.nl>", answered_at)
    # 4: given the done category.
    staff.categorise("<track-4@example.nl>", "Afgehandeld")
    # 5: filed in the done folder, made for it under the Inbox.
    staff.move("<track-5@example.nl>", "Inbox/Afgehandeld")
    run_once(backend)

    state = SqliteStore(backend.state_dir / "topcontact.sqlite3")
    # By tenant: a message moved over EWS has a new id, which its target follows.
    by_tenant = {t.sender: t for t in state.targets()}
    state.close()
    found = [by_tenant[f"huurder{n}@example.nl"] for n in range(1, 7)]
    assert [t.answered_how for t in found] == [
        "reply_sent",
        "reply_verb",
        "flag_completed",
        "done_category",
        "done_folder",
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
    assert data["open"][0]["item_id"] == found[5].item_id
    assert data["open"][0]["state"] == "on_time"
