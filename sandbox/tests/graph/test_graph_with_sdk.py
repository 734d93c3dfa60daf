"""The sandbox Graph endpoint driven by Microsoft's own Python SDK (msgraph-sdk, kiota, httpx).

Authenticated with azure-identity's ClientSecretCredential against the sandbox's Entra ID
token endpoint (authority = the sandbox, TLS verified against its CA); the operations are
those topcontact-mail uses. The SDK writes action parameters as the metadata names them
("Comment", "Message", "Schedules", ...) and annotates every object with "@odata.type".
"""

from __future__ import annotations

import asyncio
import warnings
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from graph_helpers import ANOUK, JAN, SHARED, customer_mail
from sdk_helpers import dttz, sdk_client

with warnings.catch_warnings():
    # The SDK's generated request builders warn, when imported, about their own deprecated
    # configuration classes; that is the SDK's business, not this test's.
    warnings.simplefilter("ignore", DeprecationWarning)
    from kiota_abstractions.base_request_configuration import RequestConfiguration
    from msgraph import GraphServiceClient
    from msgraph.generated.models.attendee import Attendee
    from msgraph.generated.models.body_type import BodyType
    from msgraph.generated.models.email_address import EmailAddress
    from msgraph.generated.models.event import Event
    from msgraph.generated.models.followup_flag import FollowupFlag
    from msgraph.generated.models.followup_flag_status import FollowupFlagStatus
    from msgraph.generated.models.item_body import ItemBody
    from msgraph.generated.models.message import Message
    from msgraph.generated.models.recipient import Recipient
    from msgraph.generated.models.single_value_legacy_extended_property import (
        SingleValueLegacyExtendedProperty,
    )
    from msgraph.generated.users.item.calendar.get_schedule.get_schedule_post_request_body import (
        GetSchedulePostRequestBody,
    )
    from msgraph.generated.users.item.mail_folders.item.messages.delta.delta_request_builder import (
        DeltaRequestBuilder,
    )
    from msgraph.generated.users.item.messages.item.create_reply.create_reply_post_request_body import (
        CreateReplyPostRequestBody,
    )
    from msgraph.generated.users.item.messages.item.reply.reply_post_request_body import (
        ReplyPostRequestBody,
    )
    from msgraph.generated.users.item.send_mail.send_mail_post_request_body import (
        SendMailPostRequestBody,
    )
    from msgraph_core.requests.batch_request_content import BatchRequestContent
    from msgraph_core.requests.batch_request_item import BatchRequestItem

from exchange_sandbox import GraphSandbox, SandboxHandle, serve_graph_tls
from exchange_sandbox.server import start_sandbox

# The SDK warns about its own deprecated configuration classes as it loads its builders.
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

MARKER = "String {9a1f3c52-5d2e-4b8e-9c41-7e0b2f6d8a13} Name TopContactMailDecision"
MESSAGE_CLASS = "String 0x001A"


@pytest.fixture
def sandbox() -> Iterator[tuple[SandboxHandle, GraphSandbox]]:
    handle = start_sandbox()
    tls = serve_graph_tls(handle.server)
    yield handle, tls
    tls.stop()
    handle.stop()


def to(address: str) -> Recipient:
    return Recipient(email_address=EmailAddress(address=address))


async def delta_round(client: GraphServiceClient, link: str | None) -> tuple[list[Message], str]:
    inbox = client.users.by_user_id(SHARED).mail_folders.by_mail_folder_id("inbox")
    if link is None:
        query = DeltaRequestBuilder.DeltaRequestBuilderGetQueryParameters(
            select=["subject", "from", "categories", "flag", "internetMessageId"],
            expand=[
                "singleValueExtendedProperties($filter="
                f"id eq '{MARKER}' or id eq '{MESSAGE_CLASS}')"
            ],
        )
        page = await inbox.messages.delta.get(RequestConfiguration(query_parameters=query))
    else:
        page = await inbox.messages.delta.with_url(link).get()
    values: list[Message] = []
    while True:
        assert page is not None
        values.extend(page.value or [])
        if page.odata_delta_link:
            return values, page.odata_delta_link
        assert page.odata_next_link
        page = await inbox.messages.delta.with_url(page.odata_next_link).get()


def properties(message: Message) -> dict[str, Any]:
    return {p.id.lower(): p.value for p in message.single_value_extended_properties or [] if p.id}


def test_the_official_sdk_reads_marks_replies_sends_and_books(
    sandbox: tuple[SandboxHandle, GraphSandbox],
) -> None:
    handle, tls = sandbox
    store = handle.store
    store.deliver(SHARED, customer_mail("Lekkage", msgid="<lekkage@example.org>"))
    store.deliver(SHARED, customer_mail("Huur", msgid="<huur@example.org>"))

    async def scenario() -> None:
        client = sdk_client(tls)
        messages, link = await delta_round(client, None)
        by_subject = {m.subject: m for m in messages}
        assert set(by_subject) == {"Lekkage", "Huur"}
        assert properties(by_subject["Lekkage"]) == {"string 0x001a": "IPM.Note"}
        first = by_subject["Lekkage"]
        assert first.id is not None

        # PATCH categories, follow-up flag and our marker property.
        due = datetime(2026, 12, 4, 16, 0, tzinfo=UTC)
        patched = (
            await client.users.by_user_id(SHARED)
            .messages.by_message_id(first.id)
            .patch(
                Message(
                    categories=["Ontvangst bevestigd"],
                    flag=FollowupFlag(
                        flag_status=FollowupFlagStatus.Flagged,
                        start_date_time=dttz(due - timedelta(days=5)),
                        due_date_time=dttz(due),
                    ),
                    single_value_extended_properties=[
                        SingleValueLegacyExtendedProperty(id=MARKER, value="ack-1")
                    ],
                )
            )
        )
        assert patched is not None
        assert patched.categories == ["Ontvangst bevestigd"]
        changes, link = await delta_round(client, link)
        assert [(m.id, m.categories) for m in changes] == [(first.id, ["Ontvangst bevestigd"])]
        assert changes[0].subject is None  # an update comes back partial

        # createReply with a comment, then reply in one action with Comment and Message.
        message = client.users.by_user_id(SHARED).messages.by_message_id(first.id)
        draft = await message.create_reply.post(CreateReplyPostRequestBody(comment="Concept"))
        assert draft is not None
        assert draft.is_draft
        assert "Concept" in (draft.body.content or "")
        await message.reply.post(
            ReplyPostRequestBody(
                comment="Wij hebben uw bericht ontvangen.",
                message=Message(
                    to_recipients=[to("huurder@example.org")],
                    single_value_extended_properties=[
                        SingleValueLegacyExtendedProperty(
                            id="String {9a1f3c52-5d2e-4b8e-9c41-7e0b2f6d8a13} Name TopContactMailAckRef",
                            value="ref-1",
                        )
                    ],
                ),
            )
        )

        # sendMail without a Sent Items copy.
        await client.users.by_user_id(SHARED).send_mail.post(
            SendMailPostRequestBody(
                message=Message(
                    subject="Herinnering",
                    body=ItemBody(content_type=BodyType.Text, content="Nog te beantwoorden."),
                    to_recipients=[to(JAN)],
                ),
                save_to_sent_items=False,
            )
        )

        # getSchedule and an event with attendees, made idempotent by its transactionId.
        start = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
        event = Event(
            subject="Terugbellen",
            start=dttz(start),
            end=dttz(start + timedelta(minutes=30)),
            attendees=[Attendee(email_address=EmailAddress(address=ANOUK))],
            transaction_id="callback-1",
        )
        calendar = client.users.by_user_id(JAN).calendar
        created = await calendar.events.post(event)
        again = await calendar.events.post(event)
        assert created is not None
        assert again is not None
        assert created.id == again.id
        schedule = await calendar.get_schedule.post(
            GetSchedulePostRequestBody(
                schedules=[JAN, ANOUK],
                start_time=dttz(start - timedelta(hours=1)),
                end_time=dttz(start + timedelta(hours=1)),
                availability_view_interval=30,
            )
        )
        assert schedule is not None
        assert schedule.value is not None
        assert [s.availability_view for s in schedule.value] == ["0020", "0010"]

        # $batch through msgraph-core: two PATCHes built by the SDK's request builders.
        batch = BatchRequestContent()
        for m in messages:
            info = (
                client.users.by_user_id(SHARED)
                .messages.by_message_id(m.id or "")
                .to_patch_request_information(Message(is_read=True))
            )
            batch.add_request(None, BatchRequestItem(request_information=info))
        answer = await client.batch.post(batch)
        assert set(answer.get_response_status_codes().values()) == {200}

    asyncio.run(scenario())

    sent = store.items(SHARED, "sentitems")
    [reply] = [it for it in sent if it.subject == "RE: Lekkage"]
    assert "Wij hebben uw bericht ontvangen." in reply.body
    assert reply.in_reply_to == "<lekkage@example.org>"
    assert [it.subject for it in store.items(JAN, "inbox")] == ["Herinnering"]
    assert all(it.subject != "Herinnering" for it in sent)
    assert [it.item_class for it in store.items(ANOUK, "inbox")] == ["IPM.Schedule.Meeting.Request"]
    inbox = {it.subject: it for it in store.items(SHARED, "inbox")}
    assert all(it.is_read for it in inbox.values())
    assert inbox["Lekkage"].categories == ("Ontvangst bevestigd",)
    assert inbox["Lekkage"].flag.status == "Flagged"
    assert inbox["Huur"].categories == ()
