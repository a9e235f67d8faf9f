"""The ``pmhub`` command. Only click is imported at start; everything else when a command runs,
so ``pmhub --help`` stays fast and never loads a tool's client library."""

from __future__ import annotations

import atexit
import gc
import sys
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])

EXIT_OK, EXIT_ATTENTION, EXIT_USAGE = 0, 1, 2

config_option = click.option(
    "--config", "-c", "config_path", type=click.Path(dir_okay=False), default=None,
    help="Config file (default: $PMHUB_CONFIG or ./pmhub.toml).")


def reports_errors(fn: F) -> F:
    """Turn pmhub's errors into one clear line and the documented exit code, never a traceback."""

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from hub.errors import ConfigError, PmhubError, StateStoreError

        try:
            return fn(*args, **kwargs)
        except (ConfigError, StateStoreError) as error:
            click.echo(f"error: {error}", err=True)
            sys.exit(EXIT_USAGE)
        except PmhubError as error:
            click.echo(f"error: {error}", err=True)
            sys.exit(EXIT_ATTENTION)

    return wrapper  # type: ignore[return-value]


class PmhubGroup(click.Group):
    """The built-in commands plus the ones plugins add through ``register_commands(cli)``.

    Plugins are loaded only when the command list is needed (``--help``) or a name is not built in:
    a built-in command such as ``pmhub sync`` builds its own plugin host and should not pay for a
    second one. A plugin's command never replaces a built-in one; the clash is reported.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._plugins_loaded = False
        #: The plugin whose ``register_commands`` is running, while one is.
        self._adding_for: str | None = None

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        # Only the `pmhub` program comes through here (tests' CliRunner calls main()). When the
        # interpreter shuts down, the cyclic collector sweeps every object the imported libraries
        # made: measured about 0.1 s of a 0.5 s cron no-op sync. Freezing them at exit skips that;
        # what pmhub opens (state store, connectors) is closed by its context managers before.
        atexit.register(gc.freeze)
        return super().__call__(*args, **kwargs)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        command = super().get_command(ctx, cmd_name)
        if command is None and not self._plugins_loaded:
            self.load_plugin_commands()
            command = super().get_command(ctx, cmd_name)
        return command

    def list_commands(self, ctx: click.Context) -> list[str]:
        self.load_plugin_commands()
        return super().list_commands(ctx)

    def add_command(self, cmd: click.Command, name: str | None = None) -> None:
        name = name or cmd.name
        if self._adding_for is not None and name in self.commands:
            click.echo(f"warning: plugin {self._adding_for!r} adds a command {name!r} that pmhub "
                       f"already has; keeping the existing one", err=True)
            return
        super().add_command(cmd, name)

    def load_plugin_commands(self) -> None:
        if self._plugins_loaded:
            return
        self._plugins_loaded = True
        from hub.plugins import build_plugin_manager

        host = build_plugin_manager(collect=False)
        for plugin, call in host.hook_callers("register_commands"):
            self._adding_for = plugin
            try:
                call(cli=self)
            except Exception as error:  # one plugin's bug must not break the command line
                click.echo(f"warning: plugin {plugin!r} failed in register_commands: {error!r}", err=True)
            finally:
                self._adding_for = None


def build_cli() -> PmhubGroup:
    """The ``pmhub`` group with the built-in commands (a fresh one each call, e.g. for a test)."""

    @click.group(cls=PmhubGroup)
    @click.version_option(package_name="pmhub")
    def main() -> None:
        """pmhub keeps Jira, GitHub, Trello, Zoho CRM and your own tools in step."""

    from hub.cli import demo, inspect, parked, report, sandbox, serve, sync, webhooks, worker

    for module in (sync, inspect, parked, sandbox, demo, serve, webhooks, report, worker):
        for command in module.COMMANDS:
            main.add_command(command)
    return main


main = build_cli()
