"""`test-connection` over EWS: proves each right the service needs, leaving nothing behind.

In order: an authenticated request that touches no mailbox; the shared inbox
(GetFolder and a first SyncFolderItems page); a draft saved in the shared
mailbox's Drafts (SaveOnly, never sent) with marker, flag and category set on
it, then hard-deleted; for each colleague, free/busy, a calendar view and an
appointment created without invitations and hard-deleted again. Requests run
without exchangelib's waiting retries, so a check answers in seconds.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from exchangelib import (
    DELEGATE,
    IMPERSONATION,
    Account,
    CalendarItem,
    EWSDateTime,
    EWSTimeZone,
    Mailbox,
    Message,
)
from exchangelib.errors import (
    ErrorAccessDenied,
    ErrorImpersonateUserDenied,
    ErrorMailRecipientNotFound,
    ErrorNonExistentMailbox,
    EWSError,
    UnauthorizedError,
)
from exchangelib.items import ID_ONLY, SEND_TO_NONE
from exchangelib.services import SyncFolderItems
from exchangelib.util import CONNECTION_ERRORS

from topcontact_mail.adapters.ews.account import build_account
from topcontact_mail.adapters.ews.fields import FollowupFlag
from topcontact_mail.config import EwsSettings, Settings
from topcontact_mail.ports.diagnostics import (
    AUTHENTICATION,
    MARKING,
    READ_MAILBOX,
    SEND_AS,
    Check,
    calendar_check,
    missing,
    not_run,
    passed,
)

#: What the draft and the appointment are called while they exist (for seconds).
PROBE_SUBJECT = "topcontact-mail test-connection"
_MISSING_MAILBOX = (ErrorNonExistentMailbox, ErrorMailRecipientNotFound)


def _error(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {text}"[:300] if text else type(exc).__name__


def _auth_fix(ews: EwsSettings) -> str:
    if ews.auth_type == "oauth":
        return "Check client_id, tenant_id and client_secret of the app registration in Entra ID"
    return (
        f"Check username and password of the service account ({ews.username or 'username'}), "
        f"that it is neither locked nor expired, and that auth_type '{ews.auth_type}' is enabled "
        "on the EWS virtual directory"
    )


def _unreachable_fix() -> str:
    return (
        "Check service_endpoint (https://…/EWS/Exchange.asmx), DNS, firewall and the server's "
        "TLS certificate"
    )


def diagnose(settings: Settings) -> list[Check]:
    """Every check in order; those that depend on a failed one are reported as not run."""
    ews = settings.connection.ews
    calendars = [calendar_check(c) for c in settings.connection.colleague_mailboxes]
    rest = [READ_MAILBOX, SEND_AS, MARKING, *calendars]
    if ews is None:
        detail = "no [connection.ews] section in the configuration"
        fix = "Add a [connection.ews] section (see config/topcontact.example.toml)"
        return [missing(AUTHENTICATION, detail, fix), *not_run(rest, AUTHENTICATION)]
    try:
        account = _account(settings, ews)  # no request yet, unless autodiscover is on
    except (EWSError, *CONNECTION_ERRORS) as exc:
        fix = "Check the autodiscover DNS records or set service_endpoint instead"
        return [missing(AUTHENTICATION, _error(exc), fix), *not_run(rest, AUTHENTICATION)]
    try:
        return _diagnose(settings, ews, account)
    finally:
        account.protocol.close()


def _account(settings: Settings, ews: EwsSettings) -> Account:
    """The shared mailbox's account as the adapter builds it (exchangelib failing fast).

    Not `mailbox.connect`: that one already reads the inbox, and a diagnosis
    must tell a refused password from a refused mailbox; nor wait out a busy
    server for minutes.
    """
    return build_account(settings, ews)


def _diagnose(settings: Settings, ews: EwsSettings, account: Account) -> list[Check]:
    shared = settings.connection.shared_mailbox
    colleagues = settings.connection.colleague_mailboxes
    auth = _authentication(account, ews)
    if not auth.ok:
        calendars = [calendar_check(c) for c in colleagues]
        return [auth, *not_run([READ_MAILBOX, SEND_AS, MARKING, *calendars], AUTHENTICATION)]
    checks = [auth]
    read = _read(account, shared, ews)
    checks.append(read)
    if read.ok:
        checks.extend(_draft_checks(account, shared, ews))
    else:
        checks.extend(not_run([SEND_AS, MARKING], READ_MAILBOX))
    tz = EWSTimeZone(settings.calendar.timezone)
    for colleague in colleagues:
        checks.append(_calendar(account, colleague, ews, tz))
    return checks


def _authentication(account: Account, ews: EwsSettings) -> Check:
    try:
        # The server version is read from an authenticated ResolveNames: no mailbox involved.
        version = account.protocol.version
    except UnauthorizedError as exc:
        return missing(AUTHENTICATION, _error(exc), _auth_fix(ews))
    except Exception as exc:  # a diagnosis reports every failure, it never stops on one
        return missing(AUTHENTICATION, _error(exc), _unreachable_fix())
    who = ews.client_id if ews.auth_type == "oauth" else ews.username
    return passed(
        AUTHENTICATION, f"{who} signed in ({ews.auth_type}); server {version.fullname or ''}"
    )


def _access_fix(shared: str, ews: EwsSettings) -> str:
    if ews.access_type == "impersonation":
        return (
            f"Include {shared} in the service account's ApplicationImpersonation scope "
            "(New-ManagementScope / New-ManagementRoleAssignment -Role ApplicationImpersonation)"
        )
    return (
        f"Grant the service account Full Access on {shared} "
        f"(Add-MailboxPermission -Identity {shared} -User {ews.username or '<account>'} "
        "-AccessRights FullAccess -AutoMapping $false)"
    )


def _read(account: Account, shared: str, ews: EwsSettings) -> Check:
    try:
        count = account.inbox.total_count
        sync = SyncFolderItems(account=account)
        list(
            sync.call(
                folder=account.inbox,
                shape=ID_ONLY,
                additional_fields=set(),
                sync_state=None,
                ignore=None,
                max_changes_returned=1,
                sync_scope="NormalItems",
            )
        )
    except _MISSING_MAILBOX as exc:
        fix = f"shared_mailbox {shared} has no mailbox on this server: check the address"
        return missing(READ_MAILBOX, _error(exc), fix)
    except Exception as exc:  # a diagnosis reports every failure, it never stops on one
        return missing(READ_MAILBOX, _error(exc), _access_fix(shared, ews))
    return passed(READ_MAILBOX, f"inbox of {shared} read ({count} items); SyncFolderItems answered")


def _send_as_fix(shared: str, ews: EwsSettings) -> str:
    user = ews.username or "<account>"
    return (
        f"Grant the service account Full Access and Send As on {shared} "
        f"(Add-MailboxPermission -AccessRights FullAccess / "
        f"Add-ADPermission -User {user} -ExtendedRights 'Send As')"
    )


def _draft_checks(account: Account, shared: str, ews: EwsSettings) -> list[Check]:
    """Send-as and marking on one draft in the shared Drafts, which is hard-deleted afterwards."""
    draft = Message(
        account=account,
        folder=account.drafts,
        subject=PROBE_SUBJECT,
        body="Saved and deleted again by topcontact-mail test-connection; never sent.",
        author=Mailbox(email_address=shared),
    )
    try:
        draft.save()  # CreateItem with MessageDisposition SaveOnly: nothing is sent
    except Exception as exc:  # a diagnosis reports every failure, it never stops on one
        return [
            missing(SEND_AS, f"draft not saved: {_error(exc)}", _send_as_fix(shared, ews)),
            *not_run([MARKING], SEND_AS),
        ]
    send_as = passed(
        SEND_AS,
        f"draft from {shared} saved in its Drafts and deleted (SaveOnly; Send As itself "
        "shows with the first acknowledgement)",
    )
    try:
        marking = _mark(draft, shared, ews)
    finally:
        removed = _delete(draft.delete)
    if removed:
        lingering = f"; the draft '{PROBE_SUBJECT}' could not be deleted ({removed}): delete it"
        send_as = missing(SEND_AS, send_as.detail + lingering, _send_as_fix(shared, ews))
    return [send_as, marking]


def _mark(draft: Message, shared: str, ews: EwsSettings) -> Check:
    now = datetime.now().astimezone()
    draft.topcontact_marker = "test-connection"
    draft.followup_flag = FollowupFlag(
        flag_status="Flagged",
        start_date=EWSDateTime.from_datetime(now),
        due_date=EWSDateTime.from_datetime(now + timedelta(days=1)),
    )
    draft.categories = [PROBE_SUBJECT]
    try:
        draft.save(update_fields=["topcontact_marker", "followup_flag", "categories"])
    except Exception as exc:  # a diagnosis reports every failure, it never stops on one
        fix = (
            f"Grant the service account Full Access on {shared} (Add-MailboxPermission "
            "-AccessRights FullAccess); flags need Exchange 2013 or later"
        )
        return missing(MARKING, _error(exc), fix)
    return passed(MARKING, "marker property, follow-up flag and category set on the draft")


def _delete(delete: Callable[..., Any]) -> str:
    """Hard-delete (not to Deleted Items); '' when done, else why not."""
    try:
        delete()
    except Exception as exc:  # reported by the caller; the check itself goes on
        return _error(exc)
    return ""


def _calendar_fix(colleague: str, ews: EwsSettings) -> str:
    return (
        f"Scope ApplicationImpersonation to {colleague} (New-ManagementScope / "
        "New-ManagementRoleAssignment -Role ApplicationImpersonation) or grant the service "
        f"account Editor on the calendar (Add-MailboxFolderPermission {colleague}:\\Calendar "
        f"-User {ews.username or '<account>'} -AccessRights Editor; ':\\Agenda' if Dutch)"
    )


def _calendar(account: Account, colleague: str, ews: EwsSettings, tz: EWSTimeZone) -> Check:
    name = calendar_check(colleague)
    # Yesterday, five minutes, shown as free, no reminder: nobody is disturbed if it is seen.
    start = EWSDateTime.now(tz).replace(microsecond=0) - timedelta(days=1)
    end = start + timedelta(minutes=5)
    try:
        views = list(
            account.protocol.get_free_busy_info(
                accounts=[(colleague, "Required", False)], start=start, end=end
            )
        )
    except Exception as exc:  # a diagnosis reports every failure, it never stops on one
        views = [exc]
    if not views or isinstance(views[0], Exception):
        problem = views[0] if views else None
        detail = f"free/busy refused: {_error(problem) if problem else 'no answer'}"
        if isinstance(problem, _MISSING_MAILBOX):
            return missing(name, detail, f"{colleague} has no mailbox: check colleague_mailboxes")
        return missing(name, detail, _calendar_fix(colleague, ews))
    preferred = IMPERSONATION if ews.access_type == "impersonation" else DELEGATE
    refusals: list[str] = []
    for access in (preferred, DELEGATE if preferred == IMPERSONATION else IMPERSONATION):
        calendar_account = Account(
            primary_smtp_address=colleague, config=account.protocol.config, access_type=access
        )
        try:
            list(calendar_account.calendar.view(start=start, end=end).only("id"))
        except (ErrorAccessDenied, ErrorImpersonateUserDenied) as exc:
            refusals.append(f"{access}: {_error(exc)}")
            continue
        except _MISSING_MAILBOX as exc:
            return missing(
                name, _error(exc), f"{colleague} has no mailbox: check colleague_mailboxes"
            )
        except Exception as exc:  # a diagnosis reports every failure, it never stops on one
            refusals.append(f"{access}: {_error(exc)}")
            continue
        return _write_calendar(calendar_account, name, colleague, ews, access, start, end)
    return missing(
        name,
        "free/busy ok; calendar refused (" + "; ".join(refusals) + ")",
        _calendar_fix(colleague, ews),
    )


def _write_calendar(
    calendar_account: Account,
    name: str,
    colleague: str,
    ews: EwsSettings,
    access: str,
    start: EWSDateTime,
    end: EWSDateTime,
) -> Check:
    item = CalendarItem(
        account=calendar_account,
        folder=calendar_account.calendar,
        subject=PROBE_SUBJECT,
        start=start,
        end=end,
        legacy_free_busy_status="Free",
        reminder_is_set=False,
    )
    try:
        item.save(send_meeting_invitations=SEND_TO_NONE)
    except Exception as exc:  # a diagnosis reports every failure, it never stops on one
        return missing(
            name,
            f"calendar readable, appointment refused: {_error(exc)}",
            _calendar_fix(colleague, ews),
        )
    removed = _delete(lambda: item.delete(send_meeting_cancellations=SEND_TO_NONE))
    if removed:
        return missing(
            name,
            f"appointment created but not deleted ({removed}): delete '{PROBE_SUBJECT}' of "
            f"{start:%Y-%m-%d %H:%M} by hand",
            _calendar_fix(colleague, ews),
        )
    return passed(
        name, f"free/busy, calendar view, appointment created and deleted (via {access} access)"
    )
