"""Shared pieces of the screening tests: the organisation's policy and the fixture folder."""

from __future__ import annotations

from pathlib import Path

from topcontact_mail.domain.screening import ScreeningPolicy

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "mail"

#: The organisation of the fixtures: shared mailbox klantcontact@, colleagues at woonservice.example.
POLICY = ScreeningPolicy(
    own_addresses=frozenset({"klantcontact@woonservice.example"}),
    own_domains=frozenset({"woonservice.example"}),
    mailbox_domain="woonservice.example",
    internal_domains=frozenset({"woonservice.example"}),
)
