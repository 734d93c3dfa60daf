"""Replying and forwarding through EWS marks the original, as Exchange does.

"Respond to email messages by using EWS in Exchange" checks after each reply, reply-all and
forward that the original "was marked as replied to or forwarded" by reading
PidTagLastVerbExecuted (0x1081: 102, 103, 104) and PidTagLastVerbExecutionTime (0x1082); a
response saved as a draft (SaveOnly) marks it when SendItem sends it. The properties are read
back here over EWS (GetItem with ExtendedFieldURI), every answer checked against the schema.
"""

from __future__ import annotations

from datetime import UTC, datetime

from exchangelib import Account
from lxml import etree

from exchange_sandbox.server import SandboxHandle
from sandbox_helpers import DEVRIES, MNS, SHARED, TNS, eml, folder_items, post_soap

PROPS = (("0x1081", "Integer"), ("0x1082", "SystemTime"), ("0x1080", "Integer"))


def verb_of(sandbox: SandboxHandle, item_id: str) -> tuple[str | None, str | None, str | None]:
    """(last verb, its time, icon index) of an item, as EWS GetItem shows them."""
    uris = "".join(
        f'<t:ExtendedFieldURI PropertyTag="{tag}" PropertyType="{kind}"/>' for tag, kind in PROPS
    )
    answer = post_soap(
        sandbox,
        "<m:GetItem><m:ItemShape><t:BaseShape>IdOnly</t:BaseShape>"
        f"<t:AdditionalProperties>{uris}</t:AdditionalProperties></m:ItemShape>"
        f'<m:ItemIds><t:ItemId Id="{item_id}"/></m:ItemIds></m:GetItem>',
    )
    assert answer.status_code == 200, answer.text
    root = etree.fromstring(answer.content)
    assert root.findtext(f".//{{{MNS}}}ResponseCode") == "NoError"
    found: dict[str, str] = {}
    for prop in root.iter(f"{{{TNS}}}ExtendedProperty"):
        uri = prop.find(f"{{{TNS}}}ExtendedFieldURI")
        assert uri is not None
        found[uri.get("PropertyTag", "").lower()] = prop.findtext(f"{{{TNS}}}Value") or ""
    return found.get("0x1081"), found.get("0x1082"), found.get("0x1080")


def _original(sandbox: SandboxHandle) -> str:
    mime = eml(subject="Geen warm water", sender=f"Jan de Vries <{DEVRIES}>", to=SHARED)
    return sandbox.store.deliver(SHARED, mime).id


def test_a_message_nobody_answered_has_no_last_verb(sandbox: SandboxHandle) -> None:
    assert verb_of(sandbox, _original(sandbox)) == (None, None, None)


def test_reply_reply_all_and_forward_set_the_verb_and_the_send_time_on_the_original(
    sandbox: SandboxHandle, shared: Account
) -> None:
    replied, replied_all, forwarded = (_original(sandbox) for _ in range(3))
    now = [datetime(2026, 11, 30, 9, 15, tzinfo=UTC)]
    # Transport's clock dates the submission; the verb carries the same moment.
    sandbox.store.submissions.clock = lambda: now[0]

    shared.inbox.get(id=replied).reply(subject="RE: Geen warm water", body="Morgen.")
    now[0] = now[0].replace(minute=30)
    shared.inbox.get(id=replied_all).reply_all(subject="RE: Geen warm water", body="Allen.")
    now[0] = now[0].replace(minute=45)
    shared.inbox.get(id=forwarded).forward(
        subject="FW: Geen warm water", body="Pak jij dit op?", to_recipients=[DEVRIES]
    )

    assert verb_of(sandbox, replied) == ("102", "2026-11-30T09:15:00Z", "261")
    assert verb_of(sandbox, replied_all) == ("103", "2026-11-30T09:30:00Z", "261")
    assert verb_of(sandbox, forwarded) == ("104", "2026-11-30T09:45:00Z", "262")
    # The copies in Sent Items are dated at the same moments.
    sent = sorted(m.datetime_sent for m in shared.sent.all().only("datetime_sent"))
    assert [m.strftime("%H:%M") for m in sent] == ["09:15", "09:30", "09:45"]


def test_a_later_response_replaces_the_verb(sandbox: SandboxHandle, shared: Account) -> None:
    original = _original(sandbox)
    shared.inbox.get(id=original).reply(subject="RE: Geen warm water", body="Morgen.")
    shared.inbox.get(id=original).forward(
        subject="FW: Geen warm water", body="Ter info.", to_recipients=[DEVRIES]
    )
    assert verb_of(sandbox, original)[0] == "104"


def test_a_saved_response_marks_the_original_only_when_it_is_sent(
    sandbox: SandboxHandle, shared: Account
) -> None:
    original = _original(sandbox)
    draft = (
        shared.inbox.get(id=original)
        .create_reply(subject="RE: Geen warm water", body="Concept.")
        .save(shared.drafts)
    )
    assert verb_of(sandbox, original) == (None, None, None)

    shared.drafts.get(id=draft.id).send()  # SendItem

    assert verb_of(sandbox, original)[0] == "102"


def test_a_reply_sent_without_a_copy_marks_the_original_too(
    sandbox: SandboxHandle, shared: Account
) -> None:
    original = _original(sandbox)
    reply = shared.inbox.get(id=original).create_reply(subject="RE: Geen warm water", body="Ok.")
    reply.send(save_copy=False)  # CreateItem with MessageDisposition SendOnly
    assert verb_of(sandbox, original)[0] == "102"
    assert folder_items(sandbox, SHARED, "sentitems") == []
