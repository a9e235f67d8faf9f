"""A queue-mode hub for tests: a PostgreSQL schema, a broker, reference tools in files, and real
``pmhub worker`` processes started (and killed) as subprocesses."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from hub.cli import main
from hub.testing.postgres import fresh_schema
from tests.conftest import POSTGRES_URL, postgres_available, write_config

BROKERS = {"redis": "redis://127.0.0.1:6379/0", "amqp": "amqp://guest:guest@127.0.0.1:5672//"}


def require(reason: str | None) -> None:
    """A missing service skips the test on a laptop and fails it under CI."""
    if reason is None:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"required under CI: {reason}")
    pytest.skip(reason)


def port_open(port: int) -> str | None:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
        return None
    except OSError as error:
        return f"nothing listens on 127.0.0.1:{port} ({error})"


@pytest.fixture
def pg_schema_url() -> Iterator[str]:
    require(postgres_available())
    with fresh_schema("q", url=POSTGRES_URL) as url:
        yield url


def broker_url(name: str) -> str:
    require(port_open(6379 if name == "redis" else 5672))
    return BROKERS[name]


class Cluster:
    """A config in queue mode and the worker processes serving it."""

    def __init__(self, home: Path, state_url: str, broker: str, *, connections: dict[str, dict[str, Any]],
                 flows: list[dict[str, Any]], redelivery_seconds: float = 3600.0) -> None:
        self.home, self.state_url = home, state_url
        self.config = write_config(home / "pmhub.toml", state_url=state_url, connections=connections,
                                   flows=flows)
        queue = f"pmhub-test-{uuid.uuid4().hex[:8]}"  # a broker shared by tests: a queue each
        with self.config.open("a", encoding="utf-8") as file:
            file.write(f'\n[queue]\nbroker = "{broker}"\nname = "{queue}"\n'
                       f"redelivery_seconds = {redelivery_seconds}\n")
        self.workers: list[subprocess.Popen[bytes]] = []
        self.env = {**os.environ, "PMHUB_DATA_DIR": str(home / "data")}

    def cli(self, *args: str) -> Result:
        return CliRunner().invoke(main, [*args, "--config", str(self.config)], catch_exceptions=False)

    def start_workers(self, n: int, *options: str) -> None:
        """``n`` ``pmhub worker`` processes, with ``options`` (e.g. "--concurrency", "2")."""
        for index in range(len(self.workers), len(self.workers) + n):
            log = (self.home / f"worker-{index}.log").open("wb")
            # A session each, so a kill -9 reaches the worker and nothing else.
            self.workers.append(subprocess.Popen(
                [sys.executable, "-m", "hub", "worker", "--config", str(self.config),
                 "--loglevel", "warning", *options],
                env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True))

    def kill(self, pid: int) -> None:
        os.killpg(pid, signal.SIGKILL)

    def stop(self) -> None:
        for worker in self.workers:
            if worker.poll() is None:
                os.killpg(worker.pid, signal.SIGTERM)
        for worker in self.workers:
            try:
                worker.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(worker.pid, signal.SIGKILL)
                worker.wait()

    def logs(self) -> str:
        return "\n".join(path.read_text(errors="replace")[-3000:]
                         for path in sorted(self.home.glob("worker-*.log")))


def wait_until(done: Callable[[], bool], timeout: float, what: str, cluster: Cluster | None = None) -> None:
    deadline = time.monotonic() + timeout
    while not done():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}\n" + (cluster.logs() if cluster else ""))
        time.sleep(0.2)
