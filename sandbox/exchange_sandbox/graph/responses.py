"""Replies and forwards through the sandbox Graph endpoint (a test double).

``createReply``, ``createReplyAll``, ``createForward`` make a draft in Drafts (201 with the
message); ``reply``, ``replyAll``, ``forward`` make it and send it in one action (202). Each
takes JSON (``comment``, ``message``, and for the forwards ``toRecipients``; parameter names in
any casing, see ``actions``) or base64 MIME (``Content-Type: text/plain``). As Microsoft's
reference pages (message: reply, replyAll, forward and their create… forms) say:

- ``comment`` and ``message.body`` together are 400;
- a forward's ``toRecipients`` and ``message.toRecipients`` together are 400; ``forward`` to
  nobody fails as any send to nobody does: 400 ``ErrorInvalidRecipients`` ("At least one
  recipient is not valid., A message can't be sent because it contains no recipients.");
  ``createForward`` without recipients makes a draft to address later (as clients use it);
- a reply goes to the sender (its ``Reply-To`` when set), reply-all also to the original's
  To and Cc, never to the mailbox itself; "RE: "/"FW: " subjects, the comment above the
  quoted original;
- the draft joins the original's conversation; when it is sent (at once, or by ``send``) the
  original records the last verb (102, 103, 104) and its time (``store.verbs``).
"""

from __future__ import annotations

import base64
import re
from typing import TYPE_CHECKING, Any

from exchange_sandbox.graph import render
from exchange_sandbox.graph.actions import parameters
from exchange_sandbox.graph.errors import GraphError, Response, bad_request
from exchange_sandbox.graph.patch import apply_patch
from exchange_sandbox.graph.request import Request, applied, json_response
from exchange_sandbox.graph.send import base64_mime, send_item
from exchange_sandbox.store import Address, Item, NewItem, RespondsTo, verbs

if TYPE_CHECKING:
    from exchange_sandbox.graph.app import GraphApp

#: action -> (the draft's kind, whether the action sends it)
ACTIONS = {
    "createReply": ("reply", False),
    "createReplyAll": ("replyAll", False),
    "createForward": ("forward", False),
    "reply": ("reply", True),
    "replyAll": ("replyAll", True),
    "forward": ("forward", True),
}
_VERBS = {
    "reply": verbs.VERB_REPLY,
    "replyAll": verbs.VERB_REPLY_ALL,
    "forward": verbs.VERB_FORWARD,
}


def respond(app: GraphApp, req: Request, m: re.Match[str], mailbox: str) -> Response:
    """Any of the six actions (the route names it in ``action``)."""
    action = next(a for a in ACTIONS if a.lower() == m.group("action").lower())
    kind, sends = ACTIONS[action]
    draft = _draft(app, req, m.group("msg"), mailbox, action, kind)
    if not sends:
        return json_response(201, app.message(req, draft), applied(req))
    try:
        send_item(app, mailbox, draft, save_copy=True)
    except GraphError:
        app.store.delete(draft.id)
        raise
    return 202, {"Content-Length": "0"}, b""


def _draft(
    app: GraphApp, req: Request, graph_id: str, mailbox: str, action: str, kind: str
) -> Item:
    """The reply or forward draft in Drafts, its parameters applied (removed again on a 400)."""
    original = app.item(mailbox, graph_id)
    link = RespondsTo(original.id, original.message_id, _VERBS[kind])
    replying = kind != "forward"
    threading: dict[str, Any] = {
        "in_reply_to": original.message_id if replying else "",
        "references": _references(original) if replying else (),
        # A forward names no parent, so its conversation index carries it into the thread.
        "thread_index": base64.b64encode(original.conversation_index).decode(),
        "responds_to": link,
    }
    if req.headers.get("content-type", "").lower().startswith("text/plain"):
        mime = base64_mime(req.body)
        return app.store.create(
            mailbox, "drafts", NewItem(mime=mime, is_draft=True, is_read=True, **threading)
        )
    params = parameters(req, action)
    comment = params.get("Comment", "")
    message = params.get("Message", {})
    if not isinstance(comment, str) or not isinstance(message, dict):
        raise bad_request(f"Invalid {action} parameters.", "RequestBodyRead")
    if comment and any(k.lower() == "body" for k in message):
        raise bad_request(
            "Either 'comment' or 'message.body' may be specified, not both.",
            "ErrorInvalidRequest",
        )
    given = params.get("ToRecipients")
    if given is not None and any(k.lower() == "torecipients" for k in message):
        raise bad_request(
            "Either 'toRecipients' or 'message.toRecipients' may be specified, not both.",
            "ErrorInvalidRequest",
        )
    me = Address(mailbox, app.display_name(mailbox))
    to, cc = _recipients(kind, original, mailbox)
    if given is not None:
        to = render.parse_recipients(given, "toRecipients")
    prefix = "FW: " if kind == "forward" else "RE: "
    draft = app.store.create(
        mailbox,
        "drafts",
        NewItem(
            subject=prefix + render.normalized_subject(original.subject),
            from_=me,
            to=to,
            cc=cc,
            body=render.quoted_reply_body(original, comment),
            body_type="HTML",
            is_read=True,
            is_draft=True,
            **threading,
        ),
    )
    if message:
        try:
            draft = app.store.update(draft.id, lambda it: apply_patch(it, message))
        except GraphError:
            app.store.delete(draft.id)
            raise
    return draft


def _references(original: Item) -> tuple[str, ...]:
    return tuple(original.references) + ((original.message_id,) if original.message_id else ())


def _recipients(
    kind: str, original: Item, mailbox: str
) -> tuple[tuple[Address, ...], tuple[Address, ...]]:
    """To and Cc of a reply (the sender), a reply-all (and To, Cc) or a forward (nobody)."""
    if kind == "forward":
        return (), ()
    reply_to = tuple(
        Address(a.strip().strip("<>"), "")
        for a in render.header_value(original, "Reply-To").split(",")
        if "@" in a
    )
    sender = original.from_ or original.sender
    to = reply_to or ((sender,) if sender is not None else ())
    cc: tuple[Address, ...] = ()
    if kind == "replyAll":
        to += original.to
        cc = original.cc
    seen = {mailbox.lower()}
    kept_to = _unique(to, seen)
    return kept_to, _unique(cc, seen)


def _unique(addresses: tuple[Address, ...], seen: set[str]) -> tuple[Address, ...]:
    kept = []
    for a in addresses:
        if a.email.lower() not in seen:
            seen.add(a.email.lower())
            kept.append(a)
    return tuple(kept)
