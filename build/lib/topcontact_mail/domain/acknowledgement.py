"""Builds the acknowledgement a person gets for an e-mail: subject, language, greeting, headers, MIME.

Pure: no files, no network, no clock. Everything that comes from the incoming
message is hostile until proven plain: it is cleaned of line breaks and control
characters, neutralised against RFC 2047 encoded-word tricks, and checked
against a strict syntax before it may reach a header. The customer's message is
never quoted or attached (the sender may be spoofed; privacy).

Decisions worth knowing:

- **Recipient** (`reply_address`): a `Reply-To` that holds exactly one valid
  address outside our own domain, else the sender (`From`). Never more than one
  address; never the `Return-Path` (it is often a bounce or VERP address). The
  per-sender limits of the screening should count this address.
- **Greeting** (`greeting_name`): the display name only when it plainly is a
  person's name; otherwise None and the template greets neutrally. A title
  (dhr., mevr., Mr, Mrs) is dropped, so no text ever carries a gender.
- **Language** (`choose_language`): see there; always one of the configured
  languages, the default when unsure.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from datetime import datetime
from email import policy
from email.headerregistry import Address as MimeAddress
from email.message import EmailMessage
from email.parser import BytesHeaderParser
from email.utils import format_datetime, getaddresses

from topcontact_mail.domain.message import (
    MARKER_HEADER,
    Acknowledgement,
    Address,
    IncomingMessage,
)

#: The rules `choose_language` knows (`AcknowledgementSettings.language_rule`).
LANGUAGE_RULES = ("content-language", "detect", "fixed")

ELLIPSIS = "…"

#: Value of the marker header; a constant so nothing of the input can ride along.
MARKER_VALUE = "acknowledgement"

#: The loop-protection headers of RFC 3834 and Exchange, then the service's own marker.
LOOP_HEADERS: tuple[tuple[str, str], ...] = (
    ("Auto-Submitted", "auto-replied"),
    ("X-Auto-Response-Suppress", "All"),
    (MARKER_HEADER, MARKER_VALUE),
)

# A References header grows with every reply; RFC 5322 allows trimming, and a
# bounded header keeps a hostile thread from producing a huge message.
_MAX_REFERENCES = 20
#: Characters of msg-ids kept in References beyond the first and the latest (which always stay).
_REFERENCES_BUDGET = 4000
# The renderer caps subjects at the configured length; this ceiling only
# protects the MIME generator from a caller that forgot to.
_HARD_SUBJECT_CAP = 900
#: RFC 5322 section 2.1.1: a line holds at most 998 characters, CRLF not counted.
MAX_LINE_LENGTH = 998
#: The longest msg-id a header can carry: alone on a folded line, after the folding space.
MAX_MSG_ID_LENGTH = MAX_LINE_LENGTH - 1
#: Where identification headers fold between ids (RFC 5322 section 2.1.1's "should").
_FOLD_AT = 78

# RFC 5322 section 3.6.4: msg-id = "<" id-left "@" id-right ">", id-left a dot-atom-text,
# id-right a dot-atom-text or a no-fold-literal ("[" *dtext "]", e.g. "[10.0.0.1]").
# The obsolete forms (quoted strings, comments, folding inside the id) are not written.
_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_DOT_ATOM = rf"{_ATOM}(?:\.{_ATOM})*"
_NO_FOLD_LITERAL = r"\[[\x21-\x5a\x5e-\x7e]*\]"
_MSG_ID_RE = re.compile(rf"<{_DOT_ATOM}@(?:{_DOT_ATOM}|{_NO_FOLD_LITERAL})>")
_MSG_ID_FULL_RE = re.compile(rf"\A{_MSG_ID_RE.pattern}\Z")
#: A msg-id in a list of them; a domain literal may hold "<", ">" and "," (dtext).
_MSG_ID_TOKEN_RE = re.compile(r"<[^<>\s]*@\[[^\[\]\\\s]*\]>|<[^<>\s]*>")
#: An RFC 2047 encoded word: legal characters in a msg-id, but decoders read it as text.
_ENCODED_WORD_RE = re.compile(r"=\?[^?]*\?[bBqQ]\?[^?]*\?=")

_LOCAL_RE = re.compile(rf"\A{_DOT_ATOM}\Z")
_DOMAIN_RE = re.compile(
    r"\A(?=.{1,253}\Z)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+\Z"
)

# Unicode categories that never belong in a one-line header text: controls
# (incl. NUL, CR, LF), format characters (bidi overrides, zero-width), lone
# surrogates (undecodable bytes), and line/paragraph separators.
_DROPPED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})


class UnanswerableMessage(ValueError):
    """The message has no single valid address to answer; the caller records a skip."""


# -- one-line texts -----------------------------------------------------------


def clean_text(text: str) -> str:
    """`text` as one harmless line: controls dropped, whitespace collapsed, no encoded words.

    Python's header registry decodes RFC 2047 encoded words in values it is
    given, so a literal `=?utf-8?q?=0D=0ABcc:...?=` would turn into a real line
    break; breaking every `=?` pair keeps such text inert.
    """
    chars: list[str] = []
    for char in text:
        if char.isspace():
            # Tabs, CR, LF, NEL, U+2028 and friends all become a plain space.
            chars.append(" ")
        elif unicodedata.category(char) not in _DROPPED_CATEGORIES:
            chars.append(char)
    cleaned = " ".join("".join(chars).split())
    return cleaned.replace("=?", "= ?")


def clean_subject(original: str, max_length: int) -> str:
    """A subject as one harmless line of at most `max_length` characters ("" when empty).

    The renderer puts the cleaned original into the language's subject template
    ("Ontvangstbevestiging: ...", or the "no subject" text) and passes the result
    through here once more for the final cap; cleaning is idempotent.
    """
    if max_length < 1:
        raise ValueError(f"max_length must be positive, not {max_length}")
    cleaned = clean_text(original)
    if len(cleaned) <= max_length:
        return cleaned
    cut = cleaned[: max_length - len(ELLIPSIS)].rstrip()
    # Prefer to cut at a word boundary when that does not lose much.
    space = cut.rfind(" ")
    if space >= max_length * 2 // 3:
        cut = cut[:space].rstrip()
    return clean_text(cut + ELLIPSIS)


# -- addresses and message ids --------------------------------------------------


def valid_email(email: str) -> str | None:
    """`email` when it is a plain `local@domain.tld` address this service may write to."""
    value = email.strip()
    if len(value) > 254 or value.count("@") != 1:
        return None
    local, _, domain = value.partition("@")
    if len(local) > 64 or not _LOCAL_RE.match(local) or not _DOMAIN_RE.match(domain):
        return None
    return value


def valid_msg_id(value: str | None) -> str | None:
    """`value` (stripped) when it is one RFC 5322 msg-id that a header can carry verbatim.

    Any length up to `MAX_MSG_ID_LENGTH`, domain literals (`<x@[10.0.0.1]>`)
    included. Refused: the obsolete forms, and ids holding an RFC 2047 encoded
    word, which are legal characters but which decoders (Python's email package
    among them) turn into text, possibly a line break, on their way through.
    """
    if value is None:
        return None
    candidate = value.strip()
    if len(candidate) > MAX_MSG_ID_LENGTH or not _MSG_ID_FULL_RE.match(candidate):
        return None
    if _ENCODED_WORD_RE.search(candidate):
        return None
    return candidate


def thread_references(message: IncomingMessage) -> tuple[str | None, tuple[str, ...]]:
    """(In-Reply-To, References) for a reply to `message`: only valid msg-ids pass.

    References is the original's References plus its Message-ID, trimmed as
    RFC 5322 section 3.6.4 suggests: the first id of the thread and the most
    recent ones stay, at most `_MAX_REFERENCES` ids and about
    `_REFERENCES_BUDGET` characters besides the first and the last.
    """
    own_id = valid_msg_id(message.message_id)
    found: list[str] = []
    for header in message.header_values("References"):
        for token in _MSG_ID_TOKEN_RE.findall(header):
            msg_id = valid_msg_id(token)
            if msg_id is not None and msg_id not in found and msg_id != own_id:
                found.append(msg_id)
    if own_id is not None:
        found.append(own_id)
    return own_id, tuple(trim_references(found))


def trim_references(ids: Sequence[str]) -> list[str]:
    """`ids` trimmed to the first and the most recent ones that fit the count and size bounds."""
    if len(ids) <= 2:
        return list(ids)
    first, *middle, last = ids
    kept: list[str] = []
    budget = _REFERENCES_BUDGET
    for msg_id in reversed(middle):
        if len(kept) + 2 >= _MAX_REFERENCES or len(msg_id) + 1 > budget:
            break
        kept.insert(0, msg_id)
        budget -= len(msg_id) + 1
    return [first, *kept, last]


def fold_ids(name: str, ids: Sequence[str]) -> str:
    """The value of identification header `name` holding `ids`, folded only between ids.

    Python's email package folds a long unstructured value into RFC 2047
    encoded words, which no client threads on; a msg-id must stay whole. The
    first id stays on the header's own line when that line stays within 998
    characters; after it, a new line starts where 78 would be passed.
    """
    lines: list[str] = []
    for msg_id in ids:
        if not lines:
            fits = len(name) + 2 + len(msg_id) <= MAX_LINE_LENGTH
            lines.extend([msg_id] if fits else ["", " " + msg_id])
            continue
        width = len(lines[-1]) + (len(name) + 2 if len(lines) == 1 else 0)
        if width + 1 + len(msg_id) <= _FOLD_AT:
            lines[-1] += " " + msg_id
        else:
            lines.append(" " + msg_id)
    return "\n".join(lines)


def reply_address(message: IncomingMessage, own_domain: str = "") -> Address | None:
    """The one address an acknowledgement goes to, or None when there is none.

    A `Reply-To` counts only when there is one such header with exactly one
    valid address that is not in `own_domain` (a reply to ourselves would only
    make noise); otherwise the sender. The display name is kept only when it is
    plainly a person's name, so nothing odd of the input reaches the To header.
    """
    own = own_domain.strip().lower()
    reply_to = message.header_values("Reply-To")
    if len(reply_to) == 1:
        parsed = getaddresses([clean_text(reply_to[0])])
        if len(parsed) == 1:
            name, email = parsed[0]
            address = valid_email(email)
            if (
                address is not None
                and address.rpartition("@")[2].lower() != own
                and _only_address_in(reply_to[0], address)
            ):
                return Address(address, greeting_name(Address(address, name)) or "")
    sender = message.sender
    if sender is None:
        return None
    address = valid_email(sender.email)
    if address is None:
        return None
    return Address(address, greeting_name(sender) or "")


_ADDRESS_LIKE_RE = re.compile(r"[^\s<>\"(),;:]+@[^\s<>\"(),;:]+")


def _only_address_in(header: str, address: str) -> bool:
    """Whether every address-like token in `header` is `address`.

    Guards against parser differentials (CPython's `getaddresses` has picked
    the wrong address out of crafted headers before): when the header is
    ambiguous, it is not used at all.
    """
    tokens = _ADDRESS_LIKE_RE.findall(header)
    return bool(tokens) and all(t.lower() == address.lower() for t in tokens)


# -- greeting -------------------------------------------------------------------


def _words(text: str) -> frozenset[str]:
    """A word list written as running text, which reads better than a column of literals."""
    return frozenset(text.split())


# Words that make a display name a role, a department or an organisation
# rather than a person. Compared per word, case-insensitively.
_ROLE_WORDS = _words(
    """
    admin administratie administration afdeling alerts b.v. beheer bewonerscommissie
    boekhouding bv centrum company contact customer debiteuren crediteuren department
    desk do-not-reply donotreply facturatie facturen gemeente group groep helpdesk
    huurdersvereniging info informatie inkoop kantoor klantcontact klantenservice
    mail mailer-daemon makelaardij marketing no-reply noreply notification
    notifications nieuwsbrief newsletter office onderhoud organisatie postmaster
    receptie redactie sales secretariaat service services servicedesk stichting
    support systeem system team vereniging verhuur vof webmaster woningcorporatie
    """
)

# Titles are dropped: they would carry a gender (dhr., mevr.) or read stiffly.
_TITLES = _words(
    """
    dhr dhr. mevr mevr. mw mw. mr mr. mrs mrs. ms ms. miss heer mevrouw meneer
    ir ir. ing ing. drs drs. dr dr. prof prof. fam fam.
    """
)

# Dutch surname prefixes (tussenvoegsels) for turning "Vries de, Jan" around.
_PREFIXES = _words("de den der het 't te ten ter van von vd v/d la le du d' op in")

_INITIALS_RE = re.compile(r"\A(?:\w\.){1,4}\Z")
_NAME_WORD_RE = re.compile(r"\A\w+(?:[-'’]\w+)*\Z")
_PARENTHETICAL_RE = re.compile(r"\s*[(\[][^()\[\]]*[)\]]\s*\Z")
_MAX_NAME_LENGTH = 60


def greeting_name(sender: Address | None) -> str | None:
    """The sender's display name when it plainly is a person's name, else None.

    "Jan de Vries", "J. de Vries" and "Fatima El Amrani" pass; "Vries, Jan de"
    becomes "Jan de Vries"; a trailing "(Gemeente X)" is dropped. Addresses,
    role names ("Klantenservice", "Team X", "noreply"), single words, all-caps
    or all-lowercase text and anything with digits, @, = or a URL give None.
    """
    if sender is None:
        return None
    name = clean_text(sender.name).strip(" \"'“”‘’")
    name = _PARENTHETICAL_RE.sub("", name)
    if not name or len(name) > _MAX_NAME_LENGTH:
        return None
    lowered = name.lower()
    if any(mark in lowered for mark in ("@", "://", "www.", "=", "_")):
        return None
    if any(char.isdigit() for char in name):
        return None
    if name.count(",") == 1:
        surname, _, given = (part.strip() for part in name.partition(","))
        name = _turn_around(surname, given)
        if not name:
            return None
    elif "," in name:
        return None
    words = name.split(" ")
    if [w.lower() for w in words[:2]] == ["de", "heer"]:
        words = words[1:]
    while words and words[0].lower() in _TITLES:
        words = words[1:]
    if len(words) < 2 or len(words) > 6:
        return None
    if any(w.lower() in _ROLE_WORDS for w in words):
        return None
    if not all(_INITIALS_RE.match(w) or _NAME_WORD_RE.match(w) for w in words):
        return None
    if not any(len(w.rstrip(".")) > 1 and not _INITIALS_RE.match(w) for w in words):
        return None
    letters = [c for c in "".join(words) if c.isalpha()]
    if not any(c.isupper() for c in letters):
        return None
    if len(letters) > 3 and all(c.isupper() for c in letters if c.isalpha()):
        return None
    if not (words[0][0].isupper() and words[-1][0].isupper()):
        return None
    return " ".join(words)


def _turn_around(surname: str, given: str) -> str:
    """ "Vries de" + "Jan" → "Jan de Vries"; "Vries" + "Jan de" → "Jan de Vries"."""
    surname_words = surname.split()
    moved: list[str] = []
    while len(surname_words) > 1 and surname_words[-1].lower() in _PREFIXES:
        moved.insert(0, surname_words.pop())
    if not surname_words or not given:
        return ""
    return " ".join([given, *moved, *surname_words])


# -- language -------------------------------------------------------------------

# Frequent function words, enough to tell these four apart in a few sentences.
# Words shared between languages ("de", "die", "is", "was") count for each and
# so cancel out; the margin rule below decides.
_STOP_WORDS: dict[str, frozenset[str]] = {
    "nl": _words(
        """
        de het een en van ik je jij u uw niet is dat die op te met voor zijn er maar
        om ook als bij nog wel geen mijn wij we ons onze heb hebt heeft kan kunt graag
        naar wat dit deze over hoe wordt wil wilt zou hier daar vriendelijke groet
        groeten beste goedemiddag goedemorgen dank bedankt alvast vraag woning huur
        """
    ),
    "en": _words(
        """
        the and of to is it i you my your not that this for with have has are was be
        on at can would could please thank thanks regards hello hi dear from will an
        but we our me there what when how kind best sincerely flat apartment rent
        """
    ),
    "de": _words(
        """
        der die das und ich nicht ist sie es mit für ein eine einen zu auf von dem den
        bitte danke grüße gruß freundlichen meine mein haben habe wir ihr ihre sehr
        geehrte hallo wohnung kann auch noch ist sind wurde miete
        """
    ),
    "fr": _words(
        """
        le la les et je vous un une est pas pour avec mon ma mes votre vos merci bonjour
        cordialement que qui dans sur ce cette nous suis ai au aux du des madame monsieur
        salutations logement loyer
        """
    ),
}
_WORD_RE = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)?")
_SAMPLE_CHARS = 4000
_MIN_HITS = 3
_LANGUAGE_TAG_RE = re.compile(r"\A\s*([A-Za-z]{1,8})(?:-[A-Za-z0-9]{1,8})*\s*\Z")


def detect_language(text: str, languages: Iterable[str]) -> str | None:
    """The language among `languages` whose function words dominate `text`, or None.

    Deterministic and small on purpose: a language wins with at least three
    hits and at least twice the hits of the runner-up.
    """
    candidates = [lang for lang in languages if lang in _STOP_WORDS]
    if not candidates:
        return None
    words = [w.lower() for w in _WORD_RE.findall(text[:_SAMPLE_CHARS])]
    scores = sorted(
        (
            (sum(w in _STOP_WORDS[lang] for w in words), -i, lang)
            for i, lang in enumerate(_STOP_WORDS)
        ),
        reverse=True,
    )
    best_score, _, best = scores[0]
    runner_up = scores[1][0]
    if best_score < _MIN_HITS or best_score < 2 * runner_up:
        return None
    return best if best in candidates else None


def header_language(message: IncomingMessage, languages: Sequence[str]) -> str | None:
    """The first of `languages` that `Content-Language`, then `Accept-Language`, asks for."""
    content = message.header("Content-Language")
    if content is not None:
        for tag in content.split(","):
            primary = _primary_subtag(tag)
            if primary in languages:
                return primary
    accept = message.header("Accept-Language")
    if accept is not None:
        weighted: list[tuple[float, int, str]] = []
        for position, item in enumerate(accept.split(",")):
            tag, _, params = item.partition(";")
            primary = _primary_subtag(tag)
            if primary is None or primary not in languages:
                continue
            weight = _quality(params)
            if weight > 0:
                weighted.append((-weight, position, primary))
        if weighted:
            return min(weighted)[2]
    return None


def _primary_subtag(tag: str) -> str | None:
    match = _LANGUAGE_TAG_RE.match(tag)
    return match.group(1).lower() if match else None


def _quality(params: str) -> float:
    for param in params.split(";"):
        key, _, value = param.partition("=")
        if key.strip().lower() == "q":
            try:
                weight = float(value.strip())
            except ValueError:
                return 0.0
            return weight if 0.0 <= weight <= 1.0 else 0.0
    return 1.0


def choose_language(
    message: IncomingMessage, rule: str, languages: Sequence[str], default: str
) -> str:
    """The language of the acknowledgement; always one of `languages`, `default` when unsure.

    - `fixed`: always `default`.
    - `content-language`: the `Content-Language` header, else `Accept-Language`.
    - `detect`: the subject and text sample first, because mail clients set
      `Content-Language` from their own interface language (a Dutch tenant with
      an English Outlook sends `en-US`); the headers only when the text is
      inconclusive.
    """
    if default not in languages:
        raise ValueError(f"default language {default!r} is not in {list(languages)}")
    if rule not in LANGUAGE_RULES:
        raise ValueError(f"unknown language rule {rule!r}; known: {', '.join(LANGUAGE_RULES)}")
    if rule == "fixed":
        return default
    if rule == "detect":
        detected = detect_language(f"{message.subject}\n{message.text_sample}", languages)
        if detected is not None:
            return detected
    return header_language(message, languages) or default


# -- the acknowledgement ----------------------------------------------------------


def build_acknowledgement(
    message: IncomingMessage,
    *,
    subject: str,
    text_body: str,
    html_body: str,
    language: str,
    own_domain: str,
) -> Acknowledgement:
    """The acknowledgement of `message`; raises `UnanswerableMessage` without a valid address.

    `subject` and the bodies are the rendered texts; the subject is cleaned
    (and bounded) once more here so that no caller can put a line break into
    the header. Only plain ASCII addresses are answered; an internationalised
    address (RFC 6531) counts as no valid address.
    """
    recipient = reply_address(message, own_domain)
    if recipient is None:
        raise UnanswerableMessage("the message has no single valid address to answer")
    in_reply_to, references = thread_references(message)
    return Acknowledgement(
        recipient=recipient,
        subject=clean_subject(subject, _HARD_SUBJECT_CAP),
        text_body=text_body,
        html_body=html_body,
        language=language,
        in_reply_to=in_reply_to,
        references=references,
        headers=LOOP_HEADERS,
    )


def to_mime(ack: Acknowledgement, *, sender: Address, message_id: str, date: datetime) -> bytes:
    """`ack` as a complete RFC 5322 message: multipart/alternative text and HTML, UTF-8.

    Every header is built from cleaned text or validated syntax; the result is
    parsed back and refused (ValueError) if it holds any header other than the
    intended ones, which is the last line of defence against header injection.
    """
    own_id = valid_msg_id(message_id)
    if own_id is None:
        raise ValueError(f"not a valid Message-ID for our own message: {message_id!r}")
    if date.tzinfo is None:
        raise ValueError("the Date of a message needs a time zone")
    # refold_source="none": the identification headers below are written as given (set_raw),
    # folded between ids by `fold_ids`; every other header is folded by the policy as usual.
    msg = EmailMessage(policy=policy.SMTP.clone(refold_source="none"))
    msg["From"] = _mime_address(sender)
    msg["To"] = _mime_address(ack.recipient)
    msg["Subject"] = clean_text(ack.subject)
    msg["Date"] = format_datetime(date)
    ids: dict[str, list[str]] = {"Message-ID": [own_id]}
    in_reply_to = valid_msg_id(ack.in_reply_to)
    if in_reply_to is not None:
        ids["In-Reply-To"] = [in_reply_to]
    references = trim_references(
        list(dict.fromkeys(r for r in (valid_msg_id(ref) for ref in ack.references) if r))
    )
    if references:
        ids["References"] = references
    for name, values in ids.items():
        msg.set_raw(name, fold_ids(name, values))
    expected = {"from", "to", "subject", "date", "message-id", "mime-version", "content-type"}
    if in_reply_to is not None:
        expected.add("in-reply-to")
    if references:
        expected.add("references")
    for name, value in ack.headers:
        if not re.fullmatch(r"[A-Za-z0-9-]{1,76}", name) or name.lower() in expected:
            raise ValueError(f"refusing extra header {name!r}")
        msg[name] = clean_text(value)
        expected.add(name.lower())
    msg.set_content(_body_text(ack.text_body), charset="utf-8", cte="quoted-printable")
    msg.add_alternative(
        _body_text(ack.html_body), subtype="html", charset="utf-8", cte="quoted-printable"
    )
    raw = msg.as_bytes()
    _verify_headers(raw, expected, ids)
    return raw


def _mime_address(address: Address) -> MimeAddress:
    email = valid_email(address.email)
    if email is None:
        raise ValueError(f"not a valid address: {address.email!r}")
    local, _, domain = email.partition("@")
    return MimeAddress(display_name=clean_text(address.name), username=local, domain=domain)


def _body_text(text: str) -> str:
    # Bodies come from our templates, but a stray NUL or lone surrogate from
    # a configured value must not break the encoder.
    body = _BODY_JUNK.sub("", text)
    return body if body.endswith("\n") else body + "\n"


#: Control characters (Unicode category Cc) but tab and newline, and lone surrogates (Cs).
_BODY_JUNK = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")


def _verify_headers(raw: bytes, expected: set[str], ids: dict[str, list[str]]) -> None:
    parsed = BytesHeaderParser(policy=policy.default).parsebytes(raw)
    names = [name.lower() for name in parsed]
    if sorted(names) != sorted(expected):
        raise ValueError(f"generated headers {names} differ from the intended {sorted(expected)}")
    for address_header in ("to", "from"):
        if len(parsed[address_header].addresses) != 1:
            raise ValueError(f"generated {address_header} header does not hold exactly one address")
    # The identification headers as written, unfolded: exactly the intended ids, verbatim.
    written = BytesHeaderParser(policy=policy.compat32).parsebytes(raw)
    for name, values in ids.items():
        value = _UNFOLD_RE.sub(" ", str(written[name]))
        if value.split() != values:
            raise ValueError(f"generated {name} header does not hold the intended msg-ids verbatim")
    head = raw.split(b"\r\n\r\n", 1)[0]
    if any(len(line) > MAX_LINE_LENGTH for line in head.split(b"\r\n")):
        raise ValueError(f"a generated header line is longer than {MAX_LINE_LENGTH} characters")


_UNFOLD_RE = re.compile(r"\r?\n[ \t]")
