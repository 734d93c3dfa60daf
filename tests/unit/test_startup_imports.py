"""`run` starts without the libraries it needs only later (issue 13, "Cost per message").

Importing the run command must not load phonenumbers (callbacks' phone numbers), holidays
(looked up when the first day is), pygal (the report's charts) or apscheduler (only the
daemon's `run_forever` schedules): each costs start-up time before the first request.
Nor do run's steps before it connects (the configuration, the templates' check, the health
and the state) load prometheus_client (the first scrape of /metrics does), rich's progress
bar (drawn only on a terminal) or, for a Graph mailbox, exchangelib (EWS only).
A fresh interpreter per check, as `run` is.
"""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

#: Loaded at first use, never by importing `run` (made lazy for its start-up time).
DEFERRED = ("phonenumbers", "holidays", "pygal", "apscheduler")
#: Loaded after `run` has connected, or never, never by its steps before connecting.
NOT_BEFORE_CONNECTING = (*DEFERRED, "prometheus_client", "rich.progress", "exchangelib")

#: A Graph mailbox, as `run` reads it; nothing here is ever connected to.
GRAPH_CONFIG = """
[connection]
backend = "graph"
shared_mailbox = "klantcontact@woonservice.example"
[connection.graph]
tenant_id = "5f2c6d1e-8a44-4b6e-9f1a-3c7d2b9e0a61"
client_id = "0c7f4b1e-2d3a-4e5f-8a9b-1c2d3e4f5a6b"
client_secret = "not-a-secret"
[service]
state_dir = "state"
health_listen = "127.0.0.1:0"
"""


def _modules_after(code: str) -> set[str]:
    probe = f"import sys, json\n{code}\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout
    return set(json.loads(out.splitlines()[-1]))


def test_the_run_command_defers_libraries_it_needs_only_later() -> None:
    loaded = _modules_after(
        "from topcontact_mail.entrypoints.cli import cli\n"
        "import click\n"
        "cli.get_command(click.Context(cli), 'run')"
    )
    assert "topcontact_mail.entrypoints.commands.run" in loaded
    early = {m for m in loaded if m.split(".")[0] in DEFERRED}
    assert early == set()


def test_runs_steps_before_connecting_load_nothing_they_do_not_need(tmp_path: Path) -> None:
    config = tmp_path / "topcontact.toml"
    config.write_text(GRAPH_CONFIG, encoding="utf-8")
    loaded = _modules_after(
        "from pathlib import Path\n"
        "from topcontact_mail.entrypoints.commands import run\n"
        "from topcontact_mail.config import load_settings\n"
        "from topcontact_mail.entrypoints.health import Health, serve_health\n"
        "from topcontact_mail.entrypoints.mailboxes import check_mailbox\n"
        "from topcontact_mail.entrypoints.wiring import open_store\n"
        "from topcontact_mail.logs import configure_logging\n"
        f"settings = load_settings(Path({str(config)!r}))\n"
        "configure_logging(settings.service.log_level)\n"
        "check_mailbox(settings)\n"
        "health = Health()\n"
        "server = serve_health(settings.service.health_listen, health)\n"
        "open_store(settings).close()\n"
        "run.progress_for(settings.service.progress_interval_seconds)\n"
    )
    early = {
        m for m in loaded if any(m == d or m.startswith(d + ".") for d in NOT_BEFORE_CONNECTING)
    }
    assert early == set()


def test_the_first_scrape_of_metrics_still_has_every_series() -> None:
    from prometheus_client import generate_latest

    from topcontact_mail.entrypoints.health import Health

    health = Health()
    health.mailbox("klantcontact@woonservice.example")
    text = generate_latest(health.registry).decode()
    assert 'topcontact_mailbox_healthy{mailbox="klantcontact@woonservice.example"}' in text
    assert health.registry is health.registry


@pytest.mark.parametrize(
    "package", ["topcontact_mail.domain.callbacks", "topcontact_mail.domain.callbacks.form"]
)
def test_every_name_of_a_lazy_package_resolves(package: str) -> None:
    module = importlib.import_module(package)
    for name in module.__all__:
        assert getattr(module, name) is not None, name
    with pytest.raises(AttributeError):
        module.no_such_name  # noqa: B018


def test_the_phone_kind_is_still_read() -> None:
    from topcontact_mail.domain.callbacks import PhoneNumber, normalise_phone

    mobile = normalise_phone("06 12345678")
    assert isinstance(mobile, PhoneNumber)
    assert mobile.kind == "mobile"
    assert mobile.display == "06 12345678"
