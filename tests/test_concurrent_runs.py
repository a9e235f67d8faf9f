"""Runs at the same moment: first runs on a fresh store migrate it once (issue 10, item 3), and a
flow another process is syncing is skipped with a note and exit 0 (item 14)."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from sqlalchemy import inspect, text

from hub.model import Issue
from hub.state.revision import head_revision
from hub.state.store import StateStore
from tests.conftest import Pair

RACERS = 8

#: One `pmhub sync` per process, started the moment a file appears: pmhub and Alembic are imported
#: first, so the processes reach the store together rather than staggered by their start-up.
RACER = textwrap.dedent("""
    import pathlib, sys, time
    import alembic.command, hub.cli, hub.engine.runner
    ready, go, config = map(pathlib.Path, sys.argv[1:])
    ready.touch()
    while not go.exists():
        time.sleep(0.0005)
    hub.cli.main(["sync", "--quiet", "--config", str(config)])
""")


def race(tmp_path: Path, config: Path, n: int) -> list[subprocess.CompletedProcess[str]]:
    go = tmp_path / "go"
    env = {**os.environ, "PMHUB_DATA_DIR": str(tmp_path / "data")}
    racers = [subprocess.Popen([sys.executable, "-c", RACER, str(tmp_path / f"ready-{i}"), str(go),
                                str(config)], env=env, text=True, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE) for i in range(n)]
    deadline = time.monotonic() + 60
    while sum(1 for i in range(n) if (tmp_path / f"ready-{i}").exists()) < n:
        assert time.monotonic() < deadline, "the racers did not start"
        time.sleep(0.01)
    go.touch()
    finished = []
    for racer in racers:
        out, err = racer.communicate(timeout=120)
        finished.append(subprocess.CompletedProcess(racer.args, racer.returncode, out, err))
    return finished


@pytest.mark.slow
def test_first_runs_at_the_same_moment_migrate_the_fresh_store_once(tmp_path: Path, state_url: str) -> None:
    pair = Pair(tmp_path, state_url, file_backed=True, records=["issue"])
    pair.a.put("proj", "issue", Issue(title="one twin only"))
    # The crash needed two processes inside the same few milliseconds: SQLite gets a second round
    # on a fresh file (PostgreSQL's fixture gives each test one fresh schema).
    rounds = 2 if state_url.startswith("sqlite") else 1
    for attempt in range(rounds):
        for leftover in tmp_path.glob("state.db*"):
            leftover.unlink()
        home = tmp_path / f"round-{attempt}"
        home.mkdir()
        for run in race(home, pair.config, RACERS):
            assert "Traceback" not in run.stderr, run.stderr
            assert run.returncode == 0, run.stdout + run.stderr
            assert run.stdout.startswith(("flow main: ok", "flow main skipped: another pmhub process")), \
                run.stdout
        store = StateStore.open(state_url, migrate=False)
        with store.engine.connect() as conn:
            assert conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all() == \
                [head_revision()]
            assert "links" in inspect(conn).get_table_names()
        store.close()
    assert pair.b.count("proj", "issue") == 1
    pair.close()


def test_a_flow_another_process_is_syncing_is_skipped_with_a_note_and_exit_0(pair: Pair) -> None:
    pair.a.put("proj", "issue", Issue(title="left for the other process"))
    store = StateStore.open(pair.state_url)
    assert store.acquire_lease("main", "worker-7:4242", dt.timedelta(minutes=5))
    store.close()

    result = pair.sync(expect=0)

    assert "flow main skipped: another pmhub process (worker-7:4242) is syncing this flow" in result.stdout
    assert result.stderr == ""
    assert pair.b.count("proj", "issue") == 0, "the lease holder does the work"
