"""Graph JSON shapes: what an acknowledgement can carry, flags in the office's zone, property ids."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from topcontact_mail.adapters.graph import fields
from topcontact_mail.domain.acknowledgement import LOOP_HEADERS
from topcontact_mail.domain.message import Acknowledgement, Address

AMS = ZoneInfo("Europe/Amsterdam")


def ack(**extra: object) -> Acknowledgement:
    values: dict[str, object] = {
        "recipient": Address("jan@example.nl", "Jan"),
        "subject": "Ontvangstbevestiging",
        "text_body": "tekst",
        "html_body": "<p>tekst</p>",
        "language": "nl",
        "headers": LOOP_HEADERS,
    }
    values.update(extra)
    return Acknowledgement(**values)  # type: ignore[arg-type]


def test_auto_submitted_cannot_travel_and_is_reported_dropped() -> None:
    message, dropped = fields.reply_message(ack(), "r1")

    assert dropped == ["Auto-Submitted"]
    names = [h["name"] for h in message["internetMessageHeaders"]]
    assert names == ["X-TopContact-Mail"]  # X-Auto-Response-Suppress goes as the MAPI property
    assert all(n.lower().startswith("x-") for n in names)


@pytest.mark.parametrize(
    ("header", "value"),
    [("All", -1), ("OOF, AutoReply", 0x30), ("DR,NDR,RN,NRN", 0x0F), ("None", 0), ("Bogus", None)],
)
def test_auto_response_suppress_maps_to_the_mapi_bits(header: str, value: int | None) -> None:
    assert fields.auto_response_suppress(header) == value


def test_a_reply_without_html_is_sent_as_text() -> None:
    message, _ = fields.reply_message(ack(html_body=""), "r1")
    assert message["body"] == {"contentType": "text", "content": "tekst"}


def test_flag_times_are_wall_clock_in_the_office_zone_across_dst() -> None:
    winter = fields.date_time_time_zone(
        datetime(2026, 12, 4, 17, 0, tzinfo=AMS), "Europe/Amsterdam"
    )
    summer = fields.date_time_time_zone(datetime(2026, 7, 3, 17, 0, tzinfo=AMS), "Europe/Amsterdam")
    assert winter == {"dateTime": "2026-12-04T17:00:00", "timeZone": "W. Europe Standard Time"}
    assert summer == {"dateTime": "2026-07-03T17:00:00", "timeZone": "W. Europe Standard Time"}


def test_an_unmapped_zone_falls_back_to_the_exact_moment_in_utc() -> None:
    moment = datetime(2026, 12, 4, 17, 0, tzinfo=ZoneInfo("Asia/Tokyo"))
    assert fields.date_time_time_zone(moment, "Asia/Tokyo") == {
        "dateTime": "2026-12-04T08:00:00",
        "timeZone": "UTC",
    }


def test_the_marker_property_is_the_one_the_ews_adapter_writes() -> None:
    from topcontact_mail.adapters.ews.fields import MARKER_PROPERTY_NAME, MARKER_PROPERTY_SET

    expected = f"String {{{MARKER_PROPERTY_SET}}} Name {MARKER_PROPERTY_NAME}"
    assert expected == fields.MARKER_PROPERTY


def test_expanded_property_ids_match_whatever_casing_graph_echoes() -> None:
    message = {
        "singleValueExtendedProperties": [
            {"id": fields.MARKER_PROPERTY.upper(), "value": "m"},
            {"id": "String 0x1A", "value": "IPM.Note"},
        ]
    }
    assert fields.property_value(message, fields.MARKER_PROPERTY) == "m"
    assert fields.property_value(message, fields.MESSAGE_CLASS_PROPERTY) == "IPM.Note"


def test_internal_mail_without_internet_headers_is_read_from_its_properties() -> None:
    message = fields.message_from_json(
        {
            "id": "X",
            "subject": "Vraag",
            "from": {"emailAddress": {"name": "a@b.nl", "address": "a@b.nl"}},
            "toRecipients": [{"emailAddress": {"name": "K", "address": "k@w.nl"}}],
            "receivedDateTime": "2026-11-27T09:00:00.1234567Z",
            "bodyPreview": "hallo",
        }
    )
    assert message.sender == Address("a@b.nl", "")
    assert message.recipients == (Address("k@w.nl", "K"),)
    assert message.received is not None
    assert message.received.microsecond == 123456
    assert message.text_sample == "hallo"
    assert message.headers == ()
