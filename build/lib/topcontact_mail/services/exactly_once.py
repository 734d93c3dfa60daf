"""Exactly once: what to do with mail that is claimed and waits to be sent, one round at a time.

The protocol (docs/exactly-once.md) for anything the service sends on a
tenant's behalf:

1. **intent**: the decision and the ready-made mail are recorded locally, with
   a ref chosen in advance;
2. **claim**: the service's marker, naming the ref, is put on the message in the
   mailbox, so the mailbox itself says "this one is being answered" even if the
   local state is lost;
3. **act**: the attempt is recorded (durably) before the request leaves, so after
   a crash or a lost answer the outcome counts as *unknown*;
4. **verify**: a mail whose outcome is unknown is looked for in the mailbox by its
   ref (in any folder: Exchange submits asynchronously, so the copy may come
   late). Found: sent. Not found: it is sent again only once the in-doubt window
   has passed since the last attempt, so a slow server that is still working, or
   a copy still in transport, never causes a second mail.

This module holds steps 3 and 4 for any kind of mail (acknowledgements, the
team's mails); the caller supplies how to send a batch and how to look for refs.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Generic, Protocol, TypeVar

from topcontact_mail.logs import get_logger
from topcontact_mail.ports import MailboxUnavailable, Outcome, SendResult


class Pending(Protocol):
    """A mail waiting to be sent or confirmed (`PendingSend`, `PendingNotice`)."""

    @property
    def item_id(self) -> str:
        """The key its outcome is settled by."""
        ...

    @property
    def ref(self) -> str: ...

    @property
    def attempts(self) -> int: ...

    @property
    def last_attempt(self) -> datetime | None: ...


P = TypeVar("P", bound=Pending)

#: Default for how long an attempt whose outcome is unknown waits for its copy before a new try.
IN_DOUBT_SECONDS = 600.0


@dataclass
class RoundResult:
    """What one round settled, and what it leaves for later."""

    results: list[SendResult] = field(default_factory=list)
    sent: int = 0
    failed: int = 0
    #: Attempts whose outcome is unknown and whose window has not passed yet.
    waiting: int = 0
    found: int = 0

    @property
    def progress(self) -> bool:
        return self.sent + self.failed > 0


@dataclass(frozen=True)
class Round(Generic[P]):
    """One round of sending for a batch of pending mail: verify the unsure ones, send the rest."""

    #: Looks refs up in the mailbox; raises `MailboxUnavailable` when it cannot look now.
    find: Callable[[Collection[str], datetime], set[str]]
    #: Sends a batch; one `Outcome` per ref.
    act: Callable[[Sequence[P]], list[Outcome]]
    #: Records that attempts are starting (durably, before `act`).
    attempting: Callable[[Sequence[str], datetime], None]
    in_doubt: timedelta = timedelta(seconds=IN_DOUBT_SECONDS)
    max_attempts: int = 5
    kind: str = "acknowledgement"

    def verify(self, unsure: Sequence[P], now: datetime) -> tuple[RoundResult, list[P]]:
        """Look up attempts with an unknown outcome; returns what is settled and what may go again."""
        result = RoundResult()
        if not unsure:
            return result, []
        log = get_logger("exactly-once")
        since = min(p.last_attempt or now for p in unsure)
        try:
            found = self.find({p.ref for p in unsure}, since)
        except MailboxUnavailable as exc:
            # Never send an unsure one blind: it waits until the mailbox can be searched.
            log.warning(f"cannot look for sent {self.kind}s now; they wait", error=str(exc))
            result.waiting = len(unsure)
            return result, []
        again: list[P] = []
        for pending in unsure:
            if pending.ref in found:
                result.results.append(SendResult(pending.item_id, "sent"))
                result.sent += 1
                result.found += 1
                log.info(f"{self.kind} found in the mailbox: it was sent", item_id=pending.item_id)
            elif pending.last_attempt is None or now - pending.last_attempt >= self.in_doubt:
                log.warning(
                    f"{self.kind} not found after the in-doubt window: sending again",
                    item_id=pending.item_id,
                    attempts=pending.attempts,
                )
                again.append(pending)
            else:
                result.waiting += 1
        return result, again

    def send(self, batch: Sequence[P], now: datetime) -> RoundResult:
        """Send a batch whose previous attempts (if any) are known not to have gone out."""
        result = RoundResult()
        if not batch:
            return result
        log = get_logger("exactly-once")
        self.attempting([p.item_id for p in batch], now)
        by_ref = {p.ref: p for p in batch}
        for outcome in self.act(batch):
            pending = by_ref[outcome.key]
            if outcome.ok:
                result.results.append(SendResult(pending.item_id, "sent"))
                result.sent += 1
                log.info(f"{self.kind} sent", item_id=pending.item_id)
            elif outcome.transient and not outcome.clean:
                # It may have gone out: the next round looks for it before anything else.
                result.results.append(SendResult(pending.item_id, "retry", outcome.error))
                log.warning(
                    f"{self.kind} outcome unknown; it is looked for before any new try",
                    item_id=pending.item_id,
                    error=outcome.error,
                )
            elif outcome.transient or pending.attempts + 1 < self.max_attempts:
                # Refused, or certainly not started: nothing went out.
                result.results.append(
                    SendResult(pending.item_id, "retry", outcome.error, not_sent=True)
                )
                log.warning(
                    f"{self.kind} not sent, will try again",
                    item_id=pending.item_id,
                    error=outcome.error,
                )
            else:
                result.results.append(SendResult(pending.item_id, "failed", outcome.error))
                result.failed += 1
                log.error(
                    f"{self.kind} given up",
                    item_id=pending.item_id,
                    error=outcome.error,
                    attempts=pending.attempts + 1,
                )
        return result
