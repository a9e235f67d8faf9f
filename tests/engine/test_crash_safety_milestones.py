"""kill -9 of ``pmhub sync`` during a GitHub -> Jira backfill of milestones and the issues in them
(some of them epics with sub-issues), then a re-run to the end: exactly one Jira version per
milestone, one Jira twin per issue, each twin in its milestone's fixVersion and under its epic's
twin, and a quiet re-run writes nothing.

The kills are placed by counting creates in the sandbox, not by sleeping: the first ``answered``
creates of a kind go through, the next one is held in the sandbox (a delay fault) and the process
is killed as soon as the sandbox has received it. The held create is still applied after its
client is gone, so every kill leaves a record pmhub never heard back about, besides those whose
replies it got but may not have committed.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import requests

from hub.testing.sandbox_client import SandboxClient
from tests.integration.test_github_jira_milestones import PROJECT, TOKEN, Milestones

pytestmark = pytest.mark.slow

MILESTONES = 6
ISSUES = 240  # about five bulk creates of (up to) 50
#: Titles repeat (six issues each), as in a real backlog: matching by title cannot tell an issue's
#: copy from another's, so only the markers (and the intents) keep one twin each.
TITLES = 40
UNPLANNED = 3  # issues in no milestone
EPICS = 4  # issues 1..4 are epics (GitHub label "epic"), with ten sub-issues each
CHILDREN = 40
VERSION_CREATE = r"/rest/api/2/version$"
BULK_CREATE = r"/rest/api/2/issue/bulk$"
#: How long the held create waits in the sandbox before it is applied (the process is long dead).
HOLD = 1.5


def milestone_of(number: int) -> int | None:
    """Issue ``number``'s milestone: round robin over the milestones, the last few in none."""
    return None if number > ISSUES - UNPLANNED else 1 + (number - 1) % MILESTONES


def epic_of(number: int) -> int | None:
    """Issue ``number``'s parent: issues 5..44 are sub-issues of the four epics, round robin."""
    return 1 + (number - 1 - EPICS) % EPICS if EPICS < number <= EPICS + CHILDREN else None


def body_of(number: int) -> str:
    return f"Issue number {number}."


def twins(hub: Milestones) -> dict[str, tuple[str, list[str], str | None]]:
    """Every Jira issue of the project: key -> (description, fix version names, parent key); a
    description that two issues share (a duplicate) is kept twice under distinct keys."""
    found = hub.jira.search_issues(f"project = {PROJECT} ORDER BY key ASC", maxResults=False,
                                   fields="description,fixVersions,parent")
    return {i.key: (i.fields.description or "", [v.name for v in i.fields.fixVersions],
                    parent.key if (parent := getattr(i.fields, "parent", None)) else None) for i in found}


def seed(hub: Milestones) -> None:
    for n in range(1, MILESTONES + 1):
        hub.repo.create_milestone(f"Release {n}", description=f"Scope of release {n}",
                                  due_on=dt.date(2026, 1, 1) + dt.timedelta(days=14 * n))
    http = requests.Session()
    http.headers["Authorization"] = f"token {TOKEN}"
    repos = f"{hub.sandbox.base('github')}/repos/acme/portal"
    ids: dict[int, int] = {}
    for n in range(1, ISSUES + 1):
        body: dict[str, Any] = {"title": f"Backfill {1 + (n - 1) % TITLES:02d}", "body": body_of(n)}
        if milestone_of(n) is not None:
            body["milestone"] = milestone_of(n)
        if n <= EPICS:
            body["labels"] = ["epic"]
        reply = http.post(f"{repos}/issues", json=body, timeout=10)
        reply.raise_for_status()
        ids[n] = reply.json()["id"]
    # The epics get their sub-issues once every issue exists, as a backlog is organised after the fact.
    for n in range(1, ISSUES + 1):
        if (epic := epic_of(n)) is not None:
            http.post(f"{repos}/issues/{epic}/sub_issues", json={"sub_issue_id": ids[n]},
                      timeout=10).raise_for_status()


def created(sandbox: SandboxClient, path: str) -> int:
    """Creates of one kind the sandbox has applied (a held one counts once it lands)."""
    suffix = path.removesuffix("$").replace("\\", "")
    return sum(1 for r in sandbox.requests("jira") if r["method"] == "POST" and r["path"].endswith(suffix)
               and not r.get("fault"))


def held(sandbox: SandboxClient) -> bool:
    faults = sandbox.http.get(f"{sandbox.url}/_sandbox/faults", timeout=10).json()["faults"]
    return any(f["delay"] == HOLD and f["hits"] for f in faults)


def killed_run(hub: Milestones, path: str, answered: int) -> None:
    """``pmhub sync`` as a process, SIGKILLed once it has sent create number ``answered + 1`` of
    ``path``; returns once that create has landed in the sandbox."""
    sandbox = hub.sandbox
    before = created(sandbox, path)
    # Faults match in order: the first ``answered`` creates pass (a token delay), the next is held.
    sandbox.fault("jira", method="POST", path=path, delay=0.001, times=answered)
    sandbox.fault("jira", method="POST", path=path, delay=HOLD, times=1)
    command = [sys.executable, "-m", "hub", "sync", "--quiet", "--config", str(hub.config)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               env=os.environ.copy())
    try:
        deadline = time.monotonic() + 90
        while not held(sandbox):
            assert process.poll() is None, process.stdout.read().decode() if process.stdout else ""
            assert time.monotonic() < deadline, "the run never reached the kill point"
            time.sleep(0.02)
    finally:
        if process.poll() is None:
            os.kill(process.pid, signal.SIGKILL)
        process.wait()
    deadline = time.monotonic() + HOLD + 10
    while created(sandbox, path) < before + answered + 1:
        assert time.monotonic() < deadline, "the held create never landed"
        time.sleep(0.05)
    sandbox.clear_faults()


def test_kill_9_during_milestone_and_issue_creates_then_a_rerun_leaves_one_twin_each(
        tmp_path: Path, sandbox: SandboxClient) -> None:
    hub = Milestones(tmp_path, sandbox)
    seed(hub)

    # 1. Killed with the third version create in flight: two answered, the third lands unanswered.
    killed_run(hub, VERSION_CREATE, answered=2)
    assert len(hub.versions()) == 3 and twins(hub) == {}, "the kill landed among the milestones"

    # 2. The re-run makes the other versions, then is killed with the fourth bulk create in flight.
    killed_run(hub, BULK_CREATE, answered=3)
    assert len(hub.versions()) == MILESTONES
    assert 3 * 50 < len(twins(hub)) < ISSUES, "the kill landed among the issues"

    # 3. Killed again at once, among the last issues (the adopted ones cost no create).
    killed_run(hub, BULK_CREATE, answered=0)

    # 4. A re-run to the end.
    rerun = subprocess.run([sys.executable, "-m", "hub", "sync", "--quiet", "--config", str(hub.config)],
                           capture_output=True, text=True, timeout=180, env=os.environ.copy())
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr

    versions = hub.versions()
    assert sorted(v.name for v in versions) == sorted(f"Release {n}" for n in range(1, MILESTONES + 1)), \
        "exactly one Jira version per GitHub milestone"
    due = {v.name: v.releaseDate for v in versions}
    assert due["Release 3"] == str(dt.date(2026, 1, 1) + dt.timedelta(days=42))
    placed = twins(hub)
    assert len(placed) == ISSUES, "exactly one Jira twin per GitHub issue"
    key_of = {description: key for key, (description, _, _) in placed.items()}
    assert len(key_of) == ISSUES, "no GitHub issue has two twins"
    expected = {body_of(n): ([f"Release {m}"] if (m := milestone_of(n)) else [],
                             key_of[body_of(e)] if (e := epic_of(n)) else None) for n in range(1, ISSUES + 1)}
    assert {d: (fix, parent) for d, fix, parent in placed.values()} == expected, \
        "each twin in its milestone's fix version and under its epic's twin"
    assert {hub.jira.issue(key_of[body_of(n)]).fields.issuetype.name for n in range(1, EPICS + 1)} == {"Epic"}

    sandbox.clear_requests()
    hub.sync()
    assert hub.writes() == [], "a quiet re-run writes nothing"
