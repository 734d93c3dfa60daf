"""Threading headers: msg-ids of any legal form and length go out verbatim, folded only between ids.

Exchange Online and Outlook.com mint ids longer than a header line; Python's
email package would fold those into RFC 2047 encoded words, on which no client
threads. These tests hold `valid_msg_id`, `thread_references` and `to_mime` to
RFC 5322 section 3.6.4.
"""

from __future__ import annotations

import re
from datetime import datetime
from email import message_from_bytes, policy
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from topcontact_mail.domain.acknowledgement import (
    MAX_LINE_LENGTH,
    MAX_MSG_ID_LENGTH,
    build_acknowledgement,
    fold_ids,
    thread_references,
    to_mime,
    trim_references,
    valid_msg_id,
)
from topcontact_mail.domain.message import Acknowledgement, Address, IncomingMessage

from .msg_id_strategies import legal_msg_ids

OUR = Address("klantcontact@woonservice.example", "Team Klantcontact")
WHEN = datetime(2026, 11, 30, 9, 0, tzinfo=ZoneInfo("Europe/Amsterdam"))
OUTLOOK_ID = "<PAXP193MB2364F1160B9E7C559D7D897ABB489@PAXP193MB2364.EURP193.PROD.OUTLOOK.COM>"
UNFOLD = re.compile(r"\r\n[ \t]")


def _ack(in_reply_to: str | None, references: tuple[str, ...] = ()) -> Acknowledgement:
    return Acknowledgement(
        recipient=Address("tenant@example.nl"),
        subject="Ontvangstbevestiging",
        text_body="t",
        html_body="<p>t</p>",
        language="nl",
        in_reply_to=in_reply_to,
        references=references,
    )


def _written(raw: bytes, name: str) -> str:
    """Header `name` exactly as written, unfolded."""
    parsed = message_from_bytes(raw, policy=policy.compat32)
    return UNFOLD.sub(" ", str(parsed[name])).strip()


def _header_lines(raw: bytes) -> list[bytes]:
    return raw.split(b"\r\n\r\n", 1)[0].split(b"\r\n")


@pytest.mark.parametrize(
    "msg_id",
    [
        OUTLOOK_ID,
        "<" + "a" * 60 + "@" + "b" * 55 + ".example>",  # 120 characters
        "<x@[10.0.0.1]>",
        "<x@[IPv6:2001:db8::1]>",
        "<!#$%&'*+/=?^_`{|}~-@a.b>",
        "<a.b.c@d>",
        "<1@2>",
        "<" + "x" * (MAX_MSG_ID_LENGTH - 6) + "@y.z>",
    ],
)
def test_legal_msg_ids_of_any_length_are_kept(msg_id: str) -> None:
    assert valid_msg_id(f" {msg_id} ") == msg_id


@pytest.mark.parametrize(
    ("msg_id", "why"),
    [
        ("<" + "x" * (MAX_MSG_ID_LENGTH - 5) + "@y.z>", "longer than a folded line can carry"),
        ("<a b@c>", "whitespace"),
        ('<"a b"@c>', "obsolete quoted id-left"),
        ("<a@b c>", "whitespace in id-right"),
        ("<ab>", "no @"),
        ("<a@b@c>", "two @"),
        ("<.a@b>", "dot at the start"),
        ("<a..b@c>", "two dots"),
        ("<a@[x]y>", "text after a literal"),
        ("<a@[x\\]>", "backslash in a literal"),
        ("a@b", "no brackets"),
        ("<a@b>\r\nBcc: x@y", "a line break"),
        ("<a(comment)@b>", "a comment"),
        ("<=?utf-8?q?=0D=0ABcc:_x?=@b>", "an RFC 2047 encoded word"),
    ],
)
def test_other_forms_are_not_used_for_threading(msg_id: str, why: str) -> None:
    assert valid_msg_id(msg_id) is None, why


def test_a_120_character_id_is_written_verbatim_on_one_line() -> None:
    msg_id = "<" + "a" * 60 + "@" + "b" * 55 + ".example>"
    raw = to_mime(_ack(msg_id, (msg_id,)), sender=OUR, message_id="<a@b.example>", date=WHEN)

    assert f"In-Reply-To: {msg_id}\r\n".encode() in raw
    assert f"References: {msg_id}\r\n".encode() in raw
    assert b"=?" not in raw.split(b"\r\n\r\n", 1)[0]


def test_an_id_too_long_for_the_header_line_goes_on_the_next_one() -> None:
    msg_id = "<" + "x" * (MAX_MSG_ID_LENGTH - 6) + "@y.z>"
    assert len(msg_id) == MAX_MSG_ID_LENGTH
    raw = to_mime(_ack(msg_id), sender=OUR, message_id="<a@b.example>", date=WHEN)

    assert f"In-Reply-To: \r\n {msg_id}\r\n".encode() in raw
    assert max(len(line) for line in _header_lines(raw)) == MAX_LINE_LENGTH


def test_references_fold_between_ids_only() -> None:
    ids = [f"<r{i}@mail.example.nl>" for i in range(12)]

    value = fold_ids("References", ids)

    lines = value.split("\n")
    assert len(lines) > 1
    assert all(line.startswith(" <") for line in lines[1:])
    assert all(len(line) <= 78 for line in [f"References: {lines[0]}", *lines[1:]])
    assert value.split() == ids


@settings(max_examples=200, deadline=None)
@given(
    in_reply_to=legal_msg_ids(),
    chain=st.lists(legal_msg_ids(max_size=300), max_size=30, unique=True),
)
def test_any_legal_msg_id_goes_out_byte_for_byte(in_reply_to: str, chain: list[str]) -> None:
    references = (*(c for c in chain if c != in_reply_to), in_reply_to)
    raw = to_mime(_ack(in_reply_to, references), sender=OUR, message_id="<a@b.example>", date=WHEN)

    assert _written(raw, "In-Reply-To") == in_reply_to
    written = _written(raw, "References").split()
    assert written == trim_references(references)
    assert written[0] == references[0]
    assert written[-1] == in_reply_to
    assert all(len(line) <= MAX_LINE_LENGTH for line in _header_lines(raw))
    parsed = message_from_bytes(raw, policy=policy.default)
    assert str(parsed["In-Reply-To"]).strip() == in_reply_to


def test_long_chains_keep_the_first_and_the_latest_within_bounds() -> None:
    chain = [f"<{'r' * 200}{i}@x.nl>" for i in range(60)]

    kept = trim_references(chain)

    assert kept[0] == chain[0]
    assert kept[-1] == chain[-1]
    assert kept[1:] == chain[-(len(kept) - 1) :]
    assert len(kept) <= 20
    assert sum(len(k) + 1 for k in kept[1:-1]) <= 4000


def test_thread_references_keep_domain_literals_and_long_ids() -> None:
    message = IncomingMessage(
        sender=Address("a@example.nl"),
        message_id=OUTLOOK_ID,
        headers=(("References", "<first@[192.0.2.1]> <bad id@x> <second@x.nl>"),),
    )

    in_reply_to, references = thread_references(message)

    assert in_reply_to == OUTLOOK_ID
    assert references == ("<first@[192.0.2.1]>", "<second@x.nl>", OUTLOOK_ID)


def test_an_acknowledgement_to_an_outlook_message_threads() -> None:
    message = IncomingMessage(sender=Address("a@example.nl"), message_id=OUTLOOK_ID)
    ack = build_acknowledgement(
        message, subject="s", text_body="t", html_body="h", language="nl", own_domain="x.example"
    )

    raw = to_mime(ack, sender=OUR, message_id="<a@b.example>", date=WHEN)

    assert _written(raw, "In-Reply-To") == OUTLOOK_ID
    assert _written(raw, "References") == OUTLOOK_ID
