"""Loops and storms: two instances that write to each other, a flood, bounces, a storm.

Loops: two instances watch two shared mailboxes; colleagues of each mailbox write to the
other, so each instance's acknowledgement lands in the other's inbox. Storms (one
instance, an administrator's address set): one sender writes 1,000 messages in a minute,
500 bounces arrive in a burst, then more distinct people than `screening.global_per_hour`
allows. Goals: at most one acknowledgement per conversation, no acknowledgement of an
acknowledgement, the per-sender and hourly caps held, exactly one storm alert mail.
"""

from __future__ import annotations

import time
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any

from reliability.harness import (
    ADMIN,
    BOUNCE_FIXTURES,
    SECOND,
    SHARED,
    Rows,
    Site,
    is_acknowledgement,
    machine_mail,
    parsed,
    person_mail,
    start_of_run,
    tally,
    unrecorded,
    wait_for,
)

FULL = {
    "seeds": 25,
    "loop_seconds": 30,
    "flood": 1000,
    "flood_seconds": 60,
    "bounces": 500,
    "cap": 100,
    "storm": 150,
}
QUICK = {
    "seeds": 4,
    "loop_seconds": 8,
    "flood": 40,
    "flood_seconds": 4,
    "bounces": 30,
    "cap": 8,
    "storm": 14,
}
PER_SENDER = 3


def run(backend: str, full: bool, workdir: Path) -> Rows:
    size: dict[str, Any] = FULL if full else QUICK
    rows = Rows("storms", backend)
    began = time.monotonic()
    loops(backend, size, workdir / "loops", rows)
    storms(backend, size, workdir / "storms", rows)
    rows.info("seconds", round(time.monotonic() - began))
    return rows


def colleague_mail(n: int, sender: str, to: str, when: datetime) -> bytes:
    return (
        f"From: Medewerker {n} <{sender}>\r\n"
        f"To: {to}\r\n"
        f"Subject: Overleg over dossier {n}\r\n"
        f"Date: {when:%a, %d %b %Y %H:%M:%S %z}\r\n"
        f"Message-ID: <loop-{to.split('@')[0]}-{n}@exchange.example>\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n\r\n"
        f"Kunnen jullie naar dossier {n} kijken? Groet.\r\n"
    ).encode()


def loops(backend: str, size: dict[str, Any], workdir: Path, rows: Rows) -> None:
    site = Site(backend, workdir)
    try:
        site.submission(500, 500, "outbox")
        # Colleagues are answered too: the set-up in which two instances could feed a loop.
        answer_colleagues = "[screening]\nacknowledge_internal = true\nglobal_per_hour = 100000\nper_sender_per_day = 1000\n"
        first = site.instance("first", SHARED, extra=answer_colleagues)
        second = site.instance("second", SECOND, extra=answer_colleagues)
        start = start_of_run()
        for n in range(size["seeds"]):
            site.deliver(colleague_mail(n, SECOND, SHARED, start), SHARED)
            site.deliver(colleague_mail(n, SHARED, SECOND, start), SECOND)
        first.start()
        second.start()
        wait_for(lambda: sent_acknowledgements(site) >= 2 * size["seeds"], 120, 0.5)
        time.sleep(size["loop_seconds"])  # long enough for several rounds of a loop to show
        codes = [first.stop(), second.stop()]
        per_conversation: Counter[tuple[str, str]] = Counter()
        acks = 0
        acks_of_acks = 0
        for box in (SHARED, SECOND):
            counted = tally(site, box)
            for item in site.store.items(box, "sentitems"):
                if is_acknowledgement(parsed(item)):
                    acks += 1
                    per_conversation[(box, item.conversation_id)] += 1
            for item in site.store.items(box, "inbox"):
                if is_acknowledgement(parsed(item)) and counted.per_original[item.message_id]:
                    acks_of_acks += 1
        rows.at_most(
            "loops: acknowledgements per conversation (most)",
            max(per_conversation.values(), default=0),
            1,
        )
        rows.zero("loops: acknowledgements of an acknowledgement", acks_of_acks)
        rows.exactly("loops: acknowledgements in all", acks, 2 * size["seeds"])
        rows.zero("loops: instances ended with an error", sum(1 for c in codes if c != 0))
    finally:
        site.stop()


def sent_acknowledgements(site: Site) -> int:
    return sum(
        1
        for box in (SHARED, SECOND)
        for item in site.store.items(box, "sentitems")
        if is_acknowledgement(parsed(item))
    )


def storms(backend: str, size: dict[str, Any], workdir: Path, rows: Rows) -> None:
    site = Site(backend, workdir)
    try:
        site.submission(500, 500, "outbox")
        cap = size["cap"]
        instance = site.instance(
            extra=f"[screening]\nglobal_per_hour = {cap}\nper_sender_per_day = {PER_SENDER}\n",
            service={"admin_address": ADMIN},
        )
        instance.start()
        start = start_of_run()
        flooder = "Boze Huurder <boos@example.nl>"
        pause = size["flood_seconds"] / size["flood"]
        for n in range(size["flood"]):  # one sender, every message a new conversation
            raw = person_mail(n, start, prefix="flood").replace(
                f"Huurder {n} <huurder{n}.flood@example.nl>".encode(), flooder.encode()
            )
            site.deliver(raw)
            time.sleep(pause)
        bounces = [f"<bounce-{n}@machines.example>" for n in range(size["bounces"])]
        for n in range(size["bounces"]):  # a burst: all at once
            site.deliver(machine_mail(n, prefix="bounce", fixtures=BOUNCE_FIXTURES))
        storm = [f"<storm-{n}@example.nl>" for n in range(size["storm"])]
        for n in range(size["storm"]):
            site.deliver(person_mail(n, start, prefix="storm"))
        total = size["flood"] + size["bounces"] + size["storm"]
        wait_for(lambda: len(instance.records()) >= total, 600, 1)
        time.sleep(5)  # a second acknowledgement or alert would come now
        code = instance.stop()
        counted = tally(site)
        flood_acks = sum(
            counted.per_original[f"<flood-{n}@example.nl>"] for n in range(size["flood"])
        )
        storm_acks = sum(counted.per_original[key] for key in storm)
        alerts = site.store.items(ADMIN, "inbox")  # nothing but the service's alerts goes there
        rows.at_most(
            f"flood: acknowledgements to one sender of {size['flood']}", flood_acks, PER_SENDER
        )
        rows.zero(f"bounces: acknowledged of {size['bounces']}", counted.wrong(bounces))
        rows.at_most(
            f"storm: acknowledgements in the hour (cap {cap})", flood_acks + storm_acks, cap
        )
        rows.info(f"storm: people acknowledged of {size['storm']}", storm_acks)
        rows.at_most(
            "acknowledgements per conversation (most)",
            max(counted.per_original.values(), default=0),
            1,
        )
        rows.exactly("alert mails to the administrator", len(alerts), 1)
        rows.info("their subject", " | ".join(a.subject for a in alerts)[:80])
        rows.zero("messages without a record", len(unrecorded(site, instance)))
        rows.exactly("daemon exit status", code, 0)
    finally:
        site.stop()
