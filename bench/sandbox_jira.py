"""Throughput of the Jira stand-in through the real ``jira`` client, single client on loopback.

    python bench/sandbox_jira.py [ISSUES] [--gets N] [--page-size N]

Seeds ISSUES issues with bulk creates, then times every search page of the project (nextPageToken
paging) and N single-issue gets, and prints requests/s for each. Target: >= 300 requests/s.
"""

from __future__ import annotations

import argparse
import time

import requests
from pmhub_plugins.jira.sandbox import JiraSandbox

from hub.sandbox.server import SandboxApp, SandboxServer

AUTH = ("bot@acme.example", "t")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("issues", type=int, nargs="?", default=1000)
    parser.add_argument("--gets", type=int, default=500)
    parser.add_argument("--page-size", type=int, default=50)
    args = parser.parse_args()

    from jira import JIRA

    with SandboxServer(SandboxApp([JiraSandbox()])) as server:
        base = server.url + "/jira"
        api = base + "/rest/api/2"
        http = requests.Session()
        http.auth = AUTH
        http.post(f"{api}/project", json={"key": "BENCH", "name": "Bench", "projectTypeKey": "software"},
                  timeout=10).raise_for_status()
        started = time.perf_counter()
        for first in range(0, args.issues, 50):
            batch = [{"fields": {"project": {"key": "BENCH"}, "issuetype": {"name": "Task"},
                                 "summary": f"Issue {n}", "labels": ["bench"],
                                 "description": f"Body of issue {n}"}}
                     for n in range(first, min(first + 50, args.issues))]
            http.post(f"{api}/issue/bulk", json={"issueUpdates": batch}, timeout=30).raise_for_status()
        seeded = time.perf_counter() - started
        print(f"seeded {args.issues} issues with bulk creates in {seeded:.2f} s")

        jira = JIRA(server=base, basic_auth=AUTH, max_retries=0, timeout=10)
        fields = ["summary", "status", "updated", "labels", "description", "priority", "issuetype"]
        jira.fields()  # the client's one-off field lookup, kept out of the timing
        pages = 0
        seen = 0
        token = None
        started = time.perf_counter()
        while True:
            page = jira.enhanced_search_issues("project = BENCH ORDER BY updated ASC",
                                               nextPageToken=token, maxResults=args.page_size,
                                               fields=list(fields))
            pages += 1
            seen += len(page)
            token = page.nextPageToken
            if not token:
                break
        search_s = time.perf_counter() - started
        assert seen == args.issues, (seen, args.issues)
        print(f"search: {pages} pages of {args.page_size} in {search_s:.2f} s = "
              f"{pages / search_s:.0f} requests/s ({seen / search_s:.0f} issues/s)")

        keys = [f"BENCH-{1 + n % args.issues}" for n in range(args.gets)]
        started = time.perf_counter()
        for key in keys:
            jira.issue(key)
        get_s = time.perf_counter() - started
        print(f"get: {args.gets} single-issue gets in {get_s:.2f} s = {args.gets / get_s:.0f} requests/s")
        total = pages + args.gets
        print(f"overall: {total / (search_s + get_s):.0f} requests/s (target >= 300)")

        # The same listing through pmhub's connector: paging plus mapping (wiki -> Markdown) per issue.
        from pmhub_plugins.jira.connector import JiraConnector, JiraSettings

        connector = JiraConnector("bench", JiraSettings(
            plugin="jira", base_url=base, email=AUTH[0], token=AUTH[1], page_size=100))
        connector.open()
        connector.calls.counts.clear()
        started = time.perf_counter()
        listed = sum(1 for _ in connector.list_changed("BENCH", "issue", None))
        list_s = time.perf_counter() - started
        connector.close()
        print(f"connector: listed {listed} issues in {list_s:.2f} s = {listed / list_s:.0f} issues/s "
              f"with {connector.calls.total} calls ({connector.calls.counts})")


if __name__ == "__main__":
    main()
