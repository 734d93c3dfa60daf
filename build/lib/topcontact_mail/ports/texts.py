"""The tenant-facing texts, rendered from templates the administrator may edit."""

from __future__ import annotations

from typing import Protocol

from topcontact_mail.domain.calendar import ResponseTerms
from topcontact_mail.domain.message import IncomingMessage


class Texts(Protocol):
    """Renders the tenant-facing texts (subject, plain and HTML bodies) from templates."""

    def acknowledgement(
        self, message: IncomingMessage, terms: ResponseTerms, language: str
    ) -> tuple[str, str, str]:
        """(subject, text body, html body) of the acknowledgement of `message`."""
        ...
