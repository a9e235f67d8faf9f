"""The ``pmhub`` command. Only click is imported at start; everything else when a command runs,
so ``pmhub --help`` stays fast and never loads a tool's client library."""

from __future__ import annotations

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
        from hub.errors import ConfigError, PmhubError

        try:
            return fn(*args, **kwargs)
        except ConfigError as error:
            click.echo(f"error: {error}", err=True)
            sys.exit(EXIT_USAGE)
        except PmhubError as error:
            click.echo(f"error: {error}", err=True)
            sys.exit(EXIT_ATTENTION)

    return wrapper  # type: ignore[return-value]


@click.group()
@click.version_option(package_name="pmhub")
def main() -> None:
    """pmhub keeps Jira, GitHub, Trello, Zoho CRM and your own tools in step."""


def _register_commands() -> None:
    from hub.cli import demo, inspect, sandbox, sync

    for module in (sync, inspect, sandbox, demo):
        for command in module.COMMANDS:
            main.add_command(command)


_register_commands()
