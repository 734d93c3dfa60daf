"""The texts the service writes, rendered from templates the administrator may edit: the
tenant-facing acknowledgement, and the team's mails about the promise (escalation, overview)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from topcontact_mail.domain.calendar import ResponseTerms
from topcontact_mail.domain.message import IncomingMessage
from topcontact_mail.domain.tracking.model import TrackedTarget
from topcontact_mail.domain.tracking.overview import DailyOverview


class Texts(Protocol):
    """Renders the tenant-facing texts (subject, plain and HTML bodies) from templates."""

    def acknowledgement(
        self, message: IncomingMessage, terms: ResponseTerms, language: str
    ) -> tuple[str, str, str]:
        """(subject, text body, html body) of the acknowledgement of `message`."""
        ...


@dataclass(frozen=True)
class MessageDetails:
    """What the mailbox shows of a tracked message, read when a mail is written (never stored)."""

    subject: str = ""
    #: The tenant as the mailbox shows the sender: display name, else address.
    tenant: str = ""
    #: The colleague who has it flagged or assigned, if anyone.
    flagged_by: str = ""
    #: A link that opens the message (Outlook on the web), if the backend gives one.
    link: str = ""


class TeamMailTexts(Protocol):
    """Renders the team's mails about keeping the promise: (subject, plain text) each."""

    def escalation(
        self,
        targets: Sequence[TrackedTarget],
        details: Mapping[str, MessageDetails],
        now: datetime,
    ) -> tuple[str, str]:
        """To the team lead: these targets are overdue."""
        ...

    def overview(
        self,
        overview: DailyOverview,
        details: Mapping[str, MessageDetails],
        now: datetime,
        soon: Sequence[TrackedTarget] = (),
    ) -> tuple[str, str]:
        """To the team at opening time: the day's overview."""
        ...
