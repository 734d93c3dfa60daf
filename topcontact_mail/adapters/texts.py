"""Renders the texts tenants receive from Jinja2 templates: the administrator's, then the built-in.

The built-in templates ship with the program (`topcontact_mail/templates/`);
`[acknowledgement] templates_dir` names a folder of the administrator's own,
whose templates replace built-in ones of the same name (docs/templates.md).
Templates are the administrator's to edit, so every sentence lives there; this
module only supplies data. The environment is sandboxed, HTML templates are
autoescaped, and an unknown variable is an error rather than an empty gap.
Message content (the subject, the sender's name) is passed as data in the
context and never becomes template source.

Files per language `<lang>`:

- `acknowledgement.<lang>.txt.j2` and `acknowledgement.<lang>.html.j2`: the bodies;
- `subject.<lang>.txt.j2`: the subject line, given `original_subject`;
- `office_hours.<lang>.txt.j2`: one group of days with equal hours as a phrase.

A language with any of these missing falls back to the default language as a
whole, so one acknowledgement never mixes languages.
"""

from __future__ import annotations

import threading
import traceback
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, time
from html import escape
from pathlib import Path
from typing import Any

import structlog
from babel.dates import format_time, get_day_names
from babel.lists import format_list
from jinja2 import (
    ChoiceLoader,
    FileSystemLoader,
    StrictUndefined,
    Template,
    TemplateError,
    TemplateNotFound,
    TemplateSyntaxError,
    pass_context,
    select_autoescape,
)
from jinja2.runtime import Context
from jinja2.sandbox import SandboxedEnvironment

from topcontact_mail.config import Settings, TeamSettings
from topcontact_mail.domain.acknowledgement import clean_subject, clean_text, greeting_name
from topcontact_mail.domain.calendar import Interval, ResponseTerms
from topcontact_mail.domain.dates import long_date
from topcontact_mail.domain.message import IncomingMessage
from topcontact_mail.ports.calendar import RenderedMail

log = structlog.get_logger(__name__)

_KINDS = ("acknowledgement.{lang}.txt.j2", "acknowledgement.{lang}.html.j2")
_SUBJECT = "subject.{lang}.txt.j2"
_OFFICE_HOURS = "office_hours.{lang}.txt.j2"
_ALERT = "alert.txt.j2"
_ALERT_SUBJECT = "alert.subject.txt.j2"


class TemplateProblem(Exception):
    """A template that cannot be loaded or rendered; names the file and, when known, the line."""

    def __init__(self, file: str, line: int | None, message: str) -> None:
        super().__init__(f"{file}:{line}: {message}" if line else f"{file}: {message}")
        self.file = file
        self.line = line
        self.message = message


@dataclass(frozen=True)
class RenderedText:
    """The rendered subject and bodies, and the language they are really in."""

    subject: str
    text: str
    html: str
    language: str


@dataclass(frozen=True)
class DayRun:
    """Consecutive days with the same hours: `first` alone, or `first` up to and including `last`."""

    first: str
    last: str | None = None


@dataclass(frozen=True)
class HoursGroup:
    """Days that share the same office hours, in weekday order."""

    days: tuple[DayRun, ...]
    slots: tuple[Interval, ...]


def group_office_hours(
    office_hours: Mapping[int, Sequence[Interval]], language: str
) -> list[HoursGroup]:
    """Office hours grouped for a sentence; weekday names in `language` from Babel.

    Days with equal hours form one group; three or more consecutive days
    become a run ("maandag tot en met vrijdag"), two stay separate
    ("maandag en dinsdag"). Closed days are left out.
    """
    names = get_day_names("wide", locale=language)
    by_hours: dict[tuple[Interval, ...], list[int]] = {}
    for weekday in range(1, 8):
        slots = tuple(sorted(office_hours.get(weekday, ())))
        if slots:
            by_hours.setdefault(slots, []).append(weekday)
    groups: list[HoursGroup] = []
    for slots, weekdays in by_hours.items():
        runs: list[list[int]] = []
        for day in weekdays:
            if runs and runs[-1][-1] == day - 1:
                runs[-1].append(day)
            else:
                runs.append([day])
        day_runs: list[DayRun] = []
        for run in runs:
            # Babel numbers weekdays from Monday = 0.
            if len(run) >= 3:
                day_runs.append(DayRun(names[run[0] - 1], names[run[-1] - 1]))
            else:
                day_runs.extend(DayRun(names[day - 1]) for day in run)
        groups.append(HoursGroup(tuple(day_runs), slots))
    return groups


def phone_uri(phone: str) -> str:
    """A `tel:` link target for a phone number as people write it ("0313 000 000")."""
    # "+31 (0)313 ..." writes the national trunk prefix in brackets; it is not dialled.
    digits = "".join(c for c in phone.replace("(0)", "") if c.isdigit())
    prefix = "+" if phone.strip().startswith("+") else ""
    return f"tel:{prefix}{digits}"


#: The templates that ship with the program; a configured folder's templates come first.
BUILT_IN_TEMPLATES = Path(__file__).resolve().parents[1] / "templates"

#: The template files that passed `TextRenderer.check` in this process (`_fingerprint`):
#: the mailboxes of one configuration share them, so they are checked once, not per mailbox.
_CHECKED: set[tuple[object, ...]] = set()
_CHECKED_LOCK = threading.Lock()


class TextRenderer:
    """Renders acknowledgements in the configured languages from the templates."""

    def __init__(
        self,
        templates_dir: Path | None,
        team: TeamSettings,
        office_hours: Mapping[int, Sequence[Interval]],
        *,
        default_language: str = "nl",
        max_subject_length: int = 200,
    ) -> None:
        self.templates_dir = templates_dir
        self.team = team
        self.office_hours = office_hours
        self.default_language = default_language
        self.max_subject_length = max_subject_length
        self._env = SandboxedEnvironment(
            loader=ChoiceLoader(
                [FileSystemLoader(d) for d in (templates_dir, BUILT_IN_TEMPLATES) if d is not None]
            ),
            autoescape=select_autoescape(
                enabled_extensions=("html.j2",), default_for_string=False, default=False
            ),
            undefined=StrictUndefined,
            keep_trailing_newline=True,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self._env.filters.update(
            long_date=_long_date_filter, clock=_clock_filter, and_list=_and_list_filter
        )

    @classmethod
    def from_settings(cls, settings: Settings) -> TextRenderer:
        ack = settings.acknowledgement
        return cls(
            ack.templates_dir,
            settings.team,
            settings.calendar.office_hours.intervals(),
            default_language=ack.default_language,
            max_subject_length=ack.max_subject_length,
        )

    # -- public ---------------------------------------------------------------

    def has_language(self, language: str) -> bool:
        """Whether every template of `language` exists in the folder."""
        names = set(self._env.list_templates())
        return all(
            pattern.format(lang=language) in names for pattern in (*_KINDS, _SUBJECT, _OFFICE_HOURS)
        )

    def check(self) -> None:
        """Compile every template; raise `TemplateProblem` for a missing folder or a broken one."""
        if self.templates_dir is not None and not self.templates_dir.is_dir():
            raise TemplateProblem(
                str(self.templates_dir),
                None,
                "templates folder not found (acknowledgement.templates_dir; a relative path "
                "counts from the configuration file's folder)",
            )
        names = sorted(self._env.list_templates(extensions=["j2"]))
        files = self._fingerprint(names)
        with _CHECKED_LOCK:
            if files in _CHECKED:
                return  # the same files passed this check in this process (another mailbox's)
        for name in names:
            self._compiles(name)
        with _CHECKED_LOCK:
            _CHECKED.add(files)

    def office_hours_phrases(self, language: str) -> list[str]:
        """The office hours as phrases, one per group of days with equal hours."""
        language = self._usable(language)
        template = self._load(_OFFICE_HOURS.format(lang=language))
        return [
            " ".join(
                self._render(template, {"days": group.days, "slots": group.slots}, language).split()
            )
            for group in group_office_hours(self.office_hours, language)
        ]

    def office_hours_sentence(self, language: str) -> str:
        """The office hours as one phrase: "maandag tot en met vrijdag van 8.30 tot 17.00 uur"."""
        language = self._usable(language)
        return format_list(self.office_hours_phrases(language), locale=language)

    def render_acknowledgement(
        self, language: str, *, message: IncomingMessage, terms: ResponseTerms
    ) -> RenderedText:
        """Subject, text and HTML of the acknowledgement of `message` in `language` (or the default)."""
        language = self._usable(language)
        phrases = self.office_hours_phrases(language)
        context: dict[str, Any] = {
            "language": language,
            "team": self.team.model_dump(),
            "phone_uri": phone_uri(self.team.phone),
            "greeting_name": greeting_name(message.sender),
            "answer_by": long_date(terms.answer_by.date(), language),
            "answer_by_date": terms.answer_by.date(),
            "office_hours": phrases,
            "office_hours_text": format_list(phrases, locale=language),
        }
        subject_template = self._load(_SUBJECT.format(lang=language))
        original = clean_subject(message.subject, self.max_subject_length)
        subject = self._render(
            subject_template, {**context, "original_subject": original}, language
        )
        text_name, html_name = (kind.format(lang=language) for kind in _KINDS)
        return RenderedText(
            subject=clean_subject(subject, self.max_subject_length),
            text=self._render(self._load(text_name), context, language),
            html=self._render(self._load(html_name), context, language),
            language=language,
        )

    def alert(self, kind: str, **context: Any) -> tuple[str, str]:
        """(subject, text) of an alert to the administrator, from `alert*.txt.j2`."""
        values = {"kind": kind, **context}
        subject = self._render(self._load(_ALERT_SUBJECT), values, self.default_language)
        text = self._render(self._load(_ALERT), values, self.default_language)
        return " ".join(subject.split()), text

    def acknowledgement(
        self, message: IncomingMessage, terms: ResponseTerms, language: str
    ) -> tuple[str, str, str]:
        """(subject, text, html): the `Texts` port; `render_acknowledgement` also tells the language."""
        rendered = self.render_acknowledgement(language, message=message, terms=terms)
        return rendered.subject, rendered.text, rendered.html

    # -- internals --------------------------------------------------------------

    def _usable(self, language: str) -> str:
        if self.has_language(language):
            return language
        if language != self.default_language:
            # Only the language code is logged: nothing of the message itself.
            log.warning(
                "templates missing for language, using the default",
                language=clean_text(language)[:16],
                default=self.default_language,
            )
        if not self.has_language(self.default_language):
            missing = [
                pattern.format(lang=self.default_language)
                for pattern in (*_KINDS, _SUBJECT, _OFFICE_HOURS)
                if pattern.format(lang=self.default_language) not in self._env.list_templates()
            ]
            raise TemplateProblem(
                self._where(missing[0]),
                None,
                f"template for the default language {self.default_language!r} not found",
            )
        return self.default_language

    def _where(self, name: str) -> str:
        """Where template `name` is (or would be): the configured folder first."""
        if self.templates_dir is not None and (
            (self.templates_dir / name).exists() or not (BUILT_IN_TEMPLATES / name).exists()
        ):
            return str(self.templates_dir / name)
        return str(BUILT_IN_TEMPLATES / name)

    def _fingerprint(self, names: Sequence[str]) -> tuple[object, ...]:
        """What `check`'s verdict depends on: the folder, each template's file, size and time."""
        found: list[object] = [self.templates_dir]
        for name in names:
            where = Path(self._where(name))
            try:
                stat = where.stat()
            except OSError:
                return (object(),)  # never equal: checked the long way, which names the problem
            found.append((name, str(where), stat.st_size, stat.st_mtime_ns))
        return tuple(found)

    def _compiles(self, name: str) -> None:
        """Raise `TemplateProblem` as `_load` would; translates the template to Python source
        (every syntax error, unknown filter or test is found so) without compiling and keeping
        it: a template is compiled when it is first rendered."""
        try:
            source, filename, _ = self._env.loader.get_source(self._env, name)  # type: ignore[union-attr]  # set in __init__
            self._env.compile(source, name, filename, raw=True)
        except TemplateNotFound:
            raise TemplateProblem(self._where(name), None, "template not found") from None
        except TemplateSyntaxError as exc:
            raise TemplateProblem(
                exc.filename or self._where(name), exc.lineno, exc.message or str(exc)
            ) from None
        except (TemplateError, OSError, UnicodeDecodeError) as exc:
            raise TemplateProblem(self._where(name), None, str(exc)) from None

    def _load(self, name: str) -> Template:
        try:
            return self._env.get_template(name)
        except TemplateNotFound:
            raise TemplateProblem(self._where(name), None, "template not found") from None
        except TemplateSyntaxError as exc:
            raise TemplateProblem(
                exc.filename or self._where(name), exc.lineno, exc.message or str(exc)
            ) from None
        except (TemplateError, OSError, UnicodeDecodeError) as exc:
            raise TemplateProblem(self._where(name), None, str(exc)) from None

    def _render(self, template: Template, context: Mapping[str, Any], language: str) -> str:
        try:
            return template.render({**context, "language": language})
        except Exception as exc:
            # Any error inside a template is the administrator's to fix: report
            # where it happened, not a Python traceback.
            file, line = _template_location(exc, template)
            raise TemplateProblem(file, line, _describe(exc)) from None

    # -- callbacks (docs/callbacks.md) --------------------------------------------------
    # Per kind `callback_<kind>.subject.txt.j2` and `callback_<kind>.txt.j2`; the HTML body
    # from `callback_<kind>.html.j2` when there is one, else the text in paragraphs.

    def callback_text(self, kind: str, context: Mapping[str, Any]) -> RenderedMail:
        """The `CallbackTexts` port: subject, text and HTML of a callback mail or meeting."""
        language = self.default_language
        values = {"team": self.team.model_dump(), **context}
        names = set(self._env.list_templates())
        subject_name = f"callback_{kind}.subject.txt.j2"
        subject = (
            self._render(self._load(subject_name), values, language)
            if subject_name in names
            else ""
        )
        text = self._render(self._load(f"callback_{kind}.txt.j2"), values, language)
        html_name = f"callback_{kind}.html.j2"
        if html_name in names:
            html = self._render(self._load(html_name), values, language)
        else:
            html = _paragraphs(text, language)
        return RenderedMail(
            subject=clean_subject(" ".join(subject.split()), self.max_subject_length),
            text=text,
            html=html,
        )


@pass_context
def _long_date_filter(context: Context, day: date) -> str:
    """`{{ some_date|long_date }}`: "vrijdag 4 december 2026" in the text's language."""
    return long_date(day, context["language"])


@pass_context
def _clock_filter(context: Context, moment: time) -> str:
    """`{{ slot.start|clock }}`: the language's short time ("8:30 AM" in English)."""
    return format_time(moment, "short", locale=context["language"])


@pass_context
def _and_list_filter(context: Context, items: Sequence[str]) -> str:
    """`{{ names|and_list }}`: "a, b en c" in the text's language."""
    return format_list(list(items), locale=context["language"])


def _template_location(exc: BaseException, template: Template) -> tuple[str, int | None]:
    """The template file and line an exception was raised in (Jinja2 rewrites tracebacks so)."""
    if isinstance(exc, TemplateSyntaxError):
        return exc.filename or template.filename or "?", exc.lineno
    for frame in reversed(traceback.extract_tb(exc.__traceback__)):
        if frame.filename.endswith(".j2"):
            return frame.filename, frame.lineno
    return template.filename or template.name or "?", None


def _describe(exc: Exception) -> str:
    if isinstance(exc, TemplateError) and exc.message:
        return exc.message
    return f"{type(exc).__name__}: {exc}"


def _paragraphs(text: str, language: str) -> str:
    """Plain text as simple HTML: a paragraph per block, line breaks kept, everything escaped."""
    blocks = [b for b in text.strip().split("\n\n") if b.strip()]
    body = "\n".join(
        "<p>" + "<br>\n".join(escape(line) for line in block.splitlines()) + "</p>"
        for block in blocks
    )
    return f'<!DOCTYPE html>\n<html lang="{escape(language)}"><body>\n{body}\n</body></html>\n'
