"""Property names of the Graph types the sandbox serves (a test double), from Graph's metadata.

Taken from Microsoft Graph's v1.0 CSDL (msgraph-metadata ``schemas/v1.0-Prod.csdl``): the
``message`` entity type with its bases ``outlookItem`` and ``entity`` (navigation properties
included), the properties ``eventMessage``, ``eventMessageRequest`` and
``eventMessageResponse`` add, ``event`` and ``mailFolder``. Names are kept in lower case: Graph reads
them case-insensitively.
"""

from __future__ import annotations


def _lower(names: tuple[str, ...]) -> frozenset[str]:
    return frozenset(name.lower() for name in names)


MESSAGE_PROPERTIES = _lower(
    (
        "id",
        "categories",
        "changeKey",
        "createdDateTime",
        "lastModifiedDateTime",
        "bccRecipients",
        "body",
        "bodyPreview",
        "ccRecipients",
        "conversationId",
        "conversationIndex",
        "flag",
        "from",
        "hasAttachments",
        "importance",
        "inferenceClassification",
        "internetMessageHeaders",
        "internetMessageId",
        "isDeliveryReceiptRequested",
        "isDraft",
        "isRead",
        "isReadReceiptRequested",
        "parentFolderId",
        "receivedDateTime",
        "replyTo",
        "sender",
        "sentDateTime",
        "subject",
        "toRecipients",
        "uniqueBody",
        "webLink",
        "attachments",
        "extensions",
        "multiValueExtendedProperties",
        "singleValueExtendedProperties",
    )
)
EVENT_MESSAGE_PROPERTIES = {
    "eventmessage": _lower(
        (
            "endDateTime",
            "isAllDay",
            "isDelegated",
            "isOutOfDate",
            "location",
            "meetingMessageType",
            "recurrence",
            "startDateTime",
            "type",
            "event",
        )
    ),
    "eventmessagerequest": _lower(
        (
            "allowNewTimeProposals",
            "meetingRequestType",
            "previousEndDateTime",
            "previousLocation",
            "previousStartDateTime",
            "responseRequested",
        )
    ),
    "eventmessageresponse": _lower(("proposedNewTime", "responseType")),
}
EVENT_PROPERTIES = _lower(
    (
        "allowNewTimeProposals",
        "attendees",
        "body",
        "bodyPreview",
        "categories",
        "changeKey",
        "createdDateTime",
        "end",
        "hasAttachments",
        "hideAttendees",
        "iCalUId",
        "id",
        "importance",
        "isAllDay",
        "isCancelled",
        "isDraft",
        "isOnlineMeeting",
        "isOrganizer",
        "isReminderOn",
        "lastModifiedDateTime",
        "location",
        "locations",
        "onlineMeeting",
        "onlineMeetingProvider",
        "onlineMeetingUrl",
        "organizer",
        "originalEndTimeZone",
        "originalStart",
        "originalStartTimeZone",
        "recurrence",
        "reminderMinutesBeforeStart",
        "responseRequested",
        "responseStatus",
        "sensitivity",
        "seriesMasterId",
        "showAs",
        "start",
        "subject",
        "transactionId",
        "type",
        "webLink",
        "attachments",
        "calendar",
        "extensions",
        "instances",
        "multiValueExtendedProperties",
        "singleValueExtendedProperties",
    )
)
"""The v1.0 event resource's properties and relationships ("event resource type")."""
MAIL_FOLDER_PROPERTIES = _lower(
    (
        "id",
        "childFolderCount",
        "displayName",
        "isHidden",
        "parentFolderId",
        "totalItemCount",
        "unreadItemCount",
        "childFolders",
        "messageRules",
        "messages",
        "multiValueExtendedProperties",
        "singleValueExtendedProperties",
    )
)
