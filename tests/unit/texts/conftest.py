"""Shared sample data for the acknowledgement text tests: the sample message of the golden files."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from topcontact_mail.adapters.texts import TextRenderer
from topcontact_mail.config import OfficeHours, TeamSettings
from topcontact_mail.domain.calendar import ResponseTerms, default_calendar
from topcontact_mail.domain.message import Address, IncomingMessage

ROOT = Path(__file__).resolve().parents[3]
TEMPLATES = ROOT / "topcontact_mail" / "templates"
AMSTERDAM = ZoneInfo("Europe/Amsterdam")


@pytest.fixture
def renderer() -> TextRenderer:
    return TextRenderer(None, TeamSettings(), OfficeHours().intervals())


@pytest.fixture
def terms() -> ResponseTerms:
    # Friday 27 November 2026 10:00 → answer by Friday 4 December 2026 (DESIGN.md).
    return default_calendar().terms(datetime(2026, 11, 27, 10, 0, tzinfo=AMSTERDAM))


@pytest.fixture
def message() -> IncomingMessage:
    return IncomingMessage(
        subject="Lekkende kraan in de keuken",
        sender=Address("jan.devries@example.nl", "Vries, Jan de"),
        message_id="<CAF123.456@mail.example.nl>",
        headers=(("References", "<first@mail.example.nl>"),),
        text_sample="Beste medewerker, de kraan in mijn keuken lekt al een week. GEHEIM-1234",
    )
