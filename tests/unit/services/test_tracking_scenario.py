"""A hand-counted December: 31 messages and 5 callbacks, and `status --json` and `report --format
json` agree with the numbers worked out here by hand.

The mail goes through the real services (acknowledge with intake, tracking)
over the memory mailbox into a real state file; the commands read that file.
Office hours Mon-Fri 08:30-17:00, Europe/Amsterdam. Both commands are asked as
of Wed 16 Dec 2026 12:00.

Terms (5th workday after the reception day D, closing time):

- A1-A10, Tue 1 Dec 10:00+n min: D Tue 1, answer_by Tue 8 Dec 17:00.
  A1-A6 answered by a reply Thu 3 Dec 11:00: 2 workdays, in time.
  A7, A8 flag completed Wed 9 Dec 10:00: 6 workdays, late.
  A9, A10 never answered: overdue (6 workdays since Tue 8 at the report).
- H1, Mon 30 Nov 10:00 (November: not in the December report): answer_by Mon 7 Dec, open.
- E1: A9's tenant writes again Mon 7 Dec 10:00: shares A9's target (joined), not counted
  again; skipped as conversation_already_acknowledged.
- F1: A1's tenant answers "Bedankt!" Thu 3 Dec 12:00: no target; skipped likewise.
- G1, G2, Sat 5 Dec 12:00: D Mon 7, answer_by Mon 14 Dec 17:00. G1 replied Fri 11 Dec
  16:00: 4 workdays. G2 forwarded Tue 15 Dec 09:00: 6 workdays, late.
- D1-D3 automatic replies and D4, D5 list mail, Thu 10 Dec: skipped.
- C1-C3, Wed 9 Dec 10:00+n: answer_by Wed 16 Dec 17:00, in the warning period at 12:00.
  C3 given the done category Wed 16 Dec 11:00: 5 workdays, in time, answered today.
- B1-B8, Mon 14 Dec 09:00+n: answer_by Mon 21 Dec 17:00. B1, B2 replied Tue 15 Dec
  10:00: 1 workday. B3-B8 open, on time.

December: received 30 (10 A + 8 B + 3 C + 5 D + E1 + F1 + 2 G), acknowledged 23 (all
persons but E1 and F1, each at once, so 23 of 23 in time), skipped 7. Own targets 23
(A, B, C, G); answered 13 (A1-A8, B1, B2, C3, G1, G2), 10 of them in time; settled
13 + 2 overdue (A9, A10) = 15; open on time 8 (B3-B8, C1, C2). Workdays sorted:
1 1 2 2 2 2 2 2 4 5 6 6 6 (13): median rank 7 = 2, p90 rank ceil(11.7) = 12 = 6.

Status: overdue A9 (with E1 named on its row), A10, H1 (3), warning C1, C2, on time B3-B8
(6): 11 rows, 12 open messages; answered today 1 (C3).

Callbacks (booked in December): k1 done, in time; k2 planned Thu 17 Dec, in time; k3
missed; k4 rebooked, in time; k5 planned Fri 18 Dec after its deadline Thu 17 17:00.
Booked 5, in time 3 (k1, k2, k4), done 1, rebooked 1, missed 1; the status shows 2
planned from today (k2, k5) and 1 missed (k3).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner

from topcontact_mail.domain.tracking import CallbackState, SentKind, TrackedCallback
from topcontact_mail.domain.tracking.model import AnsweredPolicy
from topcontact_mail.entrypoints import wiring
from topcontact_mail.entrypoints.cli import cli
from topcontact_mail.ports.callbacks import FixedCallbacks

from ..tracking.support import at
from .tracking_world import World, tenant_mail

AS_OF = "2026-12-16T12:00"


def callback(ref: str, booked: str, by: str, slot: str, state: CallbackState) -> TrackedCallback:
    return TrackedCallback(ref, at(booked), at(by), at(slot), state, colleague="Jan de Vries")


CALLBACKS = [
    callback("k1", "di 1 dec 2026 10:00", "wo 2 dec 2026 17:00", "wo 2 dec 2026 10:00", CallbackState.DONE),
    callback("k2", "wo 16 dec 2026 09:00", "do 17 dec 2026 17:00", "do 17 dec 2026 10:00", CallbackState.PLANNED),
    callback("k3", "ma 14 dec 2026 11:00", "di 15 dec 2026 17:00", "di 15 dec 2026 16:45", CallbackState.MISSED),
    callback("k4", "do 10 dec 2026 09:00", "vr 11 dec 2026 17:00", "vr 11 dec 2026 11:00", CallbackState.REBOOKED),
    callback("k5", "wo 16 dec 2026 10:00", "do 17 dec 2026 17:00", "vr 18 dec 2026 09:00", CallbackState.PLANNED),
]  # fmt: skip


def machine(n: int, moment: str, header: tuple[str, str]) -> Callable[[World], None]:
    def deliver(world: World) -> None:
        message = tenant_mail(n, at(moment), sender=f"systeem{n}@example.com")
        world.mailbox.deliver(replace(message, headers=(*message.headers, header)))
        world.acknowledge.run_once()

    return deliver


def person(n: int, moment: str, **kw: object) -> Callable[[World], None]:
    return lambda world: world.deliver(n, moment, **kw)  # type: ignore[arg-type]


def build_december(world: World) -> None:
    """The events in order of time; a tracking pass after each, as the daemon would make."""
    events: list[tuple[str, Callable[[World], None]]] = [
        ("ma 30 nov 2026 10:00", person(100, "ma 30 nov 2026 10:00")),  # H1
    ]
    for n in range(1, 11):  # A1-A10 are items 1-10
        moment = f"di 1 dec 2026 10:{n - 1:02d}"
        events.append((moment, person(n, moment)))
    for n in range(1, 7):
        events.append(
            (
                "do 3 dec 2026 11:00",
                lambda w, n=n: w.mailbox.staff_send(f"item-{n}", at("do 3 dec 2026 11:00")),
            )
        )
    events.append(
        (
            "do 3 dec 2026 12:00",
            person(
                61,
                "do 3 dec 2026 12:00",
                sender="huurder1@example.nl",
                conversation="conv-1",
                text="Bedankt!",
            ),
        )
    )  # F1
    for n in (31, 32):  # G1, G2
        events.append(("za 5 dec 2026 12:00", person(n, "za 5 dec 2026 12:00")))
    events.append(
        (
            "ma 7 dec 2026 10:00",
            person(
                51,
                "ma 7 dec 2026 10:00",
                sender="huurder9@example.nl",
                conversation="conv-9",
                text="Wanneer komt de monteur nu?",
            ),
        )
    )  # E1
    for n in (7, 8):
        events.append(
            (
                "wo 9 dec 2026 10:00",
                lambda w, n=n: w.mailbox.complete_flag(f"item-{n}", at("wo 9 dec 2026 10:00")),
            )
        )
    for n in (21, 22, 23):  # C1-C3
        moment = f"wo 9 dec 2026 10:{n - 21:02d}"
        events.append((moment, person(n, moment)))
    for n in (41, 42, 43):
        events.append(
            (
                "do 10 dec 2026 09:00",
                machine(n, "do 10 dec 2026 09:00", ("Auto-Submitted", "auto-replied")),
            )
        )
    for n in (44, 45):
        events.append(
            (
                "do 10 dec 2026 09:30",
                machine(n, "do 10 dec 2026 09:30", ("List-Id", "<nieuws.example.com>")),
            )
        )
    events.append(
        (
            "vr 11 dec 2026 16:00",
            lambda w: w.mailbox.staff_send("item-31", at("vr 11 dec 2026 16:00")),
        )
    )
    for n in range(11, 19):  # B1-B8
        moment = f"ma 14 dec 2026 09:{n - 11:02d}"
        events.append((moment, person(n, moment)))
    events.append(
        (
            "di 15 dec 2026 09:00",
            lambda w: w.mailbox.staff_send("item-32", at("di 15 dec 2026 09:00"), SentKind.FORWARD),
        )
    )
    for n in (11, 12):
        events.append(
            (
                "di 15 dec 2026 10:00",
                lambda w, n=n: w.mailbox.staff_send(f"item-{n}", at("di 15 dec 2026 10:00")),
            )
        )
    events.append(
        ("wo 16 dec 2026 11:00", lambda w: w.mailbox.categorise("item-23", "Afgehandeld", at("wo 16 dec 2026 11:00")))
    )  # fmt: skip
    events.sort(key=lambda e: at(e[0]))
    for moment, event in events:
        world.at(moment)
        event(world)
        world.track()
    world.track("wo 16 dec 2026 12:00")


@pytest.fixture(scope="module")
def december_state(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """December's state file and its configuration, built once (the commands only read it)."""
    folder = tmp_path_factory.mktemp("december")
    state = folder / "state"
    state.mkdir()
    world = World(
        state / "topcontact.sqlite3",
        "ma 30 nov 2026 09:00",
        answered=AnsweredPolicy(done_categories=frozenset({"Afgehandeld"})),
    )
    build_december(world)
    world.store.close()
    config = folder / "topcontact.toml"
    config.write_text(
        f'[tracking]\ndone_categories = ["Afgehandeld"]\n[service]\nstate_dir = "{state}"\n',
        encoding="utf-8",
    )
    return config


@pytest.fixture
def december(december_state: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(
        wiring, "callback_source", lambda settings, store: FixedCallbacks(CALLBACKS)
    )
    return december_state


def run(config: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, [*args, "--config", str(config), "--as-of", AS_OF])
    return result.exit_code, result.output


def test_status_json_holds_the_hand_counted_numbers(december: Path) -> None:
    code, out = run(december, "status", "--json")

    data = json.loads(out)
    assert code == 1  # something is late
    assert data["counts"] == {
        "on_time": 6,
        "warning": 2,
        "overdue": 3,
        "open": 11,
        "messages": 12,
        "answered_today": 1,
        "callbacks_planned": 2,
        "callbacks_missed": 1,
    }
    rows = {row["item_id"]: row for row in data["open"]}
    assert len(data["open"]) == 11  # one row per promise
    assert [r["state"] for r in data["open"]][:3] == ["overdue"] * 3  # worst first
    assert rows["item-100"]["workdays_overdue"] == 7  # due Mon 7 Dec
    assert rows["item-9"]["workdays_overdue"] == 6  # due Tue 8 Dec
    assert rows["item-9"]["joined"] == ["item-51"]  # E1 shares A9's target
    assert "item-51" not in rows
    assert {r["item_id"] for r in data["open"] if r["state"] == "warning"} == {
        "item-21",
        "item-22",
    }
    assert [c["ref"] for c in data["callbacks"]["planned"]] == ["k2", "k5"]
    assert [c["ref"] for c in data["callbacks"]["missed"]] == ["k3"]


def test_report_json_holds_the_hand_counted_numbers(december: Path) -> None:
    code, out = run(december, "report", "--month", "2026-12", "--format", "json")

    assert code == 0
    totals = json.loads(out)["totals"]
    assert {k: totals[k] for k in ("received", "acknowledged", "skipped", "targets")} == {
        "received": 30,
        "acknowledged": 23,
        "skipped": 7,
        "targets": 23,
    }
    assert totals["skipped_by_reason"] == {
        "auto_submitted": 3,
        "conversation_already_acknowledged": 2,
        "mailing_list": 2,
    }
    assert totals["acknowledged_in_time"] == {"met": 23, "settled": 23, "share": 1.0}
    assert totals["answered"] == 13
    assert totals["answered_in_time"] == {"met": 10, "settled": 15, "share": 0.6667}
    assert (totals["overdue_open"], totals["open_on_time"]) == (2, 8)
    assert totals["answer_workdays"] == {"median": 2, "p90": 6}
    assert totals["callbacks"] == {
        "booked": 5,
        "in_time": 3,
        "done": 1,
        "rebooked": 1,
        "missed": 1,
    }


def test_status_and_report_agree(december: Path) -> None:
    _, status_out = run(december, "status", "--json")
    _, report_out = run(december, "report", "--month", "2026-12", "--format", "json")
    counts = json.loads(status_out)["counts"]
    totals = json.loads(report_out)["totals"]

    # The November message (H1) is open and overdue, but not December's.
    assert counts["overdue"] - 1 == totals["overdue_open"]
    assert counts["on_time"] + counts["warning"] == totals["open_on_time"]


def test_the_html_and_csv_reports_are_written_to_files(december: Path, tmp_path: Path) -> None:
    html, csv = tmp_path / "december.html", tmp_path / "december.csv"

    assert run(december, "report", "--month", "2026-12", "--output", str(html))[0] == 0
    assert (
        run(december, "report", "--month", "2026-12", "--format", "csv", "--output", str(csv))[0]
        == 0
    )

    page = html.read_text(encoding="utf-8")
    assert page.lstrip().lower().startswith("<!doctype html>")
    assert 'data-key="totals.received">30<' in page
    assert "Vraag 1" not in page
    assert "huurder" not in page
    lines = csv.read_text(encoding="utf-8-sig").splitlines()
    assert lines[0].startswith("week;first_day;last_day;received")
    assert lines[-1].startswith("total;2026-12-01;2026-12-31;30;23;")


def test_the_human_status_table_reads_in_ten_seconds(december: Path) -> None:
    code, out = run(december, "status")

    assert code == 1
    assert "3 te laat, 2 waarschuwing, 6 op tijd (1 vandaag beantwoord)" in out
    first_rows = [line for line in out.splitlines() if "te laat" in line and "@" in line]
    assert "huurder100@example.nl" in first_rows[0]  # the longest overdue first
    assert "Terugbellen: 2 gepland, 1 gemist" in out
