"""Custom fields, start dates and estimates (issue 11, items 4 and 5), through ``pmhub sync`` and
``pmhub check`` against the sandbox with the real clients (jira, requests for Trello, the Zoho SDK).

A mapping declares ``[issue.custom.*]`` fields: a number, an option and a date round-trip between
Jira and a Trello board with their types; the canonical start date and due date travel between
Jira's "Start date" field and the card's start and due; the estimate (hours) goes from Jira's
original estimate to a Trello number field; a field a tool lacks fails ``pmhub check`` with exit 2
naming the mapping, the side and the field; an option the tool lacks parks the record with why.
The same fields round-trip between Zoho CRM Cases (API names) and Jira, and GitHub, which has no
custom fields on issues, says so in ``pmhub check``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from hub.cli import main
from hub.testing.sandbox_client import SandboxClient
from tests.conftest import write_config
from tests.sandbox.jira_support import http as jira_http
from tests.sandbox.jira_support import new_project
from tests.sandbox.trello_http import TrelloHttp

PROJECT = "PLAN"
TIMEOUT = 10
MAPPING = """
description = "Trello board <-> Jira, with the team's own fields"
[issue]
fields = ["title", "start_date", "due_date", "estimate"]
[issue.custom.story_points]
type = "number"
a = "Points"
b = "Story Points"
[issue.custom.tier]
type = "option"
a = "Tier"
b = "Customer Tier"
[issue.custom.launch]
type = "date"
a = "Launch"
b = "customfield_10023"
[issue.custom.estimate]
a = "Estimate (h)"
"""


class Planning:
    """A Trello board (side a) and a Jira project (side b), joined by the mapping above."""

    def __init__(self, tmp_path: Path, sandbox: SandboxClient, mapping: str = MAPPING,
                 tiers: tuple[str, ...] = ("Gold", "Silver", "Bronze")) -> None:
        self.sandbox = sandbox
        self.trello = TrelloHttp(sandbox.base("trello"))
        self.board = self.trello.board("Acme plan")["id"]
        self.lists = self.trello.lists(self.board)
        self.fields = {
            "Points": self._define("Points", "number"),
            "Tier": self._define("Tier", "list", [{"value": {"text": t}} for t in tiers]),
            "Launch": self._define("Launch", "date"),
            "Estimate (h)": self._define("Estimate (h)", "number"),
        }
        new_project(sandbox, PROJECT, "Acme plan")
        (tmp_path / "plan.toml").write_text(mapping, encoding="utf-8")
        self.config = write_config(
            tmp_path / "pmhub.toml", state_url=f"sqlite:///{tmp_path / 'state.db'}",
            connections={
                "jira": {"plugin": "jira", "base_url": sandbox.base("jira"), "email": "bot@acme.example",
                         "token": "t", "timeout": TIMEOUT},
                "board": {"plugin": "trello", "base_url": sandbox.base("trello"), "key": "sandbox-key",
                          "token": "sandbox-token", "timeout": TIMEOUT},
            },
            flows=[{"name": "plan", "a": {"connection": "board", "scope": self.board},
                    "b": {"connection": "jira", "scope": PROJECT}, "records": ["issue"],
                    "mapping": str(tmp_path / "plan.toml")}])

    def _define(self, name: str, kind: str, options: list[dict[str, Any]] | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {"idModel": self.board, "modelType": "board", "name": name, "type": kind,
                                "pos": "bottom", "display_cardFront": True}
        if options:
            body["options"] = options
        return dict(self.trello.call("POST", "/customFields", json=body))

    def cli(self, *args: str) -> Result:
        return CliRunner().invoke(main, [*args, "--config", str(self.config)], catch_exceptions=False)

    def sync(self, expect: int = 0) -> Result:
        result = self.cli("sync", "--quiet")
        assert result.exit_code == expect, result.output
        return result

    # -- Jira ----------------------------------------------------------------------------------
    def jira_create(self, **fields: Any) -> str:
        reply = jira_http(self.sandbox, "POST", "/issue", json={"fields": {
            "project": {"key": PROJECT}, "issuetype": {"name": "Task"}, **fields}})
        assert reply.status_code == 201, reply.text
        return str(reply.json()["key"])

    def jira_fields(self, key: str) -> dict[str, Any]:
        reply = jira_http(self.sandbox, "GET", f"/issue/{key}")
        assert reply.status_code == 200, reply.text
        return dict(reply.json()["fields"])

    def jira_edit(self, key: str, **fields: Any) -> None:
        reply = jira_http(self.sandbox, "PUT", f"/issue/{key}", json={"fields": fields})
        assert reply.status_code == 204, reply.text

    # -- Trello --------------------------------------------------------------------------------
    def cards(self) -> list[dict[str, Any]]:
        return list(self.trello.get(f"/boards/{self.board}/cards/all", customFieldItems="true"))

    def items(self, card: dict[str, Any]) -> dict[str, Any]:
        """Field name -> the item's value as Trello shows it (an option's text for a list field)."""
        names = {f["id"]: f for f in self.fields.values()}
        out = {}
        for item in card.get("customFieldItems") or []:
            definition = names[item["idCustomField"]]
            if definition["type"] == "list":
                out[definition["name"]] = next(o["value"]["text"] for o in definition["options"]
                                               if o["id"] == item["idValue"])
            else:
                out[definition["name"]] = next(iter(item["value"].values()))
        return out

    def set_item(self, card_id: str, name: str, body: dict[str, Any]) -> None:
        self.trello.call("PUT", f"/cards/{card_id}/customField/{self.fields[name]['id']}/item", json=body)

    def option(self, name: str, text: str) -> str:
        return str(next(o["id"] for o in self.fields[name]["options"] if o["value"]["text"] == text))

    def parked(self) -> str:
        return self.cli("parked").output


@pytest.fixture
def plan(tmp_path: Path, sandbox: SandboxClient) -> Planning:
    return Planning(tmp_path, sandbox)


def test_custom_fields_dates_and_estimate_round_trip_between_jira_and_trello(plan: Planning) -> None:
    key = plan.jira_create(summary="Checkout redesign", customfield_10016=5,
                           customfield_10020={"value": "Gold"}, customfield_10023="2027-01-15",
                           customfield_10015="2026-12-01", duedate="2026-12-20",
                           timetracking={"originalEstimate": "6h 30m"})
    plan.sync()
    [card] = plan.cards()
    assert plan.items(card) == {"Points": "5", "Tier": "Gold", "Launch": "2027-01-15T12:00:00.000Z",
                                "Estimate (h)": "6.5"}
    assert card["start"].startswith("2026-12-01") and card["due"].startswith("2026-12-20")

    # The customer's board moves the work: more points, another tier, a later start.
    plan.set_item(card["id"], "Points", {"value": {"number": "8"}})
    plan.set_item(card["id"], "Tier", {"idValue": plan.option("Tier", "Silver")})
    plan.trello.call("PUT", f"/cards/{card['id']}", params={"start": "2026-12-03T00:00:00.000Z"})
    plan.sync()
    fields = plan.jira_fields(key)
    assert fields["customfield_10016"] == 8.0
    assert fields["customfield_10020"]["value"] == "Silver"
    assert fields["customfield_10015"] == "2026-12-03"
    assert fields["customfield_10023"] == "2027-01-15"  # unchanged, and still a date
    assert fields["timetracking"]["originalEstimateSeconds"] == 6.5 * 3600

    # Jira clears the launch date and re-estimates: both reach the card.
    plan.jira_edit(key, customfield_10023=None, timetracking={"originalEstimate": "2h"})
    plan.sync()
    [card] = plan.cards()
    assert plan.items(card) == {"Points": "8", "Tier": "Silver", "Estimate (h)": "2"}

    # A quiet run writes nothing on either side.
    before = (plan.jira_fields(key)["updated"], card["dateLastActivity"])
    plan.sync()
    [card] = plan.cards()
    assert (plan.jira_fields(key)["updated"], card["dateLastActivity"]) == before


def test_a_card_with_custom_values_becomes_a_jira_issue_with_them(plan: Planning) -> None:
    card = plan.trello.card(plan.lists["To Do"], "Export to CSV", start="2026-11-02T00:00:00.000Z",
                            due="2026-11-09T00:00:00.000Z")
    plan.set_item(card["id"], "Points", {"value": {"number": "3"}})
    plan.set_item(card["id"], "Tier", {"idValue": plan.option("Tier", "Bronze")})
    plan.set_item(card["id"], "Launch", {"value": {"date": "2026-11-30T12:00:00.000Z"}})
    plan.set_item(card["id"], "Estimate (h)", {"value": {"number": "1.5"}})
    plan.sync()
    [issue] = jira_http(plan.sandbox, "GET", "/search/jql", params={
        "jql": f"project = {PROJECT}", "fields": "*navigable"}).json()["issues"]
    fields = issue["fields"]
    assert (fields["summary"], fields["customfield_10016"], fields["customfield_10020"]["value"],
            fields["customfield_10023"], fields["customfield_10015"], fields["duedate"]) == (
        "Export to CSV", 3.0, "Bronze", "2026-11-30", "2026-11-02", "2026-11-09")
    assert fields["timetracking"]["originalEstimate"] == "1h 30m"


def test_an_option_the_board_lacks_parks_that_issue_with_the_reason(tmp_path: Path,
                                                                   sandbox: SandboxClient) -> None:
    plan = Planning(tmp_path, sandbox, tiers=("Silver", "Bronze"))
    plan.jira_create(summary="Gold customer work", customfield_10020={"value": "Gold"})
    plan.jira_create(summary="Silver customer work", customfield_10020={"value": "Silver"})
    plan.sync(expect=1)
    assert [c["name"] for c in plan.cards()] == ["Silver customer work"]
    parked = plan.parked()
    assert "no option 'Gold'" in parked and "Tier" in parked, parked


def test_an_option_jira_lacks_parks_that_card_with_the_reason(plan: Planning) -> None:
    card = plan.trello.card(plan.lists["To Do"], "Platinum work")
    plan.set_item(card["id"], "Tier", {"idValue": plan.option("Tier", "Gold")})
    # Jira's Customer Tier has Gold; a board option Jira lacks is refused by Jira itself.
    extra = plan.trello.call("POST", f"/customFields/{plan.fields['Tier']['id']}/options",
                             json={"value": {"text": "Platinum"}, "pos": "bottom"})
    plan.set_item(card["id"], "Tier", {"idValue": extra["id"]})
    plan.sync(expect=1)
    assert jira_http(plan.sandbox, "GET", "/search/jql", params={
        "jql": f"project = {PROJECT}"}).json()["issues"] == []
    parked = plan.parked()
    assert "Platinum" in parked, parked


def test_check_fails_with_exit_2_naming_a_field_the_tool_lacks(tmp_path: Path,
                                                             sandbox: SandboxClient) -> None:
    mapping = MAPPING + '\n[issue.custom.goal]\ntype = "string"\na = "Points"\nb = "Sprint Goal"\n' \
        '[issue.custom.risk]\ntype = "option"\na = "Risk level"\nb = "Customer Tier"\n'
    plan = Planning(tmp_path, sandbox, mapping=mapping)
    result = plan.cli("check")
    assert result.exit_code == 2, result.output
    jira_line = [line for line in result.output.splitlines() if "'Sprint Goal'" in line]
    assert len(jira_line) == 1 and "mapping plan side b" in jira_line[0], result.output
    trello_line = [line for line in result.output.splitlines() if "'Risk level'" in line]
    assert len(trello_line) == 1 and "mapping plan side a" in trello_line[0], result.output
    # "Points" is a number field on the board: it cannot hold the text the mapping declares.
    assert any("'Points'" in line and "number" in line for line in result.output.splitlines())


def test_check_passes_when_every_declared_field_exists(plan: Planning) -> None:
    result = plan.cli("check")
    assert result.exit_code == 0, result.output


# -- Zoho CRM Cases <-> Jira ----------------------------------------------------------------------
ZOHO_MAPPING = """
description = "Zoho CRM Cases <-> Jira, with the team's own fields"
[issue]
fields = ["title", "start_date"]
[issue.custom.story_points]
type = "number"
a = "Story_Points"
b = "Story Points"
[issue.custom.tier]
type = "option"
a = "Customer_Tier"
b = "Customer Tier"
[issue.custom.launch]
type = "date"
a = "Target_Launch"
b = "Target launch"
[issue.custom.start_date]
a = "Start_Date"
"""
ZOHO_PROJECT = "CRMW"


class ZohoPlanning:
    """Zoho CRM Cases (side a) and a Jira project (side b), through the Zoho SDK and jira."""

    def __init__(self, tmp_path: Path, sandbox: SandboxClient, mapping: str = ZOHO_MAPPING) -> None:
        import requests

        self.sandbox = sandbox
        self.zoho_base = sandbox.base("zoho")
        self.zoho = requests.Session()
        self.zoho.headers["Authorization"] = "Zoho-oauthtoken integration-test"
        new_project(sandbox, ZOHO_PROJECT, "Acme CRM work")
        (tmp_path / "crm.toml").write_text(mapping, encoding="utf-8")
        self.config = write_config(
            tmp_path / "pmhub.toml", state_url=f"sqlite:///{tmp_path / 'state.db'}",
            connections={
                "crm": {"plugin": "zoho_crm", "base_url": self.zoho_base, "client_id": "1000.PMHUBTEST",
                        "client_secret": "s", "refresh_token": "1000.integration-refresh",
                        "timeout": TIMEOUT},
                "jira": {"plugin": "jira", "base_url": sandbox.base("jira"), "email": "bot@acme.example",
                         "token": "t", "timeout": TIMEOUT},
            },
            flows=[{"name": "crm", "a": {"connection": "crm", "scope": "Cases"},
                    "b": {"connection": "jira", "scope": ZOHO_PROJECT}, "records": ["issue"],
                    "mapping": str(tmp_path / "crm.toml")}])

    def cli(self, *args: str) -> Result:
        return CliRunner().invoke(main, [*args, "--config", str(self.config)], catch_exceptions=False)

    def case(self, **values: Any) -> str:
        reply = self.zoho.post(f"{self.zoho_base}/crm/v8/Cases", json={"data": [values]}, timeout=TIMEOUT)
        assert reply.status_code == 201, reply.text
        return str(reply.json()["data"][0]["details"]["id"])

    def case_values(self, case_id: str) -> dict[str, Any]:
        reply = self.zoho.get(f"{self.zoho_base}/crm/v8/Cases/{case_id}", timeout=TIMEOUT, params={
            "fields": "Subject,Story_Points,Customer_Tier,Target_Launch,Start_Date"})
        assert reply.status_code == 200, reply.text
        return dict(reply.json()["data"][0])

    def jira_issue(self) -> dict[str, Any]:
        [issue] = jira_http(self.sandbox, "GET", "/search/jql", params={
            "jql": f"project = {ZOHO_PROJECT}", "fields": "*navigable"}).json()["issues"]
        return dict(issue)


def test_custom_fields_and_start_date_round_trip_between_zoho_and_jira(tmp_path: Path,
                                                                      sandbox: SandboxClient) -> None:
    pytest.importorskip("zohocrmsdk")
    crm = ZohoPlanning(tmp_path, sandbox)
    case_id = crm.case(Subject="Invoices in EUR", Status="New", Story_Points=5, Customer_Tier="Gold",
                       Target_Launch="2027-01-15", Start_Date="2026-12-01")
    result = crm.cli("sync", "--quiet")
    assert result.exit_code == 0, result.output
    issue = crm.jira_issue()
    fields = issue["fields"]
    assert (fields["summary"], fields["customfield_10016"], fields["customfield_10020"]["value"],
            fields["customfield_10023"], fields["customfield_10015"]) == (
        "Invoices in EUR", 5.0, "Gold", "2027-01-15", "2026-12-01")

    reply = jira_http(sandbox, "PUT", f"/issue/{issue['key']}", json={"fields": {
        "customfield_10016": 8, "customfield_10020": {"value": "Silver"}, "customfield_10015": "2026-12-04"}})
    assert reply.status_code == 204, reply.text
    result = crm.cli("sync", "--quiet")
    assert result.exit_code == 0, result.output
    case = crm.case_values(case_id)
    assert (case["Story_Points"], case["Customer_Tier"], case["Target_Launch"], case["Start_Date"]) == (
        8.0, "Silver", "2027-01-15", "2026-12-04")


def test_check_names_a_zoho_field_that_does_not_exist(tmp_path: Path, sandbox: SandboxClient) -> None:
    pytest.importorskip("zohocrmsdk")
    mapping = ZOHO_MAPPING + ('\n[issue.custom.goal]\ntype = "string"\na = "Sprint_Goal"\n'
                              'b = "Release notes"\n')
    result = ZohoPlanning(tmp_path, sandbox, mapping=mapping).cli("check")
    assert result.exit_code == 2, result.output
    [line] = [line for line in result.output.splitlines() if "'Sprint_Goal'" in line]
    assert "mapping crm side a" in line and "Zoho Cases has no field" in line, result.output


def test_check_says_github_issues_have_no_custom_fields(tmp_path: Path, sandbox: SandboxClient) -> None:
    sandbox.reset("demo")
    (tmp_path / "gh.toml").write_text(
        '[issue]\nfields = ["title"]\n[issue.custom.story_points]\ntype = "number"\na = "Points"\n'
        'b = "Story Points"\n', encoding="utf-8")
    config = write_config(
        tmp_path / "pmhub.toml", state_url=f"sqlite:///{tmp_path / 'state.db'}",
        connections={
            "gh": {"plugin": "github", "base_url": sandbox.base("github"), "token": "t", "timeout": TIMEOUT},
            "jira": {"plugin": "jira", "base_url": sandbox.base("jira"), "email": "bot@acme.example",
                     "token": "t", "timeout": TIMEOUT}},
        flows=[{"name": "portal", "a": {"connection": "gh", "scope": "acme/portal"},
                "b": {"connection": "jira", "scope": "PORT"}, "records": ["issue"],
                "mapping": str(tmp_path / "gh.toml")}])
    result = CliRunner().invoke(main, ["check", "--config", str(config)], catch_exceptions=False)
    assert result.exit_code == 2, result.output
    [line] = [line for line in result.output.splitlines() if "'Points'" in line]
    assert "mapping gh side a" in line and "GitHub issues have no custom fields" in line, result.output
    assert "Story Points" not in result.output, "Jira has that field"


@pytest.mark.parametrize(("declaration", "says"), [
    ('type = "money"\na = "Points"\nb = "Story Points"', "issue.custom.points.type"),
    ('type = "number"\na = "Points"', "needs the field's name on both sides"),
    ('type = "number"\na = "Points"\nb = "Story Points"\nc = "x"', "unknown key(s) ['c']"),
])
def test_a_custom_field_declaration_that_cannot_sync_is_refused_offline(
        tmp_path: Path, sandbox: SandboxClient, declaration: str, says: str) -> None:
    mapping = f'[issue]\nfields = ["title"]\n[issue.custom.points]\n{declaration}\n'
    plan = Planning(tmp_path, sandbox, mapping=mapping)
    result = plan.cli("check", "--offline")
    assert result.exit_code == 2, result.output
    assert says in result.output and "plan.toml" in result.output, result.output
