"""The `topcontact-mail` command line."""

from __future__ import annotations

import click

from topcontact_mail.entrypoints.commands.check_config import check_config
from topcontact_mail.entrypoints.commands.deadlines import deadlines
from topcontact_mail.entrypoints.commands.demo import demo
from topcontact_mail.entrypoints.commands.explain import explain
from topcontact_mail.entrypoints.commands.preview import preview
from topcontact_mail.entrypoints.commands.run import run
from topcontact_mail.entrypoints.commands.test_connection import test_connection
from topcontact_mail.sandbox.cli import sandbox_group


@click.group()
@click.version_option(package_name="topcontact-mail")
def cli() -> None:
    """topcontact-mail: Top Contact response terms for an Exchange shared mailbox."""


cli.add_command(deadlines)
cli.add_command(check_config)
cli.add_command(demo)
cli.add_command(explain)
cli.add_command(run)

# -- commands from other modules (one import and one add_command line each) --
cli.add_command(preview)
cli.add_command(sandbox_group)
cli.add_command(test_connection)


def main() -> None:
    cli()
