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
