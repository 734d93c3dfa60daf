"""Dates and times rendered for people, in their language, through Babel's locale data."""

from __future__ import annotations

from datetime import date, datetime

from babel.dates import format_date, format_time


def long_date(day: date, locale: str = "nl") -> str:
    """A date with its weekday, as texts for tenants show it: "vrijdag 4 december 2026"."""
    return format_date(day, "EEEE d MMMM y", locale=locale)


def short_date(day: date, locale: str = "nl") -> str:
    """A compact date for categories and tables: "4 dec"."""
    return format_date(day, "d MMM", locale=locale).rstrip(".")


def short_day(day: date, locale: str = "nl") -> str:
    """A date with a short weekday, for tables: "vr 4 dec 2026"."""
    return format_date(day, "EEE d MMM y", locale=locale).replace(".", "")


def clock(moment: datetime, locale: str = "nl") -> str:
    """A time of day, "17:00"."""
    return format_time(moment, "HH:mm", locale=locale)
