"""The command line loads what a command needs: never the test double for the product's own work."""

from __future__ import annotations

import json
import subprocess
import sys

from click.testing import CliRunner

from topcontact_mail.entrypoints.cli import COMMANDS, SUMMARIES, cli


def _modules_after(code: str) -> set[str]:
    probe = f"import sys, json\n{code}\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout
    return set(json.loads(out.splitlines()[-1]))


def test_importing_the_command_line_loads_no_sandbox_module() -> None:
    loaded = _modules_after("import topcontact_mail.entrypoints.cli")
    assert not {m for m in loaded if m.startswith("exchange_sandbox")}


def test_the_run_command_loads_no_sandbox_module() -> None:
    loaded = _modules_after(
        "from topcontact_mail.entrypoints.cli import cli\n"
        "import click\n"
        "ctx = click.Context(cli)\n"
        "cli.get_command(ctx, 'run')"
    )
    assert "topcontact_mail.entrypoints.commands.run" in loaded
    assert not {m for m in loaded if m.startswith("exchange_sandbox")}


def test_help_lists_every_command_with_its_summary() -> None:
    result = CliRunner().invoke(cli, ["--help"])
    assert result.exit_code == 0
    for name in COMMANDS:
        assert name in result.output
    assert set(SUMMARIES) == set(COMMANDS)


def test_without_the_sandbox_installed_demo_says_how_to_get_it_and_exits_2() -> None:
    # Hide the test double as a production install would lack it.
    probe = (
        "import sys\n"
        "class Hide:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] == 'exchange_sandbox':\n"
        "            raise ModuleNotFoundError(f'No module named {name!r}', name=name)\n"
        "sys.meta_path.insert(0, Hide())\n"
        "from topcontact_mail.entrypoints.cli import main\n"
        "sys.argv = ['topcontact-mail', 'sandbox', 'serve']\n"
        "main()\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert result.returncode == 2
    assert "pip install ./sandbox" in result.stderr
    assert "Traceback" not in result.stderr
