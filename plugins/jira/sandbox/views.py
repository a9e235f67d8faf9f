"""How the Jira stand-in's state looks on the wire, for one request (base URL and API version)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from hub.sandbox.service import Call

from .. import adf
from . import custom_fields, seed
from .state import (
    ALL_FIELDS,
    ISSUE_EXPANDABLE,
    CommentRecord,
    IssueRecord,
    JiraFailure,
    avatars,
    field_schema,
    jira_time,
    render_html,
    status_def,
)

if TYPE_CHECKING:
    from .routes import JiraSandbox


class JiraViews:
    """JSON representations: users, statuses, projects, issues and comments as Jira sends them.

    v2 bodies are wiki-markup strings, v3 bodies ADF documents; everything else is the same.
    """

    def __init__(self, site: JiraSandbox, call: Call, version: str) -> None:
        self.site, self.call, self.version = site, call, version

    def user(self, account_id: str | None) -> dict[str, Any] | None:
        if account_id is None:
            return None
        user = self.site.users.get(account_id) or {"accountId": account_id, "displayName": account_id,
                                               "active": False, "timeZone": "UTC"}
        return {
            "self": f"{self.call.base}/rest/api/{self.version}/user?accountId={account_id}",
            "accountId": account_id,
            "emailAddress": user.get("emailAddress", ""),
            "avatarUrls": avatars(f"{self.call.base}/avatar/{account_id}"),
            "displayName": user["displayName"],
            "active": user["active"],
            "timeZone": user["timeZone"],
            "accountType": "atlassian",
        }

    def status(self, status_id: str) -> dict[str, Any]:
        status = status_def(status_id)
        return {
            "self": f"{self.call.base}/rest/api/{self.version}/status/{status.id}",
            "description": "",
            "iconUrl": f"{self.call.base}/images/icons/statuses/generic.png",
            "name": status.name,
            "id": status.id,
            "statusCategory": {
                "self": f"{self.call.base}/rest/api/{self.version}/statuscategory/{status.category_id}",
                "id": status.category_id, "key": status.category_key,
                "colorName": status.color, "name": status.category_name,
            },
        }

    def issuetype(self, type_id: str) -> dict[str, Any]:
        for tid, name, description, level, subtask in seed.ISSUE_TYPES:
            if tid == type_id:
                return {
                    "self": f"{self.call.base}/rest/api/{self.version}/issuetype/{tid}", "id": tid,
                    "description": description,
                    "iconUrl": f"{self.call.base}/secure/viewavatar?avatarId={tid}&avatarType=issuetype",
                    "name": name, "subtask": subtask, "avatarId": int(tid), "hierarchyLevel": level,
                }
        raise JiraFailure(404, [f"Issue type with id '{type_id}' does not exist."])

    def priority(self, priority_id: str | None) -> dict[str, Any] | None:
        for pid, name, colour in seed.PRIORITIES:
            if pid == priority_id:
                return {"self": f"{self.call.base}/rest/api/{self.version}/priority/{pid}",
                        "iconUrl": f"{self.call.base}/images/icons/priorities/{name.lower()}.svg",
                        "name": name, "id": pid, "statusColor": colour,
                        "description": f"{name} priority", "isDefault": pid == seed.DEFAULT_PRIORITY}
        return None

    def project_ref(self, key: str) -> dict[str, Any]:
        project = self.site.projects[key]
        return {
            "self": f"{self.call.base}/rest/api/{self.version}/project/{project['id']}",
            "id": str(project["id"]), "key": key, "name": project["name"],
            "projectTypeKey": project["projectTypeKey"], "simplified": False,
            "avatarUrls": avatars(f"{self.call.base}/project-avatar/{project['id']}"),
        }

    def project(self, key: str) -> dict[str, Any]:
        project = self.site.projects[key]
        return {
            "expand": "description,lead,issueTypes,url,projectKeys,permissions,insight",
            **self.project_ref(key),
            "description": project["description"],
            "lead": self.user(project["lead"]),
            "components": [], "versions": [],
            "issueTypes": [self.issuetype(t[0]) for t in seed.ISSUE_TYPES],
            "assigneeType": project["assigneeType"],
            "roles": {}, "style": "classic", "isPrivate": False, "properties": {},
        }

    def body(self, wiki: str | None) -> Any:
        return adf.wiki_to_adf(wiki) if self.version == "3" else wiki

    def comment(self, issue: IssueRecord, comment: CommentRecord,
                 with_properties: bool = False) -> dict[str, Any]:
        body = {
            "self": f"{self.call.base}/rest/api/{self.version}/issue/{issue.id}/comment/{comment.id}",
            "id": str(comment.id),
            "author": self.user(comment.author),
            "body": self.body(comment.body),
            "updateAuthor": self.user(comment.update_author),
            "created": jira_time(comment.created),
            "updated": jira_time(comment.updated),
            "jsdPublic": True,
        }
        if with_properties:
            body["properties"] = [{"key": k, "value": v} for k, v in comment.properties.items()]
        return body

    def comment_page(self, issue: IssueRecord, start: int = 0, limit: int = 5000,
                     newest_first: bool = False, with_properties: bool = False) -> dict[str, Any]:
        comments = list(reversed(issue.comments)) if newest_first else list(issue.comments)
        page = comments[start:start + limit]
        return {
            "self": f"{self.call.base}/rest/api/{self.version}/issue/{issue.id}/comment",
            "comments": [self.comment(issue, c, with_properties) for c in page],
            "maxResults": limit if self.call.request.path.endswith("/comment") else len(page),
            "total": len(comments), "startAt": start,
        }

    def field_value(self, issue: IssueRecord, name: str) -> Any:
        if name in custom_fields.FIELD_IDS:
            return custom_fields.view(issue.custom.get(name), f"{self.call.base}/rest/api/{self.version}")
        done = status_def(issue.status).category_key == "done"
        if name == "summary":
            return issue.summary
        if name == "description":
            return self.body(issue.description)
        if name == "issuetype":
            return self.issuetype(issue.issuetype)
        if name == "project":
            return self.project_ref(issue.project)
        if name == "status":
            return self.status(issue.status)
        if name == "priority":
            return self.priority(issue.priority)
        if name == "labels":
            return list(issue.labels)
        if name in ("assignee", "reporter", "creator"):
            return self.user(getattr(issue, name))
        if name in ("created", "updated", "resolutiondate"):
            return jira_time(getattr(issue, name))
        if name == "statuscategorychangedate":
            return jira_time(issue.status_changed)
        if name == "duedate":
            return issue.duedate
        if name == "resolution":
            return ({"self": f"{self.call.base}/rest/api/{self.version}/resolution/10000", "id": "10000",
                     "description": "Work has been completed on this issue.", "name": "Done"}
                    if done else None)
        if name == "parent":
            parent = self.site.issues.get(issue.parent) if issue.parent is not None else None
            if parent is None:
                return None
            return {"id": str(parent.id), "key": parent.key,
                    "self": f"{self.call.base}/rest/api/{self.version}/issue/{parent.id}",
                    "fields": {"summary": parent.summary,
                               "status": self.status(parent.status),
                               "priority": self.priority(parent.priority),
                               "issuetype": self.issuetype(parent.issuetype)}}
        if name == "fixVersions":
            return [self.site.version_view(self.call, self.version, self.site.versions[v], in_issue=True)
                    for v in issue.fix_versions if v in self.site.versions]
        if name == "comment":
            return self.comment_page(issue)
        return None

    def issue(self, issue: IssueRecord, fields: tuple[str, ...] | None,
               expand: set[str], properties: list[str] | None = None) -> dict[str, Any]:
        names = ALL_FIELDS if fields is None else fields
        body: dict[str, Any] = {
            "expand": ISSUE_EXPANDABLE,
            "id": str(issue.id),
            "self": f"{self.call.base}/rest/api/{self.version}/issue/{issue.id}",
            "key": issue.key,
        }
        body["fields"] = {n: self.field_value(issue, n) for n in names
                          if n not in ("id", "key")}
        if "renderedFields" in expand:
            body["renderedFields"] = {
                "description": render_html(issue.description) if "description" in names else None}
        if "names" in expand:
            body["names"] = {f[0]: f[1] for f in seed.SYSTEM_FIELDS if f[0] in names}
        if "schema" in expand:
            body["schema"] = {f[0]: field_schema(f) for f in seed.SYSTEM_FIELDS if f[0] in names}
        if "transitions" in expand:
            body["transitions"] = self.transitions(issue)
        if "changelog" in expand:
            body["changelog"] = {"startAt": 0, "maxResults": 0, "total": 0, "histories": []}
        if properties:
            wanted = set(properties)
            body["properties"] = {k: v for k, v in issue.properties.items()
                                  if "*all" in wanted or k in wanted}
        return body

    def transitions(self, issue: IssueRecord) -> list[dict[str, Any]]:
        # Jira's default simplified workflow: every status reachable from every other, each
        # transition named like its target.
        return [
            {"id": status.transition_id, "name": status.name,
             "to": self.status(status.id),
             "hasScreen": False, "isGlobal": True, "isInitial": False, "isAvailable": True,
             "isConditional": False, "isLooped": False}
            for status in seed.STATUSES if status.id != issue.status
        ]
