"""The customer path end to end, through ``pmhub sync`` and the sandbox with the real clients:
Zoho CRM cases and a customer-facing Trello board on one side, Jira on the other.

- a Zoho Case becomes a Jira issue carrying its customer; done in Jira closes the Case and puts one
  progress Note on the customer's Account, and a re-run adds none;
- a Trello card moved to Done closes its Jira twin; a Jira comment reaches the card;
- a deleted card follows ``on_delete``;
- lost create replies (Trello, Zoho) make no duplicates; Zoho's 429 and an expired token do not
  stop a run;
- a no-op run writes nothing and lists each side and record kind once.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest
import requests
from click.testing import CliRunner, Result

from hub.cli import main
from hub.testing.sandbox_client import SandboxClient
from tests.conftest import write_config
from tests.sandbox.jira_support import http as jira_http
from tests.sandbox.jira_support import new_project
from tests.sandbox.trello_http import TrelloHttp

pytest.importorskip("zohocrmsdk")

CASES_PROJECT = "PORT"
BOARD_PROJECT = "CUST"
TIMEOUT = 10


class CustomerPath:
    """Zoho CRM, Jira and Trello in the sandbox, joined by the two default customer mappings:
    flow ``cases`` (Zoho Cases <-> Jira PORT) and flow ``board`` (a Trello board <-> Jira CUST)."""

    def __init__(self, tmp_path: Path, sandbox: SandboxClient, *, on_delete: str = "close") -> None:
        self.sandbox = sandbox
        self.zoho_base = sandbox.base("zoho")
        # Any access token goes with a sandbox started without --token, as long as it never expired.
        self.zoho = requests.Session()
        self.zoho.headers["Authorization"] = "Zoho-oauthtoken integration-test"
        self.trello = TrelloHttp(sandbox.base("trello"))
        self.board = self.trello.board("Acme requests")["id"]
        self.lists = self.trello.lists(self.board)
        new_project(sandbox, CASES_PROJECT, "Acme Portal")
        new_project(sandbox, BOARD_PROJECT, "Acme customer board")
        self.config = write_config(
            tmp_path / "pmhub.toml", state_url=f"sqlite:///{tmp_path / 'state.db'}",
            connections={
                "crm": {"plugin": "zoho_crm", "base_url": self.zoho_base, "client_id": "1000.PMHUBTEST",
                        "client_secret": {"env": "PMHUB_TEST_ZOHO_SECRET"},
                        "refresh_token": {"env": "PMHUB_TEST_ZOHO_REFRESH"}, "timeout": TIMEOUT},
                "jira": {"plugin": "jira", "base_url": sandbox.base("jira"), "email": "bot@acme.example",
                         "token": {"env": "PMHUB_TEST_JIRA_TOKEN"}, "timeout": TIMEOUT},
                "board": {"plugin": "trello", "base_url": sandbox.base("trello"), "key": "sandbox-key",
                          "token": {"env": "PMHUB_TEST_TRELLO_TOKEN"}, "timeout": TIMEOUT},
            },
            flows=[
                {"name": "cases", "a": {"connection": "crm", "scope": "Cases"},
                 "b": {"connection": "jira", "scope": CASES_PROJECT}, "records": ["issue"],
                 "mapping": "zoho-jira", "on_delete": "close", "progress_notes": {"side": "a"}},
                {"name": "board", "a": {"connection": "board", "scope": self.board},
                 "b": {"connection": "jira", "scope": BOARD_PROJECT}, "records": ["issue", "comment"],
                 "mapping": "trello-jira", "on_delete": on_delete},
            ])

    # -- the CLI -----------------------------------------------------------------------------
    def run(self, *flows: str) -> Result:
        return CliRunner().invoke(main, ["sync", "--quiet", *flows, "--config", str(self.config)],
                                  catch_exceptions=False)

    def sync(self, *flows: str) -> Result:
        result = self.run(*flows)
        assert result.exit_code == 0, result.output
        return result

    # -- Zoho --------------------------------------------------------------------------------
    def zoho_insert(self, module: str, **values: Any) -> str:
        reply = self.zoho.post(f"{self.zoho_base}/crm/v8/{module}", json={"data": [values]}, timeout=TIMEOUT)
        assert reply.status_code == 201, reply.text
        return str(reply.json()["data"][0]["details"]["id"])

    def cases(self) -> list[dict[str, Any]]:
        reply = self.zoho.get(f"{self.zoho_base}/crm/v8/Cases", timeout=TIMEOUT, params={
            "fields": "Subject,Status,Priority,Type,Account_Name,Pmhub_Id"})
        return [] if reply.status_code == 204 else reply.json()["data"]

    def notes(self, module: str, record_id: str) -> list[dict[str, Any]]:
        reply = self.zoho.get(f"{self.zoho_base}/crm/v8/{module}/{record_id}/Notes", timeout=TIMEOUT,
                              params={"fields": "Note_Title,Note_Content"})
        return [] if reply.status_code == 204 else reply.json()["data"]

    def expire_zoho_tokens(self) -> None:
        requests.post(f"{self.zoho_base}/_expire_tokens", json={}, timeout=TIMEOUT).raise_for_status()

    # -- Jira --------------------------------------------------------------------------------
    def jira_issues(self, project: str) -> list[dict[str, Any]]:
        reply = jira_http(self.sandbox, "GET", "/search/jql", params={
            "jql": f"project = {project} ORDER BY key ASC", "maxResults": 100,
            "fields": "summary,status,labels,priority,issuetype"})
        assert reply.status_code == 200, reply.text
        return reply.json()["issues"]

    def jira_create(self, project: str, summary: str, issuetype: str = "Task") -> dict[str, Any]:
        reply = jira_http(self.sandbox, "POST", "/issue", json={"fields": {
            "project": {"key": project}, "summary": summary, "issuetype": {"name": issuetype}}})
        assert reply.status_code == 201, reply.text
        return reply.json()

    def jira_move(self, key: str, status: str) -> None:
        transitions = jira_http(self.sandbox, "GET", f"/issue/{key}/transitions").json()["transitions"]
        [chosen] = [t for t in transitions if t["to"]["name"] == status]
        reply = jira_http(self.sandbox, "POST", f"/issue/{key}/transitions",
                          json={"transition": {"id": chosen["id"]}})
        assert reply.status_code == 204, reply.text

    # -- Trello ------------------------------------------------------------------------------
    def cards(self) -> list[dict[str, Any]]:
        return self.trello.get(f"/boards/{self.board}/cards/all")


@pytest.fixture
def hub_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PMHUB_TEST_ZOHO_SECRET", "client-secret")
    monkeypatch.setenv("PMHUB_TEST_ZOHO_REFRESH", "1000.integration-refresh")
    monkeypatch.setenv("PMHUB_TEST_JIRA_TOKEN", "t")
    monkeypatch.setenv("PMHUB_TEST_TRELLO_TOKEN", "sandbox-token")


@pytest.fixture
def path(tmp_path: Path, sandbox: SandboxClient, hub_env: None) -> CustomerPath:
    return CustomerPath(tmp_path, sandbox)


def _fields(issue: dict[str, Any]) -> dict[str, Any]:
    return issue["fields"]


# -- Zoho Cases <-> Jira ----------------------------------------------------------------------------
def test_case_becomes_a_jira_issue_for_its_customer_and_done_in_jira_closes_it(path: CustomerPath) -> None:
    acme = path.zoho_insert("Accounts", Account_Name="Acme Corp")
    path.zoho_insert("Cases", Subject="Export invoices as CSV", Status="New", Priority="High",
                     Type="Problem", Account_Name={"id": acme})
    path.zoho_insert("Cases", Subject="Add SSO with Okta", Status="On Hold", Priority="Low",
                     Type="Question", Account_Name={"id": acme})
    path.sync("cases")

    issues = {_fields(i)["summary"]: i for i in path.jira_issues(CASES_PROJECT)}
    assert sorted(issues) == ["Add SSO with Okta", "Export invoices as CSV"]
    export = _fields(issues["Export invoices as CSV"])
    assert "customer:Acme_Corp" in export["labels"], "the customer travels with the work"
    assert (export["priority"]["name"], export["issuetype"]["name"], export["status"]["name"]) == (
        "High", "Bug", "To Do")
    sso = _fields(issues["Add SSO with Okta"])
    # On Hold is blocked, which Jira's default workflow holds as In Progress; a question is a Task.
    assert (sso["status"]["name"], sso["issuetype"]["name"], sso["priority"]["name"]) == (
        "In Progress", "Task", "Low")
    assert path.notes("Accounts", acme) == [], "nothing has moved yet: no note"

    path.jira_move(issues["Export invoices as CSV"]["key"], "Done")
    path.sync("cases")
    statuses = {case["Subject"]: case["Status"] for case in path.cases()}
    assert statuses == {"Export invoices as CSV": "Closed", "Add SSO with Okta": "On Hold"}
    [note] = path.notes("Accounts", acme)
    assert "1/2 done" in note["Note_Title"]
    assert "Export invoices as CSV: todo -> done" in note["Note_Content"]

    path.sync("cases")
    path.sync("cases", "--full")
    assert len(path.notes("Accounts", acme)) == 1, "a re-run adds no note"
    assert len(path.jira_issues(CASES_PROJECT)) == 2 and len(path.cases()) == 2


def test_requested_features_and_changes_become_jira_stories(path: CustomerPath) -> None:
    acme = path.zoho_insert("Accounts", Account_Name="Acme Corp")
    path.zoho_insert("Cases", Subject="Export invoices as CSV", Type="Feature Request",
                     Account_Name={"id": acme})
    path.zoho_insert("Cases", Subject="Bigger logo on invoices", Type="Change Request",
                     Account_Name={"id": acme})
    path.sync("cases")
    types = {_fields(i)["summary"]: _fields(i)["issuetype"]["name"] for i in path.jira_issues(CASES_PROJECT)}
    assert types == {"Export invoices as CSV": "Story", "Bigger logo on invoices": "Story"}


def test_jira_work_labelled_for_a_customer_becomes_a_case_on_that_account(path: CustomerPath) -> None:
    acme = path.zoho_insert("Accounts", Account_Name="Acme Corp")
    reply = jira_http(path.sandbox, "POST", "/issue", json={"fields": {
        "project": {"key": CASES_PROJECT}, "summary": "Proactive security review",
        "issuetype": {"name": "Bug"}, "priority": {"name": "Highest"}, "labels": ["customer:Acme_Corp"]}})
    assert reply.status_code == 201, reply.text
    path.sync("cases")
    [case] = path.cases()
    assert (case["Subject"], case["Type"], case["Priority"], case["Status"]) == (
        "Proactive security review", "Problem", "High", "New")
    assert case["Account_Name"]["id"] == acme
    path.sync("cases")
    assert len(path.cases()) == 1 and len(path.jira_issues(CASES_PROJECT)) == 1


# -- Trello board <-> Jira --------------------------------------------------------------------------
def test_card_moved_to_done_closes_its_jira_twin_and_jira_comments_reach_the_card(
        path: CustomerPath) -> None:
    billing = path.trello.call("POST", "/labels", params={"idBoard": path.board, "name": "billing",
                                                          "color": "green"})
    card = path.trello.card(path.lists["To Do"], "Invoices show the wrong VAT", desc="Since March.",
                            idLabels=billing["id"], due="2026-12-01T12:00:00.000Z")
    path.sync("board")
    [issue] = path.jira_issues(BOARD_PROJECT)
    assert _fields(issue)["summary"] == "Invoices show the wrong VAT"
    assert _fields(issue)["status"]["name"] == "To Do"
    assert "billing" in _fields(issue)["labels"]
    duedate = jira_http(path.sandbox, "GET", f"/issue/{issue['key']}", params={"fields": "duedate"})
    assert duedate.json()["fields"]["duedate"] == "2026-12-01"

    path.trello.call("PUT", f"/cards/{card['id']}", params={"idList": path.lists["Done"]})
    reply = jira_http(path.sandbox, "POST", f"/issue/{issue['key']}/comment",
                      json={"body": "Fixed in *2.4.2*, rolling out today."})
    assert reply.status_code == 201, reply.text
    path.trello.call("POST", f"/cards/{card['id']}/actions/comments", params={"text": "Thanks!"})
    path.sync("board")

    [issue] = path.jira_issues(BOARD_PROJECT)
    assert _fields(issue)["status"]["name"] == "Done"
    comments = path.trello.get(f"/cards/{card['id']}/actions", filter="commentCard")
    [text] = [c["data"]["text"] for c in comments if c["data"]["text"] != "Thanks!"]
    assert "Fixed in **2.4.2**, rolling out today." in text, "Jira's wiki markup arrives as Markdown"
    assert path.trello.get(f"/cards/{card['id']}")["idList"] == path.lists["Done"]
    in_jira = jira_http(path.sandbox, "GET", f"/issue/{issue['key']}/comment").json()["comments"]
    assert len(in_jira) == 2 and in_jira[1]["body"].endswith("Thanks!"), "and the customer's reply goes back"

    path.sync("board")
    assert len(path.trello.get(f"/cards/{card['id']}/actions", filter="commentCard")) == 2
    assert len(jira_http(path.sandbox, "GET", f"/issue/{issue['key']}/comment").json()["comments"]) == 2
    assert len(path.jira_issues(BOARD_PROJECT)) == 1


def test_archived_card_cancels_its_jira_twin_without_echo(path: CustomerPath) -> None:
    # trello-jira has no status table for the board on purpose: the plugin reads an archived card
    # as cancelled, which a list-name table would overrule.
    card = path.trello.card(path.lists["To Do"], "Not needed after all")
    path.sync("board")
    path.trello.call("PUT", f"/cards/{card['id']}", params={"closed": "true"})
    path.sync("board")
    [issue] = path.jira_issues(BOARD_PROJECT)
    assert _fields(issue)["status"]["name"] == "Done"
    path.sandbox.clear_requests()
    path.sync("board")
    assert [r for r in path.sandbox.requests() if r["method"] not in ("GET",)] == []
    assert path.trello.get(f"/cards/{card['id']}")["closed"] is True


def test_jira_work_appears_on_the_board_in_the_list_of_its_status(path: CustomerPath) -> None:
    created = path.jira_create(BOARD_PROJECT, "Dark mode for the portal")
    path.sync("board")
    [card] = path.cards()
    assert (card["name"], card["idList"]) == ("Dark mode for the portal", path.lists["To Do"])
    path.jira_move(created["key"], "In Progress")
    path.sync("board")
    assert path.trello.get(f"/cards/{card['id']}")["idList"] == path.lists["Doing"]
    path.jira_move(created["key"], "Done")
    path.sync("board")
    assert path.trello.get(f"/cards/{card['id']}")["idList"] == path.lists["Done"]
    assert len(path.cards()) == 1


@pytest.mark.parametrize("on_delete", ["close", "delete"])
def test_deleted_card_follows_on_delete(tmp_path: Path, sandbox: SandboxClient, hub_env: None,
                                        on_delete: str) -> None:
    path = CustomerPath(tmp_path, sandbox, on_delete=on_delete)
    card = path.trello.card(path.lists["Doing"], "Withdrawn request")
    path.sync("board")
    [issue] = path.jira_issues(BOARD_PROJECT)
    assert _fields(issue)["status"]["name"] == "In Progress"

    path.trello.call("DELETE", f"/cards/{card['id']}")
    path.sync("board")
    remaining = path.jira_issues(BOARD_PROJECT)
    if on_delete == "delete":
        assert remaining == []
    else:
        [issue] = remaining
        assert _fields(issue)["status"]["name"] == "Done", "closed (cancelled reads as Done in Jira)"
    path.sync("board")
    assert path.cards() == []


# -- failures -------------------------------------------------------------------------------------
def test_lost_create_replies_on_trello_and_zoho_make_no_duplicates(path: CustomerPath) -> None:
    path.zoho_insert("Accounts", Account_Name="Acme Corp")
    path.jira_create(CASES_PROJECT, "Quarterly report for Acme")
    path.jira_create(BOARD_PROJECT, "Dark mode for the portal")
    # The write happens, the reply is lost: the next attempt must find it by its marker.
    path.sandbox.fault("trello", method="POST", path=r"^/1/cards$", status=502, after_commit=True)
    path.sandbox.fault("zoho", method="POST", path=r"/crm/v8/Cases/upsert$", status=500,
                       after_commit=True)
    # The run may recover within its retries or leave the record to the next run; either way the
    # record the lost reply created is adopted, never created twice.
    path.run()
    path.sync()
    path.sync()
    assert [c["name"] for c in path.cards()] == ["Dark mode for the portal"]
    assert [c["Subject"] for c in path.cases()] == ["Quarterly report for Acme"]
    assert len(path.jira_issues(CASES_PROJECT)) == 1 and len(path.jira_issues(BOARD_PROJECT)) == 1
    log = path.sandbox.requests()
    assert {r["service"] for r in log if r.get("fault")} == {"trello", "zoho"}, "both faults were hit"
    # The log holds each request as served, plus an entry for the reply the fault then replaced.
    creates = [r for r in log if (r["service"], r["method"], r["path"]) == ("trello", "POST", "/1/cards")
               and not r.get("fault")]
    assert len(creates) == 1, "the card whose reply was lost was found by its marker, not sent again"


def test_zoho_rate_limit_and_expired_token_do_not_stop_the_run(path: CustomerPath) -> None:
    acme = path.zoho_insert("Accounts", Account_Name="Acme Corp")
    path.zoho_insert("Cases", Subject="Slow dashboard", Status="New", Account_Name={"id": acme})
    path.sync("cases")  # the connection now holds an access token in pmhub's state store
    path.zoho_insert("Cases", Subject="Broken CSV export", Status="Escalated", Account_Name={"id": acme})
    path.jira_create(CASES_PROJECT, "Planned maintenance window")
    path.expire_zoho_tokens()
    path.sandbox.fault("zoho", method="GET", path=r"^/crm/v8/Cases$", status=429, times=2, retry_after=1)
    path.sandbox.fault("zoho", method="POST", path=r"^/crm/v8/Cases/upsert$", status=429)
    path.sandbox.clear_requests()

    result = path.sync("cases")
    assert "flow cases: ok" in result.output
    assert sorted(_fields(i)["summary"] for i in path.jira_issues(CASES_PROJECT)) == [
        "Broken CSV export", "Planned maintenance window", "Slow dashboard"]
    assert sorted(c["Subject"] for c in path.cases()) == [
        "Broken CSV export", "Planned maintenance window", "Slow dashboard"], "the refused create went on"
    log = path.sandbox.requests("zoho")
    assert [r["status"] for r in log if r["path"] == "/crm/v8/Cases/upsert"] == [429, 201]
    # The sandbox answers injected faults before it checks the token. The run's first request (the
    # Cases field metadata, read once per run for custom fields) meets the expired token, refused
    # once; the listing then meets TOO_MANY_REQUESTS twice.
    assert [(r["path"], r["status"]) for r in log if r["status"] == 401] == [("/crm/v8/settings/fields", 401)]
    assert [r["status"] for r in log if r["path"] == "/crm/v8/Cases" and r["method"] == "GET"][:3] == [
        429, 429, 200], "TOO_MANY_REQUESTS twice, then the listing"
    assert any(r["path"] == "/oauth/v2/token" and r["status"] == 200 for r in log), "token refreshed"


# -- cost of a run with nothing to do ----------------------------------------------------------------
#: The requests that list changes, per service: (method, path ending) -> what they list.
LISTINGS = {
    "zoho": {("GET", "/crm/v8/Cases"): "cases", ("GET", "/crm/v8/Cases/deleted"): "case deletions"},
    "jira": {("GET", "/rest/api/2/search/jql"): "issues and comments"},
    "trello": {("GET", "/lists"): "cards", ("GET", "/actions"): "card and comment actions"},
}


def test_a_no_op_run_writes_nothing_and_lists_each_side_once(path: CustomerPath) -> None:
    acme = path.zoho_insert("Accounts", Account_Name="Acme Corp")
    for n in range(3):
        path.zoho_insert("Cases", Subject=f"Case {n}", Status="New", Account_Name={"id": acme})
        path.trello.card(path.lists["To Do"], f"Card {n}")
        path.jira_create(CASES_PROJECT, f"Delivery work {n}")
    path.sync()  # the backfill: creates on every side
    path.sync()  # reads the hub's own creates back once (as unchanged)
    path.sandbox.clear_requests()

    result = path.sync()
    log = path.sandbox.requests()
    writes = [f"{r['service']} {r['method']} {r['path']}" for r in log if r["method"] != "GET"]
    assert writes == [], f"a no-op run writes nothing, got {writes}"
    tallies = re.findall(r"(\d+) (created|updated|deleted|conflicts|parked)", result.output)
    assert tallies and all(n == "0" for n, _what in tallies), result.output

    counts = Counter(f"{r['service']} {_listing(r)}" for r in log if _listing(r))
    # Zoho: one listing of Cases (304 when nothing changed) and one of deleted Cases.
    assert counts["zoho cases"] == 1 and counts["zoho case deletions"] == 1
    # Jira serves two flows (cases, board) and in the board flow two record kinds (issue, comment).
    assert counts["jira issues and comments"] == 3
    # Trello: the board's cards once (with their lists, so no separate look-up of list names);
    # its actions once for deleted cards and once for comments.
    assert counts["trello cards"] == 1 and counts["trello card and comment actions"] == 2
    # Whatever else a run asks is per connection (session set-up), never per record.
    per_record = [r for r in log if not _listing(r) and _looks_per_record(r)]
    assert per_record == [], f"requests per record in a no-op run: {per_record}"


def _listing(request: dict[str, Any]) -> str | None:
    for (method, suffix), kind in LISTINGS.get(request["service"], {}).items():
        if request["method"] == method and request["path"].endswith(suffix):
            return kind
    return None


def _looks_per_record(request: dict[str, Any]) -> bool:
    """A request naming one card, issue or record (an id in the path)."""
    parts = request["path"].strip("/").split("/")
    return any(p in ("cards", "issue", "Cases", "Accounts") for p in parts[:-1]) and parts[-1] not in (
        "all", "deleted", "lists")


def test_a_record_kind_with_nothing_in_it_is_listed_incrementally_too(path: CustomerPath) -> None:
    path.trello.card(path.lists["To Do"], "No comments here")
    path.sync("board")
    path.sync("board")
    path.sandbox.clear_requests()
    path.sync("board")
    searches = [parse_qs(r["query"])["jql"][0] for r in path.sandbox.requests("jira")
                if r["path"].endswith("/search/jql")]
    assert len(searches) == 2 and all("updated >=" in jql for jql in searches), searches
    actions = [parse_qs(r["query"]) for r in path.sandbox.requests("trello")
               if r["path"].endswith("/actions")]
    assert len(actions) == 2 and all("since" in query for query in actions), actions
