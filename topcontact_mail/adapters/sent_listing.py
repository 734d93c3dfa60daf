"""Sent Items as both observers read them: one listing since the oldest watched message,
kept for the later batches of a tracking pass (not an adapter itself, like `retry`).

A pass observes its targets oldest first, so a later batch needs no older mail: listing
Sent Items per batch made a 2,000-message backlog ten times slower, and a request per
tracked conversation cost as many requests as there are open targets. What is sent
meanwhile is seen by the next pass.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from datetime import datetime

from topcontact_mail.domain.tracking.model import SentMessage

#: One listing of Sent Items serves the later batches of a tracking pass for this long.
SENT_REUSE_SECONDS = 30.0

#: Lists every message sent at or after a moment, by conversation id.
Lister = Callable[[datetime], dict[str, list[SentMessage]]]


class SentListing:
    """What the mailbox sent, by conversation, from a listing made by `list_since`."""

    def __init__(self, list_since: Lister, clock: Callable[[], float] = time.monotonic) -> None:
        self._list_since = list_since
        self._clock = clock
        #: The last listing: since when, when (clock), by conversation.
        self._last: tuple[datetime, float, dict[str, list[SentMessage]]] | None = None

    def sent_in(
        self, conversations: Iterable[str], since: datetime
    ) -> dict[str, list[SentMessage]]:
        """What was sent in these conversations at or after `since`."""
        wanted = set(conversations)
        if not wanted:
            return {}
        listing = self._listing(since)
        return {
            conversation: kept
            for conversation in wanted
            if (kept := [m for m in listing.get(conversation, ()) if m.sent_at >= since])
        }

    def _listing(self, since: datetime) -> dict[str, list[SentMessage]]:
        """A listing made moments ago from an earlier moment serves (`SENT_REUSE_SECONDS`)."""
        now = self._clock()
        if self._last is not None:
            listed_since, listed_at, listing = self._last
            if listed_since <= since and now - listed_at < SENT_REUSE_SECONDS:
                return listing
        listing = self._list_since(since)
        self._last = (since, now, listing)
        return listing
