"""Each screening rule, hit squarely and missed narrowly, plus the table and policy around them."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass, field, replace
from typing import Any

import pytest

from topcontact_mail.config import ScreeningSettings
from topcontact_mail.domain.message import Address, IncomingMessage
from topcontact_mail.domain.screening import (
    RULES,
    ScreeningHistory,
    ScreeningPolicy,
    screen,
)

from .support import POLICY

PERSON = Address("m.jansen@gmail.example", "Marieke Jansen")
OWN_LOOP = ("X-MS-Exchange-Inbox-Rules-Loop", "info@woonservice.example")
CALLBACK_POLICY = replace(POLICY, callback_keyword="Terugbelverzoek")


def mail(
    *headers: tuple[str, str],
    sender: Address | None = PERSON,
    subject: str = "Vraag over mijn woning",
    **fields: Any,
) -> IncomingMessage:
    """A message from a person unless told otherwise; `fields` go straight to IncomingMessage."""
    return IncomingMessage(subject=subject, sender=sender, headers=tuple(headers), **fields)


@dataclass(frozen=True)
class Case:
    """A message, the rule it is about, and the reason screening must give."""

    rule: str
    title: str
    message: IncomingMessage
    reason: str
    policy: ScreeningPolicy = POLICY
    history: ScreeningHistory = field(default_factory=ScreeningHistory)


def hit(rule: str, title: str, message: IncomingMessage, **kw: Any) -> Case:
    return Case(rule, title, message, rule, **kw)


def miss(
    rule: str, title: str, message: IncomingMessage, reason: str = "person", **kw: Any
) -> Case:
    return Case(rule, title, message, reason, **kw)


HITS = [
    hit(
        "already_handled",
        "our marker on the item",
        mail(),
        history=ScreeningHistory(marker='{"v":1,"decision":"acknowledged"}'),
    ),
    hit(
        "already_handled",
        "decides before every sign of a machine",
        mail(("Auto-Submitted", "auto-replied")),
        history=ScreeningHistory(marker="{}"),
    ),
    hit(
        "duplicate_message",
        "a copy of a recorded message",
        mail(message_id="<a@example.org>"),
        history=ScreeningHistory(earlier_reason="person"),
    ),
    hit("own_message", "our marker header", mail(("X-TopContact-Mail", "acknowledgement"))),
    hit(
        "own_message",
        "sent from the shared mailbox",
        mail(sender=Address("KlantContact@Woonservice.example")),
    ),
    hit(
        "own_message",
        "Message-ID minted in our domain",
        mail(message_id="<ack-1@woonservice.example>"),
    ),
    hit(
        "own_rule_forward",
        "our inbox rule forwarded, author only in the body",
        mail(
            OWN_LOOP,
            ("X-MS-Exchange-Organization-AutoForwarded", "true"),
            ("Auto-Submitted", "auto-generated"),
            sender=Address("info@woonservice.example"),
            subject="FW: Vraag over mijn woning",
        ),
    ),
    hit("auto_submitted", "auto-replied", mail(("Auto-Submitted", "auto-replied"))),
    hit(
        "auto_submitted",
        "auto-generated with a comment",
        mail(("Auto-Submitted", "Auto-Generated (failure)")),
    ),
    hit("auto_submitted", "an empty value is not 'no'", mail(("Auto-Submitted", ""))),
    hit(
        "auto_submitted",
        "redirect exception does not cover auto-replied",
        mail(
            OWN_LOOP,
            ("Resent-From", "<info@woonservice.example>"),
            ("Auto-Submitted", "auto-replied"),
        ),
    ),
    hit(
        "auto_submitted",
        "a foreign inbox-rules stamp as well disables the exception",
        mail(
            OWN_LOOP,
            ("X-MS-Exchange-Inbox-Rules-Loop", "m.jansen@gmail.example"),
            ("Auto-Submitted", "auto-generated"),
        ),
    ),
    hit(
        "auto_submitted",
        "a redirect by someone else's rule (foreign Resent-From)",
        mail(
            OWN_LOOP, ("Resent-From", "<x@elsewhere.example>"), ("Auto-Submitted", "auto-generated")
        ),
    ),
    hit(
        "read_receipt",
        "RFC 8098 report",
        mail(
            content_type="multipart/report; report-type=disposition-notification", subject="Read: x"
        ),
    ),
    hit(
        "read_receipt", "Exchange read notification class", mail(item_class="REPORT.IPM.Note.IPNRN")
    ),
    hit(
        "read_receipt",
        "Exchange not-read notification class",
        mail(item_class="Report.IPM.Note.IPNNRN"),
    ),
    hit(
        "read_receipt",
        "disposition part only",
        mail(part_types=("text/plain", "message/disposition-notification")),
    ),
    hit(
        "read_receipt",
        "report type read from the header when the backend gave no content type",
        mail(
            (
                "Content-Type",
                'multipart/report; boundary="b"; report-type="disposition-notification"',
            )
        ),
    ),
    hit(
        "delivery_report",
        "DSN",
        mail(
            content_type="multipart/report; report-type=delivery-status", subject="Undeliverable: x"
        ),
    ),
    hit("delivery_report", "NDR item class", mail(item_class="REPORT.IPM.Note.NDR")),
    hit(
        "delivery_report",
        "delivery-status part",
        mail(part_types=("text/plain", "message/delivery-status")),
    ),
    hit("delivery_report", "Exchange NDR marker", mail(("X-MS-Exchange-Message-Is-Ndr", ""))),
    hit("null_return_path", "<> path", mail(return_path="")),
    hit("null_return_path", "<> header only", mail(("Return-Path", "<>"))),
    hit("failed_recipients", "Exim's header", mail(("X-Failed-Recipients", "a@example.org"))),
    hit(
        "machine_sender", "From MAILER-DAEMON", mail(sender=Address("MAILER-DAEMON@mx.example.org"))
    ),
    hit("machine_sender", "bare MAILER-DAEMON", mail(sender=Address("MAILER-DAEMON"))),
    hit("machine_sender", "postmaster", mail(sender=Address("postmaster@example.org"))),
    hit("machine_sender", "no-reply", mail(sender=Address("no-reply@bank.example"))),
    hit("machine_sender", "noreply with a tag", mail(sender=Address("noreply+12@x.example"))),
    hit("machine_sender", "do_not_reply", mail(sender=Address("do_not_reply@x.example"))),
    hit(
        "machine_sender",
        "donotreply-invoices",
        mail(sender=Address("donotreply-invoices@x.example")),
    ),
    hit("machine_sender", "bounce address", mail(sender=Address("bounce-1234@mailer.example"))),
    hit("machine_sender", "Dutch no-reply", mail(sender=Address("geen-antwoord@gemeente.example"))),
    hit("machine_sender", "French no-reply", mail(sender=Address("ne-pas-repondre@x.example"))),
    hit(
        "machine_sender", "list request address", mail(sender=Address("list-request@lists.example"))
    ),
    hit("machine_sender", "list owner", mail(sender=Address("owner-list@lists.example"))),
    # Look-alike letters (Unicode TS #39 confusables) do not hide a machine's name.
    *[
        hit("machine_sender", f"look-alike {title}", mail(sender=Address(address)))
        for title, address in (
            ("Cyrillic o in no-reply", "n\u043e-reply@bank.example"),
            ("Cyrillic y in noreply", "norepl\u0443@bank.example"),
            ("Greek omicron in no-reply", "n\u03bf-reply@bank.example"),
            ("Cyrillic o in postmaster", "p\u043estmaster@mx.example"),
            ("fullwidth noreply", "\uff4e\uff4f\uff52\uff45\uff50\uff4c\uff59@bank.example"),
            ("zero-width space in noreply", "no\u200breply@bank.example"),
            ("right-to-left override in no-reply", "no\u202e-reply@bank.example"),
            ("digit zero in no-reply", "n0-reply@bank.example"),
            ("digit one in no-reply", "no-rep1y@bank.example"),
            ("capital I for l in noreply", "norepIy@bank.example"),
            ("rn for m in postmaster", "postrnaster@mx.example"),
            ("digit zero in MAILER-DAEMON", "MAILER-DAEM0N@mx.example"),
            ("digit one in do-not-reply", "do-not-rep1y@x.example"),
        )
    ],
    hit(
        "machine_sender",
        "Return-Path of a list's bounces",
        mail(return_path="list-bounces@lists.example"),
    ),
    hit("auto_reply_header", "X-Autoreply", mail(("X-Autoreply", "yes"))),
    hit("auto_reply_header", "X-Autorespond", mail(("X-Autorespond", "Vacation"))),
    hit("auto_reply_header", "X-Autoresponder", mail(("X-Autoresponder", "1"))),
    hit("auto_reply_header", "suppress All", mail(("X-Auto-Response-Suppress", "All"))),
    hit(
        "auto_reply_header", "suppress OOF in a list", mail(("X-Auto-Response-Suppress", "DR, OOF"))
    ),
    hit("auto_reply_header", "suppress AutoReply", mail(("X-Auto-Response-Suppress", "autoreply"))),
    hit(
        "auto_reply_header",
        "OOF item class",
        mail(item_class="IPM.Note.Rules.OofTemplate.Microsoft"),
    ),
    hit(
        "auto_reply_header",
        "reply template",
        mail(item_class="IPM.Note.Rules.ReplyTemplate.Microsoft"),
    ),
    hit("bulk_precedence", "bulk", mail(("Precedence", "bulk"))),
    hit("bulk_precedence", "List, capitalised", mail(("Precedence", "List"))),
    hit("bulk_precedence", "junk", mail(("Precedence", "junk"))),
    hit("bulk_precedence", "auto_reply", mail(("Precedence", "auto_reply"))),
    hit("bulk_precedence", "X-Precedence", mail(("X-Precedence", "bulk"))),
    hit("mailing_list", "List-Id", mail(("List-Id", "<scr.socal-raves.org>"))),
    hit("mailing_list", "List-Unsubscribe", mail(("List-Unsubscribe", "<https://x.example/u>"))),
    hit("mailing_list", "List-Post", mail(("List-Post", "<mailto:list@x.example>"))),
    hit("mailing_list", "List-Help only", mail(("List-Help", "<mailto:x-help@lists.example>"))),
    hit(
        "mailing_list",
        "ezmlm Mailing-List",
        mail(("Mailing-List", "contact bewoners-help@lists.example; run by ezmlm")),
    ),
    hit(
        "mailing_list",
        "ezmlm Delivered-To",
        mail(("Delivered-To", "mailing list bewoners@lists.example")),
    ),
    hit("mailing_list", "Mailman version", mail(("X-Mailman-Version", "2.1.39"))),
    hit("mailing_list", "X-Loop", mail(("X-Loop", "bewoners@lists.example"))),
    hit("list_manager", "majordomo", mail(sender=Address("Majordomo@lists.example"))),
    hit("list_manager", "listserv", mail(sender=Address("LISTSERV@listserv.example.edu"))),
    hit(
        "list_manager",
        "fml: not a member, from -admin",
        mail(
            sender=Address("neko-admin@example.org"),
            subject="You x@example.org are not member (neko-nyaan ML)",
        ),
    ),
    hit(
        "list_manager",
        "moderation notice from -admin, wording in the body",
        mail(
            sender=Address("bewoners-admin@lists.example"),
            subject="Uw bericht aan Bewoners",
            text_sample="Your mail to 'Bewoners' is being held until the list moderator can review it.",
        ),
    ),
    hit(
        "complaint_report",
        "Microsoft JMRP without multipart/report",
        mail(
            sender=Address("staff@hotmail.com"),
            subject="complaint about message from 192.0.2.222",
            content_type="multipart/mixed",
            part_types=("message/rfc822",),
        ),
    ),
    hit(
        "complaint_report",
        "ARF part inside multipart/mixed",
        mail(part_types=("text/plain", "message/feedback-report", "message/rfc822")),
    ),
    hit(
        "complaint_report",
        "abuse report wording at the start of the body",
        mail(
            subject="DMARC Failure Report for woonservice.example",
            text_sample="This is an email abuse report for an email message received from IP 192.0.2.1",
        ),
    ),
    hit(
        "aggregate_report",
        "RFC 7489 subject",
        mail(
            sender=Address("dmarcreport@microsoft.com"),
            subject="Report Domain: woonservice.example Submitter: protection.outlook.com Report-ID: <a1>",
        ),
    ),
    hit(
        "aggregate_report", "TLS report header", mail(("TLS-Report-Domain", "woonservice.example"))
    ),
    hit(
        "aggregate_report",
        "TLS report attachment",
        mail(part_types=("text/plain", "application/tlsrpt+gzip")),
    ),
    hit(
        "aggregate_report",
        "DMARC subject with a zip attachment",
        mail(subject="DMARC aggregate report", part_types=("text/plain", "application/zip")),
    ),
    hit(
        "challenge_response",
        "verify to have a held message delivered",
        mail(
            subject="Please verify your email address",
            text_sample=(
                "Your message to jan@example.nl is being held. Please verify that you are a human "
                "by clicking the link below; your message will be delivered once you do."
            ),
        ),
    ),
    hit(
        "challenge_response",
        "Dutch challenge",
        mail(
            subject="Bevestiging nodig",
            text_sample="Uw bericht wordt vastgehouden. Klik hieronder om te bevestigen dat u geen robot bent.",
        ),
    ),
    hit("challenge_response", "Bluebottle header", mail(("X-Bluebottle-Request", "sender-verify"))),
    hit("challenge_response", "TMDA agent", mail(("X-Delivery-Agent", "TMDA/1.1.12 (Macallan)"))),
    hit("challenge_response", "Boxbe sender", mail(sender=Address("notification@boxbe.com"))),
    *[
        hit("auto_reply_subject", subject, mail(subject=subject))
        for subject in (
            "Respuesta automática: su consulta",
            "Risposta automatica: domanda",
            "Resposta automática: pedido",
            "Automatyczna odpowiedź: pytanie",
            "Automatická odpověď: dotaz",
            "Automatikus válasz: kérdés",
            "Răspuns automat: întrebare",
            "Автоматичен отговор: въпрос",
            "Αυτόματη απάντηση: ερώτηση",
            "Automatiskt svar: fråga",
            "Automatisk svar: spørgsmål",
            "Automaattinen vastaus: kysymys",
            "Automātiskā atbilde: jautājums",
            "Automatinis atsakymas: klausimas",
            "Samodejni odgovor: vprašanje",
            "Automatski odgovor: pitanje",
            "Freagra uathoibríoch: ceist",
            "Otomatik yanıt: sorunuz",
            "OTOMATİK YANIT: sorunuz",
            "رد تلقائي: سؤالك",
            "Автоматична відповідь: питання",
            "AUTO: Jan Jansen is out of the office (returning 05-01-2027)",
            "AUTO: Jan Jansen ist außer Haus (Rückkehr am 05.01.2027)",
            "AUTO: Jan Jansen is afwezig (terug op 5 januari)",
        )
    ],
    hit(
        "auto_reply_text",
        "English absence notice without headers",
        mail(
            subject="Re: Ontvangstbevestiging: lekkage",
            text_sample=(
                "Thank you for your email. I am out of the office until 5 January with limited "
                "access to email. For urgent matters please contact my colleague."
            ),
        ),
    ),
    hit(
        "auto_reply_text",
        "Dutch absence notice, absence word in the subject",
        mail(
            subject="Vakantie",
            text_sample=(
                "Ik ben afwezig tot en met 4 januari. Uw e-mail wordt niet doorgestuurd; "
                "na mijn terugkomst beantwoord ik uw bericht."
            ),
        ),
    ),
    hit(
        "bounce_text",
        "Exim plain-text bounce from an ordinary address",
        mail(
            sender=Address("info@mx.example.org"),
            subject="Mail delivery failed: returning message to sender",
            text_sample=(
                "This message was created automatically by mail delivery software. A message "
                "that you sent could not be delivered to one or more of its recipients."
            ),
        ),
    ),
    hit(
        "bounce_text",
        "Lotus Domino",
        mail(
            subject="DELIVERY FAILURE: User Jan (jan@example.jp) not listed in Domino Directory",
            text_sample=(
                "Your message Subject: Test was not delivered to: jan@example.jp because: "
                "User Jan (jan@example.jp) not listed in Domino Directory"
            ),
        ),
    ),
    hit(
        "bounce_text",
        "Dutch Exchange NDR text",
        mail(
            subject="Onbestelbaar: Vraag",
            text_sample="Uw bericht heeft sommige of alle geadresseerden niet bereikt. 550 5.1.1 ...",
        ),
    ),
    hit(
        "bounce_text",
        "Postfix delay warning",
        mail(
            subject="Delayed Mail (still being retried)",
            text_sample="This is the mail system at host mx.example.org. ... will be retried",
        ),
    ),
    hit(
        "bounce_text",
        "German subject with an SMTP status code",
        mail(subject="Unzustellbar: Anfrage", text_sample="Remote Server returned '550 5.1.1 ...'"),
    ),
    hit(
        "bounce_text",
        "boilerplate alone, subject of the original",
        mail(
            subject="Vraag over mijn woning",
            text_sample="Hi. This is the qmail-send program at mx.example.org. I'm afraid ...",
        ),
    ),
    hit(
        "bounce_text",
        "a generic subject form with a technical clue",
        mail(
            subject="Delivery Status Notification (Failure)",
            text_sample="Delivery to the following recipient failed permanently: 550 5.1.1 user unknown",
        ),
    ),
    hit(
        "bulk_sender",
        "SES with one-click unsubscribe",
        mail(
            ("X-SES-Outgoing", "2026.11.27-54.240.1.1"),
            ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"),
            sender=Address("nieuws@winkel.example"),
        ),
    ),
    hit(
        "bulk_sender",
        "campaign header and VERP return path",
        mail(
            ("X-CampaignID", "2026-11-black-friday"),
            return_path="nb-7731-klantcontact=woonservice.example@em.winkel.example",
            recipients=(Address("klantcontact@woonservice.example"),),
            sender=Address("aanbiedingen@winkel.example"),
        ),
    ),
    hit("meeting_message", "iMIP request", mail(content_type="text/calendar; method=request")),
    hit(
        "meeting_message",
        "reply part",
        mail(part_types=("text/plain", "text/calendar; method=reply")),
    ),
    hit("meeting_message", "cancellation", mail(part_types=("text/calendar; method=CANCEL",))),
    hit("meeting_message", "Exchange class", mail(item_class="IPM.Schedule.Meeting.Resp.Pos")),
    hit(
        "meeting_message",
        "Outlook content class",
        mail(("Content-Class", "urn:content-classes:calendarmessage")),
    ),
    hit("message_recall", "Outlook recall", mail(item_class="IPM.Outlook.Recall")),
    *[
        hit("auto_reply_subject", subject, mail(subject=subject))
        for subject in (
            "Automatisch antwoord: Lekkage",
            "Afwezig: uw vraag",
            "Afwezig",
            "Niet aanwezig: reparatie",
            "Afwezigheidsmelding",
            "Automatic reply: Leak",
            "Auto-Reply: your question",
            "AutoReply",
            "Out of Office: your question",
            "Out of Office AutoReply: your question",
            "[Out of office] until Monday",
            "Automatische Antwort: Ihre Anfrage",
            "Abwesenheitsnotiz: Ihre Anfrage",
            "Abwesend: Ihre Anfrage",
            "Réponse automatique : Demande",
            "Re\u0301ponse automatique : decomposed accent",
            "Absence du bureau: demande",
            "Absent(e) du bureau - demande",
        )
    ],
    hit("spam", "SCL at the threshold", mail(spam_confidence=5)),
    hit("spam", "SCL from the header", mail(("X-MS-Exchange-Organization-SCL", " 7 "))),
    hit("spam", "gateway flag", mail(("X-Spam-Flag", "YES"))),
    hit("no_sender", "no From", mail(sender=None)),
    hit("no_sender", "From without a domain", mail(sender=Address("undisclosed-recipients"))),
    hit("no_sender", "From with a dotless domain", mail(sender=Address("jan@localhost"))),
    hit(
        "callback_request",
        "a colleague books a callback",
        mail(sender=Address("a.bakker@woonservice.example"), subject="Terugbelverzoek"),
        policy=CALLBACK_POLICY,
    ),
    hit(
        "callback_request",
        "the booker's corrected form, as a reply",
        mail(
            sender=Address("a.bakker@team.woonservice.example"),
            subject="RE: terugbelverzoek: mevr. Jansen",
        ),
        policy=CALLBACK_POLICY,
    ),
    hit("internal_sender", "colleague", mail(sender=Address("j.devries@woonservice.example"))),
    hit(
        "internal_sender",
        "colleague on a subdomain",
        mail(sender=Address("a@team.woonservice.example")),
    ),
    hit(
        "conversation_already_acknowledged",
        "second mail in a thread",
        mail(),
        history=ScreeningHistory(conversation_acknowledged=True),
    ),
    hit(
        "sender_daily_limit",
        "fourth today",
        mail(),
        history=ScreeningHistory(sender_acknowledged_today=3),
    ),
    hit(
        "global_hourly_cap",
        "cap reached",
        mail(),
        history=ScreeningHistory(acknowledged_last_hour=200),
    ),
    hit(
        "unanswerable",
        "a local part longer than 64 characters",
        mail(sender=Address("p" * 65 + "@example.nl")),
    ),
    hit(
        "unanswerable",
        "an internationalised address (RFC 6531)",
        mail(sender=Address("jürgen@müller.example")),
    ),
]

MISSES = [
    miss("already_handled", "no marker on the item", mail(), history=ScreeningHistory(marker=None)),
    miss(
        "duplicate_message",
        "nothing recorded with this Message-ID",
        mail(message_id="<a@example.org>"),
        history=ScreeningHistory(earlier_reason=None),
    ),
    miss(
        "own_message",
        "a look-alike domain",
        mail(sender=Address("klantcontact@woonservice-example.nl")),
    ),
    miss(
        "own_message",
        "Message-ID of a longer domain",
        mail(message_id="<1@notwoonservice.example>"),
    ),
    miss(
        "own_message",
        "a colleague's Exchange server subdomain in the Message-ID",
        mail(
            sender=Address("j.devries@woonservice.example"),
            message_id="<a@ex01.woonservice.example>",
        ),
        "internal_sender",
    ),
    miss(
        "own_rule_forward",
        "our mailbox's rule auto-reply is not a forward",
        mail(
            OWN_LOOP,
            ("Auto-Submitted", "auto-generated"),
            sender=Address("info@woonservice.example"),
        ),
        "auto_submitted",
    ),
    miss(
        "own_rule_forward",
        "a colleague forwarding by hand (no rule stamp)",
        mail(sender=Address("j.devries@woonservice.example"), subject="FW: vraag"),
        "internal_sender",
    ),
    miss(
        "callback_request",
        "a tenant asking for a callback is a person",
        mail(subject="Terugbelverzoek: graag vandaag"),
        policy=CALLBACK_POLICY,
    ),
    miss(
        "callback_request",
        "the keyword inside another word is no booking",
        mail(sender=Address("a.bakker@woonservice.example"), subject="Terugbelverzoeken van mei"),
        "internal_sender",
        policy=CALLBACK_POLICY,
    ),
    miss(
        "callback_request",
        "no keyword configured: a colleague's mail stays a colleague's",
        mail(sender=Address("a.bakker@woonservice.example"), subject="Terugbelverzoek"),
        "internal_sender",
    ),
    miss("auto_submitted", "Auto-Submitted: no", mail(("Auto-Submitted", "no"))),
    miss("auto_submitted", "'No' with a comment", mail(("Auto-Submitted", " No ; by hand"))),
    miss(
        "auto_submitted",
        "a tenant's mail redirected by our own inbox rule",
        mail(
            OWN_LOOP,
            ("Resent-From", "<info@woonservice.example>"),
            ("X-MS-Exchange-Generated-Message-Source", "Mailbox Rules Agent"),
            ("Auto-Submitted", "auto-generated"),
            ("X-Auto-Response-Suppress", "All"),
        ),
    ),
    miss(
        "auto_submitted",
        "redirected by our own rule without Resent-From",
        mail(OWN_LOOP, ("Auto-Submitted", "auto-forwarded")),
    ),
    miss(
        "read_receipt",
        "a person asking for a receipt, subject 'Read:'",
        mail(
            ("Disposition-Notification-To", "<m.jansen@gmail.example>"), subject="Read: my letter"
        ),
    ),
    miss(
        "read_receipt",
        "'Gelezen:' subject without a report",
        mail(subject="Gelezen: uw brief, maar ik heb een vraag"),
    ),
    miss(
        "delivery_report",
        "a person forwarding a bounce as an attachment",
        mail(
            content_type="multipart/mixed",
            part_types=("text/plain", "message/rfc822"),
            subject="Fwd: Undeliverable",
        ),
    ),
    miss("null_return_path", "absent Return-Path", mail(return_path=None)),
    miss("null_return_path", "a person's Return-Path", mail(return_path="m.jansen@gmail.example")),
    miss(
        "failed_recipients",
        "words in the subject",
        mail(subject="Failed recipients in your letter?"),
    ),
    *[
        miss("machine_sender", f"person {address}", mail(sender=Address(address)))
        for address in (
            "noreen@example.nl",
            "bounty@example.nl",
            "replies@example.nl",
            "info@example.nl",
            "owner@example.nl",
            "antwoord@example.nl",
            "postmasters.family@example.nl",
        )
    ],
    *[
        miss("machine_sender", f"person look-alike {address}", mail(sender=Address(address)))
        for address in (
            "n0reen@example.nl",  # noreen, not noreply
            "postrnan@example.nl",  # postman
            "marnix@example.nl",
            "jan.n0rep1y@example.nl",  # a person's name that merely contains it
            "no-rep@example.nl",
        )
    ],
    miss(
        "auto_reply_header",
        "suppress only receipts",
        mail(("X-Auto-Response-Suppress", "DR, NDR, RN, NRN")),
    ),
    miss("auto_reply_header", "X-Autoreply: no", mail(("X-Autoreply", "no"))),
    miss("bulk_precedence", "first-class", mail(("Precedence", "first-class"))),
    miss("bulk_precedence", "normal", mail(("X-Precedence", "normal"))),
    miss(
        "mailing_list",
        "a private reply to a list message",
        mail(("In-Reply-To", "<list-msg@lists.example>"), subject="Re: [bewoners] parkeren"),
    ),
    miss(
        "mailing_list",
        "a Delivered-To of the mailbox itself",
        mail(("Delivered-To", "klantcontact@woonservice.example")),
    ),
    miss(
        "list_manager",
        "a role mailbox -admin of a company, no list wording",
        mail(
            sender=Address("verhuur-admin@makelaar.example"),
            subject="Sleuteloverdracht Dorpsstraat 4",
            text_sample="Goedemiddag, de sleutels kunnen maandag worden opgehaald.",
        ),
    ),
    miss(
        "list_manager",
        "a person mentioning a mailing list",
        mail(subject="Graag van de mailing list af", text_sample="Ik wil geen nieuwsbrief meer."),
    ),
    miss(
        "complaint_report",
        "a tenant's complaint about a message",
        mail(
            subject="Complaint about message from your colleague",
            text_sample="I am not happy with the message I got yesterday.",
        ),
    ),
    miss(
        "aggregate_report",
        "a tenant sending a zip with 'report' in the subject",
        mail(subject="Report of the damage", part_types=("text/plain", "application/zip")),
    ),
    miss(
        "challenge_response",
        "a tenant asking to confirm that the mail arrived",
        mail(
            subject="Bevestiging",
            text_sample="Kunt u bevestigen dat mijn bericht is aangekomen? Verify your address please.",
        ),
    ),
    miss(
        "auto_reply_subject",
        "a subject about a car ('auto')",
        mail(subject="Auto: parkeerplaats achter de flat"),
    ),
    miss(
        "auto_reply_text",
        "a tenant announcing an absence (no words about the mail)",
        mail(
            subject="Re: Afspraak monteur",
            text_sample="Ik ben afwezig van 3 tot 12 december. Kan de monteur daarna komen?",
        ),
    ),
    miss(
        "auto_reply_text",
        "an absence notice's words, but a fresh subject",
        mail(
            subject="Lekkage badkamer",
            text_sample="I am on holiday, so I will not be read... will not be read until",
        ),
    ),
    miss(
        "bounce_text",
        "a tenant forwarding a bounce (Fwd:)",
        mail(
            subject="Fwd: Undeliverable: Vraag",
            text_sample=(
                "Mijn mail kwam terug, wat nu? ---------- Forwarded message --------- "
                "Delivery has failed to these recipients or groups: 550 5.1.1 user unknown"
            ),
        ),
    ),
    miss(
        "bounce_text",
        "a tenant whose subject mentions a bounce, not at the start",
        mail(
            subject="Mijn mail was onbestelbaar",
            text_sample="Ik kreeg 550 5.1.1 user unknown terug toen ik mijn buurman mailde.",
        ),
    ),
    miss(
        "bounce_text",
        "a report's subject form without any delivery clue",
        mail(
            subject="Returned mail of the previous tenant",
            text_sample="Er ligt nog post van de vorige huurder.",
        ),
    ),
    miss(
        "bounce_text",
        "a parcel's delivery status, told by a tenant",
        mail(
            subject="Delivery status of my parcel",
            text_sample="The delivery failed twice and the parcel could not be delivered. Can you help?",
        ),
    ),
    miss(
        "bulk_sender",
        "a person on Amazon WorkMail (one service, seen twice)",
        mail(
            ("X-SES-Outgoing", "2026.11.27-54.240.1.1"),
            ("Feedback-ID", "::1.us-east-1.abc=:AmazonSES"),
            ("X-Mailer", "Amazon WorkMail"),
            return_path="0100018c-abc-000000@amazonses.com",
        ),
    ),
    miss(
        "bulk_sender",
        "a person on Proton Mail",
        mail(("Feedback-ID", "47010692:user:proton"), ("X-Pm-Message-ID", "577b3147")),
    ),
    miss(
        "meeting_message",
        "an .ics the tenant attached (PUBLISH)",
        mail(part_types=("text/plain", "text/calendar; method=publish")),
    ),
    miss("meeting_message", "a calendar part without method", mail(part_types=("text/calendar",))),
    miss("message_recall", "an ordinary item", mail(item_class="IPM.Note")),
    *[
        miss("auto_reply_subject", subject, mail(subject=subject))
        for subject in (
            "Re: out of office hours question",
            "Out of office hours: when can I call?",
            "Afwezig tijdens de reparatie",
            "Niet aanwezig bij de oplevering",
            "Vraag over afwezigheid",
            "Absent tenant next door",
        )
    ],
    miss("spam", "SCL below the threshold", mail(spam_confidence=4)),
    miss(
        "spam",
        "SCL -1 is trusted even at threshold 0",
        mail(spam_confidence=-1),
        policy=ScreeningPolicy(spam_threshold=0),
    ),
    miss("spam", "gateway says no", mail(("X-Spam-Flag", "NO"))),
    miss("no_sender", "an ordinary address", mail(sender=Address("a@b.example"))),
    miss(
        "internal_sender",
        "colleagues acknowledged by policy",
        mail(sender=Address("j.devries@woonservice.example")),
        policy=ScreeningPolicy(
            internal_domains=frozenset({"woonservice.example"}), acknowledge_internal=True
        ),
    ),
    miss(
        "internal_sender",
        "a longer look-alike domain",
        mail(sender=Address("a@woonservice.example.com")),
    ),
    miss("conversation_already_acknowledged", "a new conversation", mail()),
    miss(
        "sender_daily_limit",
        "third today",
        mail(),
        history=ScreeningHistory(sender_acknowledged_today=2),
    ),
    miss(
        "global_hourly_cap",
        "one below the cap",
        mail(),
        history=ScreeningHistory(acknowledged_last_hour=199),
    ),
    miss(
        "unanswerable",
        "a Reply-To in our own domain falls back to the valid sender",
        mail(("Reply-To", "klantcontact@woonservice.example")),
    ),
]


@pytest.mark.parametrize("case", HITS, ids=lambda c: f"{c.rule}: {c.title}")
def test_rule_hits(case: Case) -> None:
    verdict = screen(case.message, case.policy, case.history)

    assert (verdict.reason, verdict.rule) == (case.reason, case.rule), verdict.detail
    assert verdict.acknowledge is False
    assert verdict.detail


@pytest.mark.parametrize("case", MISSES, ids=lambda c: f"{c.rule}: {c.title}")
def test_rule_narrowly_misses(case: Case) -> None:
    verdict = screen(case.message, case.policy, case.history)

    assert verdict.reason == case.reason, verdict.detail
    assert verdict.acknowledge == (case.reason == "person")


def test_every_rule_has_a_hit_and_a_narrow_miss() -> None:
    rules = [rule.name for rule in RULES]

    assert sorted({c.rule for c in HITS}) == sorted(rules)
    assert sorted({c.rule for c in MISSES}) == sorted(rules)


def test_a_person_is_acknowledged_and_told_why() -> None:
    verdict = screen(mail(), POLICY)

    assert verdict.acknowledge is True
    assert verdict.reason == "person"
    assert "m.jansen@gmail.example" in verdict.detail


def test_the_redirect_exception_is_explained_in_the_verdict() -> None:
    message = mail(
        OWN_LOOP, ("Resent-From", "info@woonservice.example"), ("Auto-Submitted", "auto-generated")
    )

    verdict = screen(message, POLICY)

    assert verdict.acknowledge is True
    assert "inbox rule of our own mailbox info@woonservice.example" in verdict.detail


def test_the_global_cap_asks_for_an_alert() -> None:
    capped = screen(mail(), POLICY, ScreeningHistory(acknowledged_last_hour=200))
    limited = screen(mail(), POLICY, ScreeningHistory(sender_acknowledged_today=3))

    assert capped.global_cap_reached is True
    assert limited.global_cap_reached is False


def test_a_machine_is_named_for_what_it_is_even_when_a_limit_is_reached() -> None:
    verdict = screen(
        mail(("Precedence", "bulk")), POLICY, ScreeningHistory(acknowledged_last_hour=999)
    )

    assert verdict.reason == "bulk_precedence"


def test_the_table_has_unique_names_and_reads_like_a_policy() -> None:
    names = [rule.name for rule in RULES]

    assert len(names) == len(set(names))
    assert names[:3] == ["already_handled", "duplicate_message", "own_message"]
    assert names[-4:] == [
        "conversation_already_acknowledged",
        "sender_daily_limit",
        "global_hourly_cap",
        "unanswerable",
    ]
    assert all(rule.summary for rule in RULES)


def test_a_rule_that_breaks_does_not_acknowledge(monkeypatch: pytest.MonkeyPatch) -> None:
    from topcontact_mail.domain.screening import chain
    from topcontact_mail.domain.screening.model import Rule

    def broken(*_: object) -> str | None:
        raise RuntimeError("bug")

    monkeypatch.setattr(chain, "RULES", (Rule("broken", "broken", "always fails", broken),))

    verdict = chain.screen(mail(), POLICY)

    assert (verdict.acknowledge, verdict.reason, verdict.rule) == (
        False,
        "screening_error",
        "broken",
    )


def test_policy_from_settings_counts_the_shared_mailbox_as_ours() -> None:
    settings = ScreeningSettings(
        internal_domains=["Corp.Woonservice.example"],
        own_addresses=["Scanner@Woonservice.example"],
        spam_threshold=6,
    )

    policy = ScreeningPolicy.from_settings(settings, "KlantContact@Woonservice.example")

    assert policy.own_addresses == {
        "klantcontact@woonservice.example",
        "scanner@woonservice.example",
    }
    assert policy.own_domains == {"woonservice.example"}
    assert policy.internal_domains == {"corp.woonservice.example", "woonservice.example"}
    assert (policy.spam_threshold, policy.per_sender_per_day, policy.global_per_hour) == (6, 3, 200)
    assert policy.acknowledge_internal is False


def test_the_domain_does_not_need_the_configuration_at_runtime() -> None:
    code = (
        "import sys, topcontact_mail.domain.screening as s; "
        "sys.exit('topcontact_mail.config' in sys.modules or 'pydantic' in sys.modules)"
    )

    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False
    )

    assert result.returncode == 0, result.stderr


def test_the_admin_documentation_lists_every_rule_in_order() -> None:
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[3] / "docs" / "screening.md").read_text(
        encoding="utf-8"
    )
    positions = [doc.find(f"| `{rule.name}` |") for rule in RULES]

    assert -1 not in positions
    assert positions == sorted(positions)


def test_the_admin_documentation_explains_every_reason_code() -> None:
    from pathlib import Path

    from topcontact_mail.domain.screening.reasons import Reason

    doc = (Path(__file__).resolve().parents[3] / "docs" / "screening.md").read_text(
        encoding="utf-8"
    )

    assert [r.value for r in Reason if f"| `{r.value}` |" not in doc] == []
