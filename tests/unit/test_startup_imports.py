"""`run` starts without the libraries it needs only later (issue 13, "Cost per message").

Importing the run command must not load phonenumbers (callbacks' phone numbers), holidays
(looked up when the first day is), pygal (the report's charts) or apscheduler (only the
daemon's `run_forever` schedules): each costs start-up time before the first request.
A fresh interpreter per check, as `run` is.
"""

from __future__ import annotations

import importlib
import json
import subprocess
import sys

import pytest

#: Loaded at first use, never by importing `run` (made lazy for its start-up time).
DEFERRED = ("phonenumbers", "holidays", "pygal", "apscheduler")


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
