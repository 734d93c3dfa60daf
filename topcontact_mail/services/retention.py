"""The retention purge (AVG / GDPR): details about contacts and old figures removed on time.

`RetentionService.purge` works out the cutoffs of the moment (`domain/retention.py`)
and asks the store to remove what is past them (`StateStore.purge`); the daemon
runs it every night, `topcontact-mail purge` on demand (docs/retention.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo

from topcontact_mail.domain.retention import Cutoffs, PurgeCounts, RetentionPolicy
from topcontact_mail.logs import get_logger
from topcontact_mail.ports import Clock, StateStore


@dataclass(frozen=True)
class PurgeResult:
    cutoffs: Cutoffs
    counts: PurgeCounts
    dry_run: bool


class RetentionService:
    """Purges the store by the retention policy, as seen at the clock's now."""

    def __init__(
        self, store: StateStore, policy: RetentionPolicy, clock: Clock, zone: ZoneInfo
    ) -> None:
        self.store = store
        self.policy = policy
        self.clock = clock
        self.zone = zone
        self.log = get_logger("retention")

    def cutoffs(self) -> Cutoffs:
        return self.policy.cutoffs(self.clock.now(), self.zone)

    def purge(self, *, dry_run: bool = False) -> PurgeResult:
        cutoffs = self.cutoffs()
        counts = self.store.purge(cutoffs, dry_run=dry_run)
        self.log.info(
            "retention purge" if not dry_run else "retention purge (dry run)",
            details_before=cutoffs.details_before.isoformat(),
            figures_before=cutoffs.figures_before.isoformat(),
            space_reclaimed=counts.space_reclaimed,
            **{
                f"{kind}_{what}": n
                for kind, per in counts.by_kind().items()
                for what, n in per.items()
                if n
            },
        )
        return PurgeResult(cutoffs, counts, dry_run)
