"""Schema checks of EWS requests in the sandbox (a test double), made before an operation runs.

Exchange validates requests against its schema and rejects an invalid one as a whole with
ErrorSchemaValidation; the sandbox checks what its clients could get wrong unnoticed.
"""

from __future__ import annotations

from exchange_sandbox.ews.xml import TNS, Element, t

SCHEMA_FOLDER_NAMES = frozenset(
    [
        "calendar",
        "contacts",
        "deleteditems",
        "drafts",
        "inbox",
        "journal",
        "notes",
        "outbox",
        "sentitems",
        "tasks",
        "msgfolderroot",
        "publicfoldersroot",
        "root",
        "junkemail",
        "searchfolders",
        "voicemail",
        "recoverableitemsroot",
        "recoverableitemsdeletions",
        "recoverableitemsversions",
        "recoverableitemspurges",
        "recoverableitemsdiscoveryholds",
        "archiveroot",
        "archivemsgfolderroot",
        "archivedeleteditems",
        "archiveinbox",
        "archiverecoverableitemsroot",
        "archiverecoverableitemsdeletions",
        "archiverecoverableitemsversions",
        "archiverecoverableitemspurges",
        "archiverecoverableitemsdiscoveryholds",
        "syncissues",
        "conflicts",
        "localfailures",
        "serverfailures",
        "recipientcache",
        "quickcontacts",
        "conversationhistory",
        "adminauditlogs",
        "todosearch",
        "mycontacts",
        "directory",
        "imcontactlist",
        "peopleconnect",
        "favorites",
        "mecontact",
        "personmetadata",
        "teamspaceactivity",
        "teamspacemessaging",
        "teamspaceworkitems",
        "scheduled",
        "orionnotes",
        "tagitems",
        "alltaggeditems",
        "allcategorizeditems",
        "externalcontacts",
        "teamchat",
        "teamchathistory",
        "yammerdata",
        "yammerroot",
        "yammerinbound",
        "yammeroutbound",
        "yammerfeeds",
        "kaizaladata",
        "messageingestion",
        "onedriveroot",
        "onedriverecylebin",
        "onedrivesystem",
        "onedrivevolume",
        "important",
        "starred",
        "archive",
    ]
)
"""The schema's DistinguishedFolderIdNameType (types.xsd): any other DistinguishedFolderId Id
fails schema validation; names in it that the sandbox does not model are ErrorFolderNotFound."""


def schema_violation(op: Element, request: bytes) -> tuple[str, int, int] | None:
    """The first DistinguishedFolderId whose Id is no name of the schema, as (violation, line,
    position): Exchange rejects such a request as a whole, before running it."""
    for el in op.iter(t("DistinguishedFolderId")):
        name = el.get("Id", "")
        if name in SCHEMA_FOLDER_NAMES:
            continue
        source_line = el.sourceline
        line = source_line if isinstance(source_line, int) else 0
        lines = request.splitlines()
        text = lines[line - 1] if 0 < line <= len(lines) else b""
        found = text.find(f'Id="{name}"'.encode())
        if found < 0:
            found = text.find(f"Id='{name}'".encode())
        violation = (
            f"The 'Id' attribute is invalid - The value '{name}' is invalid according to its "
            f"datatype '{TNS}:DistinguishedFolderIdNameType' - The Enumeration constraint failed."
        )
        return violation, line, found + 1 if found >= 0 else 0
    return None
