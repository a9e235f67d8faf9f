"""The daemon runs flows on their schedule; a flow with no schedule is left to cron."""

from __future__ import annotations

import datetime as dt

from hub.engine.runner import open_hub
from hub.model import Issue
from hub.scheduling import Scheduler


def test_daemon_once_runs_every_scheduled_flow(make_pair):
    pair = make_pair(schedule="*/5 * * * *")
    pair.a.put("proj", "issue", Issue(title="scheduled"))
    result = pair.cli("daemon", "--once")
    assert result.exit_code == 0, result.output
    assert "flow main: ok" in result.output
    assert pair.b.count("proj", "issue") == 1


def test_next_runs_follow_each_flows_cron_expression(make_pair):
    pair = make_pair(schedule="*/15 * * * *")
    with open_hub(pair.config) as hub:
        runs = Scheduler(hub).next_runs(dt.datetime(2026, 1, 1, 10, 7, tzinfo=dt.UTC))
    assert runs == {"main": dt.datetime(2026, 1, 1, 10, 15, tzinfo=dt.UTC)}


def test_daemon_without_schedules_says_so(make_pair):
    pair = make_pair()
    result = pair.cli("daemon", "--once")
    assert result.exit_code == 0 and "no flow has a schedule" in result.output


class _Clock:
    """A clock the test moves by hand, so backoff and schedules are checked without waiting."""

    def __init__(self, start: dt.datetime) -> None:
        self.now = start

    def __call__(self) -> dt.datetime:
        return self.now


def test_a_flow_that_raises_is_reported_and_retried_later_while_the_daemon_goes_on(make_pair, monkeypatch):
    from hub.testing.reference import ReferenceConnector

    pair = make_pair(schedule="* * * * *")
    pair.a.put("proj", "issue", Issue(title="waits for the bug fix"))
    real_list = ReferenceConnector.list_changed

    def plugin_bug(self, *args, **kwargs):
        raise RuntimeError("a bug in a plugin")
        yield from real_list(self, *args, **kwargs)  # a generator, like the real method

    monkeypatch.setattr(ReferenceConnector, "list_changed", plugin_bug)
    lines: list[str] = []
    clock = _Clock(dt.datetime(2026, 1, 1, 10, 0, 30, tzinfo=dt.UTC))
    with open_hub(pair.config) as hub:
        scheduler = Scheduler(hub, echo=lines.append, clock=clock)
        clock.now = dt.datetime(2026, 1, 1, 10, 1, 0, tzinfo=dt.UTC)
        assert scheduler.tick() == ["main"]  # raised inside, reported, not propagated
        assert any("flow main: error (RuntimeError: a bug in a plugin)" in line for line in lines), lines
        entry = scheduler.flows["main"]
        assert entry.failures == 1 and entry.due >= clock.now + dt.timedelta(seconds=30)

        clock.now += dt.timedelta(seconds=10)
        assert scheduler.tick() == [], "the failed flow waits for its backoff"
        clock.now = entry.due
        assert scheduler.tick() == ["main"]
        assert entry.failures == 2, "a second failure in a row"
        second_wait = entry.due - clock.now
        assert second_wait >= dt.timedelta(seconds=60), "the wait doubles"

        monkeypatch.setattr(ReferenceConnector, "list_changed", real_list)  # the bug is fixed
        clock.now = entry.due
        assert scheduler.tick() == ["main"]
    assert entry.failures == 0 and entry.due == dt.datetime(2026, 1, 1, 10, 4, tzinfo=dt.UTC)
    assert pair.b.count("proj", "issue") == 1
    assert any("flow main: ok" in line for line in lines)


def test_daemon_once_exits_non_zero_when_a_flow_fails(make_pair):
    pair = make_pair(schedule="*/5 * * * *")
    pair.a.put("proj", "issue", Issue(title="never reaches b"))
    pair.a.inject("list", "auth", times=None)
    result = pair.cli("daemon", "--once")
    assert result.exit_code == 1, result.output
    assert "flow main: failed" in result.output


def test_sigterm_lets_the_flow_in_progress_finish_then_the_daemon_exits_0(tmp_path):
    import os
    import signal
    import subprocess
    import sys
    import time

    from hub.config import render_config
    from tests.conftest import Pair

    pair = Pair(tmp_path, f"sqlite:///{tmp_path / 'state.db'}", file_backed=True, schedule="* * * * * */1")
    pair.config.write_text(render_config(
        state_url=pair.state_url,
        connections={"left": {"plugin": "reference", "path": pair.paths["a"]},
                     "right": {"plugin": "reference", "path": pair.paths["b"]}},
        flows=[pair.flow], tables={"daemon": {"tick": 0.2}}), encoding="utf-8")
    pair.a.insert("proj", "issue", [(Issue(title=f"record {n}"), None) for n in range(3)])
    pair.a.inject("list", "delay", times=1, delay=2.0)  # the first sync takes about 2 s
    env = {**os.environ, "PMHUB_DATA_DIR": str(tmp_path / "data")}
    proc = subprocess.Popen([sys.executable, "-m", "hub", "daemon", "-c", str(pair.config)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 30
        while not _running_syncs(tmp_path / "state.db") and time.monotonic() < deadline:
            assert proc.poll() is None
            time.sleep(0.02)
        assert pair.b.count("proj", "issue") == 0, "SIGTERM should land mid-sync"
        proc.send_signal(signal.SIGTERM)
        output, _ = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, output
    assert pair.b.count("proj", "issue") == 3, "the flow in progress finished"
    assert output.count("flow main: ok") == 1, "and no further run started"
    assert "flow main: ok" in output and output.rstrip().endswith("daemon stopped"), output
    pair.close()


def _running_syncs(state_db) -> int:
    import sqlite3

    if not state_db.exists():
        return 0
    with sqlite3.connect(state_db) as db:
        try:
            return db.execute("SELECT count(*) FROM runs WHERE status = 'running'").fetchone()[0]
        except sqlite3.OperationalError:  # tables not created yet
            return 0
