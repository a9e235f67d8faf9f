"""Throughput of the GitHub stand-in through the real PyGithub client, single client on loopback.

    python bench/sandbox_github.py [ISSUES] [--per-page N] [--gets N] [--creates N]

Seeds ISSUES issues straight into the stand-in's state (creating them over HTTP would measure the
create path, timed separately with --creates), then times listing every page of
``GET /repos/{o}/{r}/issues?state=all&sort=updated&direction=asc`` and N single-issue gets, and
prints requests/s for each. Target: at least 300 requests/s, so the sandbox never dominates a test run.
"""

from __future__ import annotations

import argparse
import datetime as dt
import time

import requests
from github import Auth, Github
from pmhub_plugins.github.sandbox import GitHubSandbox
from pmhub_plugins.github.sandbox.state import Issue, Repo

from hub.sandbox.server import SandboxApp, SandboxServer


def rate(label: str, count: int, seconds: float) -> float:
    per_second = count / seconds
    print(f"{label:<40} {count:>6} requests in {seconds:6.2f} s  {per_second:8.0f} requests/s")
    return per_second


def seed(service: GitHubSandbox, count: int) -> None:
    start = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(days=30)
    repo = Repo(id=service.next_id("repo"), owner="acme", name="bench", created_at=start, updated_at=start)
    for number in range(1, count + 1):
        when = start + dt.timedelta(seconds=number)
        repo.issues[number] = Issue(id=service.next_id("issue"), number=number, title=f"Issue {number}",
                                    body="Body text\n\n<!-- pmhub:bench -->", user="octocat",
                                    created_at=when, updated_at=when, assignees=["hubot"])
    repo.next_number = count + 1
    service.repos[("acme", "bench")] = repo


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("issues", type=int, nargs="?", default=2000)
    parser.add_argument("--per-page", type=int, default=100)
    parser.add_argument("--gets", type=int, default=1000)
    parser.add_argument("--creates", type=int, default=200)
    args = parser.parse_args()

    service = GitHubSandbox()
    app = SandboxApp([service])
    seed(service, args.issues)
    with SandboxServer(app) as server:
        gh = Github(auth=Auth.Token("bench"), base_url=f"{server.url}/github", per_page=args.per_page,
                    seconds_between_requests=None, seconds_between_writes=None, retry=None, timeout=10)
        repo = gh.get_repo("acme/bench")

        started = time.perf_counter()
        listed = list(repo.get_issues(state="all", sort="updated", direction="asc"))
        pages = -(-len(listed) // args.per_page)
        list_rate = rate(f"list pages ({args.per_page} issues each)", pages, time.perf_counter() - started)
        print(f"{'':<40} {len(listed) / (time.perf_counter() - started):8.0f} issues/s listed")

        # The same pages over a bare keep-alive session: what the stand-in serves, without the
        # ~10 ms PyGithub spends turning 100 issues into objects.
        http = requests.Session()
        http.headers["Authorization"] = "token bench"
        url = f"{server.url}/github/repos/acme/bench/issues"
        started = time.perf_counter()
        for page in range(1, pages + 1):
            reply = http.get(url, params={"state": "all", "sort": "updated", "direction": "asc",
                                          "per_page": args.per_page, "page": page}, timeout=10)
            reply.json()
        rate("list pages, raw HTTP", pages, time.perf_counter() - started)

        started = time.perf_counter()
        for n in range(args.gets):
            repo.get_issue(n % args.issues + 1)
        get_rate = rate("single issue gets", args.gets, time.perf_counter() - started)

        started = time.perf_counter()
        for n in range(args.creates):
            repo.create_issue(f"Created {n}", body="text")
        rate("issue creates", args.creates, time.perf_counter() - started)

    print(f"target >= 300 requests/s: gets {'met' if get_rate >= 300 else 'NOT met'}, "
          f"list pages at {list_rate:.0f}/s (each page renders {args.per_page} full issues)")


if __name__ == "__main__":
    main()
