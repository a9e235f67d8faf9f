"""Queue mode's scale-out: N flows of M issues each (reference tools in SQLite files, PostgreSQL
state, a Redis or RabbitMQ broker) backfilled by 1, 2 and 4 ``pmhub worker`` processes.

    python bench/workers.py [--flows 40] [--issues 200] [--workers 1 2 4] [--broker redis|amqp]

Prints flows/s, records/s and the ratio to one worker. Time is the first run's start to the last
run's finish in the run history (worker start-up left out).
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
from pathlib import Path

import psycopg
from sqlalchemy import func, select

from hub.config import render_config
from hub.model import Issue
from hub.state.schema import runs
from hub.state.store import StateStore
from hub.testing.reference import ReferenceStore

BROKERS = {"redis": "redis://127.0.0.1:6379/0", "amqp": "amqp://guest:guest@127.0.0.1:5672//"}
ADMIN = "host=127.0.0.1 port=5432 dbname=test user=postgres"
POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def one_round(home: Path, flows: int, issues: int, workers: int, broker: str) -> float:
    """Seconds from the first run's start to the last run's finish."""
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(ADMIN, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    state_url = f"{POSTGRES}?options=-csearch_path%3D{schema}"
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
    config = home / "pmhub.toml"
    config.write_text(render_config(state_url=state_url, connections=connections, flows=specs)
                      + f'\n[queue]\nbroker = "{BROKERS[broker]}"\nname = "{schema}"\n', encoding="utf-8")
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
                if done >= flows:
                    return float((last - first).total_seconds())
                time.sleep(0.2)
        finally:
            store.close()
    finally:
        for process in started:
            os.killpg(process.pid, signal.SIGTERM)
        for process in started:
            process.wait(timeout=60)
        with psycopg.connect(ADMIN, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--flows", type=int, default=40)
    parser.add_argument("--issues", type=int, default=200)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--broker", choices=sorted(BROKERS), default="redis")
    args = parser.parse_args()
    print(f"{args.flows} flows x {args.issues} issues, broker {args.broker}, {os.cpu_count()} CPUs")
    print(f"{'workers':>8} {'seconds':>8} {'flows/s':>8} {'records/s':>10} {'x one':>6}")
    baseline = None
    for workers in args.workers:
        with tempfile.TemporaryDirectory() as tmp:
            seconds = one_round(Path(tmp), args.flows, args.issues, workers, args.broker)
        baseline = baseline or seconds
        print(f"{workers:>8} {seconds:>8.2f} {args.flows / seconds:>8.2f} "
              f"{args.flows * args.issues / seconds:>10.0f} {baseline / seconds:>6.2f}", flush=True)


if __name__ == "__main__":
    main()
