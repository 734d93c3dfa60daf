"""`topcontact-mail explain`: verdicts on raw files, never a crash, never an injected header."""

from __future__ import annotations

import email
import email.policy
import json
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from topcontact_mail.adapters.texts import TextRenderer
from topcontact_mail.config import Settings
from topcontact_mail.entrypoints.cli import cli
from topcontact_mail.entrypoints.commands.explain import ExplainContext, explain_one

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "mail"
DEMO = ROOT / "topcontact_mail" / "entrypoints" / "demo_mail"
INTENDED = {
    "from", "to", "subject", "date", "message-id", "in-reply-to", "references",
    "auto-submitted", "x-auto-response-suppress", "x-topcontact-mail", "mime-version", "content-type",
}  # fmt: skip


@pytest.fixture(autouse=True)
def _in_repo(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)  # the test files are named relative to the repository
    monkeypatch.delenv("TOPCONTACT_CONFIG", raising=False)


def explain_json(*args: str) -> tuple[int, list[dict[str, object]], str]:
    result = CliRunner().invoke(cli, ["explain", "--json", "--received", "2026-11-27T10:00", *args])
    return (
        result.exit_code,
        [json.loads(line) for line in result.stdout.splitlines()],
        result.stderr,
    )


def test_json_gives_verdict_reason_terms_and_the_intended_mime_message() -> None:
    code, (person, bounce), _ = explain_json(
        str(DEMO / "01-nl-lekkage.eml"), str(FIXTURES / "bounce-postfix.eml")
    )
    assert code == 0
    assert person["acknowledge"] is True
    assert person["reason"] == "person"
    assert person["terms"]["answer_by"] == "2026-12-04T17:00:00+01:00"  # type: ignore[index]
    ack = email.message_from_string(str(person["acknowledgement"]), policy=email.policy.default)
    assert ack["In-Reply-To"] == "<demo-01-lekkage@example.nl>"
    assert ack["Auto-Submitted"] == "auto-replied"
    assert "vrijdag 4 december 2026" in ack.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert bounce["acknowledge"] is False
    assert bounce["reason"] in {
        "delivery_report",
        "null_return_path",
        "auto_submitted",
        "machine_sender",
    }
    assert "acknowledgement" not in bounce


def test_the_human_output_says_why() -> None:
    result = CliRunner().invoke(cli, ["explain", str(FIXTURES / "list-apache-users.eml")])
    assert result.exit_code == 0
    assert "skip (" in result.stdout


def test_broken_and_non_mail_files_get_a_verdict_each_and_the_run_goes_on(tmp_path: Path) -> None:
    (tmp_path / "empty.eml").write_bytes(b"")
    (tmp_path / "binary.eml").write_bytes(bytes(range(256)) * 4)
    code, results, _ = explain_json(
        str(tmp_path / "empty.eml"),
        str(FIXTURES / "notmail-png.bin"),
        str(tmp_path / "binary.eml"),
        str(FIXTURES / "broken-missing-boundaries.eml"),
        str(DEMO / "03-en-repair.eml"),
    )
    assert code == 0
    assert [r["reason"] for r in results[:3]] == ["unreadable"] * 3
    assert results[4]["acknowledge"] is True
    assert results[4]["language"] == "en"


def test_a_missing_file_is_reported_and_the_others_still_explained(tmp_path: Path) -> None:
    code, results, _ = explain_json(str(tmp_path / "nope.eml"), str(DEMO / "02-nl-huur.eml"))
    assert code == 2
    assert results[0]["reason"] == "file_error"
    assert results[1]["acknowledge"] is True


def test_every_fixture_is_explained_without_error() -> None:
    files = sorted(str(p) for p in FIXTURES.iterdir() if p.suffix in {".eml", ".bin", ".txt"})
    code, results, stderr = explain_json(*files)
    assert code == 0, stderr
    assert len(results) == len(files)


SETTINGS = Settings()
SAMPLES = [p.read_bytes() for p in sorted(DEMO.glob("*.eml"))]


RENDERER = TextRenderer.from_settings(SETTINGS)
RECEIVED = datetime(2026, 11, 27, 10, 0, tzinfo=ZoneInfo("Europe/Amsterdam"))
CONTEXT = ExplainContext(SETTINGS, RENDERER, RECEIVED)


def _check(raw: bytes) -> None:
    result = explain_one(Path("fuzz.eml"), raw, CONTEXT)
    if "acknowledgement" in result:
        ack = email.message_from_string(str(result["acknowledgement"]), policy=email.policy.default)
        assert {name.lower() for name in ack} <= INTENDED
        assert len(ack.get_all("To") or []) == 1


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=3000))
def test_arbitrary_bytes_never_escape_explain(raw: bytes) -> None:
    _check(raw)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from(SAMPLES),
    st.lists(st.tuples(st.integers(0, 4000), st.binary(min_size=1, max_size=40)), max_size=6),
    st.sampled_from(
        [
            b"\r\nBcc: victim@example.org",
            b"\nTo: x@evil.example",
            b"=?utf-8?q?=0D=0ABcc:_a@b.c?=",
            b"\x00",
            b"",
        ]
    ),
)
def test_mutated_real_messages_never_build_an_injected_header(
    sample: bytes, mutations: list[tuple[int, bytes]], injection: bytes
) -> None:
    raw = bytearray(sample.replace(b"Subject: ", b"Subject: " + injection, 1))
    for position, data in mutations:
        raw[position % max(len(raw), 1) : position % max(len(raw), 1)] = data
    _check(bytes(raw))
