"""Every administrator command keeps the same conventions (issue 13, "Admin commands").

An administrator who learned one command knows them all: `--config FILE` on each,
help that says what the exit statuses mean and shows an example, and exit
status 2 for a configuration that cannot be used — never a traceback. Every
command that reads or writes a mailbox or its state takes `--mailbox ADDRESS`,
says in its help what it does with several `[[mailboxes]]`, and refuses an
address that is not configured (exit status 2, naming the ones that are); the
commands whose output a script reads take `--json`.
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
#: Commands that reach no configured mailbox: the demo (the sandbox's) and scale-out (a
#: folder of mailbox files shared by leases, docs/scale-out.md).
NO_MAILBOX = {("demo",), ("scale-out",)}
#: Commands whose output a script reads.
WITH_JSON = {
    ("status",),
    ("deadlines",),
    ("report",),
    ("purge",),
    ("test-connection",),
    ("check-config",),
    ("explain",),
    ("callback", "list"),
    ("callback", "book"),
}
#: The arguments a command needs besides the options under test.
REQUIRED = {
    ("explain",): ["mail.eml"],
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
}


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
    required = [str(tmp_path / a) if a == "mail.eml" else a for a in REQUIRED.get(words, [])]
    (tmp_path / "mail.eml").write_bytes(b"From: a@example.nl\r\n\r\nhoi\r\n")

    result = CliRunner().invoke(main, [*words, "--config", str(config), *required])

    assert result.exit_code == 2, result.output
    assert "backend" in result.output
    assert "Traceback" not in result.output


MAILBOX_LEAVES = [words for words in LEAVES if words not in NO_MAILBOX]


@pytest.mark.parametrize("words", MAILBOX_LEAVES, ids=" ".join)
def test_each_command_that_reaches_a_mailbox_takes_mailbox_and_says_what_it_does_with_several(
    words: tuple[str, ...],
) -> None:
    options = {o for p in command_of(words).params for o in getattr(p, "opts", [])}
    result = CliRunner().invoke(main, [*words, "--help"], prog_name="topcontact-mail")
    text = " ".join(result.output.split())

    assert "--mailbox" in options
    assert "--mailbox ADDRESS" in text
    assert "[[mailboxes]]" in text.split("Options:")[0], "the help says what several mean"


@pytest.mark.parametrize("words", sorted(WITH_JSON), ids=" ".join)
def test_each_command_a_script_reads_takes_json(words: tuple[str, ...]) -> None:
    options = {o for p in command_of(words).params for o in getattr(p, "opts", [])}
    assert "--json" in options


@pytest.mark.parametrize("words", MAILBOX_LEAVES, ids=" ".join)
def test_a_mailbox_that_is_not_configured_is_exit_status_2_naming_the_configured_ones(
    words: tuple[str, ...], tmp_path: Path
) -> None:
    config = tmp_path / "topcontact.toml"
    config.write_text(
        '[connection]\nbackend = "ews"\n'
        '[connection.ews]\nservice_endpoint = "https://mail.example/EWS/Exchange.asmx"\n'
        'username = "svc"\npassword = "Geheim-123"\n'
        '[service]\nstate_dir = "state"\nhealth_listen = ""\n'
        '[[mailboxes]]\nshared_mailbox = "klantcontact@woonservice.example"\n'
        '[[mailboxes]]\nshared_mailbox = "verhuur@woonservice.example"\n',
        encoding="utf-8",
    )
    required = [str(tmp_path / a) if a == "mail.eml" else a for a in REQUIRED.get(words, [])]
    (tmp_path / "mail.eml").write_bytes(b"From: a@example.nl\r\n\r\nhoi\r\n")

    result = CliRunner().invoke(
        main, [*words, "--config", str(config), "--mailbox", "x@woonservice.example", *required]
    )

    assert result.exit_code == 2, result.output
    assert "no mailbox 'x@woonservice.example' in the configuration" in result.output
    assert "klantcontact@woonservice.example, verhuur@woonservice.example" in result.output
    assert "Traceback" not in result.output
    assert "Geheim" not in result.output
