"""Strict mode: the sandbox refuses what Exchange refuses before running a request.

Exchange validates every request against its schema (ErrorSchemaValidation, a SOAP fault with
LineNumber, LinePosition and Violation) and reads RequestServerVersion first: an unknown
version string is ErrorInvalidRequest (ecederstrand/exchangelib#927), a version newer than the
server ErrorInvalidServerVersion, and an element the requested version does not have
ErrorIncorrectSchemaVersion (ecederstrand/exchangelib#591).
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
import requests
from lxml import etree

from exchange_sandbox.ews.validation import ews_schema, violation
from exchange_sandbox.server import SandboxHandle, start_sandbox
from sandbox_helpers import (
    ENS,
    MNS,
    SHARED,
    SOAP_NS,
    TNS,
    check_answers,
    eml,
    envelope,
    fault_code,
    post_soap,
    response_codes,
)

INBOX = (
    '<t:DistinguishedFolderId Id="inbox">'
    f"<t:Mailbox><t:EmailAddress>{SHARED}</t:EmailAddress></t:Mailbox>"
    "</t:DistinguishedFolderId>"
)


@pytest.fixture(scope="module")
def ews() -> Iterator[SandboxHandle]:
    handle = start_sandbox()
    problems = check_answers(handle)
    try:
        yield handle
    finally:
        handle.stop()
    assert not problems, "schema-invalid EWS answers:\n" + "\n".join(problems)


def _find_item(shape: str = "<t:BaseShape>IdOnly</t:BaseShape>") -> str:
    return (
        f'<m:FindItem Traversal="Shallow"><m:ItemShape>{shape}</m:ItemShape>'
        f"<m:ParentFolderIds>{INBOX}</m:ParentFolderIds></m:FindItem>"
    )


def _details(response: requests.Response) -> dict[str, str]:
    root = etree.fromstring(response.content)
    fault = root.find(f"{{{SOAP_NS}}}Body/{{{SOAP_NS}}}Fault")
    assert fault is not None, response.content[:500]
    assert root.find(f"{{{SOAP_NS}}}Header") is None  # Exchange's faults carry no header
    mx = fault.find(f"detail/{{{TNS}}}MessageXml")
    found = {etree.QName(el).localname: el.text or "" for el in (mx if mx is not None else [])}
    found["faultstring"] = fault.findtext("faultstring") or ""
    found["Message"] = fault.findtext(f"detail/{{{ENS}}}Message") or ""
    return found


def test_an_unknown_element_fails_schema_validation_with_line_position_and_violation(
    ews: SandboxHandle,
) -> None:
    request = envelope(_find_item("<t:BaseShape>IdOnly</t:BaseShape><t:Colour>red</t:Colour>"))
    answer = post_soap(ews, request)
    assert answer.status_code == 500
    assert fault_code(answer) == "ErrorSchemaValidation"
    details = _details(answer)
    assert details["LineNumber"] == "1"
    assert request.decode()[int(details["LinePosition"]) - 1 :].startswith("t:Colour")
    assert details["Violation"] == (
        f"The element 'ItemShape' in namespace '{MNS}' has invalid child element 'Colour' in "
        f"namespace '{TNS}'. List of possible elements expected: 'IncludeMimeContent, "
        "BodyType, UniqueBodyType, NormalizedBodyType, FilterHtmlContent, "
        "ConvertHtmlCodePageToUTF8, InlineImageUrlTemplate, BlockExternalImages, "
        f"AddBlankTargetToLinks, MaximumBodySize' in namespace '{TNS}'."
    )
    assert details["Message"] == "The request failed schema validation."
    assert details["faultstring"] == f"The request failed schema validation: {details['Violation']}"


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        pytest.param(
            '<m:GetItem><m:ItemIds><t:ItemId Id="AAAA"/></m:ItemIds></m:GetItem>',
            "has invalid child element 'ItemIds'",
            id="GetItem without ItemShape",
        ),
        pytest.param(
            _find_item("<t:BaseShape>Everything</t:BaseShape>"),
            "The value 'Everything' is invalid according to its datatype - "
            "The Enumeration constraint failed.",
            id="BaseShape Everything",
        ),
        pytest.param(
            "<m:SyncFolderItems><m:ItemShape><t:BaseShape>IdOnly</t:BaseShape></m:ItemShape>"
            f"<m:SyncFolderId>{INBOX}</m:SyncFolderId>"
            "<m:MaxChangesReturned>513</m:MaxChangesReturned></m:SyncFolderItems>",
            "The value '513' is invalid according to its datatype - "
            "The MaxInclusive constraint failed.",
            id="MaxChangesReturned 513",
        ),
        pytest.param(
            "<m:SyncFolderItems><m:ItemShape><t:BaseShape>IdOnly</t:BaseShape></m:ItemShape>"
            f"<m:SyncFolderId>{INBOX}</m:SyncFolderId>"
            "<m:MaxChangesReturned>0</m:MaxChangesReturned></m:SyncFolderItems>",
            "The MinInclusive constraint failed.",
            id="MaxChangesReturned 0",
        ),
        pytest.param(
            '<m:FindItem Traversal="Sideways"><m:ItemShape><t:BaseShape>IdOnly</t:BaseShape>'
            f"</m:ItemShape><m:ParentFolderIds>{INBOX}</m:ParentFolderIds></m:FindItem>",
            "The 'Traversal' attribute is invalid - The value 'Sideways'",
            id="an attribute value outside its enumeration",
        ),
        pytest.param(
            "<m:GetFolder><m:FolderShape><t:BaseShape>Default</t:BaseShape></m:FolderShape>"
            "</m:GetFolder>",
            "The element 'GetFolder' in namespace "
            "'http://schemas.microsoft.com/exchange/services/2006/messages' has incomplete content.",
            id="GetFolder without FolderIds",
        ),
        pytest.param(
            "<m:Frobnicate/>",
            "No matching global declaration",
            id="an operation the schema does not have",
        ),
    ],
)
def test_requests_outside_the_schema_are_refused_before_they_run(
    ews: SandboxHandle, body: str, expected: str
) -> None:
    answer = post_soap(ews, body)
    assert (answer.status_code, fault_code(answer)) == (500, "ErrorSchemaValidation")
    assert expected in _details(answer)["Violation"]


def test_a_header_outside_the_schema_is_refused_too(ews: SandboxHandle) -> None:
    answer = post_soap(
        ews, _find_item(), header="<t:ExchangeImpersonation><t:Nobody/></t:ExchangeImpersonation>"
    )
    assert fault_code(answer) == "ErrorSchemaValidation"
    assert "ExchangeImpersonation" in _details(answer)["Violation"]


def test_a_request_that_is_no_xml_is_a_schema_validation_fault(ews: SandboxHandle) -> None:
    answer = post_soap(ews, b"<soap:Envelope><unclosed>")
    assert fault_code(answer) == "ErrorSchemaValidation"


@pytest.mark.parametrize(
    ("version", "code"),
    [
        ("Exchange2019", "ErrorInvalidRequest"),  # no such value: exchangelib#927
        ("Exchange2099", "ErrorInvalidRequest"),
        ("V2018_01_08", "ErrorInvalidServerVersion"),  # Exchange 2019's, newer than 2016's
    ],
)
def test_a_request_server_version_the_server_does_not_know_is_refused(
    ews: SandboxHandle, version: str, code: str
) -> None:
    answer = post_soap(ews, _find_item(), version=version)
    assert (answer.status_code, fault_code(answer)) == (500, code)


def test_every_version_up_to_the_servers_own_is_accepted(ews: SandboxHandle) -> None:
    for version in ("Exchange2007_SP1", "Exchange2010_SP2", "Exchange2013", "V2017_07_11"):
        answer = post_soap(ews, _find_item(), version=version)
        assert response_codes(answer) == ["NoError"], version


def test_a_property_newer_than_the_requested_version_is_error_incorrect_schema_version(
    ews: SandboxHandle,
) -> None:
    shape = (
        "<t:BaseShape>IdOnly</t:BaseShape><t:AdditionalProperties>"
        '<t:FieldURI FieldURI="item:ConversationId"/></t:AdditionalProperties>'
    )
    old = post_soap(ews, _find_item(shape), version="Exchange2007_SP1")
    assert fault_code(old) == "ErrorIncorrectSchemaVersion"
    assert response_codes(post_soap(ews, _find_item(shape), version="Exchange2010")) == ["NoError"]


def test_answers_leave_out_what_the_requested_version_does_not_have(ews: SandboxHandle) -> None:
    requests.post(
        f"{ews.url}/_sandbox/deliver", params={"mailbox": SHARED}, data=eml(), timeout=10
    ).raise_for_status()
    everything = _find_item("<t:BaseShape>AllProperties</t:BaseShape>")
    new = post_soap(ews, everything, version="Exchange2016").content
    old = post_soap(ews, everything, version="Exchange2007_SP1").content
    for element in (b"<t:ConversationId", b"<t:IsAssociated>", b"<t:MailboxType>"):
        assert element in new
        assert element not in old


def test_strictness_can_be_switched_off_for_a_test_that_needs_a_kinder_server() -> None:
    handle = start_sandbox()
    try:
        kinder = _find_item("<t:BaseShape>IdOnly</t:BaseShape><t:Colour>red</t:Colour>")
        assert fault_code(post_soap(handle, kinder)) == "ErrorSchemaValidation"
        changed = requests.post(
            f"{handle.url}/_sandbox/ews/settings", json={"strict": False}, timeout=10
        )
        assert changed.json()["strict"] is False
        assert response_codes(post_soap(handle, kinder)) == ["NoError"]
        handle.set_ews(strict=True)
        assert fault_code(post_soap(handle, kinder)) == "ErrorSchemaValidation"
        refused = requests.post(
            f"{handle.url}/_sandbox/ews/settings", json={"strict": "no"}, timeout=10
        )
        assert refused.status_code == 400
    finally:
        handle.stop()


def test_validation_is_fast_enough_for_the_benchmarks() -> None:
    # A GetItem as the product sends it, with its fields and an extended property.
    fields = "".join(
        f'<t:FieldURI FieldURI="{uri}"/>'
        for uri in (
            "item:Subject", "message:Sender", "message:From", "message:ToRecipients",
            "message:CcRecipients", "message:InternetMessageId", "item:ConversationId",
            "item:ItemClass", "item:DateTimeReceived", "item:InternetMessageHeaders",
            "item:TextBody", "item:Categories",
        )
    )  # fmt: skip
    ids = "".join(f'<t:ItemId Id="AAMkAD{n:04d}="/>' for n in range(100))
    request = envelope(
        f"<m:GetItem><m:ItemShape><t:BaseShape>IdOnly</t:BaseShape><t:AdditionalProperties>"
        f'{fields}<t:ExtendedFieldURI PropertySetId="9a1f3c52-5d2e-4b8e-9c41-7e0b2f6d8a13" '
        'PropertyName="TopContactMailDecision" PropertyType="String"/>'
        f"</t:AdditionalProperties></m:ItemShape><m:ItemIds>{ids}</m:ItemIds></m:GetItem>"
    )
    root = etree.fromstring(request)
    ews_schema()  # compiled once per process, outside the measurement
    runs = 500
    started = time.perf_counter()
    for _ in range(runs):
        assert violation(root, request) is None
    per_request = (time.perf_counter() - started) / runs
    print(f"schema validation of a 100-id GetItem: {per_request * 1e6:.0f} µs")
    assert per_request < 0.005
