"""The four tools as a user (and the chaos harness) sees them: records created, edited, commented
and read back through each tool's real client library or its plain REST API, never through pmhub.

Every tool answers with ``Record`` and ``Note`` values in pmhub's canonical words (status categories,
text without pmhub's hidden marker), read with the harness's own small rules, so the checks do not
lean on the code they check.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Protocol

import requests

from hub.testing.sandbox_client import SandboxClient
from tests.sandbox.github_support import github_client
from tests.sandbox.jira_support import jira_client, new_project
from tests.sandbox.trello_http import TrelloHttp

TIMEOUT = 10
#: The marker pmhub leaves in a copy, as each tool shows it (Jira keeps its markers in labels and
#: comment properties, outside the text).
_GITHUB_MARKER = re.compile(r"\s*<!--\s*pmhub:(?P<marker>[A-Za-z0-9._:-]+)\s*-->\s*")
_TRELLO_MARKER = re.compile(r"\s*\[pmhub\]: # \((?P<marker>[A-Za-z0-9._:/-]+)\)\s*")


@dataclass(frozen=True)
class Record:
    """An issue, card or case: its id, text, status category and the pmhub marker it carries."""

    id: str
    #: The id pmhub's link ledger holds for it (Jira: the numeric issue id, not the key).
    ref: str
    title: str
    description: str
    status: str
    marker: str | None


@dataclass(frozen=True)
class Note:
    """A comment: its id, the record it belongs to, its text (marker removed) and marker."""

    id: str
    #: The id pmhub's link ledger holds for it (Jira: "<issue id>/<comment id>").
    ref: str
    parent: str
    text: str
    marker: str | None


class Tool(Protocol):
    """One side of a flow, as the harness drives it."""

    name: str
    #: The flow's scope on this tool: repository, Jira project key, board id, Zoho module.
    scope: str
    #: The status categories this tool can hold and read back unchanged through the flow's mapping.
    statuses: tuple[str, ...]
    has_comments: bool

    def create(self, title: str, description: str) -> str: ...
    def edit(self, record_id: str, field: str, value: str) -> None: ...
    def comment(self, record_id: str, text: str) -> str: ...
    def edit_comment(self, record_id: str, note_id: str, text: str) -> None: ...
    def records(self) -> list[Record]: ...
    def notes(self) -> list[Note]: ...


def _without(pattern: re.Pattern[str], text: str) -> tuple[str, str | None]:
    found = pattern.search(text)
    if found is None:
        return text.strip(), None
    return (text[:found.start()] + text[found.end():]).strip(), found.group("marker")


class GitHubTool:
    """A repository, through PyGithub."""

    name = "github"
    statuses: tuple[str, ...] = ("todo", "done")
    has_comments = True

    def __init__(self, sandbox: SandboxClient, repo: str = "portal") -> None:
        self.gh = github_client(sandbox.base("github"), per_page=100)
        self.repo = self.gh.get_organization("acme").create_repo(repo)
        self.scope = self.repo.full_name

    def create(self, title: str, description: str) -> str:
        return str(self.repo.create_issue(title, body=description).number)

    def edit(self, record_id: str, field: str, value: str) -> None:
        issue = self.repo.get_issue(int(record_id))
        if field == "title":
            issue.edit(title=value)
        elif field == "description":
            # Keep pmhub's marker where it was: a user editing the text in the web UI does too.
            _, marker = _without(_GITHUB_MARKER, issue.body or "")
            issue.edit(body=value + (f"\n\n<!-- pmhub:{marker} -->" if marker else ""))
        elif value == "done":
            issue.edit(state="closed", state_reason="completed")
        else:
            issue.edit(state="open", state_reason="reopened")

    def comment(self, record_id: str, text: str) -> str:
        return str(self.repo.get_issue(int(record_id)).create_comment(text).id)

    def edit_comment(self, record_id: str, note_id: str, text: str) -> None:
        self.repo.get_issue(int(record_id)).get_comment(int(note_id)).edit(text)

    def records(self) -> list[Record]:
        found = []
        for issue in self.repo.get_issues(state="all"):
            body, marker = _without(_GITHUB_MARKER, issue.body or "")
            if issue.state == "open":
                status = "todo"
            else:
                status = "cancelled" if issue.state_reason == "not_planned" else "done"
            found.append(Record(str(issue.number), str(issue.number), issue.title, body, status, marker))
        return found

    def notes(self) -> list[Note]:
        found = []
        for comment in self.repo.get_issues_comments():
            text, marker = _without(_GITHUB_MARKER, comment.body or "")
            parent = comment.issue_url.rstrip("/").rsplit("/", 1)[-1]
            found.append(Note(str(comment.id), str(comment.id), parent, text, marker))
        return found


#: Jira's default simplified workflow, status name -> category (the mappings' own table).
_JIRA_STATUS = {"To Do": "todo", "In Progress": "in_progress", "Done": "done"}
_JIRA_TARGET = {category: name for name, category in _JIRA_STATUS.items()}


class JiraTool:
    """One Jira project, through the ``jira`` client library."""

    name = "jira"
    has_comments = True

    def __init__(self, sandbox: SandboxClient, project: str, statuses: tuple[str, ...]) -> None:
        new_project(sandbox, project, f"Chaos {project}")
        self.jira = jira_client(sandbox.base("jira"))
        self.scope = project
        self.statuses = statuses

    def create(self, title: str, description: str) -> str:
        issue = self.jira.create_issue(fields={"project": {"key": self.scope}, "summary": title,
                                               "description": description, "issuetype": {"name": "Task"}})
        return str(issue.key)

    def edit(self, record_id: str, field: str, value: str) -> None:
        if field in ("title", "description"):
            self.jira.issue(record_id).update(fields={"summary" if field == "title" else field: value})
            return
        target = _JIRA_TARGET[value]
        for transition in self.jira.transitions(record_id):
            if transition["to"]["name"] == target:
                self.jira.transition_issue(record_id, transition["id"])
                return

    def comment(self, record_id: str, text: str) -> str:
        return str(self.jira.add_comment(record_id, text).id)

    def edit_comment(self, record_id: str, note_id: str, text: str) -> None:
        self.jira.comment(record_id, note_id).update(body=text)

    def _issues(self) -> list[Any]:
        return list(self.jira.search_issues(f"project = {self.scope} ORDER BY key ASC", maxResults=False,
                                            fields="summary,description,status,labels"))

    def records(self) -> list[Record]:
        found = []
        for issue in self._issues():
            # The marker is a label (pmhub's prefix, then the marker): the label stands for it here.
            markers = [label for label in issue.fields.labels or [] if label.startswith("pmhub-")]
            status = issue.fields.status.name
            found.append(Record(str(issue.key), str(issue.id), issue.fields.summary,
                                (issue.fields.description or "").strip(), _JIRA_STATUS.get(status, status),
                                markers[0] if markers else None))
        return found

    def notes(self) -> list[Note]:
        found = []
        for issue in self._issues():
            for comment in self.jira.comments(issue.key, expand="properties"):
                raw = comment.raw
                marker = next((p["value"].get("marker") for p in raw.get("properties") or []
                               if p.get("key") == "pmhub" and isinstance(p.get("value"), dict)), None)
                found.append(Note(str(comment.id), f"{issue.id}/{comment.id}", str(issue.key),
                                  (comment.body or "").strip(), marker))
        return found


_TRELLO_LISTS = {"To Do": "todo", "Doing": "in_progress", "Done": "done"}


class TrelloTool:
    """A board, through Trello's REST API (pmhub's Trello plugin speaks plain HTTP too)."""

    name = "trello"
    statuses: tuple[str, ...] = ("todo", "in_progress", "done")
    has_comments = True

    def __init__(self, sandbox: SandboxClient) -> None:
        self.http = TrelloHttp(sandbox.base("trello"))
        self.scope = str(self.http.board("Chaos board")["id"])
        self.lists = self.http.lists(self.scope)
        self.list_names = {list_id: name for name, list_id in self.lists.items()}

    def create(self, title: str, description: str) -> str:
        return str(self.http.card(self.lists["To Do"], title, desc=description)["id"])

    def edit(self, record_id: str, field: str, value: str) -> None:
        if field == "title":
            params = {"name": value}
        elif field == "description":
            _, marker = _without(_TRELLO_MARKER, self.http.get(f"/cards/{record_id}")["desc"])
            params = {"desc": value + (f"\n\n[pmhub]: # ({marker})" if marker else "")}
        else:
            target = {category: name for name, category in _TRELLO_LISTS.items()}[value]
            params = {"idList": self.lists[target]}
        self.http.call("PUT", f"/cards/{record_id}", params=params)

    def comment(self, record_id: str, text: str) -> str:
        made = self.http.call("POST", f"/cards/{record_id}/actions/comments", params={"text": text})
        return str(made["id"])

    def edit_comment(self, record_id: str, note_id: str, text: str) -> None:
        self.http.call("PUT", f"/actions/{note_id}/text", params={"value": text})

    def records(self) -> list[Record]:
        found = []
        for card in self.http.get(f"/boards/{self.scope}/cards/all"):
            desc, marker = _without(_TRELLO_MARKER, card.get("desc") or "")
            listed = _TRELLO_LISTS.get(self.list_names.get(card["idList"], ""), "todo")
            status = "cancelled" if card.get("closed") and listed != "done" else listed
            found.append(Record(str(card["id"]), str(card["id"]), card["name"], desc, status, marker))
        return found

    def notes(self) -> list[Note]:
        found = []
        for action in self.http.get(f"/boards/{self.scope}/actions", filter="commentCard", limit=1000):
            text, marker = _without(_TRELLO_MARKER, action["data"]["text"])
            card = str(action["data"]["card"]["id"])
            found.append(Note(str(action["id"]), str(action["id"]), card, text, marker))
        return found


_ZOHO_STATUS = {"New": "todo", "Escalated": "in_progress", "On Hold": "blocked", "Closed": "done"}
_ZOHO_TARGET = {"todo": "New", "in_progress": "Escalated", "done": "Closed"}


class ZohoTool:
    """Zoho CRM Cases, through the CRM's REST API (v8)."""

    name = "zoho"
    statuses: tuple[str, ...] = ("todo", "in_progress", "done")
    has_comments = False
    scope = "Cases"

    def __init__(self, sandbox: SandboxClient) -> None:
        self.base = f"{sandbox.base('zoho')}/crm/v8"
        self.http = requests.Session()
        # The stand-in takes any access token that never expired when started without --token.
        self.http.headers["Authorization"] = "Zoho-oauthtoken chaos-harness"
        self.account = self._insert("Accounts", {"Account_Name": "Chaos Corp"})

    def _insert(self, module: str, values: dict[str, Any]) -> str:
        reply = self.http.post(f"{self.base}/{module}", json={"data": [values]}, timeout=TIMEOUT)
        assert reply.status_code == 201, reply.text
        return str(reply.json()["data"][0]["details"]["id"])

    def create(self, title: str, description: str) -> str:
        return self._insert("Cases", {"Subject": title, "Description": description, "Status": "New",
                                      "Account_Name": {"id": self.account}})

    def edit(self, record_id: str, field: str, value: str) -> None:
        values = {"title": {"Subject": value}, "description": {"Description": value}}.get(
            field, {"Status": _ZOHO_TARGET.get(value, "New")})
        reply = self.http.put(f"{self.base}/Cases/{record_id}", json={"data": [values]}, timeout=TIMEOUT)
        assert reply.status_code == 200, reply.text

    def comment(self, record_id: str, text: str) -> str:
        raise NotImplementedError("pmhub syncs no comment thread of a Zoho Case")

    def edit_comment(self, record_id: str, note_id: str, text: str) -> None:
        raise NotImplementedError("pmhub syncs no comment thread of a Zoho Case")

    def records(self) -> list[Record]:
        found: list[Record] = []
        page = 1
        while True:
            reply = self.http.get(f"{self.base}/Cases", timeout=TIMEOUT, params={
                "fields": "Subject,Description,Status,Pmhub_Id", "per_page": "200", "page": str(page)})
            if reply.status_code == 204:
                break
            assert reply.status_code == 200, reply.text
            body = reply.json()
            for row in body["data"]:
                found.append(Record(str(row["id"]), str(row["id"]), row.get("Subject") or "",
                                    (row.get("Description") or "").strip(),
                                    _ZOHO_STATUS.get(row.get("Status") or "New", str(row.get("Status"))),
                                    row.get("Pmhub_Id") or None))
            if not body.get("info", {}).get("more_records"):
                break
            page += 1
        return found

    def notes(self) -> list[Note]:
        return []
