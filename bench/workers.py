"""Queue mode's scale-out: N flows of M issues each (reference tools in SQLite files, PostgreSQL
state, a Redis or RabbitMQ broker) backfilled by 1, 2 and 4 ``pmhub worker`` processes.

    python bench/workers.py [--flows 40] [--issues 200] [--workers 1 2 4] [--broker redis|amqp]
    python bench/workers.py --ceiling 300 [--flows 4] [--issues 10] [--workers 1 4]

Prints flows/s, records/s and the ratio to one worker. Time is the first run's start to the last
run's finish in the run history (worker start-up left out).

With ``--ceiling RPM`` the flows copy Jira issues to one GitHub connection in the sandbox (the real
PyGithub client) with ``requests_per_minute = RPM`` (0: none) and it prints the requests a minute
the sandbox saw on that connection, whatever the number of workers.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import requests
from sqlalchemy import func, select

from hub.config import render_config
from hub.model import Issue
from hub.state.schema import runs
from hub.state.store import StateStore
from hub.testing.postgres import fresh_schema
from hub.testing.reference import ReferenceStore

BROKERS = {"redis": "redis://127.0.0.1:6379/0", "amqp": "amqp://guest:guest@127.0.0.1:5672//"}
TOKEN = "sandbox-token"
EMAIL = "bench@example.com"


def bench_schema() -> AbstractContextManager[str]:
    """A state URL in a PostgreSQL schema of its own, dropped afterwards."""
    return fresh_schema("bench")


def run_with_workers(home: Path, state_url: str, connections: dict[str, Any], specs: list[dict[str, Any]],
                     workers: int, broker: str) -> float:
    """Queue every flow once for ``workers`` worker processes; seconds from the first run's start to
    the last run's finish."""
    config = home / "pmhub.toml"
    config.write_text(render_config(state_url=state_url, connections=connections, flows=specs)
                      + f'\n[queue]\nbroker = "{BROKERS[broker]}"\nname = "q-{uuid.uuid4().hex[:10]}"\n',
                      encoding="utf-8")
    env = {**os.environ, "PMHUB_DATA_DIR": str(home / "data")}
    command = [sys.executable, "-m", "hub"]
    subprocess.run([*command, "check", "--offline", "--config", str(config)], env=env, check=False,
                   capture_output=True)  # migrates the fresh schema before the workers race to
    started = [subprocess.Popen([*command, "worker", "--config", str(config), "--loglevel", "error"],
                                env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                start_new_session=True) for _ in range(workers)]
    try:
        subprocess.run([*command, "daemon", "--once", "--config", str(config)], env=env, check=True,
                       capture_output=True)
        store = StateStore.open(state_url)
        try:
            while True:
                with store.engine.connect() as c:
                    done, first, last = c.execute(select(
                        func.count(runs.c.finished_at), func.min(runs.c.started_at),
                        func.max(runs.c.finished_at))).one()
                if done >= len(specs):
                    return float((last - first).total_seconds())
                time.sleep(0.2)
        finally:
            store.close()
    finally:
        for process in started:
            os.killpg(process.pid, signal.SIGTERM)
        for process in started:
            process.wait(timeout=60)


def one_round(home: Path, flows: int, issues: int, workers: int, broker: str) -> float:
    """Seconds from the first run's start to the last run's finish."""
    connections, specs = {}, []
    for index in range(flows):
        for side in ("a", "b"):
            connections[f"{side}{index}"] = {"plugin": "reference", "path": str(home / f"{side}{index}.db")}
        specs.append({"name": f"flow{index}", "a": {"connection": f"a{index}", "scope": "proj"},
                      "b": {"connection": f"b{index}", "scope": "proj"}, "records": ["issue"],
                      "schedule": "0 0 1 1 *"})
        store = ReferenceStore(str(home / f"a{index}.db"))
        for number in range(issues):
            store.put("proj", "issue", Issue(title=f"flow {index} issue {number}", description="body"))
        store.close()
    with bench_schema() as state_url:
        return run_with_workers(home, state_url, connections, specs, workers, broker)


def ceiling_round(home: Path, flows: int, issues: int, workers: int, broker: str,
                  per_minute: float) -> tuple[int, float]:
    """(requests the sandbox's GitHub saw, their requests a minute) for one backfill."""
    from github import Auth, Github

    from hub.sandbox.server import SandboxServer, build_sandbox
    from hub.testing.sandbox_client import SandboxClient

    with SandboxServer(build_sandbox()) as server:
        sandbox = SandboxClient(server.url)
        sandbox.reset("empty")
        gh = Github(auth=Auth.Token(TOKEN), base_url=sandbox.base("github"), retry=None)
        jira = f"{sandbox.base('jira')}/rest/api/2"

        def to_jira(path: str, body: dict[str, Any]) -> None:
            requests.post(f"{jira}/{path}", auth=(EMAIL, TOKEN), timeout=10, json=body).raise_for_status()

        specs = []
        for index in range(flows):
            gh.get_organization("acme").create_repo(f"r{index}")
            to_jira("project", {"key": f"P{index}", "name": f"Project {index}", "projectTypeKey": "software"})
            for number in range(issues):
                to_jira("issue", {"fields": {"project": {"key": f"P{index}"}, "issuetype": {"name": "Task"},
                                             "summary": f"P{index} issue {number}"}})
            specs.append({"name": f"flow{index}", "a": {"connection": "gh", "scope": f"acme/r{index}"},
                          "b": {"connection": "jira", "scope": f"P{index}"}, "mapping": "github-jira",
                          "records": ["issue"], "schedule": "0 0 1 1 *"})
        ceiling = {"requests_per_minute": per_minute} if per_minute else {}
        connections = {
            "gh": {"plugin": "github", "base_url": sandbox.base("github"), "token": TOKEN, "timeout": 10,
                   "seconds_between_writes": 0, **ceiling},
            "jira": {"plugin": "jira", "base_url": sandbox.base("jira"), "email": EMAIL,
                     "token": TOKEN, "timeout": 10},
        }
        sandbox.clear_requests()
        with bench_schema() as state_url:
            run_with_workers(home, state_url, connections, specs, workers, broker)
        times = sorted(r["at"] for r in sandbox.requests("github"))
    return len(times), (len(times) - 1) / (times[-1] - times[0]) * 60


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--flows", type=int, default=None, help="40 (4 with --ceiling)")
    parser.add_argument("--issues", type=int, default=None, help="200 (10 with --ceiling)")
    parser.add_argument("--workers", type=int, nargs="+", default=None, help="1 2 4 (1 4 with --ceiling)")
    parser.add_argument("--broker", choices=sorted(BROKERS), default="redis")
    parser.add_argument("--ceiling", type=float, default=None, metavar="RPM",
                        help="measure a GitHub connection's requests_per_minute instead (0: none)")
    args = parser.parse_args()
    if args.ceiling is not None:
        flows, issues, counts = args.flows or 4, args.issues or 10, args.workers or [1, 4]
        print(f"{flows} flows x {issues} Jira issues to one GitHub connection, requests_per_minute "
              f"{args.ceiling or 'none'}, broker {args.broker}")
        print(f"{'workers':>8} {'requests':>9} {'per minute':>11}")
        for workers in counts:
            with tempfile.TemporaryDirectory() as tmp:
                sent, rate = ceiling_round(Path(tmp), flows, issues, workers, args.broker, args.ceiling)
            print(f"{workers:>8} {sent:>9} {rate:>11.0f}", flush=True)
        return
    flows, issues, counts = args.flows or 40, args.issues or 200, args.workers or [1, 2, 4]
    print(f"{flows} flows x {issues} issues, broker {args.broker}, {os.cpu_count()} CPUs")
    print(f"{'workers':>8} {'seconds':>8} {'flows/s':>8} {'records/s':>10} {'x one':>6}")
    baseline = None
    for workers in counts:
        with tempfile.TemporaryDirectory() as tmp:
            seconds = one_round(Path(tmp), flows, issues, workers, args.broker)
        baseline = baseline or seconds
        print(f"{workers:>8} {seconds:>8.2f} {flows / seconds:>8.2f} "
              f"{flows * issues / seconds:>10.0f} {baseline / seconds:>6.2f}", flush=True)


if __name__ == "__main__":
    main()
