"""exchangelib extensions: the follow-up flag element, the service's own properties, the last verb.

exchangelib 5 knows neither `t:Flag` (Exchange 2013+, `item:Flag`) nor our
marker, nor Outlook's last verb (PidTagLastVerbExecuted 0x1081 and
PidTagLastVerbExecutionTime 0x1082), so they are registered on `Message` and
on the meeting messages (request, response, cancellation: exchangelib parses
them as classes of their own) once, at import of this module.
"""

from __future__ import annotations

from typing import Any

from exchangelib import ExtendedProperty, Message
from exchangelib.fields import Choice, ChoiceField, DateTimeField, EWSElementField, InvalidField
from exchangelib.items import (
    MeetingCancellation,
    MeetingMessage,
    MeetingRequest,
    MeetingResponse,
)
from exchangelib.properties import EWSElement
from exchangelib.version import EXCHANGE_2013

#: Our own named-property set; the GUID is fixed forever so every version reads old markers.
MARKER_PROPERTY_SET = "9a1f3c52-5d2e-4b8e-9c41-7e0b2f6d8a13"
MARKER_PROPERTY_NAME = "TopContactMailDecision"
#: On every mail the service sends: its ref, by which a send of unknown outcome is found again.
REF_PROPERTY_NAME = "TopContactMailAckRef"


class FollowupFlag(EWSElement):  # type: ignore[misc]  # exchangelib is untyped
    """`t:Flag`: the follow-up flag Outlook shows, with start and due date."""

    ELEMENT_NAME = "Flag"

    flag_status = ChoiceField(
        field_uri="FlagStatus",
        choices={Choice("NotFlagged"), Choice("Flagged"), Choice("Complete")},
        is_required=True,
    )
    start_date = DateTimeField(field_uri="StartDate")
    due_date = DateTimeField(field_uri="DueDate")
    complete_date = DateTimeField(field_uri="CompleteDate")


class FlagField(EWSElementField):  # type: ignore[misc]  # exchangelib is untyped
    """`item:Flag`, written as one `t:Flag` element (the generic field would nest it twice)."""

    def to_xml(self, value: FollowupFlag, version: Any) -> Any:
        return value.to_xml(version=version)


class DecisionMarker(ExtendedProperty):  # type: ignore[misc]  # exchangelib is untyped
    """The service's decision on a message, so any later run can tell what was done."""

    property_set_id = MARKER_PROPERTY_SET
    property_name = MARKER_PROPERTY_NAME
    property_type = "String"


class SendRef(ExtendedProperty):  # type: ignore[misc]  # exchangelib is untyped
    """The ref of a mail the service sent; a MAPI property, so it survives the Sent Items copy."""

    property_set_id = MARKER_PROPERTY_SET
    property_name = REF_PROPERTY_NAME
    property_type = "String"


class LastVerb(ExtendedProperty):  # type: ignore[misc]  # exchangelib is untyped
    """PidTagLastVerbExecuted: 102 replied, 103 replied to all, 104 forwarded."""

    property_tag = 0x1081
    property_type = "Integer"


class LastVerbTime(ExtendedProperty):  # type: ignore[misc]  # exchangelib is untyped
    """PidTagLastVerbExecutionTime: when the last verb was executed."""

    property_tag = 0x1082
    property_type = "SystemTime"


#: The item classes an inbox message may be parsed as: mail, and the meeting messages Exchange
#: answers as their own elements (t:MeetingRequest, …); each needs the fields, or reading such a
#: message (a colleague's answer to a callback, an invitation to the team) fails.
MESSAGE_CLASSES: tuple[Any, ...] = (
    Message,
    MeetingRequest,
    MeetingResponse,
    MeetingCancellation,
    MeetingMessage,
)


def _register() -> None:
    for cls in MESSAGE_CLASSES:
        try:
            cls.get_field_by_fieldname("followup_flag")
        except InvalidField:
            flag: Any = FlagField(
                name="followup_flag",
                field_uri="item:Flag",
                value_cls=FollowupFlag,
                supported_from=EXCHANGE_2013,
            )
            cls.add_field(flag, insert_after="has_attachments")
        for name, prop in (
            ("topcontact_marker", DecisionMarker),
            ("topcontact_ref", SendRef),
            ("last_verb", LastVerb),
            ("last_verb_at", LastVerbTime),
        ):
            try:
                cls.get_field_by_fieldname(name)
            except InvalidField:
                cls.register(name, prop)


_register()
