"""Rule `bounce_text`: a non-delivery report or delay warning written as plain text.

Many mail servers and gateways (Exim, Lotus Domino, GroupWise, IMail, virus and
spam gateways, providers' own software) send their bounces and delay warnings
without a `message/delivery-status` part, sometimes from an ordinary-looking
address and without a null return path. What they cannot hide is how they
read: a subject in the fixed form of such reports and a body in the fixed
phrasing of delivery software.

Two ways to decide, both conservative:

- the subject **starts** with a report's fixed form ("Undeliverable:", "Mail
  delivery failed", "Onbestelbaar:", "Unzustellbar:", "Non remis", "Delivery
  Status Notification (Delay)", ...) **and** the body holds a delivery clue
  (an SMTP status code, "user unknown", "could not be delivered", "original
  message follows", ...);
- the **start** of the body is delivery software's own boilerplate ("This
  message was created automatically by mail delivery software", "This is the
  mail system at host", "Hi. This is the qmail-send program", ...), and the
  subject is not a person's forward or reply.

A tenant who writes "Mijn mail was onbestelbaar" (not at the start as a
report's form) or who forwards a bounce ("Fwd: Undeliverable", the
boilerplate quoted below the tenant's own words) is still answered.
"""

from __future__ import annotations

import re

from topcontact_mail.domain.message import IncomingMessage
from topcontact_mail.domain.screening.evidence import (
    body_start,
    body_text,
    forwarded_or_replied,
    phrase_pattern,
    phrases,
    plain_text,
    shown,
)
from topcontact_mail.domain.screening.model import ScreeningHistory, ScreeningPolicy

#: Subjects of non-delivery reports, matched at the start (after an optional "[tag]").
_FAILURE_SUBJECTS = phrases(
    """
    undeliverable                      # Exchange, Outlook.com, IMail, many gateways
    undelivered mail                   # Postfix: Undelivered Mail Returned to Sender
    undeliverable mail
    undeliverable message              # Lotus Notes SMTP MTA
    returned mail                      # sendmail, Lotus, many
    mail delivery failed               # Exim: Mail delivery failed: returning message to sender
    mail failed
    message delivery has failed
    email delivery failure
    e-mail delivery failure
    sorry, your message could not be delivered
    your message could not be delivered
    postfix smtp server: errors from   # Postfix's notice to the postmaster
    mail delivery failure
    mail delivery error
    mail system error
    delivery failure                   # Lotus Domino: DELIVERY FAILURE: User x not listed
    delivery failed
    delivery has failed
    delivery status notification       # Gmail, Sendmail, Exchange 2003 and others
    delivery notification
    delivery report
    delivery status
    failure notice                     # qmail
    failure delivery
    failed delivery
    failed mail
    permanent delivery failure
    message delivery failure
    message not delivered
    message could not be delivered
    mail could not be delivered
    message status - undeliverable     # GroupWise
    nondeliverable mail
    non-delivery report
    non-delivery notification
    ndn:
    there was an error sending your mail
    returned to sender
    message you sent blocked
    onbestelbaar                       # Dutch Exchange
    niet bestelbaar
    onbestelbare
    niet afgeleverd
    bezorging mislukt
    bericht kon niet worden bezorgd
    fout bij bezorging
    unzustellbar                       # German Exchange
    nicht zustellbar
    unzustellbare nachricht
    zustellung fehlgeschlagen
    fehler bei der zustellung
    benachrichtigung zum zustellstatus
    non remis                          # French Exchange
    non distribuable
    non delivre
    echec de la remise
    echec de remise
    message non remis
    erreur de distribution
    """
)
#: Subjects of delay warnings: not (yet) a failure, still a machine's report.
_DELAY_SUBJECTS = phrases(
    """
    delayed mail                       # Postfix: Delayed Mail (still being retried)
    delivery delayed                   # Exchange
    delivery delay
    delayed delivery
    delivery status notification (delay)
    warning: could not send message    # sendmail: Warning: could not send message for past 4 hours
    warning--could not send
    warning: message                   # Exim: Warning: message 1abc-... delayed 24 hours
    delivery delayed notification
    delivery delayed:
    vertraagde bezorging               # Dutch
    bezorging vertraagd
    vertraging bij bezorging
    zustellung verzogert               # German (ö folded)
    verzogerte zustellung
    ubermittlung verzogert
    remise differee                    # French
    remise retardee
    distribution differee
    """
)
_SUBJECT_RE = re.compile(
    r"^[\s*]*(?:\[[^\]]{0,40}\]\s*)?(?:"
    + "|".join(
        re.escape(p) for p in sorted(_FAILURE_SUBJECTS + _DELAY_SUBJECTS, key=len, reverse=True)
    )
    + r")"
)
_DELAY_RE = re.compile("|".join(re.escape(p) for p in _DELAY_SUBJECTS))
#: Forms that could also head a parcel's or a service's news ("Delivery status of my parcel"):
#: these need a clue only mail delivery gives (a status code, "user unknown", "Remote-MTA", ...).
_GENERIC_SUBJECT = re.compile(
    r"^[\s*]*(?:\[[^\]]{0,40}\]\s*)?(?:"
    + "|".join(
        re.escape(p)
        for p in phrases(
            """
            delivery status
            delivery report
            delivery failed
            delivery failure
            delivery has failed
            delivery notification
            delivery delay
            delivery delayed
            delayed delivery
            failed delivery
            failure delivery
            permanent delivery failure
            returned to sender
            bezorging mislukt
            bezorging vertraagd
            vertraagde bezorging
            vertraging bij bezorging
            fout bij bezorging
            zustellung fehlgeschlagen
            fehler bei der zustellung
            zustellung verzogert
            verzogerte zustellung
            echec de la remise
            echec de remise
            remise differee
            remise retardee
            distribution differee
            erreur de distribution
            """
        )
    )
    + r")(?!\s*(?:status\s*)?notification)"
)

#: Clues in the body that a delivery was attempted and failed or is delayed.
_CLUES = phrase_pattern(
    phrases(
        """
        user unknown
        unknown user
        no such user
        mailbox unavailable
        mailbox not found
        mailbox is full
        over quota
        recipient address rejected
        address rejected
        could not be delivered
        couldn't be delivered
        was not delivered
        cannot be delivered
        can't be delivered
        has not been delivered
        has not yet been delivered
        not yet been delivered
        could not deliver
        unable to deliver
        delivery has failed
        delivery to the following
        following recipients
        following address
        failed recipient
        permanent error
        permanent failure
        temporary failure
        will be retried
        still being retried
        will continue to try
        delivery attempts will continue
        original message follows
        returned message
        transcript of session
        failure reasons
        remote server returned
        diagnostic-code
        final-recipient
        reporting-mta
        remote-mta
        message headers follow
        below this line is a copy of the message
        could not be reached
        address not found
        wasn't delivered
        was not able to be delivered
        couldn't be found
        could not be found
        no valid recipients
        failed addresses
        unknown host
        host not found
        does not exist
        doesn't exist
        attempting to deliver
        automatically rejected
        delivery status
        delivery failed
        delivery failure
        message log follows
        copy of the original message
        niet worden afgeleverd
        kon niet worden bezorgd
        kan niet worden bezorgd
        is niet bezorgd
        onbekende gebruiker
        postvak is vol
        konnte nicht zugestellt werden
        nicht zugestellt
        unbekannter empfanger
        n'a pas pu etre remis
        n'a pas pu etre distribue
        destinataire inconnu
        """
    )
)
#: Clues only mail delivery gives, never a parcel service or a tenant's story.
_TECHNICAL = phrase_pattern(
    phrases(
        """
        user unknown
        unknown user
        no such user
        mailbox unavailable
        mailbox not found
        recipient address rejected
        diagnostic-code
        final-recipient
        reporting-mta
        remote-mta
        transcript of session
        original message follows
        message headers follow
        remote server returned
        failed recipient
        no valid recipients
        unknown host
        host not found
        not listed in
        domino directory
        message-id:
        received: from
        smtp
        """
    )
)
#: SMTP enhanced status codes (RFC 3463) and reply codes as delivery software prints them.
_STATUS_CODE = re.compile(r"(?<![\w.])(?:[45]\.\d{1,3}\.\d{1,3}|[45]\d\d[ -][45]\.\d)(?![\w])")

#: Boilerplate that only delivery software writes, at the start of its report.
_BOILERPLATE = phrase_pattern(
    phrases(
        """
        this message was created automatically by mail delivery software   # Exim
        this message was created automatically by                           # Exim-like gateways
        this is the mailer-daemon                                           # OpenSMTPD
        this report relates to a message you sent                           # Sun/Oracle Messaging Server
        this is the mail server on                                          # PowerMTA
        your message wasn't delivered to                                    # Gmail
        ** address not found **                                             # Gmail
        this is the mail system at host                                     # Postfix
        this is the qmail-send program at                                   # qmail
        i'm afraid i wasn't able to deliver your message                    # qmail variants
        i'm sorry to have to inform you that your message could not         # Yahoo, Sendmail variants
        the original message was received at                                # Sendmail
        your message did not reach some or all of the intended recipients  # Exchange 2000/2003
        delivery has failed to these recipients or groups                   # Exchange 2007+
        delivery to the following recipients failed                         # Exchange, Gmail
        delivery to the following recipient failed                          # Gmail
        delivery to the following recipient has been delayed                # Gmail delay
        delivery is delayed to these recipients or groups                   # Exchange delay
        this is an automatically generated delivery status notification     # many
        this is a delivery status notification
        this is an automatically generated message from the mail delivery
        this is the mail delivery agent at
        this is the postfix program at
        message from interscan messaging security suite                    # Trend Micro
        the following message could not be delivered
        your message could not be delivered
        your message could not be sent
        your message was not delivered
        the message that you sent was undeliverable                         # GroupWise
        a message that you sent could not be delivered                      # Exim variants
        a message that you sent has not yet been delivered                  # Exim delay warning
        unable to deliver message to the following address                  # Yahoo, qmail variants
        sorry, we were unable to deliver your message
        we had trouble delivering your message
        your mail message to the following address(es) could not be delivered
        ------- failure reasons --------                                    # Lotus Notes SMTP MTA
        deze melding is automatisch gemaakt door de e-mailbezorgsoftware    # Dutch Exim-style
        dit bericht is automatisch aangemaakt door de mailserver
        uw bericht heeft sommige of alle geadresseerden niet bereikt         # Dutch Exchange
        uw bericht is niet bezorgd
        diese nachricht wurde automatisch vom e-mail-zustellsystem          # German
        ihre nachricht hat einige oder alle empfanger nicht erreicht         # German Exchange
        ihre nachricht konnte nicht zugestellt werden
        votre message n'a pas pu etre remis                                 # French
        votre message n'a pas atteint certains ou la totalite de ses destinataires  # French Exchange
        ce message a ete cree automatiquement par le logiciel de distribution
        """
    )
)


def bounce_text(
    message: IncomingMessage, policy: ScreeningPolicy, history: ScreeningHistory
) -> str | None:
    subject = plain_text(message.subject)
    if forwarded_or_replied(message.subject):
        # A person passing on (or answering about) a bounce: their own words come first.
        return None
    if match := _SUBJECT_RE.match(subject):
        clue = _clue(message, technical=_GENERIC_SUBJECT.match(subject) is not None)
        if clue:
            kind = "delay warning" if _DELAY_RE.search(match.group(0)) else "non-delivery report"
            return (
                f"{kind}: subject {shown(message.subject)!r} is a delivery report's form "
                f"and the body says {clue!r}"
            )
    if boilerplate := _BOILERPLATE.search(body_start(message)):
        return f"the body starts with delivery software's text {boilerplate.group(0)!r}"
    return None


def _clue(message: IncomingMessage, *, technical: bool) -> str | None:
    """A delivery clue in the body; only technical ones when the subject could be a parcel's."""
    body = body_text(message)
    clues = (_TECHNICAL,) if technical else (_CLUES,)
    for pattern in (*clues, _STATUS_CODE, _BOILERPLATE):
        if found := pattern.search(body):
            return found.group(0)
    return None
