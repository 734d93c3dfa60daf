"""The straightforward script a user would write with exchangelib, for comparison in `make bench`.

Iterate the unread inbox items, reply to each, mark it read and save. One
request per reply and one per update, plus the paging of the query.
"""

from __future__ import annotations

import sys

from exchangelib import DELEGATE, NTLM, Account, Configuration, Credentials, Message

endpoint, user, password, mailbox = sys.argv[1:5]
config = Configuration(
    service_endpoint=endpoint, credentials=Credentials(user, password), auth_type=NTLM
)
account = Account(mailbox, config=config, autodiscover=False, access_type=DELEGATE)
# Listed first: changing IsRead while paging through the same query would skip items.
unread = list(account.inbox.filter(is_read=False).only("subject", "sender", "message_id"))
for item in unread:
    reply = Message(
        account=account,
        folder=account.sent,
        subject=f"Ontvangstbevestiging: {item.subject}",
        body="We hebben uw e-mail ontvangen. U krijgt binnen 5 werkdagen een antwoord.",
        to_recipients=[item.sender],
        in_reply_to=item.message_id,
    )
    reply.send_and_save()
    item.is_read = True
    item.save(update_fields=["is_read"])
