"""``pmhub worker``: a Celery worker running the flow runs and targeted syncs queued in queue mode."""

from __future__ import annotations

import os
import socket

import click

from hub.cli import config_option, reports_errors


@click.command()
@click.option("--concurrency", "-n", type=click.IntRange(1, 64), default=1, show_default=True,
              help="Tasks at once: worker processes, each with its own connections.")
@click.option("--loglevel", default="info", show_default=True, help="Celery's log level.")
@config_option
@reports_errors
def worker(concurrency: int, loglevel: str, config_path: str | None) -> None:
    """Run queued flow runs and webhook syncs ([queue] in the config, PostgreSQL state).

    Each task is acknowledged when it is done, so one whose worker dies runs again on another.
    Stops on SIGTERM once the tasks in progress are done.
    """
    from hub.config import load_config
    from hub.errors import ConfigError
    from hub.plugins import build_plugin_manager
    from hub.queue.app import build_app
    from hub.state.store import StateStore

    config = load_config(config_path, build_plugin_manager())
    if config.queue is None:
        raise ConfigError("pmhub worker needs a [queue] table (broker = \"redis://...\" or "
                          "\"amqp://...\")", file=str(config.path), key="queue")
    StateStore.open(config.state.url).close()  # migrate (and fail clearly) before taking tasks
    app = build_app(config)
    # One process runs its task itself (kill -9 of the worker is the task's death); more fork.
    pool = "solo" if concurrency == 1 else "prefork"
    app.worker_main(["worker", f"--concurrency={concurrency}", f"--pool={pool}",
                     f"--loglevel={loglevel}", f"--hostname=pmhub-{os.getpid()}@{socket.gethostname()}",
                     "--without-gossip", "--without-mingle", "--without-heartbeat"])


COMMANDS = (worker,)
