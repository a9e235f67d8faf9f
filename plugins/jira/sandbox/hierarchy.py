"""Which issue may sit under which in the Jira stand-in: Jira Cloud's issue type hierarchy.

Every issue type has a level (``seed.ISSUE_TYPES``: Epic 1, Task/Bug/Story 0, Subtask -1), and a
parent must be exactly one level above its child: an epic holds standard issues, a standard issue
holds sub-tasks, and an epic has no parent (no level above it without Premium's custom levels).
A sub-task always has a parent; the REST description allows removing the parent only for standard
issue types (``update.parent.set.none``). A refusal is the 400 Jira answers, on the ``parent`` field.
"""

from __future__ import annotations

from typing import Any

from . import seed
from .state import IssueRecord

WRONG_LEVEL = "Given parent work item does not belong to appropriate hierarchy."
SUBTASK_NEEDS_PARENT = "Issue type is a sub-task but parent issue key or id not specified."


def level(type_id: str) -> int:
    return next((t[3] for t in seed.ISSUE_TYPES if t[0] == type_id), 0)


def check(issues: dict[int, IssueRecord], type_id: str, parent_id: int | None,
          errors: dict[str, str]) -> None:
    """Note in ``errors`` why an issue of ``type_id`` cannot sit under ``parent_id`` (None: no parent)."""
    if "parent" in errors:
        return
    if parent_id is None:
        if level(type_id) < 0:
            errors["parent"] = SUBTASK_NEEDS_PARENT
        return
    parent = issues.get(parent_id)
    if parent is not None and level(parent.issuetype) != level(type_id) + 1:
        errors["parent"] = WRONG_LEVEL


def check_edit(issues: dict[int, IssueRecord], issue: IssueRecord, values: dict[str, Any],
               errors: dict[str, str]) -> None:
    """An edit that sets the parent or the type keeps the issue in a valid place."""
    if "parent" not in values and "issuetype" not in values:
        return
    parent = values.get("parent", issue.parent)
    if parent is not None and parent == issue.id:
        errors.setdefault("parent", WRONG_LEVEL)
        return
    check(issues, values.get("issuetype", issue.issuetype), parent, errors)
