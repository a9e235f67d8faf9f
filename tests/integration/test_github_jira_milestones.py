"""Milestones as synced records: GitHub milestones <-> Jira versions, and an issue's milestone
(GitHub ``milestone`` <-> Jira ``fixVersions``) crossing through the milestone links, through the
CLI and the stand-ins with the real PyGithub and ``jira`` clients on the test's side."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
import requests
from click.testing import CliRunner, Result

from hub.cli import main
from hub.testing.sandbox_client import SandboxClient
from plugins.github.connector import split_marker
from tests.conftest import write_config
from tests.integration import connections
from tests.sandbox.github_support import github_client
from tests.sandbox.jira_support import EMAIL, jira_client

REPO = "acme/portal"
PROJECT = "PORT"
TOKEN = "sandbox-token"
WRITES = ("POST", "PUT", "PATCH", "DELETE")


class Milestones:
    """A GitHub repository and a Jira project joined by a flow of milestones, issues and comments."""

    def __init__(self, tmp_path: Path, sandbox: SandboxClient,
                 records: tuple[str, ...] = ("milestone", "issue", "comment")) -> None:
        self.sandbox = sandbox
        self.gh = github_client(sandbox.base("github"), token=TOKEN, per_page=100)
        self.repo = self.gh.get_organization("acme").create_repo("portal")
        reply = requests.post(f"{sandbox.base('jira')}/rest/api/2/project", auth=(EMAIL, TOKEN),
                              timeout=10, json={"key": PROJECT, "name": "Acme Portal",
                                                "projectTypeKey": "software"})
        reply.raise_for_status()
        self.jira = jira_client(sandbox.base("jira"), token=TOKEN)
        self.tmp_path = tmp_path
        self.configure(records)

    def configure(self, records: tuple[str, ...]) -> None:
        self.config = write_config(
            self.tmp_path / "pmhub.toml", state_url=f"sqlite:///{self.tmp_path / 'state.db'}",
            connections={"gh": connections.github(self.sandbox, timeout=2),
                         "jira": connections.jira(self.sandbox, timeout=2)},
            flows=[{"name": "portal", "a": {"connection": "gh", "scope": REPO},
                    "b": {"connection": "jira", "scope": PROJECT}, "mapping": "github-jira",
                    "records": list(records)}])

    def sync(self, *command: str, expect: int | None = 0) -> Result:
        args = [*command, "--config", str(self.config)] if command else [
            "sync", "--quiet", "--config", str(self.config)]
        result = CliRunner().invoke(main, args, catch_exceptions=False)
        if expect is not None:
            assert result.exit_code == expect, result.output
        return result

    def versions(self) -> list[Any]:
        return list(self.jira.project_versions(PROJECT))

    def jira_issues(self) -> dict[str, Any]:
        found = self.jira.search_issues(f"project = {PROJECT} ORDER BY key ASC", maxResults=False,
                                        fields="summary,fixVersions")
        return {i.fields.summary: i for i in found}

    def fix_versions(self) -> dict[str, list[str]]:
        return {title: [v.name for v in issue.fields.fixVersions]
                for title, issue in self.jira_issues().items()}

    def writes(self) -> list[dict[str, Any]]:
        return [r for r in self.sandbox.requests() if r["method"] in WRITES]


@pytest.fixture
def hub(tmp_path: Path, sandbox: SandboxClient) -> Milestones:
    return Milestones(tmp_path, sandbox)


def released(hub: Milestones) -> Any:
    """A milestone with a due date and three issues in it, synced once."""
    milestone = hub.repo.create_milestone("v1.0", state="open", description="First customer release",
                                          due_on=dt.date(2026, 3, 31))
    for title in ("SSO login loops", "Export invoices", "Rate limit docs"):
        hub.repo.create_issue(title, body="...", milestone=milestone)
    hub.repo.create_issue("Not planned yet", body="no milestone")
    hub.sync()
    return milestone


def test_a_github_milestone_becomes_a_jira_version_and_its_issues_carry_it(hub: Milestones) -> None:
    released(hub)

    [version] = hub.versions()
    assert (version.name, version.releaseDate, version.released) == ("v1.0", "2026-03-31", False)
    assert version.description.startswith("First customer release"), "the description travels"
    assert version.description.rstrip().endswith("]"), "with pmhub's marker line at its end"
    assert hub.fix_versions() == {"SSO login loops": ["v1.0"], "Export invoices": ["v1.0"],
                                  "Rate limit docs": ["v1.0"], "Not planned yet": []}

    hub.sandbox.clear_requests()
    hub.sync()
    assert hub.writes() == [], "a quiet re-run writes nothing"


def test_redating_and_releasing_the_version_in_jira_reach_github(hub: Milestones) -> None:
    milestone = released(hub)
    [version] = hub.versions()

    version.update(releaseDate="2026-04-15", released=True)
    hub.sync()

    milestone = hub.repo.get_milestone(milestone.number)
    assert milestone.due_on.date() == dt.date(2026, 4, 15)
    assert milestone.state == "closed"
    assert milestone.description == "First customer release", "GitHub shows no marker"
    hub.sandbox.clear_requests()
    hub.sync()
    assert hub.writes() == []


def test_a_rename_on_either_side_follows_on_the_other(hub: Milestones) -> None:
    milestone = released(hub)

    milestone.edit("v1.0 (pilot)")
    hub.sync()
    [version] = hub.versions()
    assert version.name == "v1.0 (pilot)"
    assert hub.fix_versions()["Export invoices"] == ["v1.0 (pilot)"], "Jira's issues hold the version by id"

    version.update(name="Pilot")
    hub.sync()
    assert hub.repo.get_milestone(milestone.number).title == "Pilot"
    hub.sandbox.clear_requests()
    hub.sync()
    assert hub.writes() == []


def test_a_jira_version_and_its_issues_reach_github(hub: Milestones) -> None:
    hub.sync()
    version = hub.jira.create_version("2026.2", PROJECT, description="Spring drop", releaseDate="2026-05-01")
    hub.jira.create_issue(project=PROJECT, summary="Bulk import", issuetype={"name": "Task"},
                          fixVersions=[{"id": version.id}])

    hub.sync()

    [milestone] = list(hub.repo.get_milestones(state="all"))
    description, marker = split_marker(milestone.description)
    assert (milestone.title, milestone.due_on.date(), description) == ("2026.2", dt.date(2026, 5, 1),
                                                                        "Spring drop")
    assert marker is not None, "the copy carries pmhub's marker (a hidden line)"
    [issue] = list(hub.repo.get_issues(state="all"))
    assert issue.milestone is not None and issue.milestone.number == milestone.number


def test_a_moved_issue_moves_its_fix_version(hub: Milestones) -> None:
    released(hub)
    later = hub.repo.create_milestone("v2.0", due_on=dt.date(2026, 6, 30))
    [issue] = [i for i in hub.repo.get_issues(state="all") if i.title == "Export invoices"]

    issue.edit(milestone=later)
    hub.sync()

    assert hub.fix_versions()["Export invoices"] == ["v2.0"]
    assert sorted(v.name for v in hub.versions()) == ["v1.0", "v2.0"]


def test_a_lost_reply_to_a_version_create_is_settled_by_its_marker(hub: Milestones) -> None:
    hub.repo.create_milestone("v1.0", due_on=dt.date(2026, 3, 31))
    hub.sandbox.fault("jira", method="POST", path=r"/rest/api/2/version$", status=502, after_commit=True)

    hub.sync()
    hub.sync()

    assert [v.name for v in hub.versions()] == ["v1.0"], "exactly one version, found by its marker"
    posts = [r for r in hub.sandbox.requests("jira") if r["method"] == "POST"
             and r["path"].endswith("/version") and not r.get("fault")]
    assert len(posts) == 1, "the create was never sent twice"


def test_an_issue_whose_milestone_has_no_twin_yet_gets_it_once_it_has(hub: Milestones) -> None:
    milestone = hub.repo.create_milestone("v1.0", due_on=dt.date(2026, 3, 31))
    hub.repo.create_issue("SSO login loops", milestone=milestone)
    # Jira refuses the version once (a permanent 400): the milestone is parked, the issue waits.
    hub.sandbox.fault("jira", method="POST", path=r"/rest/api/2/version$", status=400)
    hub.sync(expect=None)
    assert hub.jira_issues() == {}, "the issue waits for its milestone rather than losing it"

    hub.sync("retry")  # a person retries the parked milestone (and what waits for it)
    hub.sync()

    assert hub.fix_versions() == {"SSO login loops": ["v1.0"]}
    hub.sandbox.clear_requests()
    hub.sync()
    assert hub.writes() == []


def test_an_issue_waits_for_a_milestone_whose_create_is_pending_and_gets_it_next_run(
        hub: Milestones) -> None:
    milestone = hub.repo.create_milestone("v1.0", due_on=dt.date(2026, 3, 31))
    hub.repo.create_issue("SSO login loops", milestone=milestone)
    # The version's create fails before Jira does anything; its outcome unknown to pmhub, the create
    # stays pending (its intent kept) and the issue, whose milestone has no twin, waits.
    hub.sandbox.fault("jira", method="POST", path=r"/rest/api/2/version$", status=503)
    hub.sync(expect=None)
    assert hub.versions() == [] and hub.jira_issues() == {}

    hub.sync(expect=None)  # no one asks: the next run creates the version, then places the issue

    assert hub.fix_versions() == {"SSO login loops": ["v1.0"]}
    hub.sandbox.clear_requests()
    hub.sync()
    assert hub.writes() == []


def test_without_milestones_in_the_flow_no_milestone_travels(tmp_path: Path, sandbox: SandboxClient) -> None:
    hub = Milestones(tmp_path, sandbox, records=("issue", "comment"))
    milestone = hub.repo.create_milestone("v1.0", due_on=dt.date(2026, 3, 31))
    hub.repo.create_issue("SSO login loops", milestone=milestone)
    hub.sync()
    assert hub.fix_versions() == {"SSO login loops": []}, "a name with no version to name stays home"
    assert hub.versions() == []
