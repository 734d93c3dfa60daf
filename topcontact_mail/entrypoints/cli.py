"""The `topcontact-mail` command line."""

from __future__ import annotations

import click


@click.group()
@click.version_option(package_name="topcontact-mail")
def cli() -> None:
    """topcontact-mail: Top Contact response terms for an Exchange shared mailbox."""


# -- commands from other modules (one import and one add_command line each) --


def main() -> None:
    cli()
