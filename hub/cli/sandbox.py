"""``pmhub sandbox``: the stand-ins of every installed plugin on one loopback port."""

from __future__ import annotations

import click

from hub.cli import reports_errors


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8400, show_default=True, type=int)
@click.option("--seed", type=click.Choice(["demo", "empty"]), default="demo", show_default=True)
@click.option("--token", default=None, help="Require this token (each service answers 401 otherwise).")
@reports_errors
def sandbox(host: str, port: int, seed: str, token: str | None) -> None:
    """Serve stateful stand-ins of GitHub, Jira, Trello and Zoho CRM until Ctrl-C."""
    from hub.sandbox.server import SandboxServer, build_sandbox

    app = build_sandbox(token=token, seed=seed)
    server = SandboxServer(app, host=host, port=port)
    base = server.url
    click.echo(f"pmhub sandbox on {base} (seed: {seed}; control API: {base}/_sandbox/health)")
    for name in sorted(app.services):
        click.echo(f"  {name:8} {base}/{name}")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        click.echo("stopped")


COMMANDS = (sandbox,)
