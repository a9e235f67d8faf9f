"""``pmhub serve``: receive webhooks, run the schedules, serve the status page and metrics."""

from __future__ import annotations

import logging

import click

from hub.cli import config_option, reports_errors


@click.command()
@click.option("--host", default=None, help="Address to bind (default: [server] host, 127.0.0.1).")
@click.option("--port", type=click.IntRange(0, 65535), default=None,
              help="Port to listen on (default: [server] port, 8470).")
@config_option
@reports_errors
def serve(host: str | None, port: int | None, config_path: str | None) -> None:
    """Run as a service: webhooks at /hooks/<connection> start targeted syncs, the flows'
    schedules keep polling, the status page is at / and Prometheus metrics at /metrics.

    Stops on SIGTERM or Ctrl-C once the sync in progress is done (exit 0).
    """
    from hub.service.server import serve as run

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    run(config_path, host=host, port=port, echo=lambda line: click.echo(line, err=True))


COMMANDS = (serve,)
