"""GitHub -> Jira through the sandbox (in-process), counted against the fewest API calls possible.

    python bench/github_jira.py [--issues 2000] [--edited 0.05]

1. Backfill: ISSUES GitHub issues (seeded straight into the stand-in) become Jira issues.
2. Incremental: 5% of the issues edited on GitHub and another 5% edited in Jira, then one run.
   Jira's first listing was empty, so its cursor predates the backfill: this run reads it back.
3. Steady state: the same again with other issues. Jira's cursor is the newest ``updated`` seen,
   less a 2-minute overlap (floored to the minute), and moves past the last writes only once a run
   starts more than the empty-listing margin (10 minutes) after them; so unless --settle SECONDS
   (about 750 or more) let time pass after the backfill, this run still re-reads the whole backfill,
   and the comment search (whose cursor, with no comments, is 10 minutes before its run) pages
   through it once more. A deployment syncing every few minutes pays this after each burst of writes.

For every run: API calls made (from the sandbox's request log, so nothing the hub does escapes the
count), the ratio to the minimum, wall time; at the end the peak RSS of this process (sandbox
included). Target: at most 1.1 x the minimum.

The minimum counts, per run:
- list pages: each listing's pages for what changed, 100 a page, at least one page per listing
  (GitHub issues, GitHub comments, one Jira search: Jira's comments ride along with its issues);
- session: one ``GET /myself`` (JQL reads dates in the searching user's time zone, so the cursor
  cannot be written without it; it is also the credentials check);
- writes: one per changed record, Jira's bulk create counted as ceil(n/50) writes;
- reads the tools force: one ``POST /issue/bulkfetch`` per 100 issues bulk-created in Jira. The bulk
  create answers only id, key and self; the state Jira gave the new issue (its workflow's first
  status, and the transitions a closed one needs; defaults such as priority; ``updated``) is known
  only by reading it, and the hub must know it or take Jira's defaults for edits next run.
Each run prints the ratio against the minimum with those reads and without them ("strict").
Not counted as forced: the re-reads of Jira's cursor overlap (steps 2 and 3), which show as list
pages over the minimum.
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import re
import resource
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pmhub_plugins.github.sandbox import GitHubSandbox
from pmhub_plugins.github.sandbox.state import Issue, Label, Repo
from pmhub_plugins.jira.sandbox import JiraSandbox

from hub.engine.runner import open_hub, sync
from hub.sandbox.server import SandboxApp, SandboxServer

TOKEN = "bench-token"
EMAIL = "bot@acme.example"
GH_PAGE = 100
JIRA_PAGE = 100
JIRA_BULK = 50
#: Issues one Jira bulk fetch reads.
BULK_FETCH = 100
#: Request kinds by (service, method, path); the first match wins.
KINDS: tuple[tuple[str, str, re.Pattern[str], str], ...] = (
    ("github", "GET", re.compile(r"/issues$"), "list issues"),
    ("github", "GET", re.compile(r"/issues/comments$"), "list comments"),
    ("jira", "GET", re.compile(r"/search/jql$"), "search"),
    ("jira", "POST", re.compile(r"/issue/bulk$"), "bulk create"),
    ("jira", "POST", re.compile(r"/issue/bulkfetch$"), "bulk fetch"),
    ("jira", "GET", re.compile(r"/(serverInfo|field|myself)$"), "session setup"),
)

LISTING_KINDS: tuple[str, ...] = ("github list issues", "github list comments", "jira search")
READ_KINDS = ("jira bulk fetch",)
SESSION_KINDS = ("jira session setup",)


@dataclass
class Minimum:
    lists: int
    writes: int
    #: Jira's GET /myself, once a run.
    session: int = 1
    #: Reads the tools force (Jira's bulk fetch after bulk creates).
    reads: int = 0

    @property
    def total(self) -> int:
        return self.lists + self.writes + self.session + self.reads

    @property
    def strict(self) -> int:
        """Without the forced reads: listings, the session and the writes alone."""
        return self.lists + self.writes + self.session


@dataclass
class Run:
    label: str
    seconds: float
    calls: Counter[str]
    minimum: Minimum
    detail: Counter[str]

    @property
    def total(self) -> int:
        return sum(self.calls.values())

    @property
    def ratio(self) -> float:
        return self.total / self.minimum.total

    @property
    def strict_ratio(self) -> float:
        return self.total / self.minimum.strict

    def show(self, target: float = 1.1) -> None:
        print(f"{self.label}: {self.total} API calls vs minimum {self.minimum.total} = {self.ratio:.2f} x "
              f"({'within' if self.ratio <= target else 'OVER'} the {target} x target); strict minimum "
              f"{self.minimum.strict} = {self.strict_ratio:.2f} x; {self.seconds:.2f} s")
        print("    by service: " + ", ".join(f"{k} {v}" for k, v in sorted(self.calls.items())))
        print("    by kind:    " + ", ".join(f"{k} {v}" for k, v in self.detail.most_common()))
        # Where the calls above the minimum went: listing pages, session, forced reads, writes.
        lists = sum(v for k, v in self.detail.items() if k in LISTING_KINDS)
        reads = sum(v for k, v in self.detail.items() if k in READ_KINDS)
        session = sum(v for k, v in self.detail.items() if k in SESSION_KINDS)
        writes = self.total - lists - reads - session
        print(f"    vs minimum: list pages {lists} (min {self.minimum.lists}), session {session} "
              f"(min {self.minimum.session}), forced reads {reads} (min {self.minimum.reads}), "
              f"writes and other {writes} (min {self.minimum.writes})")


def kind_of(entry: dict[str, Any]) -> str:
    for service, method, pattern, kind in KINDS:
        if entry["service"] == service and entry["method"] == method and pattern.search(entry["path"]):
            return f"{service} {kind}"
    return f"{entry['service']} {entry['method']} {_shape(entry['path'])}"


def _shape(path: str) -> str:
    # One bucket per endpoint, not per record: /issue/10234 and /issue/10235 are the same kind.
    return re.sub(r"(?<!/api)/\d+(?=/|$)", "/{id}", path)


def seed_github(service: GitHubSandbox, count: int) -> None:
    """``count`` issues straight into the stand-in (creating them over HTTP is not what is measured)."""
    start = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(days=30)
    repo = Repo(id=service.next_id("repo"), owner="acme", name="portal", created_at=start, updated_at=start)
    labels: tuple[list[str], ...] = (["bug", "priority: high"], ["enhancement", "customer"], ["customer"], [])
    for number in range(1, count + 1):
        when = start + dt.timedelta(seconds=number)
        repo.issues[number] = Issue(id=service.next_id("issue"), number=number, title=f"Issue {number}",
                                    body=f"Body of issue {number} with **some** Markdown.", user="octocat",
                                    created_at=when, updated_at=when, labels=list(labels[number % 4]))
    repo.next_number = count + 1
    # An issue shows only the labels its repository defines.
    for name in ("bug", "priority: high", "enhancement", "customer", "epic"):
        repo.labels[name] = Label(id=service.next_id("label"), name=name)
    service.repos[("acme", "portal")] = repo
    for issue in repo.issues.values():
        service.register_issue(repo, issue)  # findable by global id, as sub-issues are


def write_config(tmp: Path, base: str) -> Path:
    config = tmp / "bench.toml"
    config.write_text(f"""
[state]
url = "sqlite:///{tmp}/state.db"
[connections.gh]
plugin = "github"
base_url = "{base}/github"
token = "{TOKEN}"
seconds_between_writes = 0
per_page = {GH_PAGE}
[connections.jira]
plugin = "jira"
base_url = "{base}/jira"
email = "{EMAIL}"
token = "{TOKEN}"
page_size = {JIRA_PAGE}
[[flows]]
name = "bench"
a = {{ connection = "gh", scope = "acme/portal" }}
b = {{ connection = "jira", scope = "BENCH" }}
mapping = "github-jira"
records = ["issue", "comment"]
""", encoding="utf-8")
    return config


def run(label: str, config: Path, app: SandboxApp, minimum: Minimum) -> Run:
    first = len(app.log)
    started = time.perf_counter()
    with open_hub(config) as hub:
        [result] = sync(hub)
    seconds = time.perf_counter() - started
    if result.status != "ok":
        raise SystemExit(f"{label}: run ended {result.status}: {result.error}")
    entries = app.log[first:]
    return Run(label, seconds, Counter(e["service"] for e in entries), minimum,
               Counter(kind_of(e) for e in entries))


def edit(base: str, gh_numbers: list[int], jira_keys: list[str], round_: int) -> None:
    """Edit titles on GitHub and summaries in Jira, as people would (not counted)."""
    gh = requests.Session()
    gh.headers["Authorization"] = f"token {TOKEN}"
    for number in gh_numbers:
        gh.patch(f"{base}/github/repos/acme/portal/issues/{number}",
                 json={"title": f"Issue {number} edited on GitHub ({round_})"}, timeout=10).raise_for_status()
    jira = requests.Session()
    jira.auth = (EMAIL, TOKEN)
    for key in jira_keys:
        reply = jira.put(f"{base}/jira/rest/api/2/issue/{key}",
                         json={"fields": {"summary": f"{key} edited in Jira ({round_})"}}, timeout=10)
        reply.raise_for_status()


def jira_keys(base: str) -> dict[str, str]:
    """Jira key by GitHub title prefix ("Issue 17"), read once for choosing what to edit."""
    http = requests.Session()
    http.auth = (EMAIL, TOKEN)
    out: dict[str, str] = {}
    token = None
    while True:
        params: dict[str, Any] = {"jql": "project = BENCH", "fields": "summary", "maxResults": 100}
        if token:
            params["nextPageToken"] = token
        page = http.get(f"{base}/jira/rest/api/2/search/jql", params=params, timeout=30).json()
        for issue in page["issues"]:
            out[issue["fields"]["summary"]] = issue["key"]
        token = page.get("nextPageToken")
        if not token:
            return out


def incremental_minimum(gh_edited: int, jira_edited: int) -> Minimum:
    """Each side lists only what changed (at least one page per listing; Jira's comments ride
    along with its issue search), and each edited record is one write on the other side."""
    lists = (max(1, math.ceil(gh_edited / GH_PAGE)) + 1      # GitHub issues, comments
             + max(1, math.ceil(jira_edited / JIRA_PAGE)))  # Jira issues and their comments
    return Minimum(lists, gh_edited + jira_edited)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--issues", type=int, default=2000)
    parser.add_argument("--edited", type=float, default=0.05, help="share edited on each side")
    parser.add_argument("--settle", type=float, default=0.0,
                        help="seconds to wait after the backfill (see the docstring)")
    args = parser.parse_args()
    n = args.issues
    github = GitHubSandbox()
    app = SandboxApp([github, JiraSandbox()], token=TOKEN)
    seed_github(github, n)
    runs: list[Run] = []
    with SandboxServer(app) as server, tempfile.TemporaryDirectory() as tmp:
        base = server.url
        requests.post(f"{base}/jira/rest/api/2/project", auth=(EMAIL, TOKEN), timeout=10,
                      json={"key": "BENCH", "name": "Bench", "projectTypeKey": "software"}).raise_for_status()
        config = write_config(Path(tmp), base)

        # Backfill minimum: every GitHub page, one (empty) page each for GitHub's comments and the
        # Jira search, bulk creates and the bulk fetch of what they made.
        backfill_min = Minimum(math.ceil(n / GH_PAGE) + 1 + 1, math.ceil(n / JIRA_BULK),
                               reads=math.ceil(n / BULK_FETCH))
        runs.append(run(f"backfill of {n}", config, app, backfill_min))
        keys = jira_keys(base)
        if len(keys) != n:
            raise SystemExit(f"backfill made {len(keys)} Jira issues, expected {n}")

        edited = max(1, int(n * args.edited))
        if args.settle:
            print(f"waiting {args.settle:.0f} s after the backfill (--settle)")
            time.sleep(args.settle)
        for round_, label in ((1, "incremental right after the backfill"), (2, "incremental again")):
            # Disjoint sets per side and round: no record changes on both sides (no conflicts).
            gh_numbers = [i for i in range(1, n + 1) if i % 20 == round_][:edited] or [1]
            numbers = [i for i in range(1, n + 1) if i % 20 == round_ + 10][:edited] or [2]
            targets = [keys[f"Issue {i}"] for i in numbers if f"Issue {i}" in keys]
            gh_count = len(gh_numbers)
            # Never to the second of the previous run's writes (GitHub's `since` is whole seconds).
            time.sleep(1.1)
            edit(base, gh_numbers, targets, round_)
            runs.append(run(f"{label} ({gh_count} edited on GitHub, {len(targets)} in Jira)",
                            config, app, incremental_minimum(gh_count, len(targets))))
    for result in runs:
        result.show()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"wall time: {sum(r.seconds for r in runs):.2f} s over {len(runs)} runs; "
          f"peak RSS {peak:.0f} MB (this process, sandbox included)")


if __name__ == "__main__":
    main()
