"""Edits in GitHub, Jira, Trello and Zoho CRM reach their twins through webhooks: ``pmhub serve`` in
a real process, hooks registered by ``pmhub webhooks install``, the stand-ins delivering the real
payloads after each write. The schedule is a year away, so no poll runs in between."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import tomli_w
from click.testing import CliRunner

from hub.cli import main
from hub.testing.sandbox_client import SandboxClient
from tests.conftest import write_config
from tests.sandbox.github_support import github_client
from tests.sandbox.jira_support import EMAIL, jira_client
from tests.sandbox.trello_http import TrelloHttp
from tests.sandbox.zoho_support import REFRESH_TOKEN
from tests.sandbox.zoho_support import http as zoho_http
from tests.service.support import FAR_AWAY, free_port, wait_for

pytestmark = pytest.mark.slow
SECRET = "e2e-hook-secret-41d2"
REPO, PROJECT = "acme/portal", "PORT"


class FourTools:
    """The demo seed's repository, Jira project, Trello board and Zoho Cases, in two flows."""

    def __init__(self, tmp_path: Path, sandbox: SandboxClient, schedule: str) -> None:
        self.tmp_path, self.sandbox = tmp_path, sandbox
        sandbox.reset("demo")
        requests.post(f"{sandbox.url}/_sandbox/trello/app-secret", json={"secret": SECRET},
                      timeout=10).raise_for_status()
        os.environ["PMHUB_TEST_E2E_SECRET"] = SECRET
        self.trello = TrelloHttp(sandbox.base("trello"))
        [board] = self.trello.get("/members/me/boards")
        self.board = str(board["id"])
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        secret = {"webhook_secret": {"env": "PMHUB_TEST_E2E_SECRET"}}
        connections = {
            "gh": {"plugin": "github", "base_url": sandbox.base("github"), "token": "t", "timeout": 10,
                   "seconds_between_writes": 0, **secret},
            "jira": {"plugin": "jira", "base_url": sandbox.base("jira"), "email": EMAIL, "token": "t",
                     "timeout": 10, **secret},
            "board": {"plugin": "trello", "base_url": sandbox.base("trello"), "key": "sandbox-key",
                      "token": "sandbox-token", "timeout": 10, **secret},
            "crm": {"plugin": "zoho_crm", "base_url": sandbox.base("zoho"), "client_id": "1000.CLIENT",
                    "client_secret": "s", "refresh_token": REFRESH_TOKEN, "timeout": 10,
                    "data_dir": str(tmp_path / "zoho"), **secret},
        }
        flows = [
            {"name": "portal", "a": {"connection": "gh", "scope": REPO},
             "b": {"connection": "jira", "scope": PROJECT}, "mapping": "github-jira", "schedule": schedule},
            {"name": "customers", "a": {"connection": "board", "scope": self.board},
             "b": {"connection": "crm", "scope": "Cases"}, "records": ["issue"], "schedule": schedule},
        ]
        self.config = write_config(tmp_path / "pmhub.toml", connections=connections, flows=flows,
                                   state_url=f"sqlite:///{tmp_path / 'state.db'}")
        with self.config.open("a", encoding="utf-8") as out:
            out.write("\n" + tomli_w.dumps({"server": {"port": self.port, "public_url": self.url}}))
        self.gh = github_client(sandbox.base("github")).get_repo(REPO)
        self.jira = jira_client(sandbox.base("jira"))
        self.zoho = zoho_http(sandbox.base("zoho"))
        self.process: subprocess.Popen[str] | None = None

    def pmhub(self, *args: str) -> str:
        result = CliRunner().invoke(main, [*args, "--config", str(self.config)], catch_exceptions=False)
        assert result.exit_code in (0, 1), result.output  # 1: something needs attention (the seed's)
        return result.output

    def serve(self) -> None:
        self.log = (self.tmp_path / "serve.log").open("w+", encoding="utf-8")
        command = [sys.executable, "-m", "hub", "serve", "--config", str(self.config)]
        self.process = subprocess.Popen(command, stdout=self.log, stderr=subprocess.STDOUT, text=True,
                                        env=os.environ.copy())
        wait_for(lambda: self._healthy(), timeout=30, what="pmhub serve")

    def _healthy(self) -> bool:
        assert self.process is not None and self.process.poll() is None, self.output()
        try:
            return requests.get(f"{self.url}/healthz", timeout=1).status_code == 200
        except requests.ConnectionError:
            return False

    def output(self) -> str:
        self.log.flush()
        return Path(self.log.name).read_text(encoding="utf-8")

    def metrics(self) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
        from prometheus_client.parser import text_string_to_metric_families

        text = requests.get(f"{self.url}/metrics", timeout=10).text
        return {(s.name, tuple(sorted(s.labels.items()))): s.value
                for family in text_string_to_metric_families(text) for s in family.samples}

    def runs(self, trigger: str) -> float:
        return sum(v for (name, labels), v in self.metrics().items()
                   if name == "pmhub_runs_total" and ("trigger", trigger) in labels)

    def calls(self) -> dict[tuple[str, str], float]:
        """API calls pmhub serve made, by (connection, kind)."""
        out: dict[tuple[str, str], float] = {}
        for (name, labels), value in self.metrics().items():
            if name == "pmhub_api_calls_total":
                label = dict(labels)
                key = (label["connection"], label["kind"])
                out[key] = out.get(key, 0) + value
        return out

    def close(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)

    # -- the records ------------------------------------------------------------------------
    def jira_twin_of(self, number: int) -> Any:
        issue = self.gh.get_issue(number)
        [twin] = [i for i in self.jira.search_issues(f"project = {PROJECT}", maxResults=False)
                  if i.fields.summary == issue.title]
        return twin

    def cases(self) -> dict[str, dict[str, Any]]:
        reply = self.zoho.get(f"{self.sandbox.base('zoho')}/crm/v8/Cases", timeout=10,
                              params={"fields": "Subject,Status", "per_page": "200"})
        return {} if reply.status_code == 204 else {str(r["id"]): r for r in reply.json()["data"]}

    def cards(self) -> dict[str, dict[str, Any]]:
        return {str(c["id"]): c for c in self.trello.get(f"/boards/{self.board}/cards/all")}


@pytest.fixture
def tools(tmp_path: Path, sandbox: SandboxClient) -> Iterator[FourTools]:
    made = FourTools(tmp_path, sandbox, FAR_AWAY)
    made.pmhub("sync", "--quiet")  # the seed's records linked once
    made.serve()
    installed = made.pmhub("webhooks", "install")
    assert installed.count("created") == 4, installed
    yield made
    made.close()


def test_an_edit_in_each_tool_reaches_its_twin_through_a_webhook(tools: FourTools) -> None:
    before = tools.calls()
    # GitHub -> Jira
    tools.gh.get_issue(1).edit(title="SSO login loops (webhook)")
    # Jira -> GitHub: the twin of another issue
    jira_twin = tools.jira_twin_of(2)
    jira_twin.update(summary="Edited in Jira (webhook)")
    # Trello -> Zoho and Zoho -> Trello, on two different pairs
    cards, cases = tools.cards(), tools.cases()
    card_id = sorted(cards)[0]
    tools.trello.call("PUT", f"/cards/{card_id}", params={"name": "Edited in Trello (webhook)"})
    case_id = sorted(cases)[-1]
    reply = tools.zoho.put(f"{tools.sandbox.base('zoho')}/crm/v8/Cases/{case_id}", timeout=10,
                           json={"data": [{"Subject": "Edited in Zoho (webhook)"}]})
    assert reply.status_code == 200, reply.text

    wait_for(lambda: any(i.fields.summary == "SSO login loops (webhook)"
                         for i in tools.jira.search_issues(f"project = {PROJECT}", maxResults=False)),
             what="GitHub's edit on Jira")
    wait_for(lambda: any(i.title == "Edited in Jira (webhook)" for i in tools.gh.get_issues(state="all")),
             what="Jira's edit on GitHub")
    wait_for(lambda: any(c.get("Subject") == "Edited in Trello (webhook)" for c in tools.cases().values()),
             what="Trello's edit on Zoho")
    wait_for(lambda: any(c["name"] == "Edited in Zoho (webhook)" for c in tools.cards().values()),
             what="Zoho's edit on Trello")
    assert tools.runs("poll") == 0, "no poll ran: webhooks carried every edit"
    wait_for(lambda: tools.metrics().get(("pmhub_targeted_syncs_waiting", ())) == 0, what="the queue")
    spent = {key: n - before.get(key, 0) for key, n in tools.calls().items() if n - before.get(key, 0)}
    listings = {key: n for key, n in spent.items() if "list" in key[1] or "search" in key[1]}
    assert listings == {}, f"a targeted sync lists nothing: {spent}"
    # A record read on its side, then the twin written (an update may read the twin first and
    # move its status): a handful per edit, never a page of records. Four edits and their echoes.
    assert sum(spent.values()) <= 4 * 6 + 4 * 2, spent


def test_a_jira_issue_deleted_applies_the_flows_on_delete_through_the_webhook(tools: FourTools) -> None:
    twin = tools.jira_twin_of(3)
    title = tools.gh.get_issue(3).title
    twin.delete()
    wait_for(lambda: tools.gh.get_issue(3).state == "closed", what="on_delete (close) on GitHub")
    assert tools.gh.get_issue(3).title == title
    assert tools.runs("poll") == 0


def test_a_dropped_delivery_is_caught_up_by_the_next_poll(tmp_path: Path, sandbox: SandboxClient) -> None:
    made = FourTools(tmp_path, sandbox, "* * * * * */5")  # every five seconds (a sixth, seconds field)
    try:
        made.pmhub("sync", "--quiet")
        made.serve()
        made.pmhub("webhooks", "install")
        sandbox.webhook_fault("github", mode="drop")
        made.gh.get_issue(1).edit(title="Edited while the delivery is lost")
        time.sleep(1.5)
        assert made.runs("webhook") == 0, "the delivery never came"
        wait_for(lambda: any(i.fields.summary == "Edited while the delivery is lost"
                             for i in made.jira.search_issues(f"project = {PROJECT}", maxResults=False)),
                 timeout=30, what="the next poll")
        wait_for(lambda: made.runs("poll") >= 1, what="the poll's run to be counted")
    finally:
        made.close()


def test_a_delivery_the_tool_sends_twice_writes_once(tools: FourTools) -> None:
    twin = tools.jira_twin_of(2)
    number = next(i.number for i in tools.gh.get_issues(state="all") if i.title == twin.fields.summary)
    tools.sandbox.webhook_fault("jira", mode="duplicate")
    tools.sandbox.clear_requests()
    twin.update(summary="Sent twice by Jira")
    wait_for(lambda: tools.gh.get_issue(number).title == "Sent twice by Jira", what="the edit on GitHub")
    replayed = ("pmhub_webhook_deliveries_total", (("connection", "jira"), ("outcome", "replayed")))
    wait_for(lambda: tools.metrics().get(replayed) == 1, what="the second copy acknowledged and ignored")
    writes = [r for r in tools.sandbox.requests("github") if r["method"] == "PATCH"]
    assert len(writes) == 1, writes
    assert tools.runs("webhook") == 1


def test_a_delivery_signed_with_the_wrong_key_is_refused_and_syncs_nothing(tools: FourTools) -> None:
    tools.sandbox.webhook_fault("github", mode="bad_signature")
    before = tools.calls()
    tools.gh.get_issue(1).edit(title="Forged on the way")
    rejected = ("pmhub_webhook_deliveries_total", (("connection", "gh"), ("outcome", "rejected")))
    wait_for(lambda: tools.metrics().get(rejected) == 1, what="the forged delivery refused")
    time.sleep(1.0)  # what a queued sync would have needed
    assert tools.calls() == before, "no API call for a refused delivery"
    assert tools.runs("webhook") == 0
    assert all(i.fields.summary != "Forged on the way"
               for i in tools.jira.search_issues(f"project = {PROJECT}", maxResults=False))
    [row] = [d for d in tools.sandbox.webhook_deliveries("github") if d.get("fault") == "bad_signature"]
    assert row["status"] == 401
