"""Sending through the sandbox Graph endpoint (a test double): send (a draft) and sendMail.

sendMail takes JSON or base64 MIME (replies and forwards are in ``responses``). A send hands
the message to the store's transport (``_submit``): its Sent Items copy, without
``internetMessageHeaders``, and
the recipients' copies come after the mailbox's submission delay; submitted MIME loses the
headers Exchange Online strips; with a send limit set, sends over it are refused with 429 and
a Retry-After (Exchange Online defers them instead).
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import TYPE_CHECKING

from exchange_sandbox.graph.actions import boolean, parameters
from exchange_sandbox.graph.errors import GraphError, Response, bad_request
from exchange_sandbox.graph.messages import new_draft
from exchange_sandbox.graph.mime import (
    child_thread_index,
    new_message_id,
    outgoing_mime,
    sanitize_submission,
)
from exchange_sandbox.graph.request import Request
from exchange_sandbox.store import Address, Item, NewItem

if TYPE_CHECKING:
    from exchange_sandbox.graph.app import GraphApp


def send_draft(app: GraphApp, req: Request, m: re.Match[str], mailbox: str) -> Response:
    parameters(req, "send")
    draft = app.item(mailbox, m.group("msg"))
    if not draft.is_draft:
        raise bad_request("Only draft messages can be sent.", "ErrorInvalidOperation")
    send_item(app, mailbox, draft, save_copy=True)
    return 202, {"Content-Length": "0"}, b""


def send_item(app: GraphApp, mailbox: str, draft: Item, save_copy: bool) -> None:
    if not (draft.to or draft.cc or draft.bcc):
        raise bad_request(
            "At least one recipient is not valid., A message can't be sent because it "
            "contains no recipients.",
            "ErrorInvalidRecipients",
        )
    _check_send_rate(app, mailbox)
    me = Address(mailbox, app.display_name(mailbox))
    # Dated at submission, by the transport's clock (which a test may set).
    submitted = app.store.submissions.clock()
    mime = outgoing_mime(
        draft,
        me,
        new_message_id(),
        sent=submitted,
        thread_index=child_thread_index(draft.conversation_index, submitted),
    )
    message = NewItem(
        mime=mime,
        subject=draft.subject,
        from_=draft.from_ or me,
        to=draft.to,
        cc=draft.cc,
        bcc=draft.bcc,
        body=draft.body,
        body_type=draft.body_type,
        categories=draft.categories,
        extended=dict(draft.extended),
        importance=draft.importance,
        in_reply_to=draft.in_reply_to,
        references=draft.references,
        # A reply or forward marks its original when it is submitted.
        responds_to=draft.responds_to,
    )
    _submit(app, mailbox, message, save_copy, sent_draft=draft)
    app.store.delete(draft.id)


def _submit(
    app: GraphApp, mailbox: str, message: NewItem, save_copy: bool, sent_draft: Item | None = None
) -> None:
    """Hand a message to the store's transport: a 202 means accepted, not sent.

    Its Sent Items copy comes when transport has taken it, without internetMessageHeaders
    (Exchange keeps no transport headers on a message it sent); a sent draft's immutable id
    then finds that copy, as Graph documents.
    """
    draft = sent_draft
    carry = None if draft is None else (lambda copy: app.ids.carry(draft, copy))
    app.store.submit(mailbox, message, save_copy, copy_headers="none", on_saved=carry)


def _check_send_rate(app: GraphApp, mailbox: str) -> None:
    wait = app.sends.try_send(mailbox)
    if wait is not None:
        # Exchange Online documents ~30 messages per minute per mailbox; the sandbox
        # refuses the excess (instead of queueing it) so that pacing is testable.
        raise GraphError(
            429,
            "ErrorExceededMessageLimit",
            "Cannot send mail. The mailbox has exceeded its message rate limit of "
            f"{app.sends.per_minute} messages per minute. Try again later.",
            {"Retry-After": str(wait)},
        )


def send_mail(app: GraphApp, req: Request, m: re.Match[str], mailbox: str) -> Response:
    me = Address(mailbox, app.display_name(mailbox))
    if req.headers.get("content-type", "").lower().startswith("text/plain"):
        mime, _ = sanitize_submission(base64_mime(req.body), me, app.store.submissions.clock())
        _check_send_rate(app, mailbox)
        _submit(app, mailbox, NewItem(mime=mime), save_copy=True)
        return 202, {"Content-Length": "0"}, b""
    params = parameters(req, "sendMail")
    message = params.get("Message")
    if not isinstance(message, dict):
        raise bad_request("The 'Message' parameter is required.", "ErrorInvalidRequest")
    save = boolean(params.get("SaveToSentItems", True), "SaveToSentItems")
    draft = new_draft(app, mailbox, message)
    try:
        send_item(app, mailbox, draft, save_copy=save)
    except GraphError:
        app.store.delete(draft.id)
        raise
    return 202, {"Content-Length": "0"}, b""


def base64_mime(body: bytes) -> bytes:
    try:
        mime = base64.b64decode(b"".join(body.split()), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise bad_request(
            "Invalid base64 string for MIME content.", "ErrorMimeContentInvalidBase64String"
        ) from exc
    if not mime.strip():
        raise bad_request(
            "Invalid base64 string for MIME content.", "ErrorMimeContentInvalidBase64String"
        )
    return mime
