"""Arbitrary and mangled input: only UnreadableMessage leaves the parser, nothing leaves screening."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from topcontact_mail.domain.message import Address, IncomingMessage
from topcontact_mail.domain.mime import UnreadableMessage, parse_message
from topcontact_mail.domain.screening import ScreeningHistory, Verdict, screen

from .support import FIXTURES, POLICY

REAL = [p.read_bytes() for p in sorted(FIXTURES.glob("*.eml"))]
FUZZ = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def screened(raw: bytes) -> Verdict | None:
    """Parse and screen like `explain` does; None when the parser refused the input."""
    try:
        message = parse_message(raw)
    except UnreadableMessage as refused:
        refusal = refused.reason
    else:
        refusal = None
    if refusal is not None:
        assert refusal
        assert "\n" not in refusal
        return None
    assert all("\r" not in v and "\n" not in v for _, v in message.headers)
    assert "\n" not in message.subject
    verdict = screen(message, POLICY)
    # The safety net in screen() must not be what keeps a rule from crashing.
    assert verdict.reason != "screening_error", verdict.detail
    return verdict


def _flip(data: bytes, positions: list[int], values: list[int]) -> bytes:
    buffer = bytearray(data)
    for position, value in zip(positions, values, strict=False):
        if buffer:
            buffer[position % len(buffer)] = value
    return bytes(buffer)


def _duplicate_header(data: bytes, line_no: int) -> bytes:
    head, sep, body = data.partition(b"\n\n")
    lines = head.split(b"\n")
    line = lines[line_no % len(lines)]
    return b"\n".join([*lines, line, line]) + sep + body


def _inject(data: bytes, line_no: int, payload: bytes) -> bytes:
    head, sep, body = data.partition(b"\n\n")
    lines = head.split(b"\n")
    index = line_no % len(lines)
    lines[index] = lines[index].rstrip(b"\r") + payload
    return b"\n".join(lines) + sep + body


INJECTIONS = st.sampled_from(
    [
        b"\r\nBcc: evil@attacker.example",
        b"\rX-Injected: 1",
        b"=?utf-8?q?x=0D=0ABcc:_evil@attacker.example?=",
        b"\x00\x01\x02",
        b"\xff\xfe\xfd",
        b"=?x-unknown?b?////?=",
        b'; boundary="',
        b"\r\n\r\n",
    ]
)


@FUZZ
@given(st.binary(max_size=4096))
def test_arbitrary_bytes_never_escape(raw: bytes) -> None:
    screened(raw)


@FUZZ
@given(st.binary(max_size=512).map(lambda b: b"From: a@b.example\r\nSubject: s\r\n" + b))
def test_arbitrary_bytes_after_a_plausible_header_never_escape(raw: bytes) -> None:
    screened(raw)


@FUZZ
@given(
    st.sampled_from(REAL),
    st.lists(st.integers(min_value=0), max_size=12),
    st.lists(st.integers(min_value=0, max_value=255), max_size=12),
)
def test_real_messages_with_flipped_bytes(
    raw: bytes, positions: list[int], values: list[int]
) -> None:
    screened(_flip(raw, positions, values))


@FUZZ
@given(st.sampled_from(REAL), st.floats(min_value=0, max_value=1))
def test_truncated_real_messages(raw: bytes, fraction: float) -> None:
    screened(raw[: int(len(raw) * fraction)])


@FUZZ
@given(st.sampled_from(REAL), st.integers(min_value=0), st.integers(min_value=0), INJECTIONS)
def test_real_messages_with_duplicated_and_injected_headers(
    raw: bytes, duplicate: int, target: int, payload: bytes
) -> None:
    screened(_inject(_duplicate_header(raw, duplicate), target, payload))


TEXT = st.text(max_size=40)
HEADER_NAMES = st.sampled_from(
    [
        "Auto-Submitted",
        "Return-Path",
        "X-Auto-Response-Suppress",
        "Precedence",
        "List-Id",
        "Content-Type",
        "X-MS-Exchange-Inbox-Rules-Loop",
        "Resent-From",
        "X-MS-Exchange-Organization-SCL",
        "X-Autoreply",
        "Content-Class",
        "X-TopContact-Mail",
    ]
)


@FUZZ
@given(
    st.builds(
        IncomingMessage,
        subject=TEXT,
        sender=st.none() | st.builds(Address, email=TEXT, name=TEXT),
        headers=st.lists(st.tuples(HEADER_NAMES | TEXT, TEXT), max_size=8).map(tuple),
        message_id=st.none() | TEXT,
        return_path=st.none() | TEXT,
        item_class=st.none() | TEXT,
        content_type=st.none() | TEXT,
        spam_confidence=st.none() | st.integers(),
        part_types=st.lists(TEXT, max_size=4).map(tuple),
    ),
    st.builds(
        ScreeningHistory,
        conversation_acknowledged=st.booleans(),
        sender_acknowledged_today=st.integers(min_value=0, max_value=10),
        acknowledged_last_hour=st.integers(min_value=0, max_value=400),
    ),
)
def test_any_message_value_gets_a_verdict(
    message: IncomingMessage, history: ScreeningHistory
) -> None:
    verdict = screen(message, POLICY, history)

    assert verdict.reason != "screening_error", verdict.detail
    assert verdict.acknowledge == (verdict.reason == "person")
