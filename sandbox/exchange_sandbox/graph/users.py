"""Users and mailbox settings in the sandbox Graph endpoint (a test double): names and working hours.

- ``GET /users``: the mailbox users of the address book (the ``[[directory]]`` contacts are
  organisational contacts, ``/contacts`` in Graph, and not listed), with ``$select``,
  ``$top``, ``$filter`` (``startswith(p,'x')`` and ``p eq 'x'`` on displayName, givenName,
  surname, mail, userPrincipalName, mailNickname, joined by ``and``/``or``) and ``$search``
  (``"property:text"`` on those, word prefixes of displayName, ``AND``/``OR``), which for
  directory objects needs ``ConsistencyLevel: eventual`` (400 ``Request_UnsupportedQuery``,
  "Use the advanced query capabilities"), as does ``$count``.
- ``GET /users/{id}``: one user, by address or object id; ``$select=mailboxSettings`` adds its
  mailbox settings.
- ``GET /users/{id}/mailboxSettings`` (and ``/workingHours``, ``/timeZone``): the settings with
  the mailbox's working hours in their own time zone (``Prefer: outlook.timezone`` does not
  convert them: they carry their zone), ``userPurpose`` ``shared`` for a mailbox no user owns.

Directory reads need User.Read.All, User.ReadBasic.All or Directory.Read.All; the application
access policy does not limit them (it scopes Exchange data), but it does limit mailboxSettings
(MailboxSettings.Read). An unsupported filter is 400 ``Request_UnsupportedQuery``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from exchange_sandbox.directory import Person
from exchange_sandbox.graph.errors import GraphError, Response, bad_request, not_found
from exchange_sandbox.graph.ids import user_object_id
from exchange_sandbox.graph.odata import next_link, top_skip
from exchange_sandbox.graph.request import Request, json_response
from exchange_sandbox.graph.schedule import working_hours_json

if TYPE_CHECKING:
    from exchange_sandbox.graph.app import GraphApp

#: Graph's default properties of a user (``GET /users`` without ``$select``).
DEFAULT = (
    "businessPhones", "displayName", "givenName", "jobTitle", "mail", "mobilePhone",
    "officeLocation", "preferredLanguage", "surname", "userPrincipalName", "id",
)  # fmt: skip
#: Properties of the v1.0 user type the sandbox knows (others are not on the type: 400).
KNOWN = {
    *DEFAULT, "accountEnabled", "mailNickname", "proxyAddresses", "userType", "department",
    "companyName", "mailboxSettings", "otherMails", "imAddresses", "showInAddressList",
}  # fmt: skip
_FILTERABLE = {
    "displayname": "displayName", "givenname": "givenName", "surname": "surname",
    "mail": "mail", "userprincipalname": "userPrincipalName", "mailnickname": "mailNickname",
}  # fmt: skip
_CLAUSE = re.compile(
    r"^\s*(?:startswith\(\s*(\w+)\s*,\s*'((?:[^']|'')*)'\s*\)|(\w+)\s+eq\s+'((?:[^']|'')*)')\s*$",
    re.IGNORECASE,
)


def _unsupported() -> GraphError:
    return GraphError(400, "Request_UnsupportedQuery", "Unsupported Query.")


def user_json(app: GraphApp, person: Person, select: list[str] | None) -> dict[str, Any]:
    full: dict[str, Any] = {
        "businessPhones": [person.phone] if person.phone else [],
        "displayName": person.name,
        "givenName": person.given_name or None,
        "jobTitle": person.job_title or None,
        "mail": person.email,
        "mobilePhone": None,
        "officeLocation": None,
        "preferredLanguage": "nl-NL",
        "surname": person.surname or None,
        "userPrincipalName": person.email,
        "id": user_object_id(person.email),
        "accountEnabled": True,
        "mailNickname": person.nickname,
        "proxyAddresses": [f"SMTP:{person.email}"],
        "userType": "Member",
        "department": person.department or None,
    }
    names = select or list(DEFAULT)
    out = {name: full.get(name) for name in names if name != "mailboxSettings"}
    out["id"] = full["id"]
    if "mailboxSettings" in names:
        out["mailboxSettings"] = settings_json(app, person.email)
    return out


def settings_json(app: GraphApp, address: str) -> dict[str, Any]:
    hours = app.hours_of(address)
    return {
        "archiveFolder": app.folder_id(address, "msgfolderroot"),
        "timeZone": hours.time_zone,
        "automaticRepliesSetting": {
            "status": "disabled",
            "externalAudience": "all",
            "scheduledStartDateTime": {
                "dateTime": "0001-01-01T00:00:00.0000000",
                "timeZone": "UTC",
            },
            "scheduledEndDateTime": {"dateTime": "0001-01-01T00:00:00.0000000", "timeZone": "UTC"},
            "internalReplyMessage": "",
            "externalReplyMessage": "",
        },
        "language": {"locale": "nl-NL", "displayName": "Nederlands (Nederland)"},
        "dateFormat": "d-M-yyyy",
        "timeFormat": "HH:mm",
        "delegateMeetingMessageDeliveryOptions": "sendToDelegateOnly",
        "userPurpose": "shared" if app.is_shared(address) else "user",
        "workingHours": working_hours_json(hours),
    }


def _select(req: Request) -> list[str] | None:
    text = req.query.get("select")
    if not text:
        return None
    by_lower = {k.lower(): k for k in KNOWN}
    names = []
    for raw in (s.strip() for s in text.split(",") if s.strip()):
        if raw.lower() not in by_lower:
            raise GraphError(
                400,
                "Request_BadRequest",
                f"Could not find a property named '{raw}' on type 'microsoft.graph.user'.",
            )
        names.append(by_lower[raw.lower()])
    return names


def _value(person: Person, prop: str) -> str:
    return {
        "displayname": person.name,
        "givenname": person.given_name,
        "surname": person.surname,
        "mail": person.email,
        "userprincipalname": person.email,
        "mailnickname": person.nickname,
    }[prop]


def _filter(text: str) -> Callable[[Person], bool]:
    """A user $filter of ``startswith``/``eq`` clauses joined by ``or`` (of ``and`` groups)."""
    groups = []
    for alternative in re.split(r"\s+or\s+", text.strip(), flags=re.IGNORECASE):
        tests = []
        for clause in re.split(r"\s+and\s+", alternative, flags=re.IGNORECASE):
            clause = clause.strip()
            if clause.startswith("(") and clause.endswith(")"):
                clause = clause[1:-1]  # one clause in parentheses
            match = _CLAUSE.match(clause)
            if match is None:
                raise _unsupported()
            prop = (match.group(1) or match.group(3)).lower()
            if prop not in _FILTERABLE:
                raise _unsupported()
            literal = (match.group(2) if match.group(1) else match.group(4)).replace("''", "'")
            prefix = match.group(1) is not None
            tests.append((prop, literal.lower(), prefix))
        groups.append(tests)

    def test(person: Person) -> bool:
        return any(
            all(
                _value(person, prop).lower().startswith(lit)
                if prefix
                else _value(person, prop).lower() == lit
                for prop, lit, prefix in group
            )
            for group in groups
        )

    return test


def _search(text: str) -> Callable[[Person], bool]:
    """A directory $search: ``"prop:text"`` terms joined by OR/AND (AND binds tighter)."""
    groups = []
    for alternative in re.split(r"\s+OR\s+", text.strip()):
        terms = []
        for term in re.split(r"\s+AND\s+", alternative):
            term = term.strip()
            if len(term) < 2 or not term.startswith('"') or not term.endswith('"'):
                raise bad_request(f"Invalid $search value '{text}'.", "Request_UnsupportedQuery")
            prop, sep, value = term[1:-1].partition(":")
            if not sep or prop.lower() not in _FILTERABLE:
                raise _unsupported()
            terms.append((prop.lower(), value.strip().lower()))
        groups.append(terms)

    def matches(person: Person, prop: str, value: str) -> bool:
        have = _value(person, prop).lower()
        if prop in ("displayname", "givenname", "surname"):
            words = re.split(r"[\s.\-_]+", have)
            return all(any(w.startswith(v) for w in words) for v in value.split())
        return have.startswith(value)

    return lambda person: any(all(matches(person, p, v) for p, v in g) for g in groups)


def list_users(app: GraphApp, req: Request, m: re.Match[str], mailbox: str) -> Response:
    eventual = req.headers.get("consistencylevel", "").lower() == "eventual"
    people = [p for p in app.people() if p.kind == "Mailbox"]
    if "search" in req.query:
        if not eventual:
            raise GraphError(
                400,
                "Request_UnsupportedQuery",
                "Request with $search query parameter only works through MSGraph with a "
                "special request header: 'ConsistencyLevel: eventual'",
            )
        people = [p for p in people if _search(req.query["search"])(p)]
    if "filter" in req.query:
        people = [p for p in people if _filter(req.query["filter"])(p)]
    if "count" in req.query and not eventual:
        raise GraphError(
            400,
            "Request_BadRequest",
            "$count is not currently supported.",
        )
    people.sort(key=lambda p: p.name.lower())
    select = _select(req)
    if select and "mailboxSettings" in select:
        raise bad_request(
            "Property 'mailboxSettings' can only be selected on a single user.",
            "Request_BadRequest",
        )
    top, skip = top_skip(req, 100)
    body: dict[str, Any] = {
        "@odata.context": f"{req.base}/v1.0/$metadata#users",
        "value": [user_json(app, p, select) for p in people[skip : skip + top]],
    }
    if "count" in req.query:
        body["@odata.count"] = len(people)
    if skip + top < len(people):
        body["@odata.nextLink"] = next_link(req, {"$skip": str(skip + top)})
    return json_response(200, body)


def _person(app: GraphApp, mailbox: str) -> Person:
    for person in app.people():
        if person.email == mailbox.lower():
            return person
    raise not_found()


def get_user(app: GraphApp, req: Request, m: re.Match[str], mailbox: str) -> Response:
    select = _select(req)
    if select and "mailboxSettings" in select:
        app.require(req, ("MailboxSettings.Read", "MailboxSettings.ReadWrite"), mailbox)
    body = user_json(app, _person(app, mailbox), select)
    body = {"@odata.context": f"{req.base}/v1.0/$metadata#users/$entity", **body}
    return json_response(200, body)


def mailbox_settings(app: GraphApp, req: Request, m: re.Match[str], mailbox: str) -> Response:
    settings = settings_json(app, mailbox)
    part = (m.groupdict().get("setting") or "").lower()
    context = f"{req.base}/v1.0/$metadata#users('{quote(mailbox)}')/mailboxSettings"
    if not part:
        return json_response(200, {"@odata.context": context, **settings})
    by_lower = {k.lower(): k for k in settings}
    if part not in by_lower:
        raise bad_request(
            f"Resource not found for the segment '{m.group('setting')}'.", "BadRequest"
        )
    name = by_lower[part]
    value = settings[name]
    if isinstance(value, dict):
        return json_response(200, {"@odata.context": f"{context}/{name}", **value})
    return json_response(200, {"@odata.context": f"{context}/{name}", "value": value})
