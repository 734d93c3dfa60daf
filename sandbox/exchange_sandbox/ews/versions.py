"""EWS schema versions in the sandbox (a test double): RequestServerVersion, and what each version has.

Exchange answers a request in the schema version the ``RequestServerVersion`` header asks for
(a request without it is an Exchange 2007 request): properties introduced later are left out
of its answers, and a request that names one is refused with ErrorIncorrectSchemaVersion.
A version string the server does not know is refused before the request is read.
"""

from __future__ import annotations

from exchange_sandbox.ews.faults import EwsFault
from exchange_sandbox.ews.xml import TNS, Element

VERSIONS = (
    "Exchange2007",
    "Exchange2007_SP1",
    "Exchange2009",
    "Exchange2010",
    "Exchange2010_SP1",
    "Exchange2010_SP2",
    "Exchange2012",
    "Exchange2013",
    "Exchange2013_SP1",
    "Exchange2015",
    "Exchange2016",
    "V2015_10_05",
    "V2016_01_06",
    "V2016_04_13",
    "V2016_07_13",
    "V2016_10_10",
    "V2017_01_07",
    "V2017_04_14",
    "V2017_07_11",
    "V2017_10_09",
    "V2018_01_08",
)
"""ExchangeVersionType of the schema (types.xsd), oldest first."""

DEFAULT_VERSION = "Exchange2007"
"""The version of a request without RequestServerVersion ("Versioning Requests", EWS 2007 SP1)."""

_RANK = {name: n for n, name in enumerate(VERSIONS)}

SINCE: dict[str, str] = {
    # Element (and FieldURI) names the sandbox models, by the version that introduced them
    # (types.xsd history; exchangelib's supported_from says the same for its fields).
    "IsAssociated": "Exchange2010",
    "ConversationId": "Exchange2010",
    "UniqueBody": "Exchange2010",
    "StartTimeZone": "Exchange2010",
    "EndTimeZone": "Exchange2010",
    "MailboxType": "Exchange2010",
    "Flag": "Exchange2013",
    "TextBody": "Exchange2013",
    "IsOrganizer": "Exchange2013",
}


def server_schema_version(build: tuple[int, int, int, int]) -> str:
    """The schema version a server of this build reports in ServerVersionInfo and accepts up to."""
    major, minor = build[0], build[1]
    if (major, minor) >= (15, 2):
        return "V2018_01_08"
    if (major, minor) == (15, 1):
        return "V2017_07_11"
    if major == 15:
        return "Exchange2013_SP1"
    return "Exchange2010_SP2"


def request_version(header: Element | None, build: tuple[int, int, int, int]) -> str:
    """The version a request asks for; an unknown one is refused as Exchange refuses it."""
    el = header.find(f"{{{TNS}}}RequestServerVersion") if header is not None else None
    if el is None:
        return DEFAULT_VERSION
    version = el.get("Version", "")
    if version not in _RANK:
        # Exchange 2019 answers an unknown version string (e.g. "Exchange2019") so, before it
        # validates the request (ecederstrand/exchangelib#927).
        raise EwsFault("ErrorInvalidRequest", "The request is invalid.")
    if _RANK[version] > _RANK[server_schema_version(build)]:
        raise EwsFault("ErrorInvalidServerVersion", "The specified server version is invalid.")
    return version


def at_least(version: str, since: str) -> bool:
    return _RANK.get(version, 0) >= _RANK[since]


def has(version: str, name: str) -> bool:
    """Whether the element or property ``name`` exists in schema version ``version``."""
    since = SINCE.get(name)
    return since is None or at_least(version, since)


OPERATION_SINCE = {"ConvertId": "Exchange2007_SP1", "GetServerTimeZones": "Exchange2010"}
"""Operations later than Exchange 2007 (ConvertId needs "Exchange2007_SP1 or later")."""


def check_request(op: Element, version: str) -> None:
    """ErrorIncorrectSchemaVersion when the request uses what its version does not have."""
    if at_least(version, "Exchange2013"):
        return  # every element and operation the sandbox dates is in Exchange 2013 already
    since = OPERATION_SINCE.get(_local(op))
    if since is not None and not at_least(version, since):
        raise _incorrect_version()
    for el in op.iter(f"{{{TNS}}}*"):
        uri = el.get("FieldURI")
        if not has(version, _local(el)) or (uri and not has(version, uri.split(":", 1)[-1])):
            raise _incorrect_version()


def _local(el: Element) -> str:
    return el.tag.split("}", 1)[-1] if isinstance(el.tag, str) else ""


def _incorrect_version() -> EwsFault:
    return EwsFault(
        "ErrorIncorrectSchemaVersion",
        "The request is valid but does not specify the correct server version in the "
        "RequestServerVersion SOAP header.  Ensure that the RequestServerVersion SOAP "
        "header is set with the correct RequestServerVersionValue.",
    )
