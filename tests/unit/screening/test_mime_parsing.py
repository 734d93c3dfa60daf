"""Raw messages read into IncomingMessage: decoded, single-line, capped, and refused only when not mail."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest

from topcontact_mail.domain.mime import TEXT_SAMPLE_CHARS, UnreadableMessage, parse_message

from .support import FIXTURES


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


@pytest.mark.parametrize(
    ("name", "subject", "sender_name"),
    [
        ("person-pl-iso8859-2-qp.eml", "Zgłoszenie usterki - brak ciepłej wody", "Krzysztof Nowak"),
        ("person-tr-iso8859-9-base64.eml", "Kira ödemesi hakkında soru", "Ayşe Demir"),
        ("person-ar-utf8-base64.eml", "استفسار عن الصيانة", "عمر حداد"),
        ("person-de-base64.eml", "Frage zur Nebenkostenabrechnung 2025", "Klaus Müller"),
        (
            "person-nl-utf8-qp.eml",
            "Lekkage in de badkamer – graag snel iemand langs",
            "Marieke Jansen",
        ),
    ],
)
def test_encoded_subjects_and_names_are_decoded(name: str, subject: str, sender_name: str) -> None:
    message = parse_message(fixture(name))

    assert message.subject == subject
    assert message.sender is not None
    assert message.sender.name == sender_name


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("person-nl-latin1-8bit.eml", "Wij hebben één brief gekregen"),
        ("person-fr-iso8859-15-qp.eml", "Il fait très froid"),
        ("person-tr-iso8859-9-base64.eml", "Bu ayın kira ödemesini"),
        ("person-pl-iso8859-2-qp.eml", "nie ma ciepłej wody"),
        ("person-ar-utf8-base64.eml", "النافذة في غرفة النوم"),
        ("newsletter-list-unsubscribe-only.eml", "Nieuwsbrief wonen Nieuws over wonen"),
    ],
)
def test_the_text_sample_is_decoded_body_text(name: str, words: str) -> None:
    assert words in parse_message(fixture(name)).text_sample


def test_fields_of_a_bounce() -> None:
    message = parse_message(
        fixture("bounce-exchange2007.eml"), received=datetime(2026, 11, 27, tzinfo=UTC)
    )

    assert parse_message(fixture("bounce-gmail.eml")).return_path == ""
    assert message.content_type == "multipart/report; report-type=delivery-status"
    assert "message/delivery-status" in message.part_types
    assert message.received == datetime(2026, 11, 27, tzinfo=UTC)
    assert message.item_class is None
    assert message.conversation_id is None


def test_recipients_are_to_and_cc_without_duplicates() -> None:
    raw = (
        b"From: a@x.example\r\nTo: Klant <klantcontact@w.example>, b@x.example\r\n"
        b"Cc: B@x.example, c@x.example\r\nSubject: s\r\n\r\nbody\r\n"
    )

    message = parse_message(raw)

    assert [r.key for r in message.recipients] == [
        "klantcontact@w.example",
        "b@x.example",
        "c@x.example",
    ]


def test_spam_confidence_only_when_numeric() -> None:
    base = b"From: a@x.example\r\nSubject: s\r\n"

    assert parse_message(base + b"X-MS-Exchange-Organization-SCL: 6\r\n\r\nx").spam_confidence == 6
    assert (
        parse_message(base + b"X-MS-Exchange-Organization-SCL: -1\r\n\r\nx").spam_confidence == -1
    )
    assert (
        parse_message(base + b"X-MS-Exchange-Organization-SCL: high\r\n\r\nx").spam_confidence
        is None
    )
    assert parse_message(base + b"\r\nx").spam_confidence is None


def test_return_path_absent_null_and_address() -> None:
    base = b"From: a@x.example\r\nSubject: s\r\n"

    assert parse_message(base + b"\r\nx").return_path is None
    assert parse_message(b"Return-Path: <>\r\n" + base + b"\r\nx").return_path == ""
    assert (
        parse_message(b"Return-Path: <A@x.example>\r\n" + base + b"\r\nx").return_path
        == "A@x.example"
    )


def test_the_first_usable_from_wins() -> None:
    raw = b"From: \r\nFrom: Jan <jan@x.example>\r\nFrom: piet@y.example\r\nSubject: s\r\n\r\nx"

    message = parse_message(raw)

    assert message.sender is not None
    assert message.sender.key == "jan@x.example"


def test_header_values_are_single_lines() -> None:
    raw = (
        b"From: a@x.example\r\nSubject: =?utf-8?q?a=0D=0ABcc:_evil@x.example?=\r\n"
        b"X-Folded: one\r\n two\r\n\tthree\r\nX-Bare-CR: a\rb\r\n\r\nbody"
    )

    message = parse_message(raw)

    assert all("\r" not in value and "\n" not in value for _, value in message.headers)
    assert message.subject == "a Bcc: evil@x.example"
    assert message.header("X-Folded") == "one two three"


def test_a_huge_message_is_read_quickly_and_sampled_briefly() -> None:
    body = ("Dit is een heel lange brief over de verwarming. " * 400_000).encode()
    raw = b"From: a@x.example\r\nSubject: lang\r\nContent-Type: text/plain\r\n\r\n" + body

    started = time.perf_counter()
    message = parse_message(raw)
    elapsed = time.perf_counter() - started

    assert len(message.text_sample) <= TEXT_SAMPLE_CHARS
    assert message.text_sample.startswith("Dit is een heel lange brief")
    assert elapsed < 2.0


def test_missing_headers_give_empty_values() -> None:
    message = parse_message(b"Subject: alleen een onderwerp\r\n\r\n")

    assert message.sender is None
    assert message.recipients == ()
    assert message.message_id is None
    assert message.text_sample == ""


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"", "empty"),
        (b"   \r\n\r\n", "empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary"),
        (b"Hallo, dit is gewoon tekst.\nGeen kopregels.\n", "no header block"),
        (b"X-Something: yes\r\n\r\nbody", "no mail header fields"),
        ("Subject: x\r\n".encode("utf-16"), "binary"),
    ],
)
def test_what_is_not_mail_is_refused_with_a_clear_reason(raw: bytes, reason: str) -> None:
    with pytest.raises(UnreadableMessage, match=reason):
        parse_message(raw)


def test_an_mbox_from_line_and_leading_blank_lines_are_tolerated() -> None:
    raw = (
        b"\r\n  \nFrom jan@x.example Fri Nov 27 10:00:00 2026\nFrom: jan@x.example\nSubject: s\n\nx"
    )

    message = parse_message(raw)

    assert message.sender is not None
    assert message.sender.key == "jan@x.example"
