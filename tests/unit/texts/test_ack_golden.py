"""The rendered Dutch and English acknowledgements match the reviewed golden files.

Run with UPDATE_GOLDEN=1 to rewrite the files after a deliberate text change,
then review the diff for tone (B1, "u", no gender guess) before committing.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from topcontact_mail.adapters.texts import TextRenderer
from topcontact_mail.domain.calendar import ResponseTerms
from topcontact_mail.domain.message import IncomingMessage

GOLDEN = Path(__file__).resolve().parents[2] / "golden"


def _compare(name: str, actual: str) -> None:
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN") == "1":
        path.write_text(actual, encoding="utf-8")
    assert path.exists(), f"{path} missing: run with UPDATE_GOLDEN=1 and review it"
    assert actual == path.read_text(encoding="utf-8")


@pytest.mark.parametrize("language", ["nl", "en"])
def test_rendered_acknowledgement_matches_the_golden_files(
    renderer: TextRenderer, message: IncomingMessage, terms: ResponseTerms, language: str
) -> None:
    rendered = renderer.render_acknowledgement(language, message=message, terms=terms)
    assert rendered.language == language
    _compare(f"acknowledgement.{language}.subject.txt", rendered.subject + "\n")
    _compare(f"acknowledgement.{language}.txt", rendered.text)
    _compare(f"acknowledgement.{language}.html", rendered.html)
