"""Property: whatever the incoming message holds, the built acknowledgement has exactly our headers.

Hostile subjects, display names, Message-IDs, References and Reply-To values
(CR, LF, `Bcc:` lines, RFC 2047 encoded words hiding line breaks, NUL, bidi
controls, very long input) go through `build_acknowledgement` and `to_mime`;
the parsed result must have the intended header set, one recipient, no line
breaks in any header, and none of the customer's text sample.
"""

from __future__ import annotations

from datetime import datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from topcontact_mail.domain.acknowledgement import (
    UnanswerableMessage,
    build_acknowledgement,
    reply_address,
    to_mime,
)
from topcontact_mail.domain.message import MARKER_HEADER, Address, IncomingMessage

OUR = Address("klantcontact@woonservice.example", "Team Klantcontact")
WHEN = datetime(2026, 11, 30, 9, 0, tzinfo=ZoneInfo("Europe/Amsterdam"))
SECRET = "PRIVATE-SAMPLE-7f3a"
INTENDED = {
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

NASTY = st.sampled_from(
    [
        "\r\nBcc: x@evil.example",
        "\nTo: y@evil.example",
        "\rCc: z@evil.example",
        "=?utf-8?q?=0D=0ABcc:_x@evil.example?=",
        "=?utf-8?b?DQpCY2M6IHhAZXZpbC5leGFtcGxl?=",
        "=?iso-8859-1?q?a=0ABcc=3A_x=40evil=2Eexample?=",
        "\x00",
        "\u2028Bcc: u@evil.example",
        "\u202e",
        "\x85",
        "<a@b>",
        ", second@evil.example",
        '"',
        "\\",
        "\udcff",
        "x" * 1200,
    ]
)
HOSTILE = st.lists(st.one_of(NASTY, st.text(max_size=40)), max_size=6).map("".join)
MSG_IDS = st.one_of(
    st.none(),
    HOSTILE,
    st.builds(lambda a, b: f"<{a}@{b}>", HOSTILE, HOSTILE),
    st.just("<good.id@mail.example.nl>"),
)
EMAILS = st.one_of(
    st.just("tenant@example.nl"),
    st.builds(lambda a: f"tenant{a}@example.nl", HOSTILE),
    HOSTILE,
)


def _headers_of(parsed: EmailMessage) -> list[str]:
    return [name.lower() for name in parsed]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    subject=HOSTILE,
    name=HOSTILE,
    email=EMAILS,
    message_id=MSG_IDS,
    references=st.lists(HOSTILE, max_size=3),
    reply_to=st.one_of(st.none(), HOSTILE, st.just("Jan <jan@home.example>")),
    sample=st.text(max_size=100),
)
# Found by CI: an RFC 2047 word inside a Message-ID, which Python's email package decodes on output.
@example(
    subject="",
    name="",
    email="tenant@example.nl",
    message_id="<=?utf-8?b?DQpCY2M6IHhAZXZpbC5leGFtcGxl?=@=?utf-8?b?DQpCY2M6IHhAZXZpbC5leGFtcGxl?=>",
    references=[],
    reply_to=None,
    sample="",
)
def test_no_header_is_ever_injected_from_the_input(
    subject: str,
    name: str,
    email: str,
    message_id: str | None,
    references: list[str],
    reply_to: str | None,
    sample: str,
) -> None:
    headers = [("References", ref) for ref in references]
    if reply_to is not None:
        headers.append(("Reply-To", reply_to))
    message = IncomingMessage(
        subject=subject,
        sender=Address(email, name),
        message_id=message_id,
        headers=tuple(headers),
        text_sample=f"{SECRET} {sample}",
    )
    if reply_address(message, "woonservice.example") is None:
        try:
            build_acknowledgement(
                message,
                subject=subject,
                text_body="t",
                html_body="h",
                language="nl",
                own_domain="woonservice.example",
            )
        except UnanswerableMessage:
            return
        raise AssertionError("a message without a valid address was acknowledged")

    ack = build_acknowledgement(
        message,
        subject=f"Ontvangstbevestiging: {subject}",
        text_body="Tekst\n",
        html_body="<p>Tekst</p>\n",
        language="nl",
        own_domain="woonservice.example",
    )
    raw = to_mime(ack, sender=OUR, message_id="<ack-1@woonservice.example>", date=WHEN)
    parsed = message_from_bytes(raw, policy=policy.default)
    assert isinstance(parsed, EmailMessage)

    names = _headers_of(parsed)
    optional = {"in-reply-to", "references"}
    assert set(names) - optional == INTENDED
    assert len(names) == len(set(names)), "a header appears twice"
    assert len(parsed["To"].addresses) == 1
    assert parsed["To"].addresses[0].addr_spec == ack.recipient.email
    for header_name in names:
        value = str(parsed[header_name])
        assert "\r" not in value
        assert "\n" not in value
    for part in parsed.iter_parts():
        assert set(_headers_of(part)) <= {
            "content-type",
            "content-transfer-encoding",
            "mime-version",
        }
    assert SECRET.encode() not in raw
    assert raw.count(b"\r\n\r\n") >= 1
