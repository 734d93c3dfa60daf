"""A fake EWS endpoint for the adapter's unit tests: SOAP answers queued per operation.

The answers have the shapes the sandbox Exchange server gives (captured from
it with its recorder) and Microsoft documents; they are built here from small
templates so each test shows only what matters to it.
"""

from __future__ import annotations

import base64
import re
from collections import defaultdict, deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from xml.etree import ElementTree
from xml.sax.saxutils import escape, quoteattr

import requests
import responses

from topcontact_mail.adapters.ews import EwsMailbox
from topcontact_mail.adapters.ews.fields import MARKER_PROPERTY_NAME, MARKER_PROPERTY_SET
from topcontact_mail.domain.acknowledgement import LOOP_HEADERS
from topcontact_mail.domain.message import Acknowledgement, Address
from topcontact_mail.ports import OutgoingAcknowledgement

URL = "https://exchange.woonservice.example/EWS/Exchange.asmx"
SHARED = "klantcontact@woonservice.example"

_HEADER = (
    '<s:Header><h:ServerVersionInfo xmlns:h="http://schemas.microsoft.com/exchange/services/2006/types"'
    ' MajorVersion="15" MinorVersion="1" MajorBuildNumber="2507" MinorBuildNumber="6"'
    ' Version="V2017_07_11"/></s:Header>'
)
_BODY_OPEN = (
    '<s:Body xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages"'
    ' xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types">'
)
_MARKER_URI = (
    f'<t:ExtendedFieldURI PropertySetId="{MARKER_PROPERTY_SET}"'
    f' PropertyName="{MARKER_PROPERTY_NAME}" PropertyType="String"/>'
)
_OPERATION = re.compile(rb"<s:Body><m:(\w+)[\s>]")


def envelope(body: str) -> str:
    return (
        "<?xml version='1.0' encoding='utf-8'?>"
        '<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/">'
        f"{_HEADER}{_BODY_OPEN}{body}</s:Body></s:Envelope>"
    )


def _messages(operation: str, messages: Iterable[str]) -> str:
    inner = "".join(messages)
    return envelope(
        f"<m:{operation}Response><m:ResponseMessages>{inner}</m:ResponseMessages>"
        f"</m:{operation}Response>"
    )


def _ok(operation: str, content: str) -> str:
    return (
        f'<m:{operation}ResponseMessage ResponseClass="Success">'
        f"<m:ResponseCode>NoError</m:ResponseCode>{content}</m:{operation}ResponseMessage>"
    )


def _error(operation: str, code: str, text: str = "", content: str = "") -> str:
    return (
        f'<m:{operation}ResponseMessage ResponseClass="Error">'
        f"<m:MessageText>{escape(text or code)}</m:MessageText>"
        f"<m:ResponseCode>{code}</m:ResponseCode><m:DescriptiveLinkKey>0</m:DescriptiveLinkKey>"
        f"{content}</m:{operation}ResponseMessage>"
    )


def fault(code: str, text: str = "", back_off_ms: int | None = None) -> str:
    """A SOAP fault, as Exchange answers a request it refuses as a whole (HTTP 500)."""
    values = (
        '<t:MessageXml xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types">'
        f'<t:Value Name="BackOffMilliseconds">{back_off_ms}</t:Value></t:MessageXml>'
        if back_off_ms is not None
        else ""
    )
    text = escape(text or "The server cannot service this request right now. Try again later.")
    errors = "http://schemas.microsoft.com/exchange/services/2006/errors"
    return (
        "<?xml version='1.0' encoding='utf-8'?>"
        '<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><s:Fault>'
        '<faultcode xmlns:a="http://schemas.microsoft.com/exchange/services/2006/types">'
        f'a:{code}</faultcode><faultstring xml:lang="en-US">{text}</faultstring><detail>'
        f'<e:ResponseCode xmlns:e="{errors}">{code}</e:ResponseCode>'
        f'<e:Message xmlns:e="{errors}">{text}</e:Message>{values}</detail>'
        "</s:Fault></s:Body></s:Envelope>"
    )


# -- answers of single operations ----------------------------------------------------------------


def folder_answer(distinguished: str) -> str:
    names = {"root": "", "inbox": "Inbox", "sentitems": "Sent Items"}
    folder = (
        f'<t:Folder><t:FolderId Id="{distinguished}-id" ChangeKey="AQAAABYAAAA="/>'
        f"<t:FolderClass>IPF.Note</t:FolderClass>"
        f"<t:DisplayName>{names.get(distinguished, distinguished)}</t:DisplayName>"
        "<t:TotalCount>0</t:TotalCount><t:ChildFolderCount>0</t:ChildFolderCount>"
        "<t:UnreadCount>0</t:UnreadCount></t:Folder>"
    )
    return _messages("GetFolder", [_ok("GetFolder", f"<m:Folders>{folder}</m:Folders>")])


def convert_id_answer() -> str:
    # exchangelib learns the server's version from this refusal's header, as from Exchange.
    return _messages("ConvertId", [_error("ConvertId", "ErrorInvalidIdMalformed")])


def _marker(value: str | None) -> str:
    if value is None:
        return ""
    return (
        f"<t:ExtendedProperty>{_MARKER_URI}<t:Value>{escape(value)}</t:Value></t:ExtendedProperty>"
    )


def sync_answer(
    changes: Iterable[tuple[str, str | None]], state: str = "state-2", *, last: bool = True
) -> str:
    """SyncFolderItems: (item id, marker or None) per created item."""
    created = "".join(
        f'<t:Create><t:Message><t:ItemId Id="{item_id}" ChangeKey="ck-{item_id}"/>'
        f"<t:DateTimeReceived>2026-11-27T09:00:00Z</t:DateTimeReceived>{_marker(marker)}"
        "</t:Message></t:Create>"
        for item_id, marker in changes
    )
    content = (
        f"<m:SyncState>{state}</m:SyncState>"
        f"<m:IncludesLastItemInRange>{'true' if last else 'false'}</m:IncludesLastItemInRange>"
        f"<m:Changes>{created}</m:Changes>"
    )
    return _messages("SyncFolderItems", [_ok("SyncFolderItems", content)])


def _mailbox(element: str, address: str, name: str = "") -> str:
    shown = f"<t:Name>{escape(name)}</t:Name>" if name else ""
    return (
        f"<t:{element}><t:Mailbox>{shown}<t:EmailAddress>{address}</t:EmailAddress>"
        f"<t:RoutingType>SMTP</t:RoutingType></t:Mailbox></t:{element}>"
    )


@dataclass
class Item:
    """A message as GetItem returns it with the adapter's fields."""

    id: str
    subject: str = "Lekkage"
    sender: tuple[str, str] = ("jan@example.nl", "Jan Jansen")
    to: str = SHARED
    headers: list[tuple[str, str]] | None = None
    text_body: str = "Beste mensen, mijn kraan lekt."
    categories: list[str] = field(default_factory=list)
    marker: str | None = None
    message_id: str | None = "<m1@example.nl>"
    item_class: str = "IPM.Note"
    #: The element Exchange answers with: Message, or a meeting message's own (MeetingResponse, …).
    element: str = "Message"

    def xml(self) -> str:
        headers = ""
        if self.headers:
            headers = (
                "<t:InternetMessageHeaders>"
                + "".join(
                    f"<t:InternetMessageHeader HeaderName={quoteattr(n)}>{escape(v)}"
                    "</t:InternetMessageHeader>"
                    for n, v in self.headers
                )
                + "</t:InternetMessageHeaders>"
            )
        categories = ""
        if self.categories:
            strings = "".join(f"<t:String>{escape(c)}</t:String>" for c in self.categories)
            categories = f"<t:Categories>{strings}</t:Categories>"
        message_id = (
            f"<t:InternetMessageId>{escape(self.message_id)}</t:InternetMessageId>"
            if self.message_id
            else ""
        )
        address, name = self.sender
        return (
            f'<t:{self.element}><t:ItemId Id="{self.id}" ChangeKey="ck-{self.id}"/>'
            f"<t:ItemClass>{self.item_class}</t:ItemClass>"
            f"<t:Subject>{escape(self.subject)}</t:Subject>"
            f'<t:TextBody BodyType="Text">{escape(self.text_body)}</t:TextBody>'
            f"{categories}<t:DateTimeReceived>2026-11-27T09:00:00Z</t:DateTimeReceived>"
            f"{headers}{_marker(self.marker)}"
            f'<t:ConversationId Id="conv-{self.id}"/>'
            f"{_mailbox('Sender', address, name)}"
            f"<t:ToRecipients><t:Mailbox><t:EmailAddress>{self.to}</t:EmailAddress>"
            "<t:RoutingType>SMTP</t:RoutingType></t:Mailbox></t:ToRecipients>"
            f"{_mailbox('From', address, name)}{message_id}</t:{self.element}>"
        )


def get_item_answer(*items: Item | str) -> str:
    """GetItem: an Item, or an error code for an item that could not be read."""
    return _messages(
        "GetItem",
        [
            _ok("GetItem", f"<m:Items>{i.xml()}</m:Items>")
            if isinstance(i, Item)
            else _error("GetItem", i, content="<m:Items/>")
            for i in items
        ],
    )


def create_answer(*codes: str) -> str:
    """CreateItem with SendAndSaveCopy: one response message per item, NoError or a code."""
    return _messages(
        "CreateItem",
        [
            _ok("CreateItem", "<m:Items/>")
            if c == "NoError"
            else _error("CreateItem", c, content="<m:Items/>")
            for c in codes
        ],
    )


def update_answer(*codes: str) -> str:
    """UpdateItem: one response message per item, NoError or a code."""
    return _messages(
        "UpdateItem",
        [
            _ok(
                "UpdateItem",
                f'<m:Items><t:Message><t:ItemId Id="item-{n}" ChangeKey="ck2"/></t:Message>'
                "</m:Items><m:ConflictResults><t:Count>0</t:Count></m:ConflictResults>",
            )
            if c == "NoError"
            else _error("UpdateItem", c, content="<m:Items/>")
            for n, c in enumerate(codes)
        ],
    )


def find_answer(*item_ids: str) -> str:
    """FindItem in Sent Items: the ids of the messages found."""
    found = "".join(
        f'<t:Message><t:ItemId Id="{i}" ChangeKey="ck-{i}"/></t:Message>' for i in item_ids
    )
    content = (
        f'<m:RootFolder IndexedPagingOffset="{len(item_ids)}" TotalItemsInView="{len(item_ids)}"'
        f' IncludesLastItemInRange="true"><t:Items>{found}</t:Items></m:RootFolder>'
    )
    return _messages("FindItem", [_ok("FindItem", content)])


def refs_answer(folders: int, found: Iterable[tuple[str, str]]) -> str:
    """FindItem over several folders by the ref property: one answer per folder, the
    (item id, ref) pairs found in the first."""
    uri = (
        f'<t:ExtendedFieldURI PropertySetId="{MARKER_PROPERTY_SET}"'
        ' PropertyName="TopContactMailAckRef" PropertyType="String"/>'
    )
    items = "".join(
        f'<t:Message><t:ItemId Id="{i}" ChangeKey="ck-{i}"/>'
        f"<t:ExtendedProperty>{uri}<t:Value>{escape(r)}</t:Value></t:ExtendedProperty></t:Message>"
        for i, r in found
    )
    pairs = list(found) if not isinstance(found, list) else found
    answers = []
    for n in range(folders):
        inner = items if n == 0 else ""
        count = len(pairs) if n == 0 else 0
        answers.append(
            _ok(
                "FindItem",
                f'<m:RootFolder IndexedPagingOffset="{count}" TotalItemsInView="{count}"'
                f' IncludesLastItemInRange="true"><t:Items>{inner}</t:Items></m:RootFolder>',
            )
        )
    return _messages("FindItem", answers)


def subscribe_answer(subscription: str) -> str:
    return _messages(
        "Subscribe", [_ok("Subscribe", f"<m:SubscriptionId>{subscription}</m:SubscriptionId>")]
    )


def unsubscribe_answer() -> str:
    return _messages("Unsubscribe", [_ok("Unsubscribe", "")])


def stream_document(subscription: str, *, new_mail: bool = False, status: str = "OK") -> str:
    """One document of a GetStreamingEvents answer; Exchange sends several over one connection."""
    notifications = ""
    if new_mail:
        notifications = (
            f"<m:Notifications><t:Notification><t:SubscriptionId>{subscription}</t:SubscriptionId>"
            "<t:NewMailEvent><t:Watermark>U0JYLVdNOjE=</t:Watermark>"
            "<t:TimeStamp>2026-11-27T09:00:00Z</t:TimeStamp>"
            '<t:ItemId Id="item-1" ChangeKey="ck"/><t:ParentFolderId Id="inbox-id" ChangeKey="AQ=="/>'
            "</t:NewMailEvent></t:Notification></m:Notifications>"
        )
    return _messages(
        "GetStreamingEvents",
        [
            _ok(
                "GetStreamingEvents",
                f"{notifications}<m:ConnectionStatus>{status}</m:ConnectionStatus>",
            )
        ],
    )


def stream_refused(subscription: str, code: str) -> str:
    """GetStreamingEvents refused for a subscription (expired, unknown)."""
    ids = f"<m:ErrorSubscriptionIds><m:SubscriptionId>{subscription}</m:SubscriptionId></m:ErrorSubscriptionIds>"
    return _messages("GetStreamingEvents", [_error("GetStreamingEvents", code, content=ids)])


# -- the endpoint --------------------------------------------------------------------------------

#: What an answer may be: a SOAP document (HTTP 200, or 500 for a fault), an exception the
#: HTTP layer raises instead of answering, or (status, body[, headers]) for anything else.
Answer = str | Exception | tuple[int, str] | tuple[int, str, dict[str, str]]


class FakeEws:
    """Answers each request with the next answer queued for its operation; records the requests.

    Folder look-ups and the version probe are answered by default.
    """

    def __init__(self, http: responses.RequestsMock) -> None:
        self.queued: dict[str, deque[Answer]] = defaultdict(deque)
        #: Answers chosen by the request's body, when nothing is queued for the operation.
        self.responders: dict[str, Callable[[str], Answer]] = {}
        self.requests: list[tuple[str, str]] = []
        http.add_callback(responses.POST, URL, callback=self._answer)

    def on(self, operation: str, *answers: Answer) -> None:
        self.queued[operation].extend(answers)

    def sent(self, operation: str) -> list[str]:
        """The bodies of the requests of one operation, in order."""
        return [body for op, body in self.requests if op == operation]

    def _answer(self, request: requests.PreparedRequest) -> Any:
        raw = request.body if isinstance(request.body, bytes) else str(request.body).encode()
        found = _OPERATION.search(raw)
        operation = found.group(1).decode() if found else "?"
        body = raw.decode("utf-8")
        self.requests.append((operation, body))
        if self.queued[operation]:
            answer = self.queued[operation].popleft()
        elif operation in self.responders:
            answer = self.responders[operation](body)
        elif operation == "GetFolder":
            answer = folder_answer(re.findall(r'DistinguishedFolderId Id="(\w+)"', body)[0])
        elif operation == "ConvertId":
            answer = convert_id_answer()
        else:
            raise AssertionError(f"unexpected {operation} request")
        if isinstance(answer, Exception):
            return answer
        headers = {"Content-Type": "text/xml; charset=utf-8"}
        if isinstance(answer, tuple):
            status, text = answer[0], answer[1]
            headers.update(answer[2] if len(answer) > 2 else {})
        else:
            # Exchange sends its SOAP faults with HTTP 500.
            status, text = (500 if "<s:Fault>" in answer else 200), answer
        return status, headers, text


class Sleeps(list[float]):
    """Records the waits instead of waiting."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def outgoing(n: int) -> OutgoingAcknowledgement:
    ack = Acknowledgement(
        recipient=Address(f"huurder{n}@example.nl", "Jan Jansen"),
        subject="Ontvangstbevestiging: Lekkage",
        text_body="We hebben uw e-mail ontvangen.",
        html_body="<p>We hebben uw e-mail ontvangen.</p>",
        language="nl",
        in_reply_to=f"<m{n}@example.nl>",
        references=(f"<m{n}@example.nl>",),
        headers=LOOP_HEADERS,
    )
    return OutgoingAcknowledgement(f"ref{n}", f"<ref{n}@woonservice.example>", f"item-{n}", ack)


def connection_dropped() -> requests.ConnectionError:
    """What requests raises when the server closes the connection without answering."""
    return requests.ConnectionError(
        "('Connection aborted.', RemoteDisconnected('Remote end closed connection without response'))"
    )


# -- reading what the adapter sent ----------------------------------------------------------------

_T = "{http://schemas.microsoft.com/exchange/services/2006/types}"


def sent_mime(body: str) -> list[bytes]:
    """The MIME messages of a CreateItem request."""
    root = ElementTree.fromstring(body)
    return [base64.b64decode(m.text or "") for m in root.iter(f"{_T}MimeContent")]


def item_changes(body: str) -> dict[str, dict[str, Any]]:
    """What an UpdateItem request sets, per item id: categories, flag, marker."""
    changes: dict[str, dict[str, Any]] = {}
    for change in ElementTree.fromstring(body).iter(f"{_T}ItemChange"):
        item_id = change.find(f"{_T}ItemId")
        fields: dict[str, Any] = {}
        for categories in change.iter(f"{_T}Categories"):
            fields["categories"] = [c.text for c in categories]
        for flag in change.iter(f"{_T}Flag"):
            fields["flag"] = tuple(
                flag.findtext(f"{_T}{name}") for name in ("FlagStatus", "StartDate", "DueDate")
            )
        for prop in change.iter(f"{_T}ExtendedProperty"):
            fields["marker"] = prop.findtext(f"{_T}Value")
        changes[item_id.get("Id", "") if item_id is not None else ""] = fields
    return changes


@contextmanager
def sessions_held(mailbox: EwsMailbox, count: int) -> Iterator[None]:
    """Sessions taken from the pool by other threads (the daemon's streaming listener)."""
    protocol = mailbox.account.protocol
    held = [protocol.get_session() for _ in range(count)]
    try:
        yield
    finally:
        for session in held:
            protocol.release_session(session)
