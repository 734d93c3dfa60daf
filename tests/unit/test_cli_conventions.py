"""Every administrator command keeps the same conventions (issue 13, "Admin commands").

An administrator who learned one command knows them all: `--config FILE` on each,
help that says what the exit statuses mean and shows an example, and exit
status 2 for a configuration that cannot be used — never a traceback.
"""

from __future__ import annotations

import re
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from topcontact_mail.entrypoints.cli import COMMANDS
from topcontact_mail.entrypoints.cli import cli as main

#: The test double's own commands follow the sandbox's conventions, not the product's.
NOT_ADMIN = {"sandbox"}


def leaf_commands() -> list[tuple[str, ...]]:
    """Every command an administrator runs, as its words after `topcontact-mail`."""
    ctx = click.Context(main)
    found: list[tuple[str, ...]] = []
    for name in COMMANDS:
        if name in NOT_ADMIN:
            continue
        command = main.get_command(ctx, name)
        assert command is not None, name
        if isinstance(command, click.Group):
            found += [(name, sub) for sub in command.list_commands(ctx)]
        else:
            found.append((name,))
    return found


LEAVES = leaf_commands()


def command_of(words: tuple[str, ...]) -> click.Command:
    ctx = click.Context(main)
    command = main.get_command(ctx, words[0])
    assert command is not None
    if len(words) == 2:
        assert isinstance(command, click.Group)
        command = command.get_command(ctx, words[1])
        assert command is not None
    return command


@pytest.mark.parametrize("words", LEAVES, ids=" ".join)
def test_each_command_takes_the_configuration_file(words: tuple[str, ...]) -> None:
    options = {o for p in command_of(words).params for o in getattr(p, "opts", [])}
    assert "--config" in options


@pytest.mark.parametrize("words", LEAVES, ids=" ".join)
def test_each_commands_help_says_its_exit_statuses_and_shows_an_example(
    words: tuple[str, ...],
) -> None:
    result = CliRunner().invoke(main, [*words, "--help"], prog_name="topcontact-mail")
    text = " ".join(result.output.split())

    assert result.exit_code == 0
    assert "Exit status 0" in text
    examples = re.split(r"Examples?:", text)
    assert len(examples) == 2, "no example in the help"
    assert f"topcontact-mail {' '.join(words)} " in examples[1]


@pytest.mark.parametrize("words", LEAVES, ids=" ".join)
def test_a_configuration_that_cannot_be_used_is_exit_status_2_with_a_message(
    words: tuple[str, ...], tmp_path: Path
) -> None:
    config = tmp_path / "topcontact.toml"
    config.write_text('[connection]\nbackend = "lotus"\n', encoding="utf-8")
    required = {
        ("explain",): [str(tmp_path / "mail.eml")],
        ("deadlines",): ["2026-12-24T16:30"],
        ("report",): ["--month", "2026-12"],
        ("callback", "book"): [
            "--for",
            "Jan",
            "--name",
            "X",
            "--phone",
            "0612345678",
            "--subject",
            "lekkage",
        ],
        ("callback", "cancel"): ["cb-1"],
    }.get(words, [])
    (tmp_path / "mail.eml").write_bytes(b"From: a@example.nl\r\n\r\nhoi\r\n")

    result = CliRunner().invoke(main, [*words, "--config", str(config), *required])

    assert result.exit_code == 2, result.output
    assert "backend" in result.output
    assert "Traceback" not in result.output
