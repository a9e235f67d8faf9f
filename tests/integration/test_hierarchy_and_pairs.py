"""The project layer's hierarchy, through ``pmhub sync`` and the stand-ins with the real clients:

- a Jira epic with two children becomes a GitHub issue with two sub-issues; a re-parent in Jira
  moves the sub-issue in GitHub; children listed before their epic are placed under it in one run;
- a Zoho Deal with two Cases becomes a Jira Epic with two issues under it (``pairs``); the Epic
  moved to Done closes the Deal as won; the Cases keep their customer.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import requests
from click.testing import CliRunner, Result

from hub.cli import main
from hub.testing.sandbox_client import SandboxClient
from tests.conftest import write_config
from tests.integration import connections
from tests.integration.connections import TOKEN
from tests.sandbox.github_support import github_client
from tests.sandbox.jira_support import jira_client, new_project

REPO = "acme/portal"
PROJECT = "PORT"
TIMEOUT = 10
WRITES = ("POST", "PUT", "PATCH", "DELETE")


def run(config: Path, expect: int | None = 0) -> Result:
    result = CliRunner().invoke(main, ["sync", "--quiet", "--config", str(config)], catch_exceptions=False)
    if expect is not None:
        assert result.exit_code == expect, result.output
    return result


def writes(sandbox: SandboxClient) -> list[dict[str, Any]]:
    return [r for r in sandbox.requests() if r["method"] in WRITES]


# -- Jira epics <-> GitHub sub-issues -----------------------------------------------------------------
class Portal:
    def __init__(self, tmp_path: Path, sandbox: SandboxClient) -> None:
        self.sandbox = sandbox
        self.repo = github_client(sandbox.base("github"), token=TOKEN, per_page=100) \
            .get_organization("acme").create_repo("portal")
        new_project(sandbox, PROJECT, "Acme Portal")
        self.jira = jira_client(sandbox.base("jira"), token=TOKEN)
        self.config = write_config(
            tmp_path / "pmhub.toml", state_url=f"sqlite:///{tmp_path / 'state.db'}",
            connections={"gh": connections.github(sandbox, timeout=2),
                         "jira": connections.jira(sandbox, timeout=2)},
            flows=[{"name": "portal", "a": {"connection": "gh", "scope": REPO},
                    "b": {"connection": "jira", "scope": PROJECT}, "mapping": "github-jira",
                    "records": ["milestone", "issue", "comment"]}])

    def jira_issue(self, summary: str, issuetype: str = "Story", parent: Any = None) -> Any:
        fields: dict[str, Any] = {"project": PROJECT, "summary": summary, "issuetype": {"name": issuetype}}
        if parent is not None:
            fields["parent"] = {"key": parent.key}
        return self.jira.create_issue(fields=fields)

    def github(self) -> dict[str, Any]:
        return {issue.title: issue for issue in self.repo.get_issues(state="all")}

    def sub_issues(self, title: str) -> list[str]:
        return sorted(child.title for child in self.github()[title].get_sub_issues())


@pytest.fixture
def portal(tmp_path: Path, sandbox: SandboxClient) -> Portal:
    return Portal(tmp_path, sandbox)


def test_a_jira_epic_with_two_children_becomes_a_github_issue_with_two_sub_issues(portal: Portal) -> None:
    epic = portal.jira_issue("Self-service billing", "Epic")
    portal.jira_issue("Export invoices", parent=epic)
    portal.jira_issue("Card on file", parent=epic)
    # The epic edited last: Jira lists its children first, and they still land under its twin.
    epic.update(fields={"description": "Billing the customer can run alone"})

    out = run(portal.config)

    assert "0 parked" in out.output
    assert portal.sub_issues("Self-service billing") == ["Card on file", "Export invoices"]
    portal.sandbox.clear_requests()
    run(portal.config)
    assert writes(portal.sandbox) == [], "a quiet re-run writes nothing"


def test_a_child_reparented_in_jira_moves_in_github(portal: Portal) -> None:
    billing = portal.jira_issue("Self-service billing", "Epic")
    reports = portal.jira_issue("Customer reports", "Epic")
    child = portal.jira_issue("Export invoices", parent=billing)
    run(portal.config)
    assert portal.sub_issues("Self-service billing") == ["Export invoices"]

    child.update(fields={"parent": {"key": reports.key}})
    run(portal.config)

    assert portal.sub_issues("Self-service billing") == []
    assert portal.sub_issues("Customer reports") == ["Export invoices"]
    github_child = portal.github()["Export invoices"]
    assert github_child.parent_issue_url.endswith(f"/issues/{portal.github()['Customer reports'].number}")


def test_a_child_synced_before_its_parent_is_linked_once_the_parent_exists(portal: Portal) -> None:
    epic = portal.jira_issue("Self-service billing", "Epic")
    portal.jira_issue("Export invoices", parent=epic)
    # GitHub refuses the first create once (a permanent 422): the child waits in memory for its
    # parent, so the first create is the epic's; the epic is parked, and its child waits for it.
    portal.sandbox.fault("github", method="POST", path=r"/repos/acme/portal/issues$", status=422)
    run(portal.config, expect=None)
    assert "Export invoices" not in portal.github(), "the child waits for its parent's twin"

    CliRunner().invoke(main, ["retry", "--config", str(portal.config)], catch_exceptions=False)
    run(portal.config)

    assert portal.sub_issues("Self-service billing") == ["Export invoices"]


# -- Zoho Deals <-> Jira Epics ---------------------------------------------------------------------
class Delivery:
    """A Zoho CRM org and a Jira project joined by a flow pairing Deals with Epics."""

    def __init__(self, tmp_path: Path, sandbox: SandboxClient) -> None:
        self.sandbox = sandbox
        self.zoho_base = sandbox.base("zoho")
        self.zoho = requests.Session()
        self.zoho.headers["Authorization"] = "Zoho-oauthtoken integration-test"
        new_project(sandbox, PROJECT, "Acme Portal")
        self.jira = jira_client(sandbox.base("jira"), token=TOKEN)
        self.config = write_config(
            tmp_path / "pmhub.toml", state_url=f"sqlite:///{tmp_path / 'state.db'}",
            connections={"crm": connections.zoho(sandbox), "jira": connections.jira(sandbox)},
            flows=[{"name": "acme-delivery", "a": {"connection": "crm", "scope": "*"},
                    "b": {"connection": "jira", "scope": PROJECT}, "records": ["project", "issue"],
                    "pairs": {"project": "issue"}, "mapping": "zoho-jira"}])

    def insert(self, module: str, **values: Any) -> str:
        reply = self.zoho.post(f"{self.zoho_base}/crm/v8/{module}", json={"data": [values]}, timeout=TIMEOUT)
        assert reply.status_code == 201, reply.text
        return str(reply.json()["data"][0]["details"]["id"])

    def record(self, module: str, record_id: str, fields: str) -> dict[str, Any]:
        reply = self.zoho.get(f"{self.zoho_base}/crm/v8/{module}/{record_id}", params={"fields": fields},
                              timeout=TIMEOUT)
        assert reply.status_code == 200, reply.text
        return dict(reply.json()["data"][0])

    def jira_issues(self) -> dict[str, Any]:
        found = self.jira.search_issues(f"project = {PROJECT}", maxResults=False,
                                        fields="summary,issuetype,parent,duedate,status,labels")
        return {issue.fields.summary: issue for issue in found}


@pytest.fixture
def delivery(tmp_path: Path, sandbox: SandboxClient) -> Delivery:
    pytest.importorskip("zohocrmsdk")
    return Delivery(tmp_path, sandbox)


def test_pmhub_check_reads_each_side_as_the_tool_holds_the_paired_records(delivery: Delivery) -> None:
    checked = CliRunner().invoke(main, ["check", "--config", str(delivery.config)], catch_exceptions=False)
    assert checked.exit_code == 0, checked.output
    assert "flow acme-delivery side b: connection jira scope 'PORT': ok (project, issue readable)" \
        in checked.output


def test_a_zoho_deal_with_two_cases_becomes_a_jira_epic_with_two_issues_under_it(delivery: Delivery) -> None:
    acme = delivery.insert("Accounts", Account_Name="Acme Corp")
    deal = delivery.insert("Deals", Deal_Name="Acme portal rollout", Stage="Needs Analysis",
                           Closing_Date="2026-06-30", Account_Name={"id": acme})
    for subject in ("Export invoices as CSV", "Add SSO with Okta"):
        delivery.insert("Cases", Subject=subject, Status="New", Account_Name={"id": acme},
                        Deal_Name={"id": deal})

    run(delivery.config)

    issues = delivery.jira_issues()
    assert sorted(issues) == ["Acme portal rollout", "Add SSO with Okta", "Export invoices as CSV"]
    epic = issues["Acme portal rollout"]
    assert (epic.fields.issuetype.name, epic.fields.duedate) == ("Epic", "2026-06-30")
    for subject in ("Export invoices as CSV", "Add SSO with Okta"):
        fields = issues[subject].fields
        assert fields.parent.id == epic.id, f"{subject} sits under the Deal's Epic"
        assert "customer:Acme_Corp" in fields.labels, "the Case's customer is kept"

    # The customer's project report counts what sits under it, from the state store alone.
    report = CliRunner().invoke(main, ["report", "--project", deal, "--format", "json", "--config",
                                       str(delivery.config)], catch_exceptions=False)
    assert report.exit_code == 0, report.output
    summary = json.loads(report.output)
    assert (summary["customer"], summary["summary"]["total"]) == ("Acme Corp", 2)

    delivery.jira.transition_issue(epic, "Done")
    run(delivery.config)

    assert delivery.record("Deals", deal, "Stage,Deal_Name")["Stage"] == "Closed Won"
    delivery.sandbox.clear_requests()
    run(delivery.config)
    assert writes(delivery.sandbox) == [], "a quiet re-run writes nothing"


def test_a_jira_epic_with_a_story_under_it_becomes_a_deal_with_its_case(delivery: Delivery) -> None:
    run(delivery.config)
    epic = delivery.jira.create_issue(fields={"project": PROJECT, "summary": "Globex data migration",
                                              "issuetype": {"name": "Epic"}, "duedate": "2026-09-30"})
    delivery.jira.create_issue(fields={"project": PROJECT, "summary": "Map the legacy fields",
                                       "issuetype": {"name": "Story"}, "parent": {"key": epic.key}})

    run(delivery.config)

    deals = delivery.zoho.get(f"{delivery.zoho_base}/crm/v8/Deals", timeout=TIMEOUT,
                              params={"fields": "Deal_Name,Closing_Date,Stage"}).json()["data"]
    [deal] = [d for d in deals if d["Deal_Name"] == "Globex data migration"]
    assert deal["Closing_Date"] == "2026-09-30"
    cases = delivery.zoho.get(f"{delivery.zoho_base}/crm/v8/Cases", timeout=TIMEOUT,
                              params={"fields": "Subject,Deal_Name"}).json()["data"]
    [case] = [c for c in cases if c["Subject"] == "Map the legacy fields"]
    assert case["Deal_Name"]["id"] == deal["id"], "the story's Epic is its Case's Deal"
    assert not [c for c in cases if c["Subject"] == "Globex data migration"], "an Epic is no Case"
