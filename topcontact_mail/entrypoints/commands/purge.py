"""`topcontact-mail purge`: remove from the state what is past its retention (docs/retention.md).

Details about contacts go `retention.details_days` after a message was received
(the figures stay), whole rows once their month is more than
`retention.figures_months` months back. The daemon does this every night at
`retention.purge_time`; this command does it now, or with `--dry-run` only
counts what would go. Exit status: 0 done (or counted), 2 configuration or
state unusable (also: the mailbox's lease is held by a running instance, whose
nightly purge does the work).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from topcontact_mail.adapters.sqlite_store import SqliteStore, StoreError
from topcontact_mail.config import Settings
from topcontact_mail.entrypoints import wiring
from topcontact_mail.entrypoints.common import config_option, fail, settings_or_exit
from topcontact_mail.entrypoints.state import moment
from topcontact_mail.logs import configure_logging
from topcontact_mail.services.retention import PurgeResult, RetentionService

if TYPE_CHECKING:
    from topcontact_mail.adapters.postgres import PostgresStore

SCHEMA = "topcontact-mail/purge/1"


class _FixedClock:
    def __init__(self, now: Any) -> None:
        self._now = now

    def now(self) -> Any:
        return self._now


def open_for_purge(settings: Settings, *, dry_run: bool) -> SqliteStore | PostgresStore:
    """The state to purge: the SQLite file (it must exist), or the mailbox's rows in the shared
    database, under the mailbox's lease for a real purge (every write fenced by it)."""
    try:
        if settings.service.store == "postgresql":
            from topcontact_mail.entrypoints.shared_store import (
                open_leased_store,
                open_unleased_store,
            )

            return open_unleased_store(settings) if dry_run else open_leased_store(settings)
        path = wiring.state_file(settings)
        if not path.exists():
            fail(
                f"{path}: no state file: the service has not run yet with this configuration "
                "(check service.state_dir)"
            )
        return SqliteStore(path)
    except StoreError as exc:
        fail(str(exc))


def result_dict(result: PurgeResult) -> dict[str, Any]:
    counts, cut = result.counts, result.cutoffs
    return {
        "schema": SCHEMA,
        "dry_run": result.dry_run,
        "as_of": cut.now.isoformat(),
        "details_before": cut.details_before.isoformat(),
        "figures_before": cut.figures_before.isoformat(),
        "first_month_kept": cut.first_month_kept,
        "kinds": counts.by_kind(),
        "total": counts.total,
        "space_reclaimed": counts.space_reclaimed,
    }


def describe(result: PurgeResult, settings: Settings) -> str:
    """A few lines for the administrator: the cutoffs and, per kind, what goes."""
    cut, retention = result.cutoffs, settings.retention
    verb = "would lose" if result.dry_run else "lost"
    lines = [
        f"Details about contacts are kept {retention.details_days} days (before "
        f"{cut.details_before:%Y-%m-%d %H:%M} they go), figures {retention.figures_months} "
        f"months (from {cut.first_month_kept} on).",
        f"{'kind':<10} {verb + ' details':>18} {'would go' if result.dry_run else 'deleted':>10}",
    ]
    for kind, per in result.counts.by_kind().items():
        lines.append(f"{kind:<10} {per['details']:>18} {per['deleted']:>10}")
    if result.dry_run:
        lines.append("Dry run: nothing was changed.")
    elif result.counts.space_reclaimed:
        lines.append(f"The state file gave back {result.counts.space_reclaimed // 1024} KiB.")
    return "\n".join(lines)


@click.command()
@config_option
@click.option("--dry-run", is_flag=True, help="Only count what would go; change nothing.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object (stable keys).")
@click.option(
    "--as-of",
    default=None,
    metavar="ISO",
    help="With --dry-run: count as at this moment (default: now; local time).",
)
def purge(config_path: Path | None, dry_run: bool, as_json: bool, as_of: str | None) -> None:
    """Remove from the state what is past its retention: details about contacts after
    retention.details_days (the report's figures stay), whole months after
    retention.figures_months. Open work is never touched. The daemon does this every night.

    Exit status 0 when done (or counted), 2 for an invalid configuration or a state that
    cannot be used.

    \b
    Example:
      topcontact-mail purge --dry-run --config /etc/topcontact-mail/topcontact.toml
      topcontact-mail purge --json | jq .kinds.messages
    """
    settings = settings_or_exit(config_path)
    configure_logging("warning")  # the result is printed; the log line would only repeat it
    if as_of is not None and not dry_run:
        fail("--as-of only goes with --dry-run: a purge removes what is past its time now")
    calendar = settings.calendar.build()
    now = moment(as_of, calendar)
    store = open_for_purge(settings, dry_run=dry_run)
    try:
        service = RetentionService(
            store, settings.retention.policy(), _FixedClock(now), calendar.tz
        )
        result = service.purge(dry_run=dry_run)
    finally:
        store.close()
    if as_json:
        click.echo(json.dumps(result_dict(result), ensure_ascii=False))
    else:
        click.echo(describe(result, settings))
