"""`topcontact-mail purge`: remove from the state what is past its retention (docs/retention.md).

Details about contacts go `retention.details_days` after a message was received
(the figures stay), whole rows once their month is more than
`retention.figures_months` months back. The daemon does this every night at
`retention.purge_time`; this command does it now, or with `--dry-run` only
counts what would go; with `[[mailboxes]]` every mailbox's own state, or the
one `--mailbox` names. Exit status: 0 done (or counted), 2 configuration or
state unusable (also: the mailbox's lease is held by a running instance, whose
nightly purge does the work).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from topcontact_mail.adapters.sqlite_store import SqliteStore, StoreError
from topcontact_mail.config import Settings
from topcontact_mail.entrypoints import wiring
from topcontact_mail.entrypoints.common import (
    Problem,
    config_option,
    every_mailbox,
    exit_with,
    fail,
    mailbox_key,
    mailbox_option,
    settings_or_exit,
)
from topcontact_mail.entrypoints.state import moment, no_state_file
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


def open_for_purge(settings: Settings, *, dry_run: bool) -> SqliteStore | PostgresStore | Problem:
    """The mailbox's state to purge: its SQLite file (it must exist), or its rows in the shared
    database, under the mailbox's lease for a real purge (every write fenced by it)."""
    try:
        if settings.service.store == "postgresql":
            from topcontact_mail.entrypoints.shared_store import (
                open_leased_store,
                open_unleased_store,
            )

            return open_unleased_store(settings) if dry_run else open_leased_store(settings)
        if not wiring.state_file(settings).exists():
            return no_state_file(settings)
        return SqliteStore(wiring.state_file(settings))
    except StoreError as exc:
        return Problem(str(exc))


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
@mailbox_option("every")
@click.option("--dry-run", is_flag=True, help="Only count what would go; change nothing.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object (stable keys).")
@click.option(
    "--as-of",
    default=None,
    metavar="ISO",
    help="With --dry-run: count as at this moment (default: now; local time).",
)
def purge(
    config_path: Path | None, only: str | None, dry_run: bool, as_json: bool, as_of: str | None
) -> None:
    """Remove from the state what is past its retention: details about contacts after
    retention.details_days (the report's figures stay), whole months after
    retention.figures_months. Open work is never touched. The daemon does this every night.

    With [[mailboxes]]: every mailbox's own state, each under its address (--json: one
    object keyed by the address), unless --mailbox names the one whose state to purge.

    Exit status 0 when done (or counted), 2 for an invalid configuration or a state that
    cannot be used (the other mailboxes are still purged).

    \b
    Examples:
      topcontact-mail purge --dry-run --config /etc/topcontact-mail/topcontact.toml
      topcontact-mail purge --json | jq .kinds.messages
      topcontact-mail purge --mailbox verhuur@example.nl --dry-run
    """
    settings = settings_or_exit(config_path)
    configure_logging("warning")  # the result is printed; the log line would only repeat it
    if as_of is not None and not dry_run:
        fail("--as-of only goes with --dry-run: a purge removes what is past its time now")
    chosen = every_mailbox(settings, only)
    statuses: list[int] = []
    found: dict[str, dict[str, Any] | Problem] = {}
    for one in chosen.mailboxes:
        result = purge_mailbox(one, dry_run=dry_run, as_of=as_of)
        if isinstance(result, Problem):
            found[mailbox_key(one)] = result
            if not as_json:
                chosen.heading(one)
            statuses.append(chosen.problem(one, result))
            continue
        found[mailbox_key(one)] = result_dict(result)
        if not as_json:
            chosen.heading(one)
            click.echo(describe(result, one))
    if as_json:
        chosen.echo_json(found)
    exit_with(statuses)


def purge_mailbox(settings: Settings, *, dry_run: bool, as_of: str | None) -> PurgeResult | Problem:
    """Purge (or count) one mailbox's state; `settings` is the mailbox's own."""
    calendar = settings.calendar.build()
    now = moment(as_of, calendar)
    store = open_for_purge(settings, dry_run=dry_run)
    if isinstance(store, Problem):
        return store
    try:
        service = RetentionService(
            store, settings.retention.policy(), _FixedClock(now), calendar.tz
        )
        return service.purge(dry_run=dry_run)
    finally:
        store.close()
