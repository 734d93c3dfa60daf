"""EWS directory odds and ends of the sandbox (a test double): ResolveNames and ConvertId."""

from __future__ import annotations

import re

from lxml import etree

from exchange_sandbox.config import SandboxConfig
from exchange_sandbox.directory import MAX_CANDIDATES, Person, address_book, resolve
from exchange_sandbox.ews import ids
from exchange_sandbox.ews.access import Caller
from exchange_sandbox.ews.faults import EwsFault
from exchange_sandbox.ews.responses import each, response_message
from exchange_sandbox.ews.versions import has
from exchange_sandbox.ews.xml import NSMAP, Element, boolean, m, sub, t, text_of, xs_bool
from exchange_sandbox.store import MailStore


def convert_id(store: MailStore, op: Element, caller: Caller) -> Element:
    """Ids from one format into another (ConvertId); the mailbox is only checked for form."""
    destination = op.get("DestinationFormat", "EwsId")

    def build(el: Element, out: Element) -> None:
        if el.tag != t("AlternateId"):
            raise EwsFault("ErrorInvalidIdMalformed", "The sandbox has no public folders.")
        ref = ids.parse(el.get("Id", ""), el.get("Format", ""))
        mailbox = el.get("Mailbox", "")
        if not _SMTP.fullmatch(mailbox):
            # "ConvertId validates that a given SMTP address has a valid format" (reference).
            raise EwsFault("ErrorInvalidSmtpAddress", "The SMTP address format is invalid.")
        sub(
            out,
            m("AlternateId"),
            **{
                f"{{{XSI}}}type": "t:AlternateIdType",
                "Format": destination,
                "Id": ids.render(ref, destination),
                "Mailbox": mailbox,
            },
        )

    source = op.find(m("SourceIds"))
    return each("ConvertId", list(source) if source is not None else [], build)


_SMTP = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
XSI = "http://www.w3.org/2001/XMLSchema-instance"


def resolve_names(store: MailStore, config: SandboxConfig, op: Element, caller: Caller) -> Element:
    """ResolveNames by ambiguous name resolution over the address book (see ``directory``).

    One candidate: Success. Several: Warning ErrorNameResolutionMultipleResults ("Multiple
    results were found.") with every candidate, at most 100 (IncludesLastItemInRange false
    beyond). None: Error ErrorNameResolutionNoResults ("No results were found.").
    ``ReturnFullContactData`` adds each one's directory entry as a Contact.
    """
    entry = (text_of(op, m("UnresolvedEntry")) or "").strip()
    full = boolean(op.get("ReturnFullContactData"))
    found = resolve(people(store, config), entry)
    resp = etree.Element(m("ResolveNamesResponse"), nsmap=NSMAP)
    msgs = sub(resp, m("ResponseMessages"))
    if not found:
        response_message(
            "ResolveNames",
            msgs,
            EwsFault("ErrorNameResolutionNoResults", "No results were found."),
        )
        return resp
    if len(found) == 1:
        msg = response_message("ResolveNames", msgs)
    else:
        msg = sub(msgs, m("ResolveNamesResponseMessage"), ResponseClass="Warning")
        sub(msg, m("MessageText"), "Multiple results were found.")
        sub(msg, m("ResponseCode"), "ErrorNameResolutionMultipleResults")
        sub(msg, m("DescriptiveLinkKey"), "0")
    shown = found[:MAX_CANDIDATES]
    res = sub(
        msg,
        m("ResolutionSet"),
        TotalItemsInView=str(len(shown)),
        IncludesLastItemInRange=xs_bool(len(found) <= MAX_CANDIDATES),
    )
    for person in shown:
        resolution = sub(res, t("Resolution"))
        box = sub(resolution, t("Mailbox"))
        sub(box, t("Name"), person.name)
        sub(box, t("EmailAddress"), person.email)
        sub(box, t("RoutingType"), "SMTP")
        if has(caller.request_version, "MailboxType"):
            sub(box, t("MailboxType"), person.kind)
        if full:
            _contact(sub(resolution, t("Contact")), person)
    return resp


def people(store: MailStore, config: SandboxConfig) -> list[Person]:
    """The address book: the configured people, and any store mailbox the file does not name."""
    return address_book(config.people(), ((a.email, a.name) for a in store.mailboxes()))


def _contact(el: Element, person: Person) -> None:
    """A directory entry as a Contact, in ContactItemType's order."""
    sub(el, t("DisplayName"), person.name)
    if person.given_name:
        sub(el, t("GivenName"), person.given_name)
    addresses = sub(el, t("EmailAddresses"))
    sub(addresses, t("Entry"), f"SMTP:{person.email}", Key="EmailAddress1")
    if person.phone:
        phones = sub(el, t("PhoneNumbers"))
        sub(phones, t("Entry"), person.phone, Key="BusinessPhone")
    sub(el, t("ContactSource"), "ActiveDirectory")
    if person.department:
        sub(el, t("Department"), person.department)
    if person.job_title:
        sub(el, t("JobTitle"), person.job_title)
    if person.surname:
        sub(el, t("Surname"), person.surname)
