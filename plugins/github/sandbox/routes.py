"""A stateful stand-in of GitHub's REST API (issues, sub-issues, comments, labels, milestones,
assignees, repos).

Mounted under ``/github``: point PyGithub at it with ``base_url="http://127.0.0.1:8400/github"``.
Plumbing (clock, ETags, rate-limit headers, errors, pagination) is in ``base``; label and
milestone routes in ``labels``; sub-issue routes in ``sub_issues``; repository hooks and their
deliveries in ``webhooks``; the JSON shapes in ``state``; the demo data in ``seed``.

Sandbox-only additions, which GitHub's REST API does not have: ``DELETE /repos/{o}/{r}/issues/{n}``
deletes an issue (GitHub deletes issues only through its web UI and GraphQL), so that the 410 a
deleted issue answers can be tested; ``POST /orgs/{org}/repos`` creates an unknown organisation
(every seed has ``acme``; the viewer is ``octocat``, and ``hubot`` and ``monalisa`` may be assigned).
Sandbox control: ``POST /_sandbox/github/content-creation-limit`` turns on GitHub's secondary
content-creation limit (``limits``), answered with GitHub's 403 envelope; off by default.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any

from werkzeug.wrappers import Response

from hub.sandbox.service import BadPayload, Call, json_response, route

from .base import (
    VIEWER,
    opt_str,
    parse_time,
)
from .labels import LabelRoutes
from .state import Comment, Issue, Repo
from .sub_issues import SubIssueRoutes
from .webhooks import HookRoutes

STATE_REASONS = ("completed", "not_planned", "reopened", "duplicate")
_REPO_NAME = re.compile(r"^[A-Za-z0-9._-]{1,100}$")
_MISSING = object()


class GitHubSandbox(HookRoutes, SubIssueRoutes, LabelRoutes):
    """The GitHub stand-in. State lives in attributes; ``reset`` loads "empty" or "demo"."""

    # -- users, rate limit ---------------------------------------------------------------------
    @route("/user")
    def get_viewer(self, call: Call) -> Response:
        return json_response(self.render(call).full_user(VIEWER, private=True))

    @route("/users/<login>")
    def get_user(self, call: Call, login: str) -> Response:
        if login.lower() not in self.users:
            raise BadPayload(404, "Not Found")
        return json_response(self.render(call).full_user(login, private=False))

    @route("/orgs/<org>")
    def get_org(self, call: Call, org: str) -> Response:
        user = self.users.get(org.lower())
        if user is None or user.type != "Organization":
            raise BadPayload(404, "Not Found")
        render = self.render(call)
        out = dict(render.user(user.login) or {})
        url = out["url"].replace("/users/", "/orgs/")
        out.update({"url": url, "repos_url": f"{url}/repos", "events_url": f"{url}/events",
                    "hooks_url": f"{url}/hooks", "issues_url": f"{url}/issues",
                    "members_url": f"{url}/members{{/member}}",
                    "public_members_url": f"{url}/public_members{{/member}}",
                    "description": None, "name": user.name, "created_at": "2020-01-01T00:00:00Z"})
        return json_response(out)

    @route("/rate_limit")
    def get_rate_limit(self, call: Call) -> Response:
        return json_response(self.rate_limit_body())

    # -- repositories ----------------------------------------------------------------------------
    @route("/user/repos", methods=("POST",))
    def create_user_repo(self, call: Call) -> Response:
        return self._create_repo(call, VIEWER)

    @route("/orgs/<org>/repos", methods=("POST",))
    def create_org_repo(self, call: Call, org: str) -> Response:
        return self._create_repo(call, self.add_org(org).login)

    def _create_repo(self, call: Call, owner: str) -> Response:
        data = self.body(call)
        name = data.get("name")
        if not isinstance(name, str) or not name:
            self.invalid("Repository", "name", "missing_field")
        if not _REPO_NAME.match(name):
            self.invalid("Repository", "name", "custom", message="name is invalid")
        if (owner.lower(), name.lower()) in self.repos:
            self.invalid("Repository", "name", "custom", message="name already exists on this account")
        now = self.stamp()
        repo = Repo(id=self.next_id("repo"), owner=owner, name=name, created_at=now, updated_at=now,
                    description=data.get("description"), private=bool(data.get("private", False)),
                    has_issues=bool(data.get("has_issues", True)))
        self.repos[(owner.lower(), name.lower())] = repo
        body = self.render(call).repo(repo)
        return json_response(body, 201, {"Location": body["url"]})

    @route("/repos/<owner>/<name>")
    def get_repo(self, call: Call, owner: str, name: str) -> Response:
        return json_response(self.render(call).repo(self.repo(owner, name)))

    # -- issues ------------------------------------------------------------------------------------
    @route("/repos/<owner>/<name>/issues")
    def list_issues(self, call: Call, owner: str, name: str) -> Response:
        repo = self.repo(owner, name)
        args = call.args
        state = args.get("state", "open")
        sort = args.get("sort", "created")
        direction = args.get("direction", "desc")
        if state not in ("open", "closed", "all"):
            self.invalid("Issue", "state", value=state)
        if sort not in ("created", "updated", "comments"):
            self.invalid("Issue", "sort", value=sort)
        if direction not in ("asc", "desc"):
            self.invalid("Issue", "direction", value=direction)
        issues = [i for i in repo.issues.values() if state == "all" or i.state == state]
        if "since" in args:
            try:
                since = parse_time(args["since"])
            except ValueError:
                self.invalid("Issue", "since", value=args["since"])
            issues = [i for i in issues if i.updated_at >= since]
        if args.get("labels"):
            wanted = {n.strip().lower() for n in args["labels"].split(",") if n.strip()}
            issues = [i for i in issues if wanted <= set(i.labels)]
        milestone = args.get("milestone")
        if milestone == "none":
            issues = [i for i in issues if i.milestone is None]
        elif milestone == "*":
            issues = [i for i in issues if i.milestone is not None]
        elif milestone:
            issues = [i for i in issues if str(i.milestone) == milestone]
        assignee = args.get("assignee")
        if assignee == "none":
            issues = [i for i in issues if not i.assignees]
        elif assignee == "*":
            issues = [i for i in issues if i.assignees]
        elif assignee:
            issues = [i for i in issues if assignee.lower() in (a.lower() for a in i.assignees)]
        if args.get("creator"):
            issues = [i for i in issues if i.user.lower() == args["creator"].lower()]
        keys = {"created": lambda i: (i.created_at, i.number), "updated": lambda i: (i.updated_at, i.number),
                "comments": lambda i: (i.comments, i.number)}
        issues.sort(key=keys[sort], reverse=direction == "desc")
        render = self.render(call)
        return self.page(call, issues, lambda i: render.issue(repo, i))

    @route("/repos/<owner>/<name>/issues", methods=("POST",))
    def create_issue(self, call: Call, owner: str, name: str) -> Response:
        repo = self.repo(owner, name)
        data = self.body(call)
        title = data.get("title")
        if isinstance(title, int) and not isinstance(title, bool):
            title = str(title)
        if not isinstance(title, str) or not title.strip():
            self.invalid("Issue", "title", "missing_field")
        now = self.stamp()
        issue = Issue(id=self.next_id("issue"), number=repo.next_number, title=title, user=VIEWER,
                      created_at=now, updated_at=now, body=opt_str(data.get("body"), "body"))
        self._apply_fields(repo, issue, data)
        repo.next_number += 1
        repo.issues[issue.number] = issue
        self.register_issue(repo, issue)
        self.issue_event(call, repo, issue, "opened")
        body = self.render(call).issue(repo, issue)
        return json_response(body, 201, {"Location": body["url"]})

    @route("/repos/<owner>/<name>/issues/<int:number>")
    def get_issue(self, call: Call, owner: str, name: str, number: int) -> Response:
        repo = self.repo(owner, name)
        return json_response(self.render(call).issue(repo, self.issue(repo, number)))

    @route("/repos/<owner>/<name>/issues/<int:number>", methods=("PATCH",))
    def update_issue(self, call: Call, owner: str, name: str, number: int) -> Response:
        repo = self.repo(owner, name)
        issue = self.issue(repo, number)
        data = self.body(call)
        before = dataclasses.replace(issue, labels=list(issue.labels), assignees=list(issue.assignees))
        if "title" in data:
            title = data["title"]
            if not isinstance(title, (str, int)) or isinstance(title, bool) or not str(title).strip():
                self.invalid("Issue", "title", value=title)
            issue.title = str(title)
        if "body" in data:
            issue.body = opt_str(data["body"], "body")
        self._apply_fields(repo, issue, data)
        self._apply_state(issue, data.get("state", _MISSING), data.get("state_reason", _MISSING))
        if issue != before:
            issue.updated_at = self.stamp(issue.updated_at)
            if issue.state == "closed" and before.state != "closed":
                issue.closed_at = issue.updated_at
            self.issue_event(call, repo, issue, *_issue_action(before, issue))
        return json_response(self.render(call).issue(repo, issue))

    @route("/repos/<owner>/<name>/issues/<int:number>", methods=("DELETE",))
    def delete_issue(self, call: Call, owner: str, name: str, number: int) -> Response:
        """Sandbox only: GitHub's REST API cannot delete an issue. Afterwards the issue answers 410
        Gone, leaves every listing, its comments go with it, and its sub-issues have no parent."""
        repo = self.repo(owner, name)
        gone = self.issue(repo, number)
        self.issue_event(call, repo, gone, "deleted")
        self.detach_deleted(gone)
        del repo.issues[number]
        repo.deleted.add(number)
        for comment_id in [c.id for c in repo.comments.values() if c.issue_number == number]:
            del repo.comments[comment_id]
        return Response(status=204)

    def _apply_fields(self, repo: Repo, issue: Issue, data: dict[str, Any]) -> None:
        """Labels, assignees and milestone, shared by create and update (validated like GitHub)."""
        if "labels" in data:
            issue.labels = self._label_keys(repo, data["labels"])
        if "assignees" in data or "assignee" in data:
            logins = data.get("assignees")
            if logins is None:
                logins = [] if data.get("assignee") is None else [data["assignee"]]
            issue.assignees = self._assignees(logins)
        if "milestone" in data:
            number = data["milestone"]
            if number is None or number == "":  # PyGithub clears a milestone with ""
                issue.milestone = None
            elif isinstance(number, (int, str)) and str(number).isdigit() \
                    and int(number) in repo.milestones:
                issue.milestone = int(number)
            else:
                self.invalid("Issue", "milestone", value=number)

    def _apply_state(self, issue: Issue, state: Any, reason: Any) -> None:
        if reason is not _MISSING and reason is not None and reason not in STATE_REASONS:
            self.invalid("Issue", "state_reason", value=reason)
        if state is _MISSING:
            state = issue.state
        if state not in ("open", "closed"):
            self.invalid("Issue", "state", value=state)
        if state == "closed":
            if reason == "reopened":
                self.invalid("Issue", "state_reason", value=reason)
            if issue.state != "closed":
                issue.state, issue.closed_by = "closed", VIEWER
                issue.state_reason = "completed" if reason in (_MISSING, None) else reason
            elif reason not in (_MISSING, None):
                issue.state_reason = reason
        elif issue.state == "closed":
            issue.state, issue.closed_at, issue.closed_by = "open", None, None
            issue.state_reason = "reopened"

    def _assignees(self, logins: Any) -> list[str]:
        if not isinstance(logins, list):
            self.invalid("Issue", "assignees", value=logins)
        out: list[str] = []
        for login in logins:
            user = self.users.get(str(login).lower())
            if user is None or user.type != "User":
                self.invalid("Issue", "assignees", value=login)
            if user.login not in out:
                out.append(user.login)
        return out

    # -- assignees -------------------------------------------------------------------------------
    @route("/repos/<owner>/<name>/assignees")
    def list_assignees(self, call: Call, owner: str, name: str) -> Response:
        self.repo(owner, name)
        render = self.render(call)
        people = sorted((u for u in self.users.values() if u.type == "User"), key=lambda u: u.id)
        return self.page(call, people, lambda u: render.user(u.login))

    @route("/repos/<owner>/<name>/assignees/<login>")
    def check_assignee(self, call: Call, owner: str, name: str, login: str) -> Response:
        self.repo(owner, name)
        user = self.users.get(login.lower())
        if user is None or user.type != "User":
            raise BadPayload(404, "Not Found")
        return Response(status=204)

    @route("/repos/<owner>/<name>/issues/<int:number>/assignees", methods=("POST", "DELETE"))
    def change_assignees(self, call: Call, owner: str, name: str, number: int) -> Response:
        repo = self.repo(owner, name)
        issue = self.issue(repo, number)
        logins = self._assignees(self.body(call).get("assignees", []))
        if call.request.method == "POST":
            new = issue.assignees + [x for x in logins if x not in issue.assignees]
        else:
            new = [x for x in issue.assignees if x not in logins]
        if new != issue.assignees:
            changed = [x for x in new + issue.assignees if (x in new) != (x in issue.assignees)]
            issue.assignees = new
            issue.updated_at = self.stamp(issue.updated_at)
            render = self.render(call)
            for login in changed:
                self.issue_event(call, repo, issue, "assigned" if login in new else "unassigned",
                                 assignee=render.user(login))
        status = 201 if call.request.method == "POST" else 200
        return json_response(self.render(call).issue(repo, issue), status)

    # -- comments --------------------------------------------------------------------------------
    @route("/repos/<owner>/<name>/issues/comments")
    def list_repo_comments(self, call: Call, owner: str, name: str) -> Response:
        repo = self.repo(owner, name)
        comments = self._since(call, list(repo.comments.values()), "IssueComment")
        sort = call.args.get("sort")
        direction = call.args.get("direction", "desc" if sort else "asc")
        if sort not in (None, "created", "updated") or direction not in ("asc", "desc"):
            self.invalid("IssueComment", "sort", value=sort or direction)
        if sort == "updated":
            comments.sort(key=lambda c: (c.updated_at, c.id), reverse=direction == "desc")
        else:
            comments.sort(key=lambda c: (c.created_at, c.id), reverse=direction == "desc")
        render = self.render(call)
        return self.page(call, comments, lambda c: render.comment(repo, c))

    @route("/repos/<owner>/<name>/issues/<int:number>/comments")
    def list_issue_comments(self, call: Call, owner: str, name: str, number: int) -> Response:
        repo = self.repo(owner, name)
        self.issue(repo, number)
        comments = [c for c in repo.comments.values() if c.issue_number == number]
        comments = sorted(self._since(call, comments, "IssueComment"), key=lambda c: (c.created_at, c.id))
        render = self.render(call)
        return self.page(call, comments, lambda c: render.comment(repo, c))

    @route("/repos/<owner>/<name>/issues/<int:number>/comments", methods=("POST",))
    def create_comment(self, call: Call, owner: str, name: str, number: int) -> Response:
        repo = self.repo(owner, name)
        issue = self.issue(repo, number)
        text = self.body(call).get("body")
        if not isinstance(text, str) or not text:
            self.invalid("IssueComment", "body", "missing_field")
        now = self.stamp()
        comment = Comment(id=self.next_id("comment"), issue_number=number, body=text, user=VIEWER,
                          created_at=now, updated_at=now)
        repo.comments[comment.id] = comment
        issue.comments += 1
        # A new comment counts as activity on the issue, as on GitHub.
        issue.updated_at = self.stamp(issue.updated_at)
        self.comment_event(call, repo, issue, comment, "created")
        body = self.render(call).comment(repo, comment)
        return json_response(body, 201, {"Location": body["url"]})

    @route("/repos/<owner>/<name>/issues/comments/<int:comment_id>",
           methods=("GET", "PATCH", "DELETE"))
    def one_comment(self, call: Call, owner: str, name: str, comment_id: int) -> Response:
        repo = self.repo(owner, name)
        comment = repo.comments.get(comment_id)
        if comment is None:
            raise BadPayload(404, "Not Found")
        if call.request.method == "DELETE":
            del repo.comments[comment_id]
            issue = repo.issues.get(comment.issue_number)
            if issue is not None:
                issue.comments -= 1
            self.comment_event(call, repo, issue, comment, "deleted")
            return Response(status=204)
        if call.request.method == "PATCH":
            text = self.body(call).get("body")
            if not isinstance(text, str) or not text:
                self.invalid("IssueComment", "body", "missing_field")
            if text != comment.body:
                changes = {"body": {"from": comment.body}}
                comment.body = text
                comment.updated_at = self.stamp(comment.updated_at)
                self.comment_event(call, repo, repo.issues.get(comment.issue_number), comment,
                                   "edited", changes)
        return json_response(self.render(call).comment(repo, comment))

    def _since(self, call: Call, comments: list[Comment], resource: str) -> list[Comment]:
        if "since" not in call.args:
            return comments
        try:
            since = parse_time(call.args["since"])
        except ValueError:
            self.invalid(resource, "since", value=call.args["since"])
        return [c for c in comments if c.updated_at >= since]


def _issue_action(before: Issue, after: Issue) -> tuple[str, dict[str, Any] | None]:
    """The ``issues`` action GitHub sends for an edit, and its ``changes``."""
    if before.state != after.state:
        return ("closed" if after.state == "closed" else "reopened"), None
    changes = {name: {"from": getattr(before, name)} for name in ("title", "body")
               if getattr(before, name) != getattr(after, name)}
    return "edited", changes or None
