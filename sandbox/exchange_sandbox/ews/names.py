"""EWS directory odds and ends of the sandbox (a test double): ResolveNames and ConvertId."""

from __future__ import annotations

from exchange_sandbox.ews.access import Caller
from exchange_sandbox.ews.faults import EwsFault
from exchange_sandbox.ews.responses import each
from exchange_sandbox.ews.xml import Element, m, sub, t, text_of
from exchange_sandbox.store import MailStore


def convert_id(store: MailStore, op: Element, caller: Caller) -> Element:
    # exchangelib probes the server version with a ConvertId of a dummy id; Exchange answers
    # it with an error message, which carries the ServerVersionInfo header all the same.
    def build(el: Element, out: Element) -> None:
        raise EwsFault("ErrorInvalidIdMalformed", "Id is malformed.")

    ids = op.find(m("SourceIds"))
    return each("ConvertId", list(ids) if ids is not None else [], build)


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
