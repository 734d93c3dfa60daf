"""Dutch formatting for the tracking mails and the report, and the environment they render in.

The templates format through `f` (a `Formats`) in their context, not through
filters: so they compile in any Jinja2 environment, also the project's
`TextRenderer`, whose `check()` compiles every built-in template. `f` writes
numbers, dates and times the Dutch way through Babel, always in the time zone
the values were given in (the callers pass local times), and draws the charts.

`report_environment` is set up like the tenant texts': sandboxed, HTML
templates autoescaped, an unknown variable an error; the administrator's
templates folder (if any) comes before the built-in one.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any

from babel.dates import format_date, format_datetime, get_day_names, get_month_names
from babel.numbers import format_decimal, format_percent
from jinja2 import ChoiceLoader, FileSystemLoader, StrictUndefined, select_autoescape
from jinja2.sandbox import SandboxedEnvironment
from markupsafe import Markup

#: The templates that ship with the program.
BUILT_IN_TEMPLATES = Path(__file__).resolve().parents[1] / "templates"
LOCALE = "nl"


def _moment(value: datetime | date | str) -> datetime | date:
    if isinstance(value, str):
        return datetime.fromisoformat(value) if "T" in value else date.fromisoformat(value)
    return value


def number(value: float | None, digits: int = 0) -> str:
    """1234 -> "1.234"; None -> "–" (nothing to count)."""
    if value is None:
        return "–"
    pattern = "#,##0" + ("." + "0" * digits if digits else "")
    return str(format_decimal(value, pattern, locale=LOCALE))


def percent(value: float | None) -> str:
    """0.923 -> "92%"; None -> "–" (nothing settled yet)."""
    if value is None:
        return "–"
    return str(format_percent(value, locale=LOCALE))


def long_date(value: datetime | date | str) -> str:
    """ "vrijdag 4 december 2026"."""
    return str(format_date(_moment(value), "EEEE d MMMM y", locale=LOCALE))


def short_date(value: datetime | date | str) -> str:
    """ "vr 4 dec" (weekday and date, no year)."""
    return str(format_date(_moment(value), "EEE d MMM", locale=LOCALE)).replace(".", "")


def day_time(value: datetime | str) -> str:
    """ "vr 4 dec 2026 17:00", in the zone the moment carries."""
    moment = _moment(value)
    if not isinstance(moment, datetime):
        raise TypeError(f"a moment with a time is needed, not {value!r}")
    text = format_datetime(moment, "EEE d MMM y HH:mm", tzinfo=moment.tzinfo, locale=LOCALE)
    return str(text).replace(".", "")


def clock(value: datetime | str) -> str:
    """ "17:00"."""
    moment = _moment(value)
    if not isinstance(moment, datetime):
        raise TypeError(f"a moment with a time is needed, not {value!r}")
    return f"{moment:%H:%M}"


def weekday_name(iso_weekday: int) -> str:
    """1 -> "maandag"."""
    return str(get_day_names("wide", locale=LOCALE)[iso_weekday - 1])


def month_name(month: str) -> str:
    """ "2026-12" -> "december 2026"."""
    year, number_ = month.split("-")
    return f"{get_month_names('wide', locale=LOCALE)[int(number_)]} {year}"


class Formats:
    """The formatting functions a template reaches as `f.number(...)`, `f.day_time(...)`, ..."""

    number = staticmethod(number)
    percent = staticmethod(percent)
    long_date = staticmethod(long_date)
    short_date = staticmethod(short_date)
    day_time = staticmethod(day_time)
    clock = staticmethod(clock)
    weekday_name = staticmethod(weekday_name)
    month_name = staticmethod(month_name)

    @staticmethod
    def bar_chart(
        chart_id: str,
        title: str,
        labels: Sequence[str],
        series: Sequence[tuple[str, Sequence[float | None]]],
        **options: Any,
    ) -> Markup:
        """`charts.bar_chart`, imported on first use: `run` does not load pygal at start-up."""
        from topcontact_mail.reports import charts

        return charts.bar_chart(chart_id, title, labels, series, **options)


#: The one `f` every context gets.
FORMATS = Formats()


def report_environment(templates_dir: Path | None = None) -> SandboxedEnvironment:
    """The environment the tracking mails and the HTML report are rendered in."""
    env = SandboxedEnvironment(
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
    return env
