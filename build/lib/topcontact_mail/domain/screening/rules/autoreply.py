"""Rules `auto_reply_header`, `bulk_precedence`, `auto_reply_subject`, `auto_reply_text`: auto-replies.

Header markers are trusted first; the subject markers are a last resort for
autoresponders that set no header. Subject markers are matched at the start of
the subject only, and the ambiguous ones ("Afwezig", "Out of office") only when
followed by a colon, a bracket, a dash or nothing, so that a tenant writing
"Afwezig tijdens de reparatie" or "Re: out of office hours question" still gets
an answer. The body is the very last resort: an absence notice is recognised
only by an absence at the body's start, words about the mail itself and a
fitting subject together, since tenants tell us about their absence too.
"""

from __future__ import annotations

import re

from topcontact_mail.domain.message import IncomingMessage
from topcontact_mail.domain.screening.evidence import (
    body_start,
    body_text,
    first_token,
    forwarded_or_replied,
    phrase_pattern,
    phrases,
    plain_text,
    shown,
)
from topcontact_mail.domain.screening.model import ScreeningHistory, ScreeningPolicy
from topcontact_mail.domain.screening.rules.forwarding import redirected_by_own_rule

_AUTOREPLY_HEADERS = ("X-Autoreply", "X-Autorespond", "X-Autoresponder", "X-Mail-Autoreply")
_NEGATIVE = frozenset({"no", "false", "0", "off"})
#: X-Auto-Response-Suppress values (MS-OXCMAIL 2.2.3.2.14) that announce an auto-reply.
_SUPPRESS_AUTOREPLY = frozenset({"all", "autoreply", "oof"})
_AUTOREPLY_CLASSES = {
    "ipm.note.rules.ooftemplate.microsoft": "out-of-office reply",
    "ipm.note.rules.replytemplate.microsoft": "rule-generated reply",
}
_BULK = frozenset({"bulk", "list", "junk", "auto_reply", "auto-reply"})


def auto_reply_header(
    message: IncomingMessage, policy: ScreeningPolicy, history: ScreeningHistory
) -> str | None:
    for name in _AUTOREPLY_HEADERS:
        for value in message.header_values(name):
            if first_token(value) not in _NEGATIVE:
                return f"{name}: {shown(value) or '(empty)'}"
    item_class = (message.item_class or "").strip()
    kind = _AUTOREPLY_CLASSES.get(item_class.lower())
    if kind:
        return f"Exchange item class {item_class} ({kind})"
    if redirected_by_own_rule(message, policy):
        # Exchange adds the suppress header to what our own inbox rule passes on (forwarding.py).
        return None
    for value in message.header_values("X-Auto-Response-Suppress"):
        tokens = {token.strip().lower() for token in value.split(",")}
        if tokens & _SUPPRESS_AUTOREPLY:
            return f"X-Auto-Response-Suppress: {shown(value)} (sent by an automatic responder)"
    return None


def bulk_precedence(
    message: IncomingMessage, policy: ScreeningPolicy, history: ScreeningHistory
) -> str | None:
    for name in ("Precedence", "X-Precedence"):
        for value in message.header_values(name):
            if first_token(value) in _BULK:
                return f"{name}: {shown(value)}"
    return None


# Phrases that mean "automatic reply" wherever they start the subject: the prefixes Exchange and
# Outlook write in each language (the sender's mailbox language), and other autoresponders' forms.
# Somali and Tigrinya have no Outlook localisation, so no standard form exists for them.
_CLEAR = phrases(
    """
    automatic reply                 # en: Exchange 2010+, Outlook.com
    auto reply
    auto-reply
    autoreply
    auto-response
    auto response
    autoresponse
    automatic response
    automated response
    automatisch antwoord            # nl
    automatisch bericht
    automatische antwoord
    automatische reactie
    afwezigheidsmelding
    afwezigheidsbericht
    automatische antwort            # de
    abwesenheitsnotiz
    abwesenheitsmeldung
    reponse automatique             # fr
    message d'absence
    respuesta automatica            # es
    risposta automatica             # it
    resposta automatica             # pt
    automatyczna odpowiedz          # pl
    automaticka odpoved             # cs
    automaticka odpoved             # sk (odpoveď)
    automatikus valasz              # hu
    raspuns automat                 # ro
    автоматичен отговор             # bg
    αυτοματη απαντηση               # el
    automatiskt svar                # sv
    automatisk svar                 # da
    automatisk svar                 # nb
    automaattinen vastaus           # fi
    automaatne vastus               # et
    automaatvastus
    automatiska atbilde             # lv
    automatinis atsakymas           # lt
    samodejni odgovor               # sl
    automatski odgovor              # hr
    freagra uathoibrioch            # ga
    twegiba awtomatika              # mt
    otomatik yanit                  # tr (I folded)
    otomatik yanıt                  # tr
    رد تلقائي                        # ar
    автоматична відповідь           # uk
    автоматический ответ            # ru
    """
)
# Phrases that also occur in ordinary subjects: only when nothing but a separator follows.
_AMBIGUOUS = phrases(
    """
    out of office
    out of the office
    out of office autoreply
    afwezig
    niet aanwezig
    niet op kantoor
    met vakantie
    abwesend
    nicht im buro
    absence du bureau
    absent du bureau
    absente du bureau
    absent(e) du bureau
    absent
    fuera de la oficina
    fuori ufficio
    fuori sede
    ausente do escritorio
    poza biurem
    ofiste degilim
    ofis disinda
    """
)
_LEAD = r"^[\s\[(]*"
_CLEAR_RE = re.compile(_LEAD + "(" + "|".join(re.escape(p) for p in _CLEAR) + r")(?!\w)")
_AMBIGUOUS_RE = re.compile(
    _LEAD + "(" + "|".join(re.escape(p) for p in _AMBIGUOUS) + r")\s*(?:$|[:\])\-–—])"
)
#: Lotus Notes: "AUTO: Jan Jansen is out of the office (returning 05-01-2027)", and its translations.
_LOTUS_RE = re.compile(
    r"^auto\s*:.*(?:"
    + "|".join(
        re.escape(p)
        for p in phrases(
            """
            is out of the office
            is away from the office
            is afwezig
            is niet aanwezig
            is niet op kantoor
            ist ausser haus
            ist außer haus
            ist abwesend
            ist nicht im buro
            est absent
            est absente
            n'est pas au bureau
            e fuori ufficio
            esta fuera de la oficina
            (returning
            (terug
            (ruckkehr
            (retour
            (rientro
            (regreso
            """
        )
    )
    + ")"
)


def auto_reply_subject(
    message: IncomingMessage, policy: ScreeningPolicy, history: ScreeningHistory
) -> str | None:
    subject = plain_text(message.subject)
    match = _CLEAR_RE.match(subject) or _AMBIGUOUS_RE.match(subject)
    if match is not None:
        return f"subject {shown(message.subject)!r} starts with the auto-reply marker {match.group(1)!r}"
    if _LOTUS_RE.match(subject):
        return f"subject {shown(message.subject)!r} is a Lotus Notes out-of-office notice"
    return None


#: How an absence notice starts (its first sentences); a person's absence alone is no auto-reply.
_ABSENCE = phrase_pattern(
    phrases(
        """
        i am out of the office
        i'm out of the office
        i am currently out of the office
        i will be out of the office
        i am out of office
        i'm currently out of office
        i am currently out of office
        i am away from the office
        i am currently away
        i am on vacation
        i am on holiday
        i am currently on holiday
        i am on annual leave
        i am currently on leave
        i am on leave
        i am on parental leave
        i am no longer working
        i no longer work
        this mailbox is no longer
        this e-mail address is no longer
        this email address is no longer
        ik ben afwezig
        ik ben momenteel afwezig
        ik ben niet aanwezig
        ik ben met vakantie
        ik ben op vakantie
        ik ben niet op kantoor
        ik ben met verlof
        ik ben momenteel niet bereikbaar
        ik ben niet werkzaam
        ik ben niet meer werkzaam
        dit e-mailadres is niet meer in gebruik
        ich bin nicht im buro
        ich bin derzeit nicht im buro
        ich bin abwesend
        ich bin derzeit abwesend
        ich bin im urlaub
        ich befinde mich im urlaub
        ich bin ausser haus
        ich bin außer haus
        ich bin nicht erreichbar
        je suis absent
        je suis absente
        je suis actuellement absent
        je serai absent
        je suis en conges
        je suis en vacances
        je ne suis pas au bureau
        estoy fuera de la oficina
        estoy de vacaciones
        sono fuori ufficio
        sono in ferie
        sono assente
        estou fora do escritorio
        estou de ferias
        estou ausente
        jestem poza biurem
        jestem na urlopie
        przebywam na urlopie
        ofis disindayim
        izindeyim
        sunt in concediu
        sunt in afara biroului
        """
    )
)
#: What an absence notice says about the mail itself; a tenant announcing an absence does not.
_MAIL_HANDLING = phrase_pattern(
    phrases(
        """
        limited access to e-mail
        limited access to email
        limited access to my e-mail
        limited access to my email
        no access to e-mail
        no access to email
        no access to my e-mail
        no access to my email
        without access to e-mail
        without access to email
        will not be forwarded
        will not be read
        will respond to your e-mail
        will respond to your email
        will respond to your message
        will reply to your e-mail
        will reply to your email
        will reply to your message
        will answer your e-mail
        will answer your email
        will answer your message
        will get back to you
        is no longer monitored
        not be monitored
        lees ik mijn e-mail niet
        lees ik mijn mail niet
        lees mijn e-mail niet
        lees mijn mail niet
        wordt niet doorgestuurd
        worden niet doorgestuurd
        wordt niet gelezen
        worden niet gelezen
        beantwoord ik uw e-mail
        beantwoord ik uw bericht
        beantwoord ik uw mail
        zal ik uw e-mail
        zal ik uw bericht
        zal ik uw mail
        geen toegang tot mijn e-mail
        beperkt toegang tot mijn e-mail
        beperkt toegang tot e-mail
        keinen zugriff auf meine e-mails
        keinen zugriff auf e-mails
        eingeschrankten zugriff auf
        wird nicht weitergeleitet
        werden nicht weitergeleitet
        werde ich ihre e-mail
        werde ich ihre nachricht
        werde ich ihre mail
        acces limite a mes e-mails
        acces limite a mes emails
        acces limite a ma messagerie
        ne sera pas transfere
        ne seront pas transferes
        je repondrai a votre message
        je repondrai a votre e-mail
        je repondrai a votre mail
        je traiterai votre message
        respondere a su correo
        rispondero alla sua e-mail
        rispondero alla sua email
        responderei ao seu e-mail
        """
    )
)
#: Words in a subject that go with an absence notice (or a reply prefix, see `forwarded_or_replied`).
_ABSENCE_SUBJECT = phrase_pattern(
    phrases(
        """
        out of office
        out of the office
        away
        vacation
        holiday
        leave
        absence
        automatic
        auto
        afwezig
        afwezigheid
        vakantie
        verlof
        automatisch
        abwesend
        abwesenheit
        urlaub
        absent
        absente
        absence
        conges
        vacances
        ausente
        vacaciones
        assente
        ferie
        ferias
        urlop
        nieobecnosc
        izin
        tatil
        concediu
        """
    )
)


def auto_reply_text(
    message: IncomingMessage, policy: ScreeningPolicy, history: ScreeningHistory
) -> str | None:
    start = body_start(message, 300)
    absence = _ABSENCE.search(start)
    if absence is None:
        return None
    handling = _MAIL_HANDLING.search(body_text(message))
    if handling is None:
        return None
    subject = plain_text(message.subject)
    subject_sign = (
        "a reply's subject"
        if forwarded_or_replied(message.subject)
        else (m.group(0) if (m := _ABSENCE_SUBJECT.search(subject)) else None)
    )
    if subject_sign is None:
        return None
    return (
        f"an absence notice: the body starts with {absence.group(0)!r} and says "
        f"{handling.group(0)!r} about the mail, subject {shown(message.subject)!r} ({subject_sign})"
    )
