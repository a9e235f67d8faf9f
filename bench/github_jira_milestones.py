"""GitHub milestones, epics with sub-issues and the issues in the milestones -> Jira versions,
epics with children and fixVersions, through the sandbox (in-process), counted against the fewest
API calls possible.

    python bench/github_jira_milestones.py [--issues 1000] [--milestones 20] [--epics 10]
                                           [--children 200] [--edited 0.05]

1. Backfill: MILESTONES GitHub milestones with due dates and ISSUES issues spread over them
   (seeded straight into the stand-in), the first EPICS labelled "epic" and the next CHILDREN their
   sub-issues, become Jira versions and Jira issues carrying them in ``fixVersions``, the children
   under their epics' twins, in one run of ``records = ["milestone", "issue", "comment"]``.
2. Incremental: two milestones re-dated on GitHub, one version released and one renamed in Jira,
   5% of the issues moved to another milestone on GitHub and 5% edited in Jira, five children moved
   to another epic on GitHub and five in Jira; then one run.
3. Quiet: nothing changed; two runs. Jira's issue cursor stands at the newest ``updated`` it saw,
   less a two-minute overlap, and an empty listing's cursor ten minutes before its run: a quiet run
   re-reads the last writes (issues, and again for the comments, whose cursor is the older one)
   until a run that starts more than about twelve minutes after them has moved the cursor on; the
   run after that one is quiet. ``--settle SECONDS`` waits before the quiet runs (with 800, the
   first quiet run still re-reads, the second is at the minimum). The milestone listings cost the
   same either way. ``--steady SECONDS`` waits that long after the backfill and makes one run that
   reads its echoes (as the first cron run after a backfill does) before the edits: the
   incremental run of a settled flow (800 is enough; measured 1.04 x, against 1.12 x at once).

The minimum is bench/github_jira.py's (list pages, one GET /myself a run, one write per changed
record with Jira's bulk create as ceil(n/50), one bulk fetch per 100 issues bulk-created in Jira,
which only answers their ids), plus the milestones: GitHub lists them whole, 100 a page, since it
cannot sort them by update; Jira lists a project's versions in one unpaged request; a version
create or edit is one write each (Jira has no bulk version create). Parents: GitHub's issue
listing names each issue's parent (no extra call); a Jira child is created with its parent's key,
so the epics (with the issues that have no parent) go in bulk creates before the children's; a
move to another parent is one write (Jira: the issue's edit; GitHub: the sub-issue add with
replace_parent). Each run prints its ratio with and without the forced bulk fetch ("strict").
Targets: at most 1.15 x on the backfill, 1.1 x after.
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
from typing import Any

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


def epic_of(number: int, epics: int, children: int) -> int | None:
    """Issue ``number``'s parent: the ``children`` after the ``epics`` are theirs, round robin."""
    return 1 + (number - epics - 1) % epics if epics < number <= epics + children else None


def seed(service: GitHubSandbox, issues: int, milestones: int, epics: int, children: int) -> None:
    """The issues of the issue bench, each in one of ``milestones`` milestones (round robin), the
    first ``epics`` labelled "epic" with the next ``children`` as their sub-issues."""
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
        if issue.number <= epics:
            issue.labels = ["epic"]
        if (epic := epic_of(issue.number, epics, children)) is not None:
            issue.parent = repo.issues[epic].id
            repo.issues[epic].sub_issues.append(issue.id)


def config_for(tmp: Path, base: str) -> Path:
    config = base_bench.write_config(tmp, base)
    text = config.read_text(encoding="utf-8").replace('records = ["issue", "comment"]',
                                                      'records = ["milestone", "issue", "comment"]')
    config.write_text(text, encoding="utf-8")
    return config


def issues_in_jira(base: str) -> dict[str, dict[str, Any]]:
    """Every Jira issue's fields (summary, fixVersions, parent) by summary, read for checking."""
    http = requests.Session()
    http.auth = (EMAIL, TOKEN)
    out: dict[str, dict[str, Any]] = {}
    token = None
    while True:
        params = {"jql": "project = BENCH", "fields": "summary,fixVersions,parent", "maxResults": "100"}
        if token:
            params["nextPageToken"] = token
        page = http.get(f"{base}/jira/rest/api/2/search/jql", params=params, timeout=30).json()
        out.update({i["fields"]["summary"]: i["fields"] for i in page["issues"]})
        token = page.get("nextPageToken")
        if not token:
            return out


def parent_key(fields: dict[str, Any]) -> str | None:
    return (fields.get("parent") or {}).get("key")


def reparent(base: str, on_github: dict[int, tuple[int, int]], in_jira: dict[str, str]) -> None:
    """Children moved to another epic (not counted): on GitHub, child number -> (its global id,
    the new epic's number); in Jira, child key -> the new epic's key."""
    gh = requests.Session()
    gh.headers["Authorization"] = f"token {TOKEN}"
    for global_id, epic in on_github.values():
        gh.post(f"{base}/github/repos/acme/portal/issues/{epic}/sub_issues", timeout=10,
                json={"sub_issue_id": global_id, "replace_parent": True}).raise_for_status()
    jira = requests.Session()
    jira.auth = (EMAIL, TOKEN)
    for key, epic_key in in_jira.items():
        jira.put(f"{base}/jira/rest/api/2/issue/{key}", json={"fields": {"parent": {"key": epic_key}}},
                 timeout=10).raise_for_status()


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
    parser.add_argument("--epics", type=int, default=10)
    parser.add_argument("--children", type=int, default=200, help="sub-issues of the epics")
    parser.add_argument("--edited", type=float, default=0.05, help="share of issues changed on each side")
    parser.add_argument("--settle", type=float, default=0.0,
                        help="seconds to wait before the quiet runs (see the docstring)")
    parser.add_argument("--steady", type=float, default=0.0,
                        help="seconds to wait after the backfill, then one run that reads its echoes, "
                             "before the edits: the incremental run of a settled flow (800 is enough)")
    args = parser.parse_args()
    n, m, e, c = args.issues, args.milestones, args.epics, args.children
    if m < 5:
        raise SystemExit("--milestones must be at least 5 (the incremental run edits five)")
    if e < 2 or e + c > n or c < 10 * e or c > 100 * e:
        raise SystemExit("--epics must be at least 2 and --children 10 to 100 per epic, all within --issues "
                         "(the incremental run moves children from one epic to the next)")
    github = GitHubSandbox()
    app = SandboxApp([github, JiraSandbox()], token=TOKEN)
    seed(github, n, m, e, c)
    repo = github.repos[("acme", "portal")]
    runs: list[base_bench.Run] = []
    milestone_pages = math.ceil(m / 100)
    with SandboxServer(app) as server, tempfile.TemporaryDirectory() as tmp:
        base = server.url
        requests.post(f"{base}/jira/rest/api/2/project", auth=(EMAIL, TOKEN), timeout=10,
                      json={"key": "BENCH", "name": "Bench", "projectTypeKey": "software"}).raise_for_status()
        config = config_for(Path(tmp), base)

        # Milestone listings on both sides, issue pages, one (empty) page each for GitHub's comments
        # and the Jira search; a create per version; the bulk creates of the issues without a parent
        # (epics among them), then of the children (they need their epics' keys); their bulk fetches.
        fetch = base_bench.BULK_FETCH
        backfill = base_bench.Minimum(milestone_pages + 1 + math.ceil(n / GH_PAGE) + 1 + 1,
                                      m + math.ceil((n - c) / JIRA_BULK) + math.ceil(c / JIRA_BULK),
                                      reads=math.ceil((n - c) / fetch) + math.ceil(c / fetch))
        runs.append(base_bench.run(f"backfill of {m} milestones and {n} issues ({e} epics with {c} "
                                   "sub-issues)", config, app, backfill))
        keys = base_bench.jira_keys(base)
        versions = requests.get(f"{base}/jira/rest/api/2/project/BENCH/versions", auth=(EMAIL, TOKEN),
                                timeout=10).json()
        if len(keys) != n or len(versions) != m:
            raise SystemExit(f"backfill made {len(keys)} Jira issues and {len(versions)} versions, "
                             f"expected {n} and {m}")
        twins = issues_in_jira(base)
        if any(len(fields["fixVersions"]) != 1 for fields in twins.values()):
            raise SystemExit("a Jira twin lacks its fix version")
        for number in range(1, n + 1):
            epic = epic_of(number, e, c)
            if parent_key(twins[f"Issue {number}"]) != (keys[f"Issue {epic}"] if epic else None):
                raise SystemExit(f"Issue {number}'s Jira twin is not under its epic's twin")

        if args.steady > 0:
            # Past Jira's overlap and the empty listing's margin: the backfill's own writes are read
            # back once here, as by the first cron run after a backfill, whose cursor then passes
            # them (its empty-listing floor is later than they are), so the incremental does not.
            time.sleep(args.steady)
            echo = base_bench.run("echo run after the backfill (not a target)", config, app,
                                  base_bench.Minimum(base_bench.incremental_minimum(0, 0).lists
                                                     + milestone_pages + 1, 0))
            print(f"{echo.label}: {echo.total} API calls")
        edited = max(1, int(n * args.edited))
        moved = [i for i in range(1, n + 1) if i % 20 == 1 and 1 + (i - 1) % m != 3][:edited]
        targets = [keys[f"Issue {i}"] for i in range(1, n + 1) if i % 20 == 11][:edited]
        # Five children to the next epic on each side (none of them edited otherwise).
        next_epic = {i: 1 + (epic % e) for i in range(1, n + 1) if (epic := epic_of(i, e, c))}
        gh_children = [i for i in sorted(next_epic) if i % 20 == 5][:5]
        gh_moves = {i: (repo.issues[i].id, next_epic[i]) for i in gh_children}
        jira_children = [i for i in sorted(next_epic) if i % 20 == 15][:5]
        jira_moves = {keys[f"Issue {i}"]: keys[f"Issue {next_epic[i]}"] for i in jira_children}
        time.sleep(1.1)  # never to the second of the backfill's writes (GitHub's `since` is whole seconds)
        change(base, moved, targets, versions)
        reparent(base, gh_moves, jira_moves)
        # Milestones: 2 GitHub edits -> 2 version writes, 2 Jira edits -> 2 milestone writes; a write
        # per moved child on the other side.
        incremental = base_bench.incremental_minimum(len(moved) + len(gh_moves),
                                                     len(targets) + len(jira_moves))
        incremental = base_bench.Minimum(incremental.lists + milestone_pages + 1, incremental.writes + 4)
        runs.append(base_bench.run(f"incremental (4 milestones, {len(moved)} issues moved on GitHub, "
                                   f"{len(targets)} edited in Jira, {len(gh_moves)} + {len(jira_moves)} "
                                   "children to another epic)", config, app, incremental))
        twins = issues_in_jira(base)
        for number, (_id, epic) in gh_moves.items():
            if parent_key(twins[f"Issue {number}"]) != keys[f"Issue {epic}"]:
                raise SystemExit(f"Issue {number}, moved on GitHub, is not under its new epic in Jira")
        by_key = {key: number for number in range(1, n + 1) if (key := keys.get(f"Issue {number}"))}
        for key, epic_key in jira_moves.items():
            if repo.issues[by_key[key]].parent != repo.issues[by_key[epic_key]].id:
                raise SystemExit(f"{key}, moved in Jira, is not under its new epic on GitHub")
        time.sleep(max(1.1, args.settle))
        quiet = base_bench.Minimum(base_bench.incremental_minimum(0, 0).lists + milestone_pages + 1, 0)
        runs.append(base_bench.run("quiet re-run", config, app, quiet))
        runs.append(base_bench.run("quiet again", config, app, quiet))
        moved_right = requests.get(f"{base}/jira/rest/api/2/issue/{keys[f'Issue {moved[0]}']}",
                                   auth=(EMAIL, TOKEN), params=[("fields", "fixVersions")], timeout=10).json()
        if [v["name"] for v in moved_right["fields"]["fixVersions"]] != ["Release 3"]:
            raise SystemExit("a moved issue's twin did not follow it to its new milestone")
    milestone_minimum = (milestone_pages + 1 + m, milestone_pages + 1 + 4, milestone_pages + 1,
                         milestone_pages + 1)
    goals = (1.15, 1.1, 1.1, 1.1)
    for result, target, part_min in zip(runs, goals, milestone_minimum, strict=True):
        result.show(target)
        part = sum(v for k, v in result.detail.items() if "milestone" in k or "version" in k)
        print(f"    milestones and versions alone: {part} calls vs minimum {part_min} "
              f"= {part / part_min:.2f} x")
    names = ("backfill", "incremental", "quiet", "quiet again")
    for name, result, target in zip(names, runs, goals, strict=True):
        verdict = "within" if result.ratio <= target else "OVER"
        print(f"{name:<12} {result.ratio:.2f} x the minimum ({verdict} {target} x), "
              f"{result.strict_ratio:.2f} x without Jira's forced bulk fetch")


if __name__ == "__main__":
    main()
