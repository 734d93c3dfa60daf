"""Staff in Outlook, against the sandbox Exchange server over its real protocols.

What a colleague does to a message in the shared mailbox, as the server sees it: a reply,
reply-all or forward sent through the message (the server marks it with the last verb), a
follow-up flag marked complete, a category, a folder of one's own and a move into it. Over
EWS (exchangelib, delegate access to the shared mailbox) or Microsoft Graph (plain HTTP with
the app's token), never by writing into the sandbox's store. The moment a reply is sent is set
with the sandbox's transport clock (it dates the message and the verb), the moment a flag is
completed is the one the client writes.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any, Literal, Protocol
from urllib.parse import quote

import requests
from exchangelib import BASIC, DELEGATE, Account, Build, Configuration, Credentials, Version
from exchangelib.folders import Messages

from exchange_sandbox import SandboxHandle

SHARED = "klantcontact@woonservice.example"
#: The account with full access to the shared mailbox (the sandbox's default configuration).
USER = "svc-topcontact"
PASSWORD = "Sandbox-Demo-2026!"
Reply = Literal["reply", "reply_all", "forward"]
#: Where a forward goes (outside the sandbox: transport drops it after Sent Items).
FORWARD_TO = "collega@elders.example"


class Staff(Protocol):
    def reply(self, message_id: str, how: Reply, *, keep_copy: bool = True) -> None: ...
    def complete_flag(self, message_id: str, at: datetime) -> None: ...
    def categorise(self, message_id: str, *categories: str) -> None: ...
    def move(self, message_id: str, folder: str) -> None: ...


@contextlib.contextmanager
def transport_clock(sandbox: SandboxHandle, at: datetime) -> Iterator[None]:
    """Transport's clock at `at` for what is submitted meanwhile (Date and the last verb)."""
    queue = sandbox.store.submissions
    before = queue.clock
    queue.clock = lambda: at
    try:
        yield
    finally:
        queue.clock = before


def staff_for(backend: str, sandbox: SandboxHandle) -> Staff:
    return GraphStaff(sandbox) if backend == "graph" else EwsStaff(sandbox)


class EwsStaff:
    """Outlook's actions as EWS requests of an account with full access to the shared mailbox."""

    def __init__(self, sandbox: SandboxHandle) -> None:
        self.sandbox = sandbox
        config = Configuration(
            service_endpoint=sandbox.ews_url,
            credentials=Credentials(USER, PASSWORD),
            auth_type=BASIC,
            version=Version(build=Build(15, 1, 2507, 6)),
        )
        self.account = Account(SHARED, config=config, autodiscover=False, access_type=DELEGATE)

    def _folders(self) -> list[Any]:
        inbox = self.account.inbox
        return [
            inbox,
            self.account.trash,
            *(f for f in inbox.walk() if not isinstance(f, Exception)),
        ]

    def _item(self, message_id: str) -> Any:
        """The message, found by its Message-ID in the mail folders (FindItem, GetItem)."""
        for folder in self._folders():
            found = list(folder.filter(message_id=message_id).only("id", "changekey"))
            if found:
                return folder.get(id=found[0].id)
        raise LookupError(message_id)

    def reply(self, message_id: str, how: Reply, *, keep_copy: bool = True) -> None:
        """ReplyToItem, ReplyAllToItem or ForwardItem; without a copy: SendOnly."""
        item = self._item(message_id)
        if how == "forward":
            response = item.create_forward(
                subject=f"FW: {item.subject}", body="Zie hieronder.", to_recipients=[FORWARD_TO]
            )
        elif how == "reply_all":
            response = item.create_reply_all(subject=f"RE: {item.subject}", body="Opgelost.")
        else:
            response = item.create_reply(subject=f"RE: {item.subject}", body="Opgelost.")
        response.send(save_copy=keep_copy)

    def complete_flag(self, message_id: str, at: datetime) -> None:
        """UpdateItem of `item:Flag`: Complete, with the completion moment the client writes."""
        item = self._item(message_id)
        stamp = at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        body = (
            '<m:UpdateItem MessageDisposition="SaveOnly" ConflictResolution="AlwaysOverwrite">'
            f'<m:ItemChanges><t:ItemChange><t:ItemId Id="{item.id}"/><t:Updates>'
            '<t:SetItemField><t:FieldURI FieldURI="item:Flag"/><t:Message><t:Flag>'
            f"<t:FlagStatus>Complete</t:FlagStatus><t:CompleteDate>{stamp}</t:CompleteDate>"
            "</t:Flag></t:Message></t:SetItemField></t:Updates></t:ItemChange></m:ItemChanges>"
            "</m:UpdateItem>"
        )
        _soap(self.sandbox, body)

    def categorise(self, message_id: str, *categories: str) -> None:
        item = self._item(message_id)
        item.categories = [*(item.categories or []), *categories]
        item.save(update_fields=["categories"])  # UpdateItem

    def move(self, message_id: str, folder: str) -> None:
        """MoveItem to Deleted Items or to a folder under the Inbox (made when missing)."""
        item = self._item(message_id)
        if folder == "Deleted Items":
            item.move(self.account.trash)
            return
        name = folder.removeprefix("Inbox/")
        target = next((f for f in self.account.inbox.children if f.name == name), None)
        if target is None:
            target = Messages(parent=self.account.inbox, name=name)
            target.save()  # CreateFolder
        item.move(target)


class GraphStaff:
    """Outlook's actions as Graph requests on the sandbox's plain-HTTP port, app-only."""

    def __init__(self, sandbox: SandboxHandle) -> None:
        self.base = f"{sandbox.url}/v1.0/users/{SHARED}"
        graph = sandbox.server.config.graph
        app = graph.apps[0]
        token = requests.post(
            f"{sandbox.url}/{graph.tenant_id}/oauth2/v2.0/token",
            data={
                "grant_type": "client_credentials",
                "client_id": app.client_id,
                "client_secret": app.client_secret,
                "scope": "https://graph.microsoft.com/.default",
            },
            timeout=10,
        )
        token.raise_for_status()
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {token.json()['access_token']}"

    def _call(self, method: str, path: str, body: Any = None) -> Any:
        answer = self.session.request(method, self.base + path, json=body, timeout=10)
        assert answer.status_code < 300, f"{method} {path}: {answer.status_code} {answer.text}"
        return answer.json() if answer.content else None

    def _id(self, message_id: str) -> str:
        value = message_id.replace("'", "''")
        found = self._call("GET", f"/messages?$filter=internetMessageId eq '{value}'&$select=id")
        return quote(str(found["value"][0]["id"]), safe="")

    def reply(self, message_id: str, how: Reply, *, keep_copy: bool = True) -> None:
        """reply, replyAll or forward (Graph always keeps a copy in Sent Items)."""
        assert keep_copy, "Graph saves every reply in Sent Items"
        action = {"reply": "reply", "reply_all": "replyAll", "forward": "forward"}[how]
        body: dict[str, Any] = {"comment": "Opgelost."}
        if how == "forward":
            body = {
                "comment": "Zie hieronder.",
                "toRecipients": [{"emailAddress": {"address": FORWARD_TO}}],
            }
        self._call("POST", f"/messages/{self._id(message_id)}/{action}", body)

    def complete_flag(self, message_id: str, at: datetime) -> None:
        stamp = at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")
        flag = {
            "flagStatus": "complete",
            "completedDateTime": {"dateTime": stamp, "timeZone": "UTC"},
        }
        self._call("PATCH", f"/messages/{self._id(message_id)}", {"flag": flag})

    def categorise(self, message_id: str, *categories: str) -> None:
        item = self._id(message_id)
        current = self._call("GET", f"/messages/{item}?$select=categories")["categories"]
        self._call("PATCH", f"/messages/{item}", {"categories": [*current, *categories]})

    def move(self, message_id: str, folder: str) -> None:
        """move to Deleted Items or to a folder under the Inbox (made when missing)."""
        destination = "deleteditems"
        if folder != "Deleted Items":
            name = folder.removeprefix("Inbox/")
            children = self._call("GET", "/mailFolders/inbox/childFolders?$top=100")["value"]
            made = next((f for f in children if f["displayName"] == name), None)
            if made is None:
                made = self._call("POST", "/mailFolders/inbox/childFolders", {"displayName": name})
            destination = made["id"]
        self._call("POST", f"/messages/{self._id(message_id)}/move", {"destinationId": destination})


def _soap(sandbox: SandboxHandle, body: str) -> None:
    envelope = (
        '<?xml version="1.0" encoding="utf-8"?><soap:Envelope'
        ' xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"'
        ' xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages"'
        ' xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types"><soap:Header>'
        '<t:RequestServerVersion Version="Exchange2016"/></soap:Header>'
        f"<soap:Body>{body}</soap:Body></soap:Envelope>"
    )
    answer = requests.post(
        sandbox.ews_url,
        data=envelope.encode(),
        auth=(USER, PASSWORD),
        headers={"Content-Type": "text/xml; charset=utf-8"},
        timeout=10,
    )
    assert answer.status_code == 200, answer.text
    assert b'ResponseClass="Success"' in answer.content, answer.text
