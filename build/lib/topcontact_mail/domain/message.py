"""Value types for mail: what the service knows of an incoming message and what it sends back.

Backends (EWS, Graph, a raw .eml file) translate their own representation into
`IncomingMessage`; the screening and the acknowledgement builder only ever see
these values.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

#: The header the service stamps on everything it sends, so it can recognise its own mail.
MARKER_HEADER = "X-TopContact-Mail"


@dataclass(frozen=True)
class Address:
    """A mail address with its display name; `email` is kept as given, compare with `key`."""

    email: str
    name: str = ""

    @property
    def key(self) -> str:
        return self.email.strip().lower()

    @property
    def domain(self) -> str:
        return self.key.rpartition("@")[2]

    @property
    def local_part(self) -> str:
        return self.key.rpartition("@")[0]


@dataclass(frozen=True)
class IncomingMessage:
    """Everything the screening and the texts may look at of one received message.

    `headers` keeps the internet headers in order, names as sent, values decoded
    to text. `return_path` is None when the header is absent and "" for the null
    path `<>`. `text_sample` is a short excerpt of the body used only to guess the
    language; it is never logged, quoted or stored.
    """

    subject: str = ""
    sender: Address | None = None
    recipients: tuple[Address, ...] = ()
    headers: tuple[tuple[str, str], ...] = ()
    message_id: str | None = None
    return_path: str | None = None
    item_class: str | None = None
    content_type: str | None = None
    spam_confidence: int | None = None
    conversation_id: str | None = None
    received: datetime | None = None
    text_sample: str = ""
    #: The backend's own id of the item (EWS item id, Graph immutable id); None for a file.
    item_id: str | None = None
    #: Content types of the MIME parts below the top level, lower-case, not descending into
    #: attached messages; text/calendar parts carry their iTIP method ("text/calendar; method=request").
    part_types: tuple[str, ...] = ()

    def header(self, name: str) -> str | None:
        """The first value of header `name` (case-insensitive), or None."""
        wanted = name.lower()
        for key, value in self.headers:
            if key.lower() == wanted:
                return value
        return None

    def header_values(self, name: str) -> list[str]:
        wanted = name.lower()
        return [value for key, value in self.headers if key.lower() == wanted]

    def has_header(self, name: str) -> bool:
        return self.header(name) is not None


@dataclass(frozen=True)
class Acknowledgement:
    """The reply the service intends to send; backends deliver it as faithfully as they can.

    `headers` are the extra headers the service wants on the message (loop
    protection and its own marker); threading travels in `in_reply_to` and
    `references`.
    """

    recipient: Address
    subject: str
    text_body: str
    html_body: str
    language: str
    in_reply_to: str | None = None
    references: tuple[str, ...] = ()
    headers: tuple[tuple[str, str], ...] = field(default=())
