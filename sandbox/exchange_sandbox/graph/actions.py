"""Parameters of the Graph actions the sandbox serves (a test double), read as Graph reads them.

The parameter names are those of Microsoft Graph's v1.0 metadata (msgraph-metadata,
``schemas/v1.0-Prod.csdl``: ``Action Name="reply"`` has ``Message`` and ``Comment``, as do
``replyAll``, ``createReply`` and ``createReplyAll``; ``forward`` and ``createForward`` also
``ToRecipients``;
``sendMail`` ``Message`` and ``SaveToSentItems``, ``move`` ``DestinationId``, ``getSchedule``
``Schedules``, ``StartTime``, ``EndTime``, ``AvailabilityViewInterval``; the event's
``accept`` ``SendResponse`` and ``Comment``, ``tentativelyAccept`` and ``decline`` also
``ProposedNewTime``, ``cancel`` ``Comment``). The official SDKs
send them spelled so (msgraph-sdk-python's ``ReplyPostRequestBody`` writes ``"Comment"``),
Microsoft's documentation examples in camel case (``"comment"``); Graph documents action
parameters as not case-sensitive ("Traverse the graph": "action and function names, their
request body parameters ... are not case-sensitive"), so both are accepted. A parameter the
action does not have is refused as OData refuses it, never ignored: 400 ``RequestBodyRead``,
"The parameter 'x' in the request payload is not a valid parameter for the operation 'y'.".
"""

from __future__ import annotations

from typing import Any

from exchange_sandbox.graph.errors import bad_request
from exchange_sandbox.graph.request import Request

ACTIONS: dict[str, tuple[str, ...]] = {
    "createReply": ("Message", "Comment"),
    "createReplyAll": ("Message", "Comment"),
    "createForward": ("ToRecipients", "Message", "Comment"),
    "reply": ("Message", "Comment"),
    "replyAll": ("Message", "Comment"),
    "forward": ("ToRecipients", "Message", "Comment"),
    "send": (),
    "sendMail": ("Message", "SaveToSentItems"),
    "move": ("DestinationId",),
    "permanentDelete": (),
    "getSchedule": ("Schedules", "EndTime", "StartTime", "AvailabilityViewInterval"),
    "accept": ("SendResponse", "Comment"),
    "tentativelyAccept": ("ProposedNewTime", "SendResponse", "Comment"),
    "decline": ("ProposedNewTime", "SendResponse", "Comment"),
    "cancel": ("Comment",),
}


def parameters(req: Request, action: str) -> dict[str, Any]:
    """The action's parameters in the body, by their metadata names; null ones left out."""
    names = {name.lower(): name for name in ACTIONS[action]}
    found: dict[str, Any] = {}
    for key, value in req.json().items():
        name = names.get(key.lower())
        if name is None:
            raise bad_request(
                f"The parameter '{key}' in the request payload is not a valid parameter for "
                f"the operation '{action}'.",
                "RequestBodyRead",
            )
        if name in found:
            raise bad_request(
                f"Multiple parameters with the name '{name}' were found in the request payload.",
                "RequestBodyRead",
            )
        found[name] = value
    return {name: value for name, value in found.items() if value is not None}


def boolean(value: Any, name: str) -> bool:
    """An Edm.Boolean parameter; Microsoft's sendMail example sends it as the string "false"."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise bad_request(
        f"Cannot convert the literal '{value}' to the expected type 'Edm.Boolean' "
        f"(parameter '{name}').",
        "RequestBodyRead",
    )
