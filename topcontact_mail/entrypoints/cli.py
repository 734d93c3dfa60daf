"""The `topcontact-mail` command line.

Each command lives in its own module under `commands/` and is imported only
when it is called: `run` does not pay for the demo's imports, and the sandbox
Exchange server (a test double in its own distribution, `sandbox/`) is loaded
only by `demo` and `sandbox`.
"""

from __future__ import annotations

import importlib

import click

from topcontact_mail.entrypoints.common import EXIT_USAGE

#: command name → "module:attribute" of its click command, in the order `--help` lists them.
COMMANDS = {
    "run": "topcontact_mail.entrypoints.commands.run:run",
    "check-config": "topcontact_mail.entrypoints.commands.check_config:check_config",
    "test-connection": "topcontact_mail.entrypoints.commands.test_connection:test_connection",
    "explain": "topcontact_mail.entrypoints.commands.explain:explain",
    "preview": "topcontact_mail.entrypoints.commands.preview:preview",
    "status": "topcontact_mail.entrypoints.commands.status:status_command",
    "report": "topcontact_mail.entrypoints.commands.report:report",
    "purge": "topcontact_mail.entrypoints.commands.purge:purge",
    "deadlines": "topcontact_mail.entrypoints.commands.deadlines:deadlines",
    "callback": "topcontact_mail.entrypoints.commands.callback:callback",
    "demo": "topcontact_mail.entrypoints.commands.demo:demo",
    "scale-out": "topcontact_mail.entrypoints.commands.scale_out:scale_out",
    "sandbox": "exchange_sandbox.cli:sandbox_group",
}
#: Short help for `--help`, so listing the commands imports none of them.
SUMMARIES = {
    "run": "Watch the shared mailbox: acknowledge, flag and record every new message.",
    "check-config": "Validate the configuration and print it, secrets masked.",
    "test-connection": "Check the rights the service needs on the real server.",
    "explain": "Screen raw messages (FILE.eml) as the daemon would, and say why.",
    "preview": "Render the acknowledgement with sample data.",
    "status": "Open messages with their due moment and state, callbacks planned and missed.",
    "report": "The month's figures (HTML, CSV or JSON) from the state store.",
    "purge": "Remove what is past its retention from the state (--dry-run: only count).",
    "deadlines": "The response terms of moments (ISO 8601).",
    "callback": "Book, list and cancel callbacks (meeting requests in a colleague's calendar).",
    "demo": "Run the service against the sandbox Exchange server with sample mail.",
    "scale-out": "Share a folder of mailboxes with other instances (PostgreSQL, leases).",
    "sandbox": "The sandbox Exchange server: a TEST DOUBLE, never a production option.",
}
#: Modules that belong to the test double; missing in a production install.
_SANDBOX_MODULES = ("exchange_sandbox",)


class LazyGroup(click.Group):
    """A group whose commands are imported when they are used, not when the program starts."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module_name, _, attribute = target.partition(":")
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name is None or not exc.name.startswith(_SANDBOX_MODULES):
                raise
            return _sandbox_missing(cmd_name)
        command = getattr(module, attribute)
        assert isinstance(command, click.Command)
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The command list of `--help` from the summaries: listing imports no command."""
        with formatter.section("Commands"):
            formatter.write_dl([(name, SUMMARIES[name]) for name in COMMANDS])


def _sandbox_missing(cmd_name: str) -> click.Command:
    def explain() -> None:
        click.echo(
            f"topcontact-mail: '{cmd_name}' needs the sandbox Exchange server (a test double), "
            "which this installation does not include; install it with "
            "'pip install ./sandbox' from the source tree, or use 'make demo'.",
            err=True,
        )
        raise SystemExit(EXIT_USAGE)

    return click.Command(
        cmd_name,
        callback=explain,
        help=SUMMARIES[cmd_name],
        context_settings={"ignore_unknown_options": True, "allow_extra_args": True},
    )


@click.group(cls=LazyGroup)
@click.version_option(package_name="topcontact-mail")
def cli() -> None:
    """topcontact-mail: Top Contact response terms for an Exchange shared mailbox."""


def main() -> None:
    cli()
