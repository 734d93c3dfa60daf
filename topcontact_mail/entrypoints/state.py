"""Reading the state store from a command (`status`, `report`): the file, the moment, the callbacks."""

from __future__ import annotations

from datetime import datetime

from topcontact_mail.adapters.sqlite_store import SqliteStore, StoreError
from topcontact_mail.config import Settings
from topcontact_mail.domain.calendar import BusinessCalendar
from topcontact_mail.entrypoints import wiring
from topcontact_mail.entrypoints.common import Problem, fail
from topcontact_mail.ports.calendar import ServiceStore


def state_or_problem(settings: Settings) -> ServiceStore | Problem:
    """The mailbox's state file, brought up to date if it can be written, else read as it is;
    or what is wrong (a missing file says what to check). `settings` is one mailbox's."""
    if settings.service.store == "postgresql":  # the shared database, read without a lease
        from topcontact_mail.entrypoints.shared_store import open_unleased_store

        try:
            return open_unleased_store(settings)
        except StoreError as exc:
            return Problem(str(exc))
    path = wiring.state_file(settings)
    if not path.exists():
        return no_state_file(settings)
    try:
        return SqliteStore(path)
    except StoreError as first:
        try:
            return SqliteStore.read_only(path)
        except StoreError:
            return Problem(str(first))


def no_state_file(settings: Settings) -> Problem:
    return Problem(
        f"{wiring.state_file(settings)}: no state file: the service has not run yet with this "
        "configuration (check service.state_dir)"
    )


def moment(text: str | None, calendar: BusinessCalendar) -> datetime:
    """`--as-of` (ISO 8601, local time without an offset), or now."""
    if not text:
        return calendar.local(datetime.now().astimezone())
    value = text.strip()
    if value.endswith(("z", "Z")):
        value = value[:-1] + "+00:00"
    try:
        return calendar.local(datetime.fromisoformat(value))
    except ValueError:
        fail(f"--as-of {text!r} is not an ISO 8601 moment (e.g. 2026-12-07T09:00)")
