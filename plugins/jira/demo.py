"""The Jira part of ``pmhub demo``: the team moves an issue to Done and comments, through ``jira``.

Other plugins' demo steps that look into Jira use ``jira_client`` from here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hub.demo import Demo, DemoFailed, DemoStep, Phase

#: The project of the sandbox's "demo" seed, and the seed's account for the sandbox token.
JIRA_PROJECT = "PORT"
JIRA_EMAIL = "bot@acme.example"


def jira_client(demo: Demo) -> Any:
    """The ``jira`` client as a user of the sandbox would set it up (no hidden retries)."""
    from jira import JIRA

    return JIRA(server=demo.base("jira"), basic_auth=(JIRA_EMAIL, demo.token), max_retries=0, timeout=10)


def transition_to_done(jira: Any, key: str) -> None:
    """Move ``key`` to Done through the transition the workflow offers."""
    done = next((t["id"] for t in jira.transitions(key) if t["to"]["name"] == "Done"), None)
    if done is None:
        raise DemoFailed(f"the sandbox offers no transition of {key} to Done")
    jira.transition_issue(key, done)


def edit_jira(demo: Demo) -> None:
    """Move the first Jira issue to Done and comment on it; a GitHub check looks for both there."""
    jira = jira_client(demo)
    try:
        key = f"{JIRA_PROJECT}-1"
        transition_to_done(jira, key)
        jira.add_comment(key, "Deployed the proxy fix to production; the customer confirmed it works.")
        demo.facts["jira_done"] = (key, jira.issue(key, fields="summary").fields.summary)
    finally:
        jira.close()
    demo.echo(f"    Jira {key} moved to Done, with a comment")


def register(add: Callable[[DemoStep], None]) -> None:
    add(DemoStep(Phase.EDIT + 10, "Editing Jira: Done and a comment", edit_jira))
