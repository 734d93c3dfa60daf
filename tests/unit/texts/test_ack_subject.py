"""Subjects of acknowledgements are one harmless line of bounded length."""

from __future__ import annotations

import pytest

from topcontact_mail.adapters.texts import TextRenderer
from topcontact_mail.domain.acknowledgement import ELLIPSIS, clean_subject, clean_text
from topcontact_mail.domain.calendar import ResponseTerms
from topcontact_mail.domain.message import IncomingMessage


@pytest.mark.parametrize(
    ("original", "expected"),
    [
        ("Lekkende kraan", "Lekkende kraan"),
        ("  Lekkende\r\n\tkraan  ", "Lekkende kraan"),
        ("a\x00b\x1bc", "abc"),
        ("line\u2028sep\u2029para\x85nel", "line sep para nel"),
        ("bidi \u202eevil\u202c text \u200b", "bidi evil text"),
        ("Re: x\r\nBcc: victim@example.org", "Re: x Bcc: victim@example.org"),
        ("=?utf-8?q?a=0D=0ABcc:_x@evil?=", "= ?utf-8?q?a=0D=0ABcc:_x@evil?="),
        ("", ""),
        (" \r\n ", ""),
        ("Huur\udcff betaald", "Huur betaald"),
    ],
)
def test_cleans_line_breaks_controls_and_encoded_words(original: str, expected: str) -> None:
    assert clean_subject(original, 200) == expected


def test_long_subject_is_cut_at_a_word_with_an_ellipsis() -> None:
    subject = clean_subject("woord " * 100, 50)
    assert len(subject) <= 50
    assert subject.endswith(ELLIPSIS)
    assert subject.removesuffix(ELLIPSIS).split(" ")[-1] == "woord"


def test_long_subject_without_spaces_is_cut_hard() -> None:
    subject = clean_subject("x" * 500, 40)
    assert subject == "x" * 39 + ELLIPSIS


def test_cleaning_is_idempotent() -> None:
    for text in ("=?=?x", "a =? b", "=\x00?", "x\r\n=?utf-8?b?QmNjOg==?="):
        once = clean_text(text)
        assert clean_text(once) == once
        assert "=?" not in once


def test_rendered_subject_uses_the_template_prefix_and_the_empty_text(
    renderer: TextRenderer, terms: ResponseTerms
) -> None:
    nl = renderer.render_acknowledgement("nl", message=IncomingMessage(subject=""), terms=terms)
    en = renderer.render_acknowledgement("en", message=IncomingMessage(subject="\r\n"), terms=terms)
    assert nl.subject == "Ontvangstbevestiging: (geen onderwerp)"
    assert en.subject == "Acknowledgement of receipt: (no subject)"


def test_rendered_subject_is_capped_as_a_whole(
    renderer: TextRenderer, terms: ResponseTerms
) -> None:
    message = IncomingMessage(subject="lang " * 200)
    subject = renderer.render_acknowledgement("nl", message=message, terms=terms).subject
    assert subject.startswith("Ontvangstbevestiging: lang")
    assert len(subject) <= renderer.max_subject_length
    assert subject.endswith(ELLIPSIS)
