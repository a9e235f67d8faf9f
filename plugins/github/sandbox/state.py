"""State of the GitHub stand-in and how it renders as GitHub's JSON.

Records hold plain data; ``Render`` turns them into the full objects the REST API sends (every
``*_url`` built from the client's base URL, because PyGithub refuses to follow a URL whose host,
port or path prefix differs from its ``base_url``).
"""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


def iso(value: dt.datetime | None) -> str | None:
    return None if value is None else value.strftime(TIME_FORMAT)


def node_id(kind: str, number: int) -> str:
    # GitHub's legacy global ids are base64 of "<len>:<Type><id>"; clients treat them as opaque.
    return base64.b64encode(f"0{len(kind)}:{kind}{number}".encode()).decode()


@dataclass
class User:
    id: int
    login: str
    name: str | None = None
    email: str | None = None
    type: str = "User"  # or "Organization"
    created_at: dt.datetime = field(default_factory=lambda: dt.datetime(2020, 1, 1, tzinfo=dt.UTC))


@dataclass
class Label:
    id: int
    name: str
    color: str = "ededed"
    description: str | None = None
    default: bool = False


@dataclass
class Milestone:
    id: int
    number: int
    title: str
    creator: str
    created_at: dt.datetime
    updated_at: dt.datetime
    description: str | None = None
    state: str = "open"
    due_on: dt.datetime | None = None
    closed_at: dt.datetime | None = None


@dataclass
class Comment:
    id: int
    issue_number: int
    body: str
    user: str
    created_at: dt.datetime
    updated_at: dt.datetime


@dataclass
class Issue:
    id: int
    number: int
    title: str
    user: str
    created_at: dt.datetime
    updated_at: dt.datetime
    body: str | None = None
    state: str = "open"
    state_reason: str | None = None
    labels: list[str] = field(default_factory=list)  # lower-cased keys into Repo.labels
    assignees: list[str] = field(default_factory=list)
    milestone: int | None = None
    closed_at: dt.datetime | None = None
    closed_by: str | None = None
    locked: bool = False
    pull_request: bool = False
    comments: int = 0
    #: The global ``id`` of the issue this one is a sub-issue of (same owner, any repository).
    parent: int | None = None
    #: The global ids of this issue's sub-issues, in their priority order.
    sub_issues: list[int] = field(default_factory=list)


@dataclass
class Repo:
    id: int
    owner: str
    name: str
    created_at: dt.datetime
    updated_at: dt.datetime
    description: str | None = None
    private: bool = False
    has_issues: bool = True
    issues: dict[int, Issue] = field(default_factory=dict)
    deleted: set[int] = field(default_factory=set)
    comments: dict[int, Comment] = field(default_factory=dict)
    labels: dict[str, Label] = field(default_factory=dict)
    milestones: dict[int, Milestone] = field(default_factory=dict)
    next_number: int = 1
    next_milestone: int = 1

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.name}"

    def label(self, name: str) -> Label | None:
        return self.labels.get(name.lower())


SECURITY_FEATURES = (
    "advanced_security", "code_security", "dependabot_security_updates", "secret_scanning",
    "secret_scanning_ai_detection", "secret_scanning_delegated_alert_dismissal",
    "secret_scanning_delegated_bypass", "secret_scanning_non_provider_patterns",
    "secret_scanning_push_protection", "secret_scanning_validity_checks",
)
REACTIONS = ("+1", "-1", "laugh", "hooray", "confused", "heart", "rocket", "eyes")


class Render:
    """Builds response objects for one request: every URL is rooted at the client's ``base``."""

    def __init__(self, base: str, users: dict[str, User], viewer: str,
                 locate: Callable[[int], tuple[Repo, Issue] | None] | None = None) -> None:
        self.base = base
        self.users = users
        self.viewer = viewer
        #: Finds an issue by its global id (sub-issues and parents may sit in sibling repositories).
        self.locate = locate or (lambda _issue_id: None)
        # The sandbox has no web UI; html_url keeps GitHub's shape under the same root.
        self.web = base
        self._user_cache: dict[str, dict[str, Any]] = {}

    # -- users ---------------------------------------------------------------------------------
    def user(self, login: str | None) -> dict[str, Any] | None:
        if login is None:
            return None
        cached = self._user_cache.get(login)
        if cached is not None:
            return cached
        user = self.users.get(login.lower()) or User(id=0, login=login)
        url = f"{self.base}/users/{user.login}"
        out = {
            "login": user.login, "id": user.id, "node_id": node_id(user.type, user.id),
            "avatar_url": f"{self.base}/avatars/u/{user.id}?v=4", "gravatar_id": "",
            "url": url, "html_url": f"{self.web}/{user.login}",
            "followers_url": f"{url}/followers", "following_url": f"{url}/following{{/other_user}}",
            "gists_url": f"{url}/gists{{/gist_id}}", "starred_url": f"{url}/starred{{/owner}}{{/repo}}",
            "subscriptions_url": f"{url}/subscriptions", "organizations_url": f"{url}/orgs",
            "repos_url": f"{url}/repos", "events_url": f"{url}/events{{/privacy}}",
            "received_events_url": f"{url}/received_events", "type": user.type,
            "user_view_type": "public", "site_admin": False,
        }
        self._user_cache[login] = out
        return out

    def full_user(self, login: str, *, private: bool) -> dict[str, Any]:
        user = self.users[login.lower()]
        out = dict(self.user(login) or {})
        out.update({
            "name": user.name, "company": None, "blog": "", "location": None, "email": user.email,
            "hireable": None, "bio": None, "twitter_username": None, "public_repos": 0,
            "public_gists": 0, "followers": 0, "following": 0, "created_at": iso(user.created_at),
            "updated_at": iso(user.created_at),
        })
        if private:
            out.update({
                "user_view_type": "private", "notification_email": user.email, "private_gists": 0,
                "total_private_repos": 0, "owned_private_repos": 0, "disk_usage": 0,
                "collaborators": 0, "two_factor_authentication": True,
                "plan": {"name": "free", "space": 976562499, "collaborators": 0, "private_repos": 10000},
            })
        return out

    # -- repositories --------------------------------------------------------------------------
    def repo(self, repo: Repo) -> dict[str, Any]:
        url = f"{self.base}/repos/{repo.full_name}"
        html = f"{self.web}/{repo.full_name}"
        open_issues = sum(1 for i in repo.issues.values() if i.state == "open")
        owner = self.users.get(repo.owner.lower())
        out: dict[str, Any] = {
            "id": repo.id, "node_id": node_id("Repository", repo.id), "name": repo.name,
            "full_name": repo.full_name, "private": repo.private, "owner": self.user(repo.owner),
            "html_url": html, "description": repo.description, "fork": False, "url": url,
        }
        for key, suffix in (
            ("forks_url", "/forks"), ("keys_url", "/keys{/key_id}"),
            ("collaborators_url", "/collaborators{/collaborator}"), ("teams_url", "/teams"),
            ("hooks_url", "/hooks"), ("issue_events_url", "/issues/events{/number}"),
            ("events_url", "/events"), ("assignees_url", "/assignees{/user}"),
            ("branches_url", "/branches{/branch}"), ("tags_url", "/tags"),
            ("blobs_url", "/git/blobs{/sha}"), ("git_tags_url", "/git/tags{/sha}"),
            ("git_refs_url", "/git/refs{/sha}"), ("trees_url", "/git/trees{/sha}"),
            ("statuses_url", "/statuses/{sha}"), ("languages_url", "/languages"),
            ("stargazers_url", "/stargazers"), ("contributors_url", "/contributors"),
            ("subscribers_url", "/subscribers"), ("subscription_url", "/subscription"),
            ("commits_url", "/commits{/sha}"), ("git_commits_url", "/git/commits{/sha}"),
            ("comments_url", "/comments{/number}"), ("issue_comment_url", "/issues/comments{/number}"),
            ("contents_url", "/contents/{+path}"), ("compare_url", "/compare/{base}...{head}"),
            ("merges_url", "/merges"), ("archive_url", "/{archive_format}{/ref}"),
            ("downloads_url", "/downloads"), ("issues_url", "/issues{/number}"),
            ("pulls_url", "/pulls{/number}"), ("milestones_url", "/milestones{/number}"),
            ("notifications_url", "/notifications{?since,all,participating}"),
            ("labels_url", "/labels{/name}"), ("releases_url", "/releases{/id}"),
            ("deployments_url", "/deployments"),
        ):
            out[key] = url + suffix
        host = self.web.split("://", 1)[-1]
        out.update({
            "created_at": iso(repo.created_at), "updated_at": iso(repo.updated_at),
            "pushed_at": iso(repo.created_at), "git_url": f"git://{host}/{repo.full_name}.git",
            "ssh_url": f"git@{host.split('/', 1)[0]}:{repo.full_name}.git", "clone_url": f"{html}.git",
            "svn_url": html, "homepage": None, "size": 0, "stargazers_count": 0, "watchers_count": 0,
            "language": None, "has_issues": repo.has_issues, "has_projects": True,
            "has_downloads": True, "has_wiki": True, "has_pages": False, "has_discussions": False,
            "has_pull_requests": True, "pull_request_creation_policy": "all",
            "forks_count": 0, "mirror_url": None, "archived": False, "disabled": False,
            "open_issues_count": open_issues, "license": None, "allow_forking": True,
            "is_template": False, "web_commit_signoff_required": False, "topics": [],
            "visibility": "private" if repo.private else "public", "forks": 0,
            "open_issues": open_issues, "watchers": 0, "default_branch": "main",
            "permissions": {"admin": True, "maintain": True, "push": True, "triage": True, "pull": True},
            "temp_clone_token": "", "allow_squash_merge": True, "allow_merge_commit": True,
            "allow_rebase_merge": True, "allow_auto_merge": False, "delete_branch_on_merge": False,
            "allow_update_branch": False, "use_squash_pr_title_as_default": False,
            "squash_merge_commit_message": "COMMIT_MESSAGES",
            "squash_merge_commit_title": "COMMIT_OR_PR_TITLE",
            "merge_commit_message": "PR_TITLE", "merge_commit_title": "MERGE_MESSAGE",
            "custom_properties": {},
            "security_and_analysis": {
                **{feature: {"status": "disabled"} for feature in SECURITY_FEATURES},
                "secret_scanning_delegated_bypass_options": {"reviewers": []},
            },
            "network_count": 0, "subscribers_count": 0,
        })
        if owner is not None and owner.type == "Organization":
            out["organization"] = self.user(repo.owner)
        return out

    # -- labels, milestones ------------------------------------------------------------------
    def label(self, repo: Repo, label: Label) -> dict[str, Any]:
        return {
            "id": label.id, "node_id": node_id("Label", label.id),
            "url": f"{self.base}/repos/{repo.full_name}/labels/{_quote(label.name)}",
            "name": label.name, "color": label.color, "default": label.default,
            "description": label.description,
        }

    def milestone(self, repo: Repo, milestone: Milestone) -> dict[str, Any]:
        url = f"{self.base}/repos/{repo.full_name}/milestones/{milestone.number}"
        mine = [i for i in repo.issues.values() if i.milestone == milestone.number]
        return {
            "url": url, "html_url": f"{self.web}/{repo.full_name}/milestone/{milestone.number}",
            "labels_url": f"{url}/labels", "id": milestone.id,
            "node_id": node_id("Milestone", milestone.id), "number": milestone.number,
            "title": milestone.title, "description": milestone.description,
            "creator": self.user(milestone.creator),
            "open_issues": sum(1 for i in mine if i.state == "open"),
            "closed_issues": sum(1 for i in mine if i.state == "closed"),
            "state": milestone.state, "created_at": iso(milestone.created_at),
            "updated_at": iso(milestone.updated_at), "due_on": iso(milestone.due_on),
            "closed_at": iso(milestone.closed_at),
        }

    # -- issues and comments ---------------------------------------------------------------------
    def reactions(self, url: str) -> dict[str, Any]:
        return {"url": f"{url}/reactions", "total_count": 0, **dict.fromkeys(REACTIONS, 0)}

    def issue(self, repo: Repo, issue: Issue) -> dict[str, Any]:
        url = f"{self.base}/repos/{repo.full_name}/issues/{issue.number}"
        kind = "pull" if issue.pull_request else "issues"
        html = f"{self.web}/{repo.full_name}/{kind}/{issue.number}"
        assignees = [self.user(login) for login in issue.assignees]
        milestone = repo.milestones.get(issue.milestone) if issue.milestone is not None else None
        out: dict[str, Any] = {
            "url": url, "repository_url": f"{self.base}/repos/{repo.full_name}",
            "labels_url": f"{url}/labels{{/name}}", "comments_url": f"{url}/comments",
            "events_url": f"{url}/events", "html_url": html, "id": issue.id,
            "node_id": node_id("PullRequest" if issue.pull_request else "Issue", issue.id),
            "number": issue.number, "title": issue.title, "user": self.user(issue.user),
            "labels": [self.label(repo, repo.labels[key]) for key in issue.labels if key in repo.labels],
            "state": issue.state, "locked": issue.locked,
            "assignee": assignees[0] if assignees else None, "assignees": assignees,
            "milestone": self.milestone(repo, milestone) if milestone is not None else None,
            "comments": issue.comments, "created_at": iso(issue.created_at),
            "updated_at": iso(issue.updated_at), "closed_at": iso(issue.closed_at),
            "author_association": "OWNER" if issue.user.lower() == repo.owner.lower() else "MEMBER",
            "type": None, "active_lock_reason": None,
            "sub_issues_summary": self.sub_issues_summary(issue),
            "issue_dependencies_summary": {"blocked_by": 0, "total_blocked_by": 0, "blocking": 0,
                                           "total_blocking": 0},
            "body": issue.body, "closed_by": self.user(issue.closed_by),
            "reactions": self.reactions(url), "timeline_url": f"{url}/timeline",
            "performed_via_github_app": None, "state_reason": issue.state_reason,
            "parent_issue_url": self.parent_issue_url(issue), "pinned_comment": None,
        }
        if issue.pull_request:
            pulls = f"{self.base}/repos/{repo.full_name}/pulls/{issue.number}"
            out["draft"] = False
            out["pull_request"] = {"url": pulls, "html_url": html, "diff_url": f"{html}.diff",
                                   "patch_url": f"{html}.patch", "merged_at": None}
        return out

    def parent_issue_url(self, issue: Issue) -> str | None:
        found = self.locate(issue.parent) if issue.parent is not None else None
        if found is None:
            return None
        return f"{self.base}/repos/{found[0].full_name}/issues/{found[1].number}"

    def sub_issues_summary(self, issue: Issue) -> dict[str, int]:
        """GitHub's counts: every sub-issue, the closed ones, and the closed share in whole percent."""
        children = [found[1] for found in map(self.locate, issue.sub_issues) if found is not None]
        done = sum(1 for child in children if child.state == "closed")
        return {"total": len(children), "completed": done,
                "percent_completed": done * 100 // len(children) if children else 0}

    def comment(self, repo: Repo, comment: Comment) -> dict[str, Any]:
        url = f"{self.base}/repos/{repo.full_name}/issues/comments/{comment.id}"
        issue = repo.issues.get(comment.issue_number)
        kind = "pull" if issue is not None and issue.pull_request else "issues"
        html = f"{self.web}/{repo.full_name}/{kind}/{comment.issue_number}"
        return {
            "url": url, "html_url": f"{html}#issuecomment-{comment.id}",
            "issue_url": f"{self.base}/repos/{repo.full_name}/issues/{comment.issue_number}",
            "id": comment.id, "node_id": node_id("IssueComment", comment.id),
            "user": self.user(comment.user), "created_at": iso(comment.created_at),
            "updated_at": iso(comment.updated_at),
            "author_association": "OWNER" if comment.user.lower() == repo.owner.lower() else "MEMBER",
            "body": comment.body, "reactions": self.reactions(url), "performed_via_github_app": None,
        }


def _quote(name: str) -> str:
    from urllib.parse import quote

    return quote(name, safe="")
