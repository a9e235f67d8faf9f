"""Sub-issue routes of the GitHub stand-in: list, add (or move), remove, reprioritise, get parent.

As in GitHub's REST API, a sub-issue is named by its global ``id`` (not its number) in request
bodies, may live in another repository of the same owner, and has at most one parent: adding one
that has a parent is a 422 unless ``replace_parent`` is true. A parent holds at most 100 sub-issues
and a tree is at most 8 levels deep. Add, remove and reply bodies follow the recorded exchanges:
201 (add) or 200 (remove, reprioritise) with the *parent* issue, whose ``updated_at`` stays as it
was. The stand-in stamps the *child's* ``updated_at`` when its parent changes, so that a listing
with ``since`` sees the move (except when an issue is placed the second it is created, see
``_just_created``). Recordings of real GitHub do not show that stamp (a child added in them
keeps its ``updated_at``); ``plugins/github/sub_issues.py`` says what that means for a sync.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any, NoReturn

from werkzeug.wrappers import Response

from hub.sandbox.service import BadPayload, Call, json_response, route

from .base import GitHubSandboxBase
from .state import Issue, Repo

ISSUE = "/repos/<owner>/<name>/issues/<int:number>"
MAX_SUB_ISSUES = 100
MAX_DEPTH = 8
_MISSING = object()


class SubIssueRoutes(GitHubSandboxBase):
    """``GET|POST .../sub_issues``, ``DELETE .../sub_issue``, ``PATCH .../sub_issues/priority`` and
    ``GET .../parent``."""

    @route(f"{ISSUE}/sub_issues")
    def list_sub_issues(self, call: Call, owner: str, name: str, number: int) -> Response:
        repo = self.repo(owner, name)
        parent = self.issue(repo, number)
        children = [found for found in map(self.locate_issue, parent.sub_issues) if found is not None]
        return self.page(call, children, lambda found: self._with_repository(call, *found))

    @route(f"{ISSUE}/sub_issues", methods=("POST",))
    def add_sub_issue(self, call: Call, owner: str, name: str, number: int) -> Response:
        repo = self.repo(owner, name)
        parent = self.issue(repo, number)
        data = self.body(call)
        child_repo, child = self._sub_issue(repo, data)
        replace = data.get("replace_parent", _MISSING)
        if replace is not _MISSING and not isinstance(replace, bool):
            raise BadPayload(422, f"Invalid request.\n\nFor 'properties/replace_parent', "
                                  f"{json.dumps(replace)} is not a boolean.")
        if child.pull_request:
            self._refuse("Pull requests cannot be added as sub-issues")
        if child.id == parent.id or self._is_under(parent, child):
            self._refuse("An issue cannot be its own sub-issue, directly or through its sub-issues")
        if child.parent == parent.id:
            self._refuse("Issue may not contain duplicate sub-issues")
        if child.parent is not None and replace is not True:
            self._refuse("Sub issue may only have one parent")
        if len(parent.sub_issues) >= MAX_SUB_ISSUES:
            self._refuse(f"Parent cannot have more than {MAX_SUB_ISSUES} sub-issues")
        if self._depth(parent) + self._height(child) > MAX_DEPTH:
            self._refuse(f"Sub-issues cannot be nested more than {MAX_DEPTH} levels deep")
        moving = child.parent is not None
        self._unlink(child, call)  # a move is a removal, then an add, as GitHub's deliveries tell it
        child.parent = parent.id
        parent.sub_issues.append(child.id)
        if moving or not self._just_created(child):
            child.updated_at = self.stamp(child.updated_at)
        self.sub_issue_event(call, (repo, parent), (child_repo, child), added=True)
        body = self._with_repository(call, repo, parent)
        # The recorded reply's Location is the parent issue's URL (the description's example differs).
        return json_response(body, 201, {"Location": body["url"]})

    @route(f"{ISSUE}/sub_issue", methods=("DELETE",))
    def remove_sub_issue(self, call: Call, owner: str, name: str, number: int) -> Response:
        repo = self.repo(owner, name)
        parent = self.issue(repo, number)
        _child_repo, child = self._sub_issue(repo, self.body(call))
        if child.parent != parent.id:
            raise BadPayload(404, "Not Found")
        child.updated_at = self.stamp(child.updated_at)
        self._unlink(child, call)
        return json_response(self._with_repository(call, repo, parent))

    @route(f"{ISSUE}/sub_issues/priority", methods=("PATCH",))
    def reprioritize_sub_issue(self, call: Call, owner: str, name: str, number: int) -> Response:
        repo = self.repo(owner, name)
        parent = self.issue(repo, number)
        data = self.body(call)
        _child_repo, child = self._sub_issue(repo, data)
        if child.parent != parent.id:
            raise BadPayload(404, "Not Found")
        after, before = data.get("after_id"), data.get("before_id")
        if (after is None) == (before is None):
            self._refuse("Either after_id or before_id must be given, not both", field="after_id")
        anchor = after if after is not None else before
        if not isinstance(anchor, int) or isinstance(anchor, bool) or anchor not in parent.sub_issues \
                or anchor == child.id:
            self._refuse("The positional sub-issue is not another sub-issue of this issue",
                         field="after_id" if after is not None else "before_id")
        order = [i for i in parent.sub_issues if i != child.id]
        at = order.index(anchor) + (1 if after is not None else 0)
        parent.sub_issues = [*order[:at], child.id, *order[at:]]
        return json_response(self._with_repository(call, repo, parent))

    @route(f"{ISSUE}/parent")
    def get_parent(self, call: Call, owner: str, name: str, number: int) -> Response:
        child = self.issue(self.repo(owner, name), number)
        found = self.locate_issue(child.parent) if child.parent is not None else None
        if found is None:
            raise BadPayload(404, "Not Found")
        return json_response(self.render(call).issue(*found))

    # -- helpers ---------------------------------------------------------------------------------
    def _just_created(self, child: Issue) -> bool:
        """Whether ``child`` was created this very second and not changed since. Giving it its
        first parent then is part of making it (creating a sub-issue is one step in GitHub's web
        UI), so it keeps the creation's stamp: stamping it would wait for the next second, a second
        per issue created under a parent. Every later add, move or removal is stamped."""
        now = dt.datetime.now(dt.UTC).replace(microsecond=0)
        return child.updated_at == child.created_at == now

    def _with_repository(self, call: Call, repo: Repo, issue: Issue) -> dict[str, Any]:
        """An issue as the sub-issue endpoints send it: with its repository (the recorded listing,
        add, remove and reprioritise replies carry one; a plain issue read does not)."""
        render = self.render(call)
        return {**render.issue(repo, issue), "repository": render.repo(repo)}

    def detach_deleted(self, issue: Issue) -> None:
        """A deleted issue leaves its parent's sub-issues, and its own sub-issues lose their parent."""
        self._unlink(issue)
        for child_id in issue.sub_issues:
            found = self.locate_issue(child_id)
            if found is not None:
                found[1].parent = None
        issue.sub_issues = []

    def _sub_issue(self, repo: Repo, data: dict[str, Any]) -> tuple[Repo, Issue]:
        """The issue a body's ``sub_issue_id`` names: an issue of the same owner, by global id."""
        if "sub_issue_id" not in data:
            raise BadPayload(422, "Invalid request.\n\n\"sub_issue_id\" wasn't supplied.")
        value = data["sub_issue_id"]
        if not isinstance(value, int) or isinstance(value, bool):
            raise BadPayload(422, f"Invalid request.\n\nFor 'properties/sub_issue_id', "
                                  f"{json.dumps(value)} is not an integer.")
        found = self.locate_issue(value)
        if found is None or found[0].owner.lower() != repo.owner.lower():
            raise BadPayload(404, "Not Found")
        return found

    def _unlink(self, child: Issue, call: Call | None = None) -> None:
        """Take ``child`` from under its parent; with ``call``, the hooks are told."""
        if child.parent is None:
            return
        found = self.locate_issue(child.parent)
        if found is not None and child.id in found[1].sub_issues:
            found[1].sub_issues.remove(child.id)
        child.parent = None
        place = self.locate_issue(child.id)
        if call is not None and found is not None and place is not None:
            self.sub_issue_event(call, found, place, added=False)

    def _is_under(self, issue: Issue, ancestor: Issue) -> bool:
        """Whether ``ancestor`` is above ``issue`` in its parent chain."""
        current: Issue | None = issue
        while current is not None and current.parent is not None:
            if current.parent == ancestor.id:
                return True
            found = self.locate_issue(current.parent)
            current = found[1] if found is not None else None
        return False

    def _depth(self, issue: Issue) -> int:
        """Levels from the top of ``issue``'s tree down to it (a root is level 1)."""
        depth, current = 1, issue
        while current.parent is not None:
            found = self.locate_issue(current.parent)
            if found is None:
                break
            depth, current = depth + 1, found[1]
        return depth

    def _height(self, issue: Issue) -> int:
        """Levels in the subtree under ``issue``, itself included."""
        children = [found[1] for found in map(self.locate_issue, issue.sub_issues) if found is not None]
        return 1 + max((self._height(child) for child in children), default=0)

    def _refuse(self, message: str, field: str = "sub_issue_id") -> NoReturn:
        self.invalid("Issue", field, "custom", message=message)
