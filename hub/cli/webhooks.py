"""``pmhub webhooks install|list|remove``: the tools' webhooks for ``pmhub serve``."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import click

from hub.cli import EXIT_ATTENTION, EXIT_OK, EXIT_USAGE, config_option, reports_errors

if TYPE_CHECKING:
    from hub.webhook_admin import Outcome

public_url_option = click.option(
    "--public-url", default=None, metavar="URL",
    help="Where the tools reach pmhub serve, e.g. https://hub.example.com (default: [server] public_url). "
         "Connection C's hooks deliver to URL/hooks/C.")


@click.group()
def webhooks() -> None:
    """Register, list and remove the tools' webhooks for every flow's scopes."""


@webhooks.command()
@public_url_option
@config_option
@reports_errors
def install(public_url: str | None, config_path: str | None) -> None:
    """Register each connection's hooks (GitHub repository hooks, a Jira admin webhook, Trello
    webhooks per board, Zoho notification channels). Running it again registers nothing twice:
    existing hooks are updated, and expiring ones (Zoho's) renewed."""
    from hub import webhook_admin
    from hub.engine.runner import open_hub

    with open_hub(config_path) as hub:
        url = _required_url(webhook_admin.public_url(hub, public_url))
        _report(webhook_admin.install(hub, url))


@webhooks.command("list")
@public_url_option
@config_option
@reports_errors
def list_(public_url: str | None, config_path: str | None) -> None:
    """Show the hooks registered for the flows' scopes and what each tool tells of their latest
    delivery (every hook in those scopes when no public URL is known)."""
    from hub import webhook_admin
    from hub.engine.runner import open_hub

    with open_hub(config_path) as hub:
        _report(webhook_admin.listed(hub, webhook_admin.public_url(hub, public_url)), listing=True)


@webhooks.command()
@public_url_option
@config_option
@reports_errors
def remove(public_url: str | None, config_path: str | None) -> None:
    """Remove the hooks that deliver to pmhub's URL (other hooks are left alone)."""
    from hub import webhook_admin
    from hub.engine.runner import open_hub

    with open_hub(config_path) as hub:
        url = _required_url(webhook_admin.public_url(hub, public_url))
        _report(webhook_admin.remove(hub, url))


def _required_url(url: str | None) -> str:
    if url is None:
        click.echo("error: no public URL: pass --public-url or set [server] public_url", err=True)
        sys.exit(EXIT_USAGE)
    return url


def _report(outcomes: list[Outcome], *, listing: bool = False) -> None:
    """One line per hook (connection, scope, what happened, id, URL, expiry, latest delivery);
    exit 1 when a connection failed."""
    failed = False
    for outcome in outcomes:
        if outcome.problem is not None:
            failed = failed or not outcome.problem.startswith("registers no webhooks")
            click.echo(f"{outcome.connection}: {outcome.problem}", err=True)
            continue
        if not outcome.registrations:
            click.echo(f"{outcome.connection}: no hooks for {', '.join(outcome.scopes)}")
        for hook in outcome.registrations:
            parts = [outcome.connection, hook.scope]
            if hook.action:
                parts.append(hook.action)
            parts += [f"id={hook.id}", hook.url]
            if not hook.active:
                parts.append("inactive")
            if hook.expires is not None:
                parts.append(f"expires {hook.expires.isoformat(timespec='seconds')}")
            if listing and hook.last_delivery:
                parts.append(f"last delivery: {hook.last_delivery}")
            click.echo("  ".join(parts))
    sys.exit(EXIT_ATTENTION if failed else EXIT_OK)


COMMANDS = (webhooks,)
