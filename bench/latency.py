"""Edit-to-twin latency through webhooks, beside the same edits in poll mode.

    python bench/latency.py [--edits 50] [--skip-poll]

The sandbox (in-process, demo seed) plays GitHub, Jira, Trello and Zoho CRM; two flows join them
(GitHub <-> Jira, Trello <-> Zoho Cases). ``pmhub serve`` runs in its own process.

1. Webhooks: hooks registered with ``pmhub webhooks install``, the schedule a year away. EDITS
   title edits, round-robin over the four tools, one at a time: each is timed from the edit's
   reply to its twin showing the new title (read every 20 ms through the tool's API).
2. Poll mode: no hooks, a one-minute schedule (``* * * * *``), the same number of edits made at
   once; each is timed until its twin shows it, which the next poll brings.

For each: p50, p95 and max latency, and pmhub's API calls per edit (its own /metrics counters,
so the bench's reads are not counted). Target: p95 under 1 s through webhooks.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import requests
import tomli_w

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from hub.config import render_config
from hub.sandbox.server import SandboxServer, build_sandbox
from hub.testing.sandbox_client import SandboxClient

SECRET = "bench-hook-secret"
EMAIL = "bot@acme.example"
REPO, PROJECT = "acme/portal", "PORT"
FAR_AWAY = "0 0 1 1 *"


@dataclass(frozen=True)
class Edit:
    """One pair of twins: which tool is edited, how, and how to read the twin's title."""

    tool: str
    edit: Callable[[str], None]
    twin_title: Callable[[], str]


class Bench:
    def __init__(self, work: Path, sandbox: SandboxClient, schedule: str) -> None:
        from github import Auth, Github
        from jira import JIRA

        self.work, self.sandbox = work, sandbox
        sandbox.reset("demo")
        requests.post(f"{sandbox.url}/_sandbox/trello/app-secret", json={"secret": SECRET},
                      timeout=10).raise_for_status()
        self.trello = requests.Session()
        self.trello.params = {"key": "sandbox-key", "token": "sandbox-token"}
        self.trello_root = sandbox.base("trello") + "/1"
        [board] = self.trello.get(f"{self.trello_root}/members/me/boards", timeout=10).json()
        self.board = str(board["id"])
        self.zoho = requests.Session()
        self.zoho.headers["Authorization"] = "Zoho-oauthtoken bench"
        self.zoho_root = sandbox.base("zoho") + "/crm/v8"
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        os.environ["PMHUB_BENCH_SECRET"] = SECRET
        secret = {"webhook_secret": {"env": "PMHUB_BENCH_SECRET"}}
        connections: dict[str, dict[str, Any]] = {
            "gh": {"plugin": "github", "base_url": sandbox.base("github"), "token": "t",
                   "seconds_between_writes": 0, **secret},
            "jira": {"plugin": "jira", "base_url": sandbox.base("jira"), "email": EMAIL, "token": "t",
                     **secret},
            "board": {"plugin": "trello", "base_url": sandbox.base("trello"), "key": "sandbox-key",
                      "token": "sandbox-token", **secret},
            "crm": {"plugin": "zoho_crm", "base_url": sandbox.base("zoho"), "client_id": "1000.BENCH",
                    "client_secret": "s", "refresh_token": "1000.bench-refresh",
                    "data_dir": str(work / "zoho"), **secret},
        }
        flows = [
            {"name": "portal", "a": {"connection": "gh", "scope": REPO},
             "b": {"connection": "jira", "scope": PROJECT}, "mapping": "github-jira", "schedule": schedule},
            {"name": "customers", "a": {"connection": "board", "scope": self.board},
             "b": {"connection": "crm", "scope": "Cases"}, "records": ["issue"], "schedule": schedule},
        ]
        self.config = work / "pmhub.toml"
        text = render_config(state_url=f"sqlite:///{work / 'state.db'}", connections=connections, flows=flows)
        server = tomli_w.dumps({"server": {"port": self.port, "public_url": self.url}})
        self.config.write_text(text + "\n" + server, encoding="utf-8")
        self.gh = Github(auth=Auth.Token("t"), base_url=sandbox.base("github"), seconds_between_requests=None,
                         seconds_between_writes=None, retry=None).get_repo(REPO)
        self.jira = JIRA(server=sandbox.base("jira"), basic_auth=(EMAIL, "t"), max_retries=0)
        self.process: subprocess.Popen[bytes] | None = None

    def pmhub(self, *args: str) -> None:
        subprocess.run([sys.executable, "-m", "hub", *args, "--config", str(self.config)], check=False,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=300)

    def serve(self) -> None:
        log = (self.work / "serve.log").open("wb")
        self.process = subprocess.Popen([sys.executable, "-m", "hub", "serve", "--config", str(self.config)],
                                        stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if requests.get(f"{self.url}/healthz", timeout=1).ok:
                    return
            except requests.ConnectionError:
                time.sleep(0.1)
        raise SystemExit("pmhub serve did not start; see " + log.name)

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(60)

    def api_calls(self) -> float:
        text = requests.get(f"{self.url}/metrics", timeout=10).text
        return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
                   if line.startswith("pmhub_api_calls_total{"))

    # -- edits: (tool, make the edit, read the twin's title) -----------------------------------
    def pairs(self) -> list[Edit]:
        """One edit per linked pair, sides alternating, from the seed's records."""
        issues = self.jira.search_issues(f"project = {PROJECT}", maxResults=False)
        jira_by_title = {i.fields.summary: str(i.key) for i in issues}
        rows = self.zoho.get(f"{self.zoho_root}/Cases", params={"fields": "Subject", "per_page": "200"},
                             timeout=10).json()["data"]
        cases = {row["Subject"]: str(row["id"]) for row in rows}
        listed = self.trello.get(f"{self.trello_root}/boards/{self.board}/cards", timeout=10).json()
        cards = {c["name"]: str(c["id"]) for c in listed}
        out: list[Edit] = []
        for n, issue in enumerate(i for i in self.gh.get_issues(state="open") if i.title in jira_by_title):
            key = jira_by_title[issue.title]
            if n % 2 == 0:
                out.append(Edit("github", partial(self._edit_github, issue.number),
                                partial(self._jira_title, key)))
            else:
                out.append(Edit("jira", partial(self._edit_jira, key),
                                partial(self._github_title, issue.number)))
        for n, name in enumerate(name for name in cards if name in cases):
            card, case = cards[name], cases[name]
            if n % 2 == 0:
                out.append(Edit("trello", partial(self._put_card, card), partial(self._case_subject, case)))
            else:
                out.append(Edit("zoho", partial(self._put_case, case), partial(self._card_name, card)))
        return out

    def _edit_github(self, number: int, title: str) -> None:
        self.gh.get_issue(number).edit(title=title)

    def _github_title(self, number: int) -> str:
        return str(self.gh.get_issue(number).title)

    def _edit_jira(self, key: str, title: str) -> None:
        self.jira.issue(key).update(summary=title)

    def _jira_title(self, key: str) -> str:
        return str(self.jira.issue(key, fields="summary").fields.summary)

    def _put_card(self, card: str, title: str) -> None:
        reply = self.trello.put(f"{self.trello_root}/cards/{card}", params={"name": title}, timeout=10)
        reply.raise_for_status()

    def _card_name(self, card: str) -> str:
        return str(self.trello.get(f"{self.trello_root}/cards/{card}", timeout=10).json()["name"])

    def _put_case(self, case: str, title: str) -> None:
        self.zoho.put(f"{self.zoho_root}/Cases/{case}", json={"data": [{"Subject": title}]},
                      timeout=10).raise_for_status()

    def _case_subject(self, case: str) -> str:
        return str(self.zoho.get(f"{self.zoho_root}/Cases/{case}", timeout=10).json()["data"][0]["Subject"])


def _schedule(pairs: list[Edit], edits: int) -> list[Edit]:
    """EDITS edits round-robin over the tools, each tool cycling through its pairs."""
    by_tool: dict[str, list[Edit]] = {}
    for pair in pairs:
        by_tool.setdefault(pair.tool, []).append(pair)
    tools = sorted(by_tool)
    plan = []
    for n in range(edits):
        own = by_tool[tools[n % len(tools)]]
        plan.append(own[(n // len(tools)) % len(own)])
    return plan


def _wait_for(read: Callable[[], str], title: str, timeout: float) -> float:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if read() == title:
            return time.monotonic()
        time.sleep(0.02)
    raise SystemExit(f"twin never showed {title!r}")


def run(mode: str, edits: int, sandbox: SandboxClient) -> tuple[list[float], float]:
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["PMHUB_DATA_DIR"] = tmp
        bench = Bench(Path(tmp), sandbox, FAR_AWAY if mode == "webhooks" else "* * * * *")
        bench.pmhub("sync", "--quiet")
        bench.serve()
        try:
            if mode == "webhooks":
                bench.pmhub("webhooks", "install")
            plan = _schedule(bench.pairs(), edits)
            calls_before = bench.api_calls()
            latencies: list[float] = []
            if mode == "webhooks":
                last_edit: dict[int, float] = {}
                for n, pair in enumerate(plan):
                    # GitHub keeps whole seconds: one record edited twice in a second waits in the
                    # stand-in, as it would lose an edit; give each record its second.
                    time.sleep(max(0.0, 1.05 - (time.monotonic() - last_edit.get(id(pair), 0.0))))
                    title = f"latency bench {mode} {n}"
                    pair.edit(title)
                    done = time.monotonic()
                    last_edit[id(pair)] = done
                    latencies.append(_wait_for(pair.twin_title, title, 30) - done)
            else:
                latest: dict[int, tuple[float, Edit, str]] = {}
                for n, pair in enumerate(plan):
                    title = f"latency bench {mode} {n}"
                    pair.edit(title)
                    # A pair edited again shows only its last title: that edit is the one timed.
                    latest[id(pair)] = (time.monotonic(), pair, title)
                for when, pair, title in latest.values():
                    latencies.append(_wait_for(pair.twin_title, title, 150) - when)
            time.sleep(1.0)  # echoes and the last run's counters
            calls = (bench.api_calls() - calls_before) / edits
        finally:
            bench.stop()
    return latencies, calls


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--edits", type=int, default=50)
    parser.add_argument("--skip-poll", action="store_true", help="only the webhook measurement")
    args = parser.parse_args()
    with SandboxServer(build_sandbox()) as server:
        sandbox = SandboxClient(server.url)
        modes = ["webhooks"] + ([] if args.skip_poll else ["poll (* * * * *)"])
        print(f"{'mode':18} {'edits':>5} {'p50 s':>7} {'p95 s':>7} {'max s':>7} {'API calls/edit':>15}")
        for mode in modes:
            latencies, calls = run("webhooks" if mode == "webhooks" else "poll", args.edits, sandbox)
            ordered = sorted(latencies)
            p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
            print(f"{mode:18} {len(ordered):>5} {statistics.median(ordered):>7.2f} {p95:>7.2f} "
                  f"{ordered[-1]:>7.2f} {calls:>15.1f}")


if __name__ == "__main__":
    main()
