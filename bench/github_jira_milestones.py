"""GitHub milestones and their issues -> Jira versions and fixVersions, through the sandbox
(in-process), counted against the fewest API calls possible.

    python bench/github_jira_milestones.py [--issues 1000] [--milestones 20] [--edited 0.05]

1. Backfill: MILESTONES GitHub milestones with due dates and ISSUES issues spread over them
   (seeded straight into the stand-in) become Jira versions and Jira issues carrying them in
   ``fixVersions``, in one run of ``records = ["milestone", "issue", "comment"]``.
2. Incremental: two milestones re-dated on GitHub, one version released and one renamed in Jira,
   5% of the issues moved to another milestone on GitHub and 5% edited in Jira; then one run.
3. Quiet: nothing changed; one run. Jira's issue cursor overlaps by two minutes, so unless
   --settle SECONDS (>= 180) lets time pass, this run re-reads the issues just written (as in
   bench/github_jira.py); the milestone listings cost the same either way.

The minimum: every listing's pages (GitHub lists milestones whole, 100 a page, since it cannot sort
them by update; Jira lists a project's versions in one request; issues as in bench/github_jira.py),
one write per changed record, Jira's bulk create counted as ceil(n/50) writes and a version create
as one (Jira has no bulk version create). Targets: at most 1.15 x on the backfill, 1.1 x after.
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import re
import sys
import tempfile
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import github_jira as base_bench  # the issue bench: its runs, counting and Jira helpers
from pmhub_plugins.github.sandbox import GitHubSandbox
from pmhub_plugins.github.sandbox.state import Milestone
from pmhub_plugins.jira.sandbox import JiraSandbox

from hub.sandbox.server import SandboxApp, SandboxServer

TOKEN, EMAIL = base_bench.TOKEN, base_bench.EMAIL
GH_PAGE, JIRA_PAGE, JIRA_BULK = base_bench.GH_PAGE, base_bench.JIRA_PAGE, base_bench.JIRA_BULK
base_bench.KINDS = (
    ("github", "GET", re.compile(r"/milestones$"), "list milestones"),
    ("jira", "GET", re.compile(r"/project/[^/]+/versions$"), "list versions"),
    *base_bench.KINDS,
)
base_bench.LISTING_KINDS = (*base_bench.LISTING_KINDS, "github list milestones", "jira list versions")


def seed(service: GitHubSandbox, issues: int, milestones: int) -> None:
    """The issues of the issue bench, each in one of ``milestones`` milestones (round robin)."""
    base_bench.seed_github(service, issues)
    repo = service.repos[("acme", "portal")]
    start = repo.created_at
    for number in range(1, milestones + 1):
        repo.milestones[number] = Milestone(
            id=service.next_id("milestone"), number=number, title=f"Release {number}", creator="octocat",
            created_at=start, updated_at=start, description=f"Scope of release {number}",
            due_on=dt.datetime(2026, 1, 1, 8, tzinfo=dt.UTC) + dt.timedelta(days=14 * number))
    repo.next_milestone = milestones + 1
    for issue in repo.issues.values():
        issue.milestone = 1 + (issue.number - 1) % milestones


def config_for(tmp: Path, base: str) -> Path:
    config = base_bench.write_config(tmp, base)
    text = config.read_text(encoding="utf-8").replace('records = ["issue", "comment"]',
                                                      'records = ["milestone", "issue", "comment"]')
    config.write_text(text, encoding="utf-8")
    return config


def change(base: str, moved: list[int], jira_keys: list[str], versions: list[dict[str, str]]) -> None:
    """What people do between two runs (not counted)."""
    gh = requests.Session()
    gh.headers["Authorization"] = f"token {TOKEN}"
    for number in (1, 2):
        gh.patch(f"{base}/github/repos/acme/portal/milestones/{number}",
                 json={"due_on": f"2027-0{number}-15T12:00:00Z"}, timeout=10).raise_for_status()
    for number in moved:
        gh.patch(f"{base}/github/repos/acme/portal/issues/{number}", json={"milestone": 3},
                 timeout=10).raise_for_status()
    jira = requests.Session()
    jira.auth = (EMAIL, TOKEN)
    by_name = {v["name"]: v["id"] for v in versions}
    jira.put(f"{base}/jira/rest/api/2/version/{by_name['Release 4']}", json={"released": True},
             timeout=10).raise_for_status()
    jira.put(f"{base}/jira/rest/api/2/version/{by_name['Release 5']}", json={"name": "Release 5 (pilot)"},
             timeout=10).raise_for_status()
    for key in jira_keys:
        jira.put(f"{base}/jira/rest/api/2/issue/{key}", json={"fields": {"summary": f"{key} edited in Jira"}},
                 timeout=10).raise_for_status()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--issues", type=int, default=1000)
    parser.add_argument("--milestones", type=int, default=20)
    parser.add_argument("--edited", type=float, default=0.05, help="share of issues changed on each side")
    parser.add_argument("--settle", type=float, default=0.0,
                        help="seconds to wait before the quiet run (>= 180 takes it out of Jira's overlap)")
    args = parser.parse_args()
    n, m = args.issues, args.milestones
    if m < 5:
        raise SystemExit("--milestones must be at least 5 (the incremental run edits five)")
    github = GitHubSandbox()
    app = SandboxApp([github, JiraSandbox()], token=TOKEN)
    seed(github, n, m)
    runs: list[base_bench.Run] = []
    milestone_pages = math.ceil(m / 100)
    with SandboxServer(app) as server, tempfile.TemporaryDirectory() as tmp:
        base = server.url
        requests.post(f"{base}/jira/rest/api/2/project", auth=(EMAIL, TOKEN), timeout=10,
                      json={"key": "BENCH", "name": "Bench", "projectTypeKey": "software"}).raise_for_status()
        config = config_for(Path(tmp), base)

        # Milestone listings on both sides, issue pages, one (empty) page for the other listings;
        # a create per version and the issues' bulk creates.
        backfill = base_bench.Minimum(milestone_pages + 1 + math.ceil(n / GH_PAGE) + 1 + 1 + 1,
                                      m + math.ceil(n / JIRA_BULK))
        runs.append(base_bench.run(f"backfill of {m} milestones and {n} issues", config, app, backfill))
        keys = base_bench.jira_keys(base)
        versions = requests.get(f"{base}/jira/rest/api/2/project/BENCH/versions", auth=(EMAIL, TOKEN),
                                timeout=10).json()
        if len(keys) != n or len(versions) != m:
            raise SystemExit(f"backfill made {len(keys)} Jira issues and {len(versions)} versions, "
                             f"expected {n} and {m}")
        carried = requests.get(f"{base}/jira/rest/api/2/search/jql", auth=(EMAIL, TOKEN), timeout=30, params={
            "jql": "project = BENCH", "fields": "fixVersions", "maxResults": 100}).json()["issues"]
        if any(len(i["fields"]["fixVersions"]) != 1 for i in carried):
            raise SystemExit("a Jira twin lacks its fix version")

        edited = max(1, int(n * args.edited))
        moved = [i for i in range(1, n + 1) if i % 20 == 1 and 1 + (i - 1) % m != 3][:edited]
        targets = [keys[f"Issue {i}"] for i in range(1, n + 1) if i % 20 == 11][:edited]
        time.sleep(1.1)  # never to the second of the backfill's writes (GitHub's `since` is whole seconds)
        change(base, moved, targets, versions)
        # Milestones: 2 GitHub edits -> 2 version writes, 2 Jira edits -> 2 milestone writes.
        incremental = base_bench.incremental_minimum(len(moved), len(targets))
        incremental = base_bench.Minimum(incremental.lists + milestone_pages + 1, incremental.writes + 4)
        runs.append(base_bench.run(f"incremental (4 milestones, {len(moved)} issues moved on GitHub, "
                                   f"{len(targets)} edited in Jira)", config, app, incremental))
        time.sleep(max(1.1, args.settle))
        quiet = base_bench.Minimum(base_bench.incremental_minimum(0, 0).lists + milestone_pages + 1, 0)
        runs.append(base_bench.run("quiet re-run", config, app, quiet))
        moved_right = requests.get(f"{base}/jira/rest/api/2/issue/{keys[f'Issue {moved[0]}']}",
                                   auth=(EMAIL, TOKEN), params={"fields": "fixVersions"}, timeout=10).json()
        if [v["name"] for v in moved_right["fields"]["fixVersions"]] != ["Release 3"]:
            raise SystemExit("a moved issue's twin did not follow it to its new milestone")
    milestone_minimum = (milestone_pages + 1 + m, milestone_pages + 1 + 4, milestone_pages + 1)
    for result, target, part_min in zip(runs, (1.15, 1.1, 1.1), milestone_minimum, strict=True):
        result.show()
        ratio = result.total / result.minimum.total
        part = sum(v for k, v in result.detail.items() if "milestone" in k or "version" in k)
        print(f"    target {target} x: {'within' if ratio <= target else 'OVER'}; milestones and versions "
              f"alone: {part} calls vs minimum {part_min} = {part / part_min:.2f} x")


if __name__ == "__main__":
    main()
