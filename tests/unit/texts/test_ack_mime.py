"""The acknowledgement as a value and as the MIME message the service intends to send."""

from __future__ import annotations

from datetime import datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from zoneinfo import ZoneInfo

import pytest

from topcontact_mail.domain.acknowledgement import (
    UnanswerableMessage,
    build_acknowledgement,
    reply_address,
    to_mime,
)
from topcontact_mail.domain.message import MARKER_HEADER, Acknowledgement, Address, IncomingMessage

OUR = Address("klantcontact@woonservice.example", "Team Klantcontact")
WHEN = datetime(2026, 11, 30, 9, 0, tzinfo=ZoneInfo("Europe/Amsterdam"))
BASE_HEADERS = {
    "from",
    "to",
    "subject",
    "date",
    "message-id",
    "mime-version",
    "content-type",
    "auto-submitted",
    "x-auto-response-suppress",
    MARKER_HEADER.lower(),
}


def _build(message: IncomingMessage, subject: str = "Ontvangstbevestiging: x") -> Acknowledgement:
    return build_acknowledgement(
        message,
        subject=subject,
        text_body="Tekst ü\n",
        html_body="<p>Tekst ü</p>\n",
        language="nl",
        own_domain="woonservice.example",
    )


def _parse(raw: bytes) -> EmailMessage:
    parsed = message_from_bytes(raw, policy=policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def test_builds_a_threaded_reply_with_loop_protection(message: IncomingMessage) -> None:
    ack = _build(message)
    assert ack.recipient == Address("jan.devries@example.nl", "Jan de Vries")
    assert ack.in_reply_to == "<CAF123.456@mail.example.nl>"
    assert ack.references == ("<first@mail.example.nl>", "<CAF123.456@mail.example.nl>")
    assert dict(ack.headers) == {
        "Auto-Submitted": "auto-replied",
        "X-Auto-Response-Suppress": "All",
        MARKER_HEADER: "acknowledgement",
    }


def test_mime_message_has_the_intended_headers_and_both_bodies(message: IncomingMessage) -> None:
    raw = to_mime(_build(message), sender=OUR, message_id="<ack-1@woonservice.example>", date=WHEN)
    parsed = _parse(raw)
    assert {name.lower() for name in parsed} == BASE_HEADERS | {"in-reply-to", "references"}
    assert parsed["To"] == "Jan de Vries <jan.devries@example.nl>"
    assert parsed["From"] == "Team Klantcontact <klantcontact@woonservice.example>"
    assert parsed["In-Reply-To"] == "<CAF123.456@mail.example.nl>"
    assert parsed["References"].split() == [
        "<first@mail.example.nl>",
        "<CAF123.456@mail.example.nl>",
    ]
    assert parsed["Auto-Submitted"] == "auto-replied"
    assert parsed["Date"] == "Mon, 30 Nov 2026 09:00:00 +0100"
    assert parsed.get_content_type() == "multipart/alternative"
    parts = [part.get_content_type() for part in parsed.iter_parts()]
    assert parts == ["text/plain", "text/html"]
    text = parsed.get_body(("plain",))
    assert text is not None
    assert text.get_content().splitlines() == ["Tekst ü"]
    assert text.get_content_charset() == "utf-8"
    assert b"GEHEIM" not in raw


def test_non_ascii_subject_is_encoded_and_decodes_back() -> None:
    ack = _build(
        IncomingMessage(sender=Address("a@example.nl")), subject="Ontvangstbevestiging: één vraag"
    )
    parsed = _parse(to_mime(ack, sender=OUR, message_id="<a@b.example>", date=WHEN))
    assert parsed["Subject"] == "Ontvangstbevestiging: één vraag"


def test_without_message_id_there_is_no_threading() -> None:
    ack = _build(IncomingMessage(sender=Address("a@example.nl"), message_id="not an id"))
    assert ack.in_reply_to is None
    assert ack.references == ()
    parsed = _parse(to_mime(ack, sender=OUR, message_id="<a@b.example>", date=WHEN))
    assert {name.lower() for name in parsed} == BASE_HEADERS


def test_only_valid_message_ids_reach_references() -> None:
    message = IncomingMessage(
        sender=Address("a@example.nl"),
        message_id="<own@example.nl>",
        headers=(
            ("References", "<ok@x.nl> junk <bad id@x.nl> <a\r\nBcc:x@y> <ok@x.nl> <two@x.nl>"),
        ),
    )
    ack = _build(message)
    assert ack.references == ("<ok@x.nl>", "<two@x.nl>", "<own@example.nl>")


def test_long_reference_chains_keep_the_first_and_the_latest() -> None:
    refs = " ".join(f"<r{i}@x.nl>" for i in range(100))
    ack = _build(
        IncomingMessage(
            sender=Address("a@example.nl"), message_id="<own@x.nl>", headers=(("References", refs),)
        )
    )
    assert len(ack.references) == 20
    assert ack.references[0] == "<r0@x.nl>"
    assert ack.references[-2:] == ("<r99@x.nl>", "<own@x.nl>")


@pytest.mark.parametrize(
    ("reply_to", "expected"),
    [
        (None, "sender@example.nl"),
        ("Jan de Vries <jan@home.example>", "jan@home.example"),
        ("a@home.example, b@home.example", "sender@example.nl"),
        ("klantcontact@woonservice.example", "sender@example.nl"),
        ("not an address", "sender@example.nl"),
        ('"x@evil.example" <jan@home.example>', "sender@example.nl"),
        ("jan@home.example\r\nBcc: x@evil.example", "sender@example.nl"),
    ],
)
def test_reply_to_counts_only_when_it_is_one_plain_address(
    reply_to: str | None, expected: str
) -> None:
    headers = (("Reply-To", reply_to),) if reply_to is not None else ()
    message = IncomingMessage(sender=Address("sender@example.nl"), headers=headers)
    address = reply_address(message, "woonservice.example")
    assert address is not None
    assert address.email == expected


def test_two_reply_to_headers_are_ignored() -> None:
    message = IncomingMessage(
        sender=Address("sender@example.nl"),
        headers=(("Reply-To", "a@home.example"), ("Reply-To", "b@home.example")),
    )
    address = reply_address(message)
    assert address is not None
    assert address.email == "sender@example.nl"


@pytest.mark.parametrize(
    "email",
    [
        "",
        "no-at-sign",
        "a@b",
        "a b@example.nl",
        '"q"@example.nl',
        "a@@example.nl",
        "a@exa\r\nmple.nl",
    ],
)
def test_no_valid_address_means_no_acknowledgement(email: str) -> None:
    with pytest.raises(UnanswerableMessage):
        _build(IncomingMessage(sender=Address(email)))


def test_no_sender_means_no_acknowledgement() -> None:
    with pytest.raises(UnanswerableMessage):
        _build(IncomingMessage())


def test_our_own_message_id_and_date_are_checked() -> None:
    ack = _build(IncomingMessage(sender=Address("a@example.nl")))
    with pytest.raises(ValueError, match="Message-ID"):
        to_mime(ack, sender=OUR, message_id="<a@b>\r\nBcc: x@y", date=WHEN)
    with pytest.raises(ValueError, match="time zone"):
        to_mime(ack, sender=OUR, message_id="<a@b.example>", date=datetime(2026, 11, 30))


def test_a_hand_made_acknowledgement_with_bad_parts_is_still_safe() -> None:
    ack = Acknowledgement(
        recipient=Address("a@example.nl", "=?utf-8?q?x=0D=0ABcc:_y@evil.example?="),
        subject="s\r\nBcc: y@evil.example =?utf-8?q?=0D=0ABcc:_z@evil.example?=",
        text_body="t\x00",
        html_body="<p>h</p>",
        language="nl",
        in_reply_to="<x@y>\r\nBcc: y@evil.example",
        references=("<ok@x.nl>", "bad\r\nBcc: z@evil.example"),
        headers=(("X-TopContact-Mail", "acknowledgement\r\nBcc: q@evil.example"),),
    )
    raw = to_mime(ack, sender=OUR, message_id="<a@b.example>", date=WHEN)
    parsed = _parse(raw)
    assert {name.lower() for name in parsed} == {
        "from",
        "to",
        "subject",
        "date",
        "message-id",
        "mime-version",
        "content-type",
        "references",
        MARKER_HEADER.lower(),
    }
    assert len(parsed["To"].addresses) == 1
    assert b"\nBcc" not in raw
    assert "\n" not in parsed["Subject"]
    assert "\r" not in parsed["Subject"]


def test_extra_headers_cannot_override_the_standard_ones() -> None:
    ack = Acknowledgement(
        recipient=Address("a@example.nl"),
        subject="s",
        text_body="t",
        html_body="h",
        language="nl",
        headers=(("To", "evil@example.org"),),
    )
    with pytest.raises(ValueError, match="refusing"):
        to_mime(ack, sender=OUR, message_id="<a@b.example>", date=WHEN)


def test_the_builder_bounds_a_subject_the_renderer_did_not() -> None:
    ack = _build(IncomingMessage(sender=Address("a@example.nl")), subject="x " * 5000)
    assert len(ack.subject) <= 900
