"""Hostile input: fuzzed MIME, header injection, huge and deeply nested mail, bad charsets,
right-to-left overrides and look-alike machine senders, all at a running daemon.

Goals: the daemon never stops on its own and exits 0 when told to, its log holds no
traceback; no acknowledgement goes to a machine, and every acknowledgement sent has one
recipient and exactly the headers the service means to write; every delivered message has
a record (a decision with its reason) in the state store.
"""

from __future__ import annotations

import base64
import json
import random
import subprocess
import sys
import time
from dataclasses import dataclass
from email.utils import getaddresses
from pathlib import Path
from typing import Any

from reliability.harness import (
    FIXTURES,
    SHARED,
    Rows,
    Site,
    tally,
    tracebacks,
    unrecorded,
    wait_for,
)

FULL = {"fuzzed": 150, "huge_mb": 25, "depth": 1200}
QUICK = {"fuzzed": 16, "huge_mb": 3, "depth": 1200}

DATE = "Mon, 23 Nov 2026 10:00:00 +0100"


@dataclass
class Case:
    name: str
    raw: bytes
    machine: bool  # True: must never be acknowledged


def mail(
    sender: str,
    subject: str = "Vraag over mijn huur",
    *,
    message_id: str,
    extra: str = "",
    body: str = "Beste mensen, ik heb een vraag over mijn huur.\r\nGroet, Jan",
    content_type: str = "text/plain; charset=utf-8",
) -> bytes:
    return (
        f"From: {sender}\r\nTo: {SHARED}\r\nSubject: {subject}\r\nDate: {DATE}\r\n"
        f"Message-ID: <{message_id}@example.nl>\r\n{extra}"
        f"MIME-Version: 1.0\r\nContent-Type: {content_type}\r\n\r\n{body}\r\n"
    ).encode("utf-8", "surrogateescape")


def look_alike_senders() -> list[Case]:
    """No-reply and postmaster senders written with look-alike letters: machines all."""
    locals_ = [
        "nо-reply",  # Cyrillic о
        "noreplу",  # Cyrillic у
        "pоstmaster",  # Cyrillic о
        "ｎｏｒｅｐｌｙ",  # fullwidth
        "no\u200breply",  # a zero-width space
        "no\u202e-reply",  # a right-to-left override
        "n0-reply",  # digit zero
        "no-rep1y",  # digit one
        "norepIy",  # capital I for l
        "postrnaster",  # rn for m
        "MAILER-DAEM0N",
        "do-not-rep1y",
        "p0stmaster",
        "nο-reply",  # Greek omicron
    ]
    return [
        Case(
            f"look-alike {local!r}",
            mail(f"Service <{local}@example.com>", message_id=f"alike-{n}"),
            True,
        )
        for n, local in enumerate(locals_)
    ]


def injections() -> list[Case]:
    """People whose subject or name tries to add headers or recipients."""
    forms = [
        ("Jan <jan@example.nl>", "=?utf-8?q?Vraag=0D=0ABcc:_evil@attacker.example?=", ""),
        ("Jan <jan@example.nl>", "Vraag\r\n Bcc: evil@attacker.example", ""),
        (
            "=?utf-8?b?"
            + base64.b64encode(b"Jan\r\nBcc: evil@attacker.example").decode()
            + "?= <jan@example.nl>",
            "Vraag",
            "",
        ),
        ('"evil@attacker.example, Jan" <jan@example.nl>', "Vraag", ""),
        ("jan@example.nl, piet@example.nl", "Twee afzenders", ""),
        (
            "Jan <jan@example.nl>",
            "Antwoord graag",
            "Reply-To: a@attacker.example, b@attacker.example\r\n",
        ),
        (
            "Jan <jan@example.nl>",
            "Antwoord graag",
            "Reply-To: =?utf-8?q?x=0D=0ACc:_evil@attacker.example?= <jan@example.nl>\r\n",
        ),
        ("Jan <jan@example.nl>", "=?utf-8?q?=E2=80=AEhcaerb_ytiruces?=", ""),  # RLO in the subject
        ("=?utf-8?q?=E2=80=AEredaeP_naJ?= <jan@example.nl>", "Vraag", ""),  # RLO in the name
        ("Jan <jan@example.nl>", "x" * 5000, ""),
        ("Jan <jan@example.nl>", "Vraag", "Subject: Tweede onderwerp\r\n"),
        ("Jan <jan@example.nl>", "Vraag", "To: evil@attacker.example\r\n"),
    ]
    return [
        Case(f"injection {n}", mail(sender, subject, message_id=f"inject-{n}", extra=extra), False)
        for n, (sender, subject, extra) in enumerate(forms)
    ]


def charsets() -> list[Case]:
    cases = [
        mail(
            "Jan <jan@example.nl>", message_id="cs-0", content_type="text/plain; charset=x-klingon"
        ),
        mail("Jan <jan@example.nl>", "=?x-unknown?q?Vraag?=", message_id="cs-1"),
        mail("=?x-unknown?b?SmFu?= <jan@example.nl>", message_id="cs-2"),
        mail(
            "Jan <jan@example.nl>", message_id="cs-3", content_type='text/plain; charset="utf-8\\"'
        ),
        mail("Jan <jan@example.nl>", message_id="cs-4", body="\udcff\udcfe\x00 kapot"),
        mail("J\udce9r\udcf4me <jerome@example.nl>", "Caf\udce9", message_id="cs-5"),
        mail(
            "Jan <jan@example.nl>",
            message_id="cs-6",
            content_type="text/plain; charset=utf-16",
            body="geen utf-16",
        ),
        mail("Jan <jan@example.nl>", "=?utf-8?b?!!!?=", message_id="cs-7"),
    ]
    return [Case(f"charset {n}", raw, False) for n, raw in enumerate(cases)]


def huge(megabytes: int) -> Case:
    blob = base64.encodebytes(random.randbytes(megabytes * 1024 * 1024 * 3 // 4)).decode()
    body = (
        "--b1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nZie de bijlage.\r\n"
        "--b1\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n"
        f'Content-Disposition: attachment; filename="scan.bin"\r\n\r\n{blob}\r\n--b1--'
    )
    return Case(
        f"{megabytes} MB",
        mail(
            "Jan <jan@example.nl>",
            message_id="huge",
            content_type='multipart/mixed; boundary="b1"',
            body=body,
        ),
        False,
    )


def nested(depth: int) -> Case:
    opening = "".join(
        f'--n{i}\r\nContent-Type: multipart/mixed; boundary="n{i + 1}"\r\n\r\n'
        for i in range(depth)
    )
    closing = "".join(f"\r\n--n{i}--" for i in reversed(range(depth)))
    body = (
        opening + f"--n{depth}\r\nContent-Type: text/plain\r\n\r\nHallo\r\n--n{depth}--" + closing
    )
    return Case(
        f"{depth} nested multiparts",
        mail(
            "Jan <jan@example.nl>",
            message_id="nested",
            content_type='multipart/mixed; boundary="n0"',
            body=body,
        ),
        False,
    )


def machine_by_headers(names: list[str]) -> set[str]:
    """The machine fixtures that the headers alone already mark (their body may be fuzzed)."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        paths = []
        for name in names:
            raw = (FIXTURES / name).read_bytes()
            head = raw.split(b"\r\n\r\n", 1)[0] if b"\r\n\r\n" in raw else raw.split(b"\n\n", 1)[0]
            if any(byte >= 0x80 for byte in head):
                # Raw 8-bit header text reaches the service mangled (the sandbox stores it
                # with U+FFFD), so such a fixture is no machine "by its headers alone".
                continue
            path = Path(tmp) / name
            path.write_bytes(head + b"\r\n\r\n(body removed)\r\n")
            paths.append(str(path))
        out = subprocess.run(
            [sys.executable, "-m", "topcontact_mail", "explain", "--json", *paths],
            capture_output=True,
            check=False,
            text=True,
        ).stdout
    return {
        Path(json.loads(line)["file"]).name
        for line in out.splitlines()
        if line.startswith("{") and not json.loads(line)["acknowledge"]
    }


def mutate(raw: bytes, rng: random.Random, body_only: bool) -> bytes:
    split = raw.find(b"\n\n")
    split = split + 2 if split >= 0 else len(raw)
    head, body = (raw[:split], raw[split:]) if body_only else (b"", raw)
    data = bytearray(body)
    for _ in range(rng.randint(1, 4)):
        op = rng.randrange(7)
        if not data:
            data.extend(b"x")
        at = rng.randrange(len(data))
        if op == 0:  # flip bytes
            for _ in range(rng.randint(1, 20)):
                data[rng.randrange(len(data))] = rng.randrange(256)
        elif op == 1:  # truncate
            del data[at:]
        elif op == 2:  # repeat a stretch
            data[at:at] = data[at : at + rng.randint(1, 200)] * rng.randint(2, 50)
        elif op == 3:  # control bytes and broken UTF-8
            data[at:at] = bytes(rng.choice((0, 1, 0x1B, 0xC0, 0xFF, 0xED, 0xA0)) for _ in range(8))
        elif op == 4:  # an endless line
            data[at:at] = b"A" * rng.randint(1000, 100_000)
        elif op == 5:  # lose boundaries
            data = bytearray(bytes(data).replace(b"--", b"-", rng.randint(1, 3)))
        else:  # a stray header-like line or encoded word
            data[at:at] = rng.choice(
                (
                    b"\r\nContent-Type: multipart/mixed; boundary=\r\n",
                    b"=?utf-8?b?////?=",
                    b"\r\nBcc: evil@attacker.example\r\n",
                )
            )
    if not body_only and b"\nfrom:" not in data.lower() and not data.lower().startswith(b"from:"):
        data[0:0] = b"From: Fuzz <fuzz@example.nl>\r\n"
    return head + bytes(data)


def fuzzed(count: int, rng: random.Random) -> list[Case]:
    people = sorted(p.name for p in FIXTURES.glob("person-*.eml")) + sorted(
        p.name for p in FIXTURES.glob("broken-*.eml")
    )
    machines = sorted(
        machine_by_headers(
            sorted(
                p.name
                for p in FIXTURES.glob("*.eml")
                if not p.name.startswith(("person", "broken", "notmail", "colleague"))
            )
        )
    )
    cases = []
    for n in range(count):
        machine = n % 2 == 1
        name = rng.choice(machines if machine else people)
        raw = mutate((FIXTURES / name).read_bytes(), rng, body_only=machine)
        cases.append(Case(f"fuzzed {name}", raw, machine))
    return cases


def run(backend: str, full: bool, workdir: Path) -> Rows:
    size: dict[str, Any] = FULL if full else QUICK
    rows = Rows("hostile", backend)
    rng = random.Random()
    site = Site(backend, workdir)
    began = time.monotonic()
    try:
        site.submission(500, 500, "outbox")
        cases = [
            Case("control", mail("Jan <jan@example.nl>", message_id="control"), False),
            *look_alike_senders(),
            *injections(),
            *charsets(),
            huge(size["huge_mb"]),
            nested(size["depth"]),
            *fuzzed(size["fuzzed"], rng),
        ]
        instance = site.instance(in_doubt=10)
        instance.start()
        keys: dict[str, Case] = {}
        for case in cases:
            item = site.deliver(case.raw)
            keys[item.message_id or item.id] = case
        recorded = wait_for(lambda: len(instance.records()) >= len(cases), 600, 1)
        time.sleep(3)
        alive = instance.alive()
        code = instance.stop()
        once = instance.run_once()  # and a drain over the same mailbox afterwards
        counted = tally(site)
        machines = [key for key, case in keys.items() if case.machine]
        wrong_machines = [keys[k].name for k in machines if counted.per_original[k]]
        control = next(
            m for m in counted.messages if str(m["In-Reply-To"]) == "<control@example.nl>"
        )
        intended = frozenset(name.lower() for name in control)
        bad_acks = [problem for m in counted.messages if (problem := header_problem(m, intended))]
        missing = unrecorded(site, instance)
        log = instance.log_text()
        rows.exactly("daemon still running after the input", alive, True)
        rows.exactly("exit status (daemon, then run --once)", f"{code}, {once}", "0, 0")
        rows.zero("tracebacks in the log", tracebacks(log))
        rows.zero("acknowledgements to machines", len(wrong_machines))
        rows.zero("acknowledgements with a wrong header or recipient", len(bad_acks))
        rows.zero("acknowledgements doubled", counted.doubled())
        rows.zero("messages without a recorded reason", len(missing))
        rows.info("messages (machines among them)", f"{len(cases)} ({len(machines)})")
        rows.info("acknowledgements sent", len(counted.messages))
        rows.info("recorded in time", recorded)
        if wrong_machines:
            rows.info("machines acknowledged", "; ".join(wrong_machines)[:300])
        if bad_acks:
            rows.info("header problems", "; ".join(bad_acks)[:300])
        rows.info("seconds", round(time.monotonic() - began))
        return rows
    finally:
        site.stop()


def header_problem(message: Any, intended: frozenset[str]) -> str | None:
    """Why a sent acknowledgement is not exactly what the service means to send, or None.

    `intended` is the set of header names of the acknowledgement to a plain message of
    the same run (what the service and the server write); References and In-Reply-To may
    be missing (an original without a usable Message-ID), nothing may be added.
    """
    names = [name.lower() for name in message]
    unexpected = sorted(set(names) - intended)
    if unexpected:
        return f"unexpected headers {unexpected}"
    missing = sorted(
        intended - set(names) - {"in-reply-to", "references", "thread-index", "thread-topic"}
    )
    if missing:
        return f"headers missing {missing}"
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        return f"repeated headers {repeated}"
    for name in names:
        if any(c in str(message[name]) for c in "\r\n"):
            return f"a line break in {name}"
    recipients = getaddresses([str(v) for v in message.get_all("To", [])])
    extra = [n for n in ("cc", "bcc", "reply-to") if n in names]
    if len(recipients) != 1 or "@" not in recipients[0][1] or extra:
        return f"recipients {recipients} {extra}"
    if "attacker.example" in recipients[0][1]:
        return "sent to an injected address"
    return None
