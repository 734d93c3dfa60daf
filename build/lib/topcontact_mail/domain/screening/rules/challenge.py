"""Rule `challenge_response`: a sender-verification request from a challenge-response spam filter.

Services such as Boxbe, SpamArrest, TMDA, ChoiceMail and Bluebottle hold a
message until its sender proves to be a person ("click here to verify that
you are human and your message will be delivered"). Answering them confirms
our address to a machine and can start a loop between two automatons.

It decides on the challenge programs' own headers, or on wording that asks
to verify a *sender* together with wording that a *message is held*; a
tenant asking us to confirm that their message arrived says neither.
"""

from __future__ import annotations

from topcontact_mail.domain.message import IncomingMessage
from topcontact_mail.domain.screening.evidence import (
    body_text,
    domain_of,
    in_domains,
    phrase_pattern,
    phrases,
    plain_text,
    sender_address,
    shown,
)
from topcontact_mail.domain.screening.model import ScreeningHistory, ScreeningPolicy

_CHALLENGE_HEADERS = (
    "X-Bluebottle-Request",
    "X-TMDA-Confirm-Done",
    "X-Spam-Arrest",
    "X-Boxbe-Challenge",
)
_CHALLENGE_AGENTS = ("tmda", "choicemail", "spamarrest", "mailblocks", "boxbe", "bluebottle")
_CHALLENGE_DOMAINS = frozenset({"boxbe.com", "spamarrest.com", "choicemail.com", "mailblocks.com"})
#: Asking the sender to prove to be a person, or to verify their address.
_VERIFY = phrase_pattern(
    phrases(
        """
        verify that you are human
        verify that you are a human
        verify that you are a person
        verify that you are a real person
        verify you are human
        verify you are a human
        prove that you are human
        prove you are human
        prove that you are a person
        confirm that you are human
        confirm that you are a human
        confirm that you are a person
        confirm you are human
        not a robot
        not a spammer
        sender verification
        verify your email address
        verify your e-mail address
        verify your address
        confirm your email address
        confirm your e-mail address
        challenge-response
        approved senders
        guest list
        whitelist
        bevestig dat u een mens bent
        bevestig dat u geen robot bent
        geen robot bent
        verifieer uw e-mailadres
        bevestig uw e-mailadres
        bestatigen sie, dass sie ein mensch sind
        bestatigen sie ihre e-mail-adresse
        kein roboter
        confirmer que vous etes humain
        confirmer que vous etes une personne
        confirmez votre adresse
        prouver que vous etes humain
        """
    )
)
#: Saying that the message waits for that verification.
_HELD = phrase_pattern(
    phrases(
        """
        your message is being held
        your message has been held
        your message is held
        your message is pending
        your message is waiting
        your email is being held
        your email is pending
        your e-mail is being held
        your e-mail is pending
        has been quarantined
        will be delivered once
        will be delivered after
        will be delivered when
        will not be delivered until
        before your message is delivered
        before your message can be delivered
        before your email is delivered
        before it is delivered
        to have your message delivered
        to deliver your message
        uw bericht wordt vastgehouden
        uw bericht is vastgehouden
        uw e-mail wordt vastgehouden
        wordt afgeleverd zodra
        wordt pas afgeleverd
        ihre nachricht wird zuruckgehalten
        ihre nachricht wurde zuruckgehalten
        wird zugestellt, sobald
        erst zugestellt
        votre message est en attente
        votre message a ete retenu
        sera distribue des que
        sera remis des que
        """
    )
)


def challenge_response(
    message: IncomingMessage, policy: ScreeningPolicy, history: ScreeningHistory
) -> str | None:
    for name in _CHALLENGE_HEADERS:
        value = message.header(name)
        if value is not None:
            return f"{name}: {shown(value) or '(empty)'} (challenge-response filter)"
    agent = " ".join(
        message.header_values("X-Delivery-Agent") + message.header_values("X-Mailer")
    ).lower()
    for name in _CHALLENGE_AGENTS:
        if name in agent:
            return f"sent by the challenge-response program {name!r}"
    sender = sender_address(message)
    if in_domains(domain_of(sender), _CHALLENGE_DOMAINS):
        return f"From {sender}: a challenge-response service"
    text = f"{plain_text(message.subject)} {body_text(message)}"
    verify = _VERIFY.search(text)
    held = _HELD.search(text)
    if verify is None or held is None:
        return None
    return (
        f"asks the sender to verify ({verify.group(0)!r}) before a held message is delivered "
        f"({held.group(0)!r})"
    )
