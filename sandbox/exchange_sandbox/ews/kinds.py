"""EWS item types of the sandbox (a test double): schema element order, default shapes, FieldURI kinds.

Elements are emitted in the order the EWS schema (types.xsd) prescribes, so answers validate
against Microsoft's schema.
"""

from __future__ import annotations

from exchange_sandbox.store import Item

ITEM_ORDER = [
    "MimeContent",
    "ItemId",
    "ParentFolderId",
    "ItemClass",
    "Subject",
    "Sensitivity",
    "Body",
    "Attachments",
    "DateTimeReceived",
    "Size",
    "Categories",
    "Importance",
    "InReplyTo",
    "IsSubmitted",
    "IsDraft",
    "IsFromMe",
    "IsResend",
    "IsUnmodified",
    "InternetMessageHeaders",
    "DateTimeSent",
    "DateTimeCreated",
    "ResponseObjects",
    "ReminderDueBy",
    "ReminderIsSet",
    "ReminderNextTime",
    "ReminderMinutesBeforeStart",
    "DisplayCc",
    "DisplayTo",
    "DisplayBcc",
    "HasAttachments",
    "ExtendedProperty",
    "Culture",
    "EffectiveRights",
    "LastModifiedName",
    "LastModifiedTime",
    "IsAssociated",
    "WebClientReadFormQueryString",
    "WebClientEditFormQueryString",
    "ConversationId",
    "UniqueBody",
    "Flag",
    "TextBody",
]
MESSAGE_ORDER = [
    "Sender",
    "ToRecipients",
    "CcRecipients",
    "BccRecipients",
    "IsReadReceiptRequested",
    "IsDeliveryReceiptRequested",
    "ConversationIndex",
    "ConversationTopic",
    "From",
    "InternetMessageId",
    "IsRead",
    "IsResponseRequested",
    "References",
    "ReplyTo",
    "ReceivedBy",
    "ReceivedRepresenting",
]
CALENDAR_ORDER = [
    "UID",
    "RecurrenceId",
    "DateTimeStamp",
    "Start",
    "End",
    "OriginalStart",
    "IsAllDayEvent",
    "LegacyFreeBusyStatus",
    "Location",
    "When",
    "IsMeeting",
    "IsCancelled",
    "IsRecurring",
    "MeetingRequestWasSent",
    "IsResponseRequested",
    "CalendarItemType",
    "MyResponseType",
    "Organizer",
    "RequiredAttendees",
    "OptionalAttendees",
    "Duration",
    "TimeZone",
    "AppointmentReplyTime",
    "AppointmentSequenceNumber",
    "AppointmentState",
    "StartTimeZone",
    "EndTimeZone",
    "IsOrganizer",
]
MEETING_ORDER = [
    "AssociatedCalendarItemId",
    "IsDelegated",
    "IsOutOfDate",
    "HasBeenProcessed",
    "ResponseType",
    "UID",
    "RecurrenceId",
    "DateTimeStamp",
    "IsOrganizer",
]
MEETING_REQUEST_ORDER = [
    "MeetingRequestType",
    "IntendedFreeBusyStatus",
    "Start",
    "End",
    "OriginalStart",
    "IsAllDayEvent",
    "LegacyFreeBusyStatus",
    "Location",
    "When",
    "IsMeeting",
    "IsCancelled",
    "IsRecurring",
    "MeetingRequestWasSent",
    "CalendarItemType",
    "MyResponseType",
    "Organizer",
    "RequiredAttendees",
    "OptionalAttendees",
    "Duration",
    "TimeZone",
    "AppointmentReplyTime",
    "AppointmentSequenceNumber",
    "AppointmentState",
    "StartTimeZone",
    "EndTimeZone",
]
MEETING_RESPONSE_ORDER = ["Start", "End", "Location", "CalendarItemType"]
MEETING_CANCELLATION_ORDER = ["Start", "End", "Location", "CalendarItemType"]
"""The orders of types.xsd (CalendarItemType, MeetingMessageType and its three subtypes),
limited to the elements the sandbox renders."""

KIND_ORDER: dict[str, list[str]] = {
    "Message": ITEM_ORDER + MESSAGE_ORDER,
    "CalendarItem": ITEM_ORDER + CALENDAR_ORDER,
    "MeetingRequest": ITEM_ORDER + MESSAGE_ORDER + MEETING_ORDER + MEETING_REQUEST_ORDER,
    "MeetingResponse": ITEM_ORDER + MESSAGE_ORDER + MEETING_ORDER + MEETING_RESPONSE_ORDER,
    "MeetingCancellation": ITEM_ORDER + MESSAGE_ORDER + MEETING_ORDER + MEETING_CANCELLATION_ORDER,
}

DEFAULT_SHAPE = {
    "Message": {"Subject", "Sensitivity", "HasAttachments", "IsAssociated", "ToRecipients", "From", "IsRead"},
    "CalendarItem": {
        "Subject", "Sensitivity", "HasAttachments", "IsAssociated", "Start", "End",
        "LegacyFreeBusyStatus", "Location", "CalendarItemType", "Organizer",
    },
}  # fmt: skip
NOT_IN_ALL_PROPERTIES = {"MimeContent", "UniqueBody", "InternetMessageHeaders", "TextBody"}
NOT_FOUND_BY_FIND = frozenset(
    {
        "Body", "UniqueBody", "NormalizedBody", "TextBody", "MimeContent", "Attachments",
        "InternetMessageHeaders", "ResponseObjects", "ToRecipients", "CcRecipients",
        "BccRecipients", "ReplyTo", "RequiredAttendees", "OptionalAttendees", "Resources",
    }
)  # fmt: skip
"""What FindItem and SyncFolderItems cannot return: "the message body formats or the recipient
lists" (FindItem reference) and streamed properties; the EWS Managed API's property definitions
without CanFind (OfficeDev/ews-managed-api, Core/ServiceObjects/Schemas). FindItem refuses them
when asked (ErrorInvalidPropertyForOperation, WinRb/Viewpoint#191, exchangelib#214);
SyncFolderItems leaves them out (exchangelib syncs with every field against Exchange Online)."""


MESSAGE_KINDS = ("Message", "MeetingRequest", "MeetingResponse", "MeetingCancellation")
MEETING_KINDS = MESSAGE_KINDS[1:]
URI_KINDS: dict[str, tuple[str, ...]] = {
    "item": (*MESSAGE_KINDS, "CalendarItem"),
    "message": MESSAGE_KINDS,
    "meeting": MEETING_KINDS,
    "meetingRequest": ("MeetingRequest",),
    "calendar": ("CalendarItem", *MEETING_KINDS),
}
"""The item types (of those the sandbox models) a FieldURI prefix belongs to (types.xsd)."""


def applies_to(uri: str, kind: str) -> bool:
    """Whether a FieldURI names a property of this type of item (contacts:, task:... never)."""
    return kind in URI_KINDS.get(uri.split(":", 1)[0], ())


def item_kind(item: Item) -> str:
    cls = item.item_class
    if cls.startswith("IPM.Appointment"):
        return "CalendarItem"
    if cls.startswith("IPM.Schedule.Meeting.Request"):
        return "MeetingRequest"
    if cls.startswith("IPM.Schedule.Meeting.Resp"):
        return "MeetingResponse"
    if cls.startswith("IPM.Schedule.Meeting.Canceled"):
        return "MeetingCancellation"
    return "Message"
