"""The GitHub part of ``pmhub demo``: a GitHub <-> Jira flow, a rename through PyGithub, and the
check, through both clients, that each tool's edit reached the other."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from hub.demo import Demo, DemoFailed, DemoStep, Phase

from ..jira.demo import JIRA_EMAIL, JIRA_PROJECT, jira_client

#: The repository of the sandbox's "demo" seed.
GITHUB_REPO = "acme/portal"


def github_client(demo: Demo) -> Any:
    """PyGithub as a user of the sandbox would set it up (no throttling, no hidden retries)."""
    from github import Auth, Github

    return Github(auth=Auth.Token(demo.token), base_url=demo.base("github"), retry=None, lazy=True,
                  seconds_between_requests=None, seconds_between_writes=None, timeout=10)


def describe_seed(demo: Demo) -> None:
    demo.echo(f"    GitHub repository {GITHUB_REPO} and Jira project {JIRA_PROJECT} hold a customer's work")


def connect_github_jira(demo: Demo) -> None:
    demo.connections["gh"] = {"plugin": "github", "base_url": demo.base("github"), "token": demo.token_ref,
                              # GitHub's content-creation limits do not apply to the sandbox.
                              "seconds_between_writes": 0}
    demo.connections["jira"] = {"plugin": "jira", "base_url": demo.base("jira"), "email": JIRA_EMAIL,
                                "token": demo.token_ref}
    demo.flows.append({
        "name": "portal-issues", "a": {"connection": "gh", "scope": GITHUB_REPO},
        "b": {"connection": "jira", "scope": JIRA_PROJECT}, "records": ["milestone", "issue", "comment"],
        "direction": "both", "mapping": "github-jira", "conflict": "newest",
        # Both sides already hold "Export invoices as CSV": the title rule links them, no duplicate.
        "match": ["marker", "link", "title"],
    })


def edit_github(demo: Demo) -> None:
    """Rename the first GitHub issue through PyGithub."""
    gh = github_client(demo)
    try:
        issue = gh.get_repo(GITHUB_REPO).get_issue(1)
        new_title = f"{issue.title} (SAML RelayState)"
        issue.edit(title=new_title)
    finally:
        gh.close()
    demo.facts["github_renamed"] = new_title
    demo.echo(f"    GitHub #1 renamed to {new_title!r}")


def redate_milestone(demo: Demo) -> None:
    """The team moves the customer's release: the GitHub milestone's due date, through PyGithub."""
    gh = github_client(demo)
    try:
        milestone = gh.get_repo(GITHUB_REPO).get_milestone(1)
        due = (milestone.due_on + dt.timedelta(days=14)).date()
        milestone.edit(milestone.title, due_on=due)
    finally:
        gh.close()
    demo.facts["milestone_due"] = (milestone.title, due.isoformat())
    demo.echo(f"    GitHub milestone {milestone.title!r} now due {due.isoformat()}")


def check_milestone(demo: Demo) -> None:
    """The milestone is a Jira version with the new release date, and its issues carry it."""
    title, due = demo.facts["milestone_due"]
    jira = jira_client(demo)
    try:
        version = next((v for v in jira.project_versions(JIRA_PROJECT) if v.name == title), None)
        if version is None or getattr(version, "releaseDate", None) != due:
            found = getattr(version, "releaseDate", None) if version else "no version"
            raise DemoFailed(f"the GitHub milestone {title!r} is not a Jira version due {due} ({found})")
        found = jira.search_issues(f"project = {JIRA_PROJECT}", fields="summary,fixVersions",
                                   maxResults=False)
        carrying = [i.key for i in found if title in [v.name for v in i.fields.fixVersions or []]]
    finally:
        jira.close()
    if not carrying:
        raise DemoFailed(f"no Jira issue carries the fix version {title!r}")
    demo.outcomes.append(f"GitHub milestone {title!r} re-dated -> Jira version {title!r} releases {due}, "
                         f"fix version of {len(carrying)} issues")
    demo.echo(f"    Jira version {title!r} releases {due}; {len(carrying)} issues in it")


def check_edits(demo: Demo) -> None:
    """Look at the other side through the clients: did each edit arrive?"""
    jira, gh = jira_client(demo), github_client(demo)
    arrived = 0
    try:
        renamed = demo.facts.get("github_renamed")
        if renamed is not None:
            # The demo project is small: read it whole rather than rely on text search.
            found = jira.search_issues(f"project = {JIRA_PROJECT}", fields="summary", maxResults=False)
            twin = next((i for i in found if i.fields.summary == renamed), None)
            if twin is None:
                raise DemoFailed(f"the GitHub rename did not reach Jira ({renamed!r})")
            demo.outcomes.append(f"GitHub #1 renamed -> Jira {twin.key} is now {renamed!r}")
            arrived += 1
        done = demo.facts.get("jira_done")
        if done is not None:
            key, summary = done
            repo = gh.get_repo(GITHUB_REPO)
            twin = next((i for i in repo.get_issues(state="all") if i.title == summary), None)
            if twin is None or twin.state != "closed":
                raise DemoFailed(f"the Jira transition of {key} did not close its GitHub twin")
            comments = [c.body for c in twin.get_comments()]
            if not comments:
                raise DemoFailed(f"the comment on {key} did not reach GitHub #{twin.number}")
            # Shown on one line, without the hidden marker the hub keeps in the body.
            shown = " ".join(comments[-1].split("<!--", 1)[0].split())
            demo.outcomes.append(f"Jira {key} -> Done -> GitHub #{twin.number} closed as "
                                 f"{twin.state_reason}, with the comment \"{shown}\"")
            arrived += 1
    finally:
        jira.close()
        gh.close()
    demo.echo(f"    {arrived} of 2 edits arrived on the other side")


def register(add: Callable[[DemoStep], None]) -> None:
    add(DemoStep(Phase.SANDBOX + 10, None, describe_seed))
    add(DemoStep(Phase.CONNECT, "Connecting GitHub and Jira (flow portal-issues, mapping github-jira)",
                 connect_github_jira))
    add(DemoStep(Phase.EDIT, "Editing GitHub: renaming an issue", edit_github))
    add(DemoStep(Phase.EDIT + 2, "Editing GitHub: moving the release milestone by two weeks",
                 redate_milestone))
    add(DemoStep(Phase.CHECK, "Checking both edits arrived", check_edits))
    add(DemoStep(Phase.CHECK + 2, "Checking the milestone and its Jira version are in step",
                 check_milestone))
