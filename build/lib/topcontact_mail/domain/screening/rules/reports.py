"""Rules `read_receipt`, `delivery_report` and `failed_recipients`: reports about other messages.

Read receipts come first so that a disposition notification, which is also a
`multipart/report`, is named for what it is. A request for a read receipt
(`Disposition-Notification-To` on a person's message) is not a receipt and is
ignored here.
"""

from __future__ import annotations

from topcontact_mail.domain.message import IncomingMessage
from topcontact_mail.domain.screening.evidence import part_types, shown, top_content_type
from topcontact_mail.domain.screening.model import ScreeningHistory, ScreeningPolicy

_RECEIPT_CLASS_ENDINGS = (".ipnrn", ".ipnnrn")
_RECEIPT_PARTS = frozenset(
    {"message/disposition-notification", "message/global-disposition-notification"}
)
_STATUS_PARTS = frozenset({"message/delivery-status", "message/global-delivery-status"})


def read_receipt(
    message: IncomingMessage, policy: ScreeningPolicy, history: ScreeningHistory
) -> str | None:
    mime_type, params = top_content_type(message)
    report_type = params.get("report-type", "").lower()
    if mime_type == "multipart/report" and report_type == "disposition-notification":
        return "Content-Type multipart/report; report-type=disposition-notification (RFC 8098)"
    for part, _ in part_types(message):
        if part in _RECEIPT_PARTS:
            return f"contains a {part} part"
    item_class = (message.item_class or "").strip().lower()
    if item_class.startswith("report.") and item_class.endswith(_RECEIPT_CLASS_ENDINGS):
        return f"Exchange item class {message.item_class} (read or not-read notification)"
    return None


def delivery_report(
    message: IncomingMessage, policy: ScreeningPolicy, history: ScreeningHistory
) -> str | None:
    mime_type, params = top_content_type(message)
    if mime_type == "multipart/report":
        kind = params.get("report-type") or "unspecified"
        return f"Content-Type multipart/report; report-type={shown(kind)}"
    for part, _ in part_types(message):
        if part in _STATUS_PARTS:
            return f"contains a {part} part"
    item_class = (message.item_class or "").strip()
    if item_class.lower().startswith("report."):
        return f"Exchange item class {item_class} (delivery report)"
    ndr = message.header("X-MS-Exchange-Message-Is-Ndr")
    if ndr is not None:
        return "X-MS-Exchange-Message-Is-Ndr header (Exchange non-delivery report)"
    return None


def failed_recipients(
    message: IncomingMessage, policy: ScreeningPolicy, history: ScreeningHistory
) -> str | None:
    value = message.header("X-Failed-Recipients")
    if value is None:
        return None
    return f"X-Failed-Recipients: {shown(value)} (bounce)"
