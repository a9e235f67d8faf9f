"""``pmhub sandbox``: the stand-ins of every installed plugin on one loopback port."""

from __future__ import annotations

import click

from hub.cli import reports_errors


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8400, show_default=True, type=click.IntRange(0, 65535),
              help="TCP port (0: any free port).")
@click.option("--seed", type=click.Choice(["demo", "empty"]), default="demo", show_default=True)
@click.option("--token", default=None, help="Require this token (each service answers 401 otherwise).")
@reports_errors
def sandbox(host: str, port: int, seed: str, token: str | None) -> None:
    """Serve stateful stand-ins of GitHub, Jira, Trello and Zoho CRM until Ctrl-C."""
    from hub.sandbox.server import SandboxServer, build_sandbox

    _check_can_listen(host, port)
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


def _check_can_listen(host: str, port: int) -> None:
    """Fail with one clear line when the address cannot be bound (taken, no permission, no such
    host); werkzeug would print its own advice and exit 1."""
    import socket

    try:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind((host, port))
    except OSError as error:
        raise click.UsageError(f"cannot listen on {host}:{port}: {error.strerror or error}") from None


COMMANDS = (sandbox,)
