"""The "demo" seed of the GitHub stand-in: org ``acme``, repo ``acme/portal`` with a customer's work.

Timestamps lie in the recent past, so a ``since`` cursor taken after seeding sees only new writes.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from .state import Comment, Issue, Label, Milestone, Repo

if TYPE_CHECKING:
    from .base import GitHubSandboxBase

LABELS = (
    ("bug", "d73a4a", "Something isn't working"),
    ("enhancement", "a2eeef", "New feature or request"),
    ("documentation", "0075ca", "Improvements or additions to documentation"),
    ("customer", "0e8a16", "Requested by a customer"),
    ("priority: high", "b60205", None),
)

# (title, body, labels, assignees, state, state_reason, milestone?, pull request?)
IssueSeed = tuple[str, str, list[str], list[str], str, str | None, bool, bool]
ISSUES: tuple[IssueSeed, ...] = (
    ("SSO login fails for Globex users",
     "Globex reports that SAML sign-in loops back to the login page.\n\n- Browser: Firefox 128\n"
     "- Since: the 2.3 release", ["bug", "customer", "priority: high"], ["octocat"], "open", None,
     True, False),
    ("Export invoices as CSV", "Finance at Globex wants a monthly CSV export of invoices.",
     ["enhancement", "customer"], ["monalisa"], "open", None, True, False),
    ("Document the API rate limits", "Add a page describing per-token limits.", ["documentation"], [],
     "closed", "completed", False, False),
    ("Dark mode for the dashboard", "Nice to have; not planned for this year.", ["enhancement"], [],
     "closed", "not_planned", False, False),
    ("Fix SAML redirect loop", "Fixes #1 by keeping the RelayState across the redirect.", ["bug"],
     ["octocat"], "open", None, True, True),
    ("Search is slow on large accounts", "Searching 50k tickets takes 8 s.", ["bug", "customer"],
     ["hubot"], "open", None, False, False),
)


def load_demo(service: GitHubSandboxBase) -> None:
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    start = now - dt.timedelta(days=7)
    org = service.add_org("acme")
    repo = Repo(id=service.next_id("repo"), owner=org.login, name="portal", created_at=start,
                updated_at=start, description="Acme customer portal")
    service.repos[("acme", "portal")] = repo
    for name, color, description in LABELS:
        repo.labels[name] = Label(id=service.next_id("label"), name=name, color=color,
                                  description=description, default=name in ("bug", "enhancement"))
    milestone = Milestone(id=service.next_id("milestone"), number=1, title="v1.0", creator="octocat",
                          created_at=start, updated_at=start,
                          description="First release for Globex",
                          due_on=(now + dt.timedelta(days=30)).replace(hour=7, minute=0, second=0))
    repo.milestones[1] = milestone
    repo.next_milestone = 2
    for offset, (title, body, labels, assignees, state, reason, in_milestone, pull) in enumerate(ISSUES):
        created = start + dt.timedelta(hours=6 * offset)
        updated = created + dt.timedelta(hours=2)
        number = offset + 1
        repo.issues[number] = Issue(
            id=service.next_id("issue"), number=number, title=title, body=body, user="octocat",
            created_at=created, updated_at=updated, labels=list(labels), assignees=list(assignees),
            state=state, state_reason=reason, milestone=1 if in_milestone else None,
            closed_at=updated if state == "closed" else None,
            closed_by="octocat" if state == "closed" else None, pull_request=pull)
        service.register_issue(repo, repo.issues[number])
    repo.next_number = len(ISSUES) + 1
    for number, author, text, hours in (
        (1, "monalisa", "Reproduced with a Globex test account; the RelayState is dropped.", 3),
        (1, "octocat", "Fix is in #5, waiting for review.", 30),
        (2, "hubot", "Which columns does finance need?", 10),
    ):
        when = repo.issues[number].created_at + dt.timedelta(hours=hours)
        comment = Comment(id=service.next_id("comment"), issue_number=number, body=text, user=author,
                          created_at=when, updated_at=when)
        repo.comments[comment.id] = comment
        issue = repo.issues[number]
        issue.comments += 1
        issue.updated_at = max(issue.updated_at, when)
