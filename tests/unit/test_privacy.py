"""What the service leaves on disk and in its log: private state, one JSON log, no secrets."""

from __future__ import annotations

import io
import json
import logging
import stat
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

from topcontact_mail.adapters.sqlite_store import SqliteStore
from topcontact_mail.logs import configure_logging, get_logger


@pytest.fixture
def log() -> Iterator[io.StringIO]:
    out = io.StringIO()
    configure_logging("info", stream=out)
    yield out
    logging.getLogger().handlers.clear()


def test_the_state_file_and_its_folder_are_readable_by_the_service_alone(tmp_path: Path) -> None:
    path = tmp_path / "state" / "topcontact.sqlite3"
    store = SqliteStore(path)
    store.set_watermark("inbox", "x", datetime.now().astimezone())
    store.close()

    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    for companion in path.parent.iterdir():
        assert stat.S_IMODE(companion.stat().st_mode) & 0o077 == 0, companion.name


def test_a_state_file_others_could_read_is_made_private_on_open(tmp_path: Path) -> None:
    path = tmp_path / "topcontact.sqlite3"
    SqliteStore(path).close()
    path.chmod(0o644)

    SqliteStore(path).close()

    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_library_log_lines_become_json_lines_of_the_same_log_without_secrets(
    log: io.StringIO,
) -> None:
    logging.getLogger("exchangelib.protocol").warning(
        "Retrying with Authorization: Basic c3ZjOmdlaGVpbQ=="
    )
    logging.getLogger("exchangelib.util").debug("<SOAP body with a tenant's mail>")
    logging.getLogger("exchangelib.util").info("a library chatting at info")
    get_logger("acknowledge").info("acknowledgement sent", item_id="A1")

    lines = [json.loads(line) for line in log.getvalue().splitlines()]

    assert [(e["component"], e["level"]) for e in lines] == [
        ("exchangelib.protocol", "warning"),
        ("acknowledge", "info"),
    ]
    assert "c3ZjOmdlaGVpbQ" not in log.getvalue()
    assert lines[0]["event"] == "Retrying with Authorization: Basic ********"
