"""`test-connection` over Microsoft Graph: proves each right the service needs, leaving nothing behind.

In order: an app-only token from msal (a refusal with its AADSTS code); the
shared inbox (the folder and a first delta page); the token's roles and a
draft created in the shared mailbox (never sent) with marker, flag and
category patched on it, then permanently deleted; for each colleague,
getSchedule and an event without attendees created and permanently deleted.

The token's `roles` claim is read only to name a missing permission: with RBAC
for Applications the roles are granted in Exchange Online and the token
carries none, so the requests themselves are the proof.
"""

from __future__ import annotations

import base64
import binascii
import json
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

from topcontact_mail.adapters.graph import fields
from topcontact_mail.adapters.graph.auth import (
    _HINTS,  # the adapter's own table of AADSTS remedies, so both say the same
    CredentialsRejected,
    MsalTokenSource,
    tls_verify,
)
from topcontact_mail.adapters.graph.client import AnswerLost, GraphClient, GraphResponse
from topcontact_mail.adapters.graph.mailbox import api_root
from topcontact_mail.config import GraphSettings, Settings
from topcontact_mail.ports import MailboxUnavailable
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

#: What the draft and the event are called while they exist (for seconds).
PROBE_SUBJECT = "topcontact-mail test-connection"
_SCOPE_FIX = (
    "Add {mailbox} to the group of the application access policy (New-ApplicationAccessPolicy "
    "-AccessRight RestrictAccess -PolicyScopeGroupId) or to the RBAC for Applications "
    "management scope (New-ManagementScope)"
)


def token_roles(token: str) -> list[str]:
    """The `roles` claim of an access token (JWT), unverified; [] when it cannot be read."""
    parts = token.split(".")
    if len(parts) != 3:
        return []
    try:
        payload = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except (ValueError, binascii.Error):
        return []
    roles = payload.get("roles") if isinstance(payload, dict) else None
    return [str(r) for r in roles] if isinstance(roles, list) else []


def _role_fix(role: str, mailbox: str, roles: list[str]) -> str:
    """The remedy for a 403: a permission the token lacks, else the mailbox scope."""
    if roles and role not in roles:
        return (
            f"Add {role} as an application permission and grant admin consent "
            f"(or assign 'Application {role}' with RBAC for Applications)"
        )
    return _SCOPE_FIX.format(mailbox=mailbox)


def _fix_for(answer: GraphResponse, role: str, mailbox: str, roles: list[str]) -> str:
    if answer.status == 404 and answer.error_code in ("ErrorInvalidUser", "ResourceNotFound"):
        return f"{mailbox} is not a mailbox in this tenant: check the address"
    if answer.status == 401:
        return "Graph refused the token: check tenant_id and that the app is in this tenant"
    if answer.status in (0, 429) or answer.status >= 500:
        return "Graph is unreachable or busy: check the network (proxy, firewall) and try again"
    return _role_fix(role, mailbox, roles)


def diagnose(settings: Settings) -> list[Check]:
    """Every check in order; those that depend on a failed one are reported as not run."""
    graph = settings.connection.graph
    calendars = [calendar_check(c) for c in settings.connection.colleague_mailboxes]
    rest = [READ_MAILBOX, SEND_AS, MARKING, *calendars]
    if graph is None:
        detail = "no [connection.graph] section in the configuration"
        fix = "Add a [connection.graph] section (see config/topcontact.example.toml)"
        return [missing(AUTHENTICATION, detail, fix), *not_run(rest, AUTHENTICATION)]
    tokens = MsalTokenSource(graph)
    client = GraphClient(
        api_root(graph.graph_url),
        tokens,
        verify=tls_verify(graph),
        timeout=graph.timeout_seconds,
        retry_wait=graph.retry_wait_seconds,
        mailbox=settings.connection.shared_mailbox,
    )
    try:
        auth, roles = _authentication(tokens, graph)
        if not auth.ok:
            return [auth, *not_run(rest, AUTHENTICATION)]
        return [auth, *_diagnose(settings, client, roles)]
    finally:
        client.session.close()


def _authentication(tokens: MsalTokenSource, graph: GraphSettings) -> tuple[Check, list[str]]:
    try:
        token = tokens.token()
    except CredentialsRejected as exc:
        fix = _HINTS.get(exc.code, "check the app registration's credentials in Entra ID")
        detail = f"Entra ID refused the credentials: AADSTS{exc.code} ({exc.error})"
        return missing(AUTHENTICATION, detail, fix[:1].upper() + fix[1:]), []
    except MailboxUnavailable as exc:
        fix = (
            "Check tenant_id and authority_url, and that this server reaches the sign-in "
            "service over HTTPS (proxy, firewall, ca_file)"
        )
        return missing(AUTHENTICATION, str(exc)[:300], fix), []
    roles = token_roles(token)
    kind = "certificate" if graph.certificate_path is not None else "client secret"
    shown = ", ".join(sorted(roles)) if roles else "none (RBAC for Applications?)"
    return passed(
        AUTHENTICATION, f"app {graph.client_id} signed in ({kind}); roles: {shown}"
    ), roles


def _diagnose(settings: Settings, client: GraphClient, roles: list[str]) -> list[Check]:
    shared = settings.connection.shared_mailbox
    checks = [_read(client, shared, roles)]
    if checks[0].ok:
        checks.extend(_draft_checks(client, shared, roles, settings.calendar.timezone))
    else:
        checks.extend(not_run([SEND_AS, MARKING], READ_MAILBOX))
    for colleague in settings.connection.colleague_mailboxes:
        checks.append(_calendar(client, colleague, roles))
    return checks


def _user(address: str) -> str:
    return f"/users/{quote(address, safe='@')}"


def _call(client: GraphClient, method: str, url: str, **kwargs: Any) -> GraphResponse:
    """One request; a lost answer or a lost token becomes a status-0 answer to report."""
    try:
        return client.request(method, url, **kwargs)
    except (AnswerLost, MailboxUnavailable) as exc:
        return GraphResponse(0, {}, {"error": {"code": type(exc).__name__, "message": str(exc)}})


def _read(client: GraphClient, shared: str, roles: list[str]) -> Check:
    user = _user(shared)
    folder = _call(
        client, "GET", f"{user}/mailFolders/inbox?$select=id,totalItemCount", may_repeat=True
    )
    if not folder.ok:
        return missing(
            READ_MAILBOX,
            f"inbox: {folder.describe()}",
            _fix_for(folder, "Mail.ReadWrite", shared, roles),
        )
    delta = _call(
        client,
        "GET",
        f"{user}/mailFolders/inbox/messages/delta?$select=id",
        headers={"Prefer": 'odata.maxpagesize=1, IdType="ImmutableId"'},
        may_repeat=True,
    )
    if not delta.ok:
        return missing(
            READ_MAILBOX,
            f"delta query: {delta.describe()}",
            _fix_for(delta, "Mail.ReadWrite", shared, roles),
        )
    count = folder.body.get("totalItemCount", "?") if isinstance(folder.body, dict) else "?"
    return passed(READ_MAILBOX, f"inbox of {shared} read ({count} items); delta query answered")


def _remove(client: GraphClient, url: str) -> str:
    """Delete for good (not to Deleted Items); '' when done, else why not."""
    answer = _call(client, "POST", f"{url}/permanentDelete", may_repeat=True)
    if answer.ok:
        return ""
    if answer.status not in (400, 404, 405, 501):
        return answer.describe()
    # No permanentDelete (some national clouds): delete, then delete from Deleted Items;
    # an immutable id still names the item there.
    for _ in range(2):
        answer = _call(client, "DELETE", url, may_repeat=True)
        if answer.status == 404:
            return ""
        if not answer.ok:
            return answer.describe()
    return ""


def _draft_checks(client: GraphClient, shared: str, roles: list[str], zone: str) -> list[Check]:
    """Send-as and marking on one draft in the shared mailbox, permanently deleted afterwards."""
    user = _user(shared)
    send_fix = _role_fix("Mail.Send", shared, roles)
    created = _call(
        client,
        "POST",
        f"{user}/messages",
        body={
            "subject": PROBE_SUBJECT,
            "body": {
                "contentType": "text",
                "content": "Created and deleted again by topcontact-mail test-connection; "
                "never sent.",
            },
            "from": {"emailAddress": {"address": shared}},
        },
        may_repeat=False,
    )
    draft_id = created.body.get("id") if isinstance(created.body, dict) else None
    if not created.ok or not isinstance(draft_id, str):
        fix = _fix_for(created, "Mail.ReadWrite", shared, roles)
        return [
            missing(SEND_AS, f"draft not created: {created.describe()}", fix),
            *not_run([MARKING], SEND_AS),
        ]
    url = f"{user}/messages/{quote(draft_id, safe='')}"
    try:
        marking = _mark(client, url, shared, roles, zone)
    finally:
        removed = _remove(client, url)
    lingering = (
        f"; the draft '{PROBE_SUBJECT}' could not be deleted ({removed}): delete it"
        if removed
        else ""
    )
    if roles and "Mail.Send" not in roles:
        send_as = missing(
            SEND_AS,
            f"draft created and deleted, but the token lacks Mail.Send{lingering}",
            send_fix,
        )
    elif lingering:
        send_as = missing(SEND_AS, f"draft created{lingering}", send_fix)
    else:
        how = "Mail.Send in the token" if roles else "Mail.Send shows with the first send"
        send_as = passed(SEND_AS, f"draft from {shared} created and deleted; {how}")
    return [send_as, marking]


def _mark(client: GraphClient, url: str, shared: str, roles: list[str], zone: str) -> Check:
    now = datetime.now(UTC)
    patch = fields.mark_patch(
        "test-connection",
        zone=zone,
        flag_start=now,
        flag_due=now + timedelta(days=1),
        categories=[PROBE_SUBJECT],
    )
    answer = _call(client, "PATCH", url, body=patch, may_repeat=True)
    if not answer.ok:
        return missing(
            MARKING, answer.describe(), _fix_for(answer, "Mail.ReadWrite", shared, roles)
        )
    return passed(MARKING, "marker property, follow-up flag and category set on the draft")


def _window(start: datetime, end: datetime) -> dict[str, Any]:
    return {
        "start": {"dateTime": start.strftime("%Y-%m-%dT%H:%M:%S"), "timeZone": "UTC"},
        "end": {"dateTime": end.strftime("%Y-%m-%dT%H:%M:%S"), "timeZone": "UTC"},
    }


def _calendar(client: GraphClient, colleague: str, roles: list[str]) -> Check:
    name = calendar_check(colleague)
    user = _user(colleague)
    # Yesterday, five minutes, shown as free, no reminder: nobody is disturbed if it is seen.
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(days=1)
    end = start + timedelta(minutes=5)
    window = _window(start, end)
    schedule = _call(
        client,
        "POST",
        f"{user}/calendar/getSchedule",
        body={
            "schedules": [colleague],
            "startTime": window["start"],
            "endTime": window["end"],
            "availabilityViewInterval": 5,
        },
        may_repeat=True,
    )
    if not schedule.ok:
        return missing(
            name,
            f"getSchedule: {schedule.describe()}",
            _fix_for(schedule, "Calendars.ReadWrite", colleague, roles),
        )
    entries = schedule.body.get("value") if isinstance(schedule.body, dict) else None
    first = entries[0] if isinstance(entries, list) and entries else {}
    if isinstance(first, dict) and isinstance(first.get("error"), dict):
        error = first["error"]
        detail = f"getSchedule: {error.get('responseCode', '')} {error.get('message', '')}"
        return missing(name, detail.strip(), f"check {colleague} in colleague_mailboxes")
    created = _call(
        client,
        "POST",
        f"{user}/calendar/events",
        body={
            "subject": PROBE_SUBJECT,
            **window,
            "showAs": "free",
            "isReminderOn": False,
            "attendees": [],
        },
        may_repeat=False,
    )
    event_id = created.body.get("id") if isinstance(created.body, dict) else None
    if not created.ok or not isinstance(event_id, str):
        return missing(
            name,
            f"getSchedule ok; event refused: {created.describe()}",
            _fix_for(created, "Calendars.ReadWrite", colleague, roles),
        )
    removed = _remove(client, f"{user}/events/{quote(event_id, safe='')}")
    if removed:
        return missing(
            name,
            f"event created but not deleted ({removed}): delete '{PROBE_SUBJECT}' of "
            f"{start:%Y-%m-%d %H:%M} UTC by hand",
            _role_fix("Calendars.ReadWrite", colleague, roles),
        )
    return passed(name, "getSchedule answered; event without attendees created and deleted")
