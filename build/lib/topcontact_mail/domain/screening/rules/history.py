"""Rules `already_handled` and `duplicate_message`: what the service did before decides first.

A message that carries the service's marker was handled by an earlier run (the
marker travels with the message when staff move it); a message whose
Message-ID was recorded before is a copy of one already decided. Both come
before every other rule, so `explain` and the daemon agree on them.
"""

from __future__ import annotations

from topcontact_mail.domain.message import IncomingMessage
from topcontact_mail.domain.screening.evidence import shown
from topcontact_mail.domain.screening.model import ScreeningHistory, ScreeningPolicy


def already_handled(
    message: IncomingMessage, policy: ScreeningPolicy, history: ScreeningHistory
) -> str | None:
    if history.marker is not None:
        return f"the message carries the service's marker: {shown(history.marker)}"
    return None


def duplicate_message(
    message: IncomingMessage, policy: ScreeningPolicy, history: ScreeningHistory
) -> str | None:
    if history.earlier_reason is not None:
        return f"a message with the same Message-ID was recorded earlier ({history.earlier_reason})"
    return None
