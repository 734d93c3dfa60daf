"""EWS directory odds and ends of the sandbox (a test double): ResolveNames and ConvertId."""

from __future__ import annotations

import re

from exchange_sandbox.ews import ids
from exchange_sandbox.ews.access import Caller
from exchange_sandbox.ews.faults import EwsFault
from exchange_sandbox.ews.responses import each
from exchange_sandbox.ews.xml import Element, m, sub, t, text_of
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


def resolve_names(store: MailStore, op: Element, caller: Caller) -> Element:
    def build(el: Element, out: Element) -> None:
        entry = (text_of(op, m("UnresolvedEntry")) or "").strip().lower()
        if entry.startswith("smtp:"):
            entry = entry[5:]
        matches = [
            a for a in store.mailboxes() if entry and (entry in a.email or entry in a.name.lower())
        ]
        if not matches:
            raise EwsFault("ErrorNameResolutionNoResults", "No results were found.")
        res = sub(
            out,
            m("ResolutionSet"),
            TotalItemsInView=str(len(matches)),
            IncludesLastItemInRange="true",
        )
        for addr in matches:
            resolution = sub(res, t("Resolution"))
            box = sub(resolution, t("Mailbox"))
            sub(box, t("Name"), addr.name)
            sub(box, t("EmailAddress"), addr.email)
            sub(box, t("RoutingType"), "SMTP")
            sub(box, t("MailboxType"), "Mailbox")

    return each("ResolveNames", [op], build)
