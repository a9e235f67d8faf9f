"""Fixed catalogues of the Jira stand-in (users, issue types, statuses, priorities, fields) and the
"demo" seed. Plain data, built by functions so every reset starts from fresh objects."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

#: The account the sandbox's credentials belong to. A non-UTC zone on purpose: JQL dates are read in
#: the searching user's zone, and a connector that forgets it must fail the tests.
BOT_ACCOUNT_ID = "712020:5f0c2a4e-pmhub-bot"
BOT_TIME_ZONE = "Europe/Berlin"


def users() -> dict[str, dict[str, Any]]:
    people = [
        (BOT_ACCOUNT_ID, "pmhub-bot", "bot@acme.example", BOT_TIME_ZONE),
        ("712020:1a2b3c4d-alice", "Alice Nguyen", "alice@acme.example", "America/New_York"),
        ("712020:5e6f7a8b-bob", "Bob Okafor", "bob@acme.example", "Europe/London"),
    ]
    return {
        account_id: {"accountId": account_id, "displayName": name, "emailAddress": email,
                     "timeZone": zone, "locale": "en_US", "active": True}
        for account_id, name, email, zone in people
    }


@dataclass(frozen=True)
class StatusDef:
    id: str
    name: str
    category_id: int
    category_key: str
    category_name: str
    color: str
    #: The transition of the simplified workflow that leads to this status (named like it).
    transition_id: str


STATUSES: tuple[StatusDef, ...] = (
    StatusDef("10000", "To Do", 2, "new", "To Do", "blue-gray", "11"),
    StatusDef("3", "In Progress", 4, "indeterminate", "In Progress", "yellow", "21"),
    StatusDef("10001", "Done", 3, "done", "Done", "green", "31"),
)

#: (id, name, description, hierarchyLevel, subtask)
ISSUE_TYPES: tuple[tuple[str, str, str, int, bool], ...] = (
    ("10001", "Task", "A small, distinct piece of work.", 0, False),
    ("10002", "Bug", "A problem or error.", 0, False),
    ("10003", "Story", "A user story.", 0, False),
    ("10000", "Epic", "A big user story that needs to be broken down.", 1, False),
    ("10004", "Subtask", "A small piece of work that's part of a larger task.", -1, True),
)

#: (id, name, colour) from highest to lowest; Medium is the default.
PRIORITIES: tuple[tuple[str, str, str], ...] = (
    ("1", "Highest", "#d04437"),
    ("2", "High", "#f15c75"),
    ("3", "Medium", "#f79232"),
    ("4", "Low", "#707070"),
    ("5", "Lowest", "#999999"),
)
DEFAULT_PRIORITY = "3"

#: System fields: (id, name, schema type, schema items, navigable, orderable, searchable, clause names)
SYSTEM_FIELDS: tuple[tuple[str, str, str, str | None, bool, bool, bool, tuple[str, ...]], ...] = (
    ("summary", "Summary", "string", None, True, True, True, ("summary",)),
    ("description", "Description", "string", None, True, True, True, ("description",)),
    ("issuetype", "Issue Type", "issuetype", None, True, True, True, ("issuetype", "type")),
    ("project", "Project", "project", None, False, False, True, ("project",)),
    ("status", "Status", "status", None, True, False, True, ("status",)),
    ("statusCategory", "Status Category", "statusCategory", None, False, False, True,
     ("statusCategory",)),
    ("priority", "Priority", "priority", None, True, True, True, ("priority",)),
    ("labels", "Labels", "array", "string", True, True, True, ("labels",)),
    ("assignee", "Assignee", "user", None, True, True, True, ("assignee",)),
    ("reporter", "Reporter", "user", None, True, True, True, ("reporter",)),
    ("creator", "Creator", "user", None, True, False, True, ("creator",)),
    ("created", "Created", "datetime", None, True, False, True, ("created", "createdDate")),
    ("updated", "Updated", "datetime", None, True, False, True, ("updated", "updatedDate")),
    ("duedate", "Due date", "date", None, True, True, True, ("due", "duedate")),
    ("resolution", "Resolution", "resolution", None, True, True, True, ("resolution",)),
    ("resolutiondate", "Resolved", "datetime", None, True, False, True,
     ("resolutiondate", "resolved")),
    ("statuscategorychangedate", "Status Category Changed", "datetime", None, True, False, True,
     ("statusCategoryChangedDate",)),
    ("parent", "Parent", "issuelink", None, True, True, True, ("parent",)),
    ("fixVersions", "Fix versions", "array", "version", True, True, True, ("fixVersion",)),
    ("comment", "Comment", "comments-page", None, False, True, True, ("comment",)),
)


@dataclass(frozen=True)
class DemoIssue:
    summary: str
    issuetype: str
    status: str
    priority: str
    labels: tuple[str, ...]
    description: str
    days_ago: int
    assignee: str | None = None
    comments: tuple[tuple[str, str], ...] = ()


DEMO_PROJECT = {"key": "PORT", "name": "Acme Portal",
                "description": "Customer portal for Acme Corp: accounts, invoices and support."}

DEMO_ISSUES: tuple[DemoIssue, ...] = (
    DemoIssue("Login page times out behind the customer's proxy", "Bug", "In Progress", "High",
              ("customer", "auth"),
              "Users at Acme report a *timeout* after 30 s.\n\nSteps:\n# open the portal\n# sign in",
              9, "712020:1a2b3c4d-alice",
              (("712020:5e6f7a8b-bob", "Reproduced with the proxy settings from the ticket."),
               (BOT_ACCOUNT_ID, "Synced from the customer case."))),
    DemoIssue("Export invoices as CSV", "Story", "To Do", "Medium", ("customer", "billing"),
              "As a finance user I want to download my invoices as CSV.", 7),
    DemoIssue("Upgrade the session library", "Task", "Done", "Low", ("tech-debt",),
              "Move to the maintained fork.", 6, "712020:5e6f7a8b-bob",
              (("712020:1a2b3c4d-alice", "Released in 2.4.1."),)),
    DemoIssue("Customer portal v2", "Epic", "In Progress", "Highest", (),
              "h2. Goals\n\n* self-service invoices\n* single sign-on", 5),
    DemoIssue("Update the privacy policy page", "Task", "To Do", "Lowest", ("legal",),
              "", 2),
)
