"""Label and milestone routes of the GitHub stand-in (repository labels, issue labels, milestones)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from werkzeug.wrappers import Response

from hub.sandbox.service import BadPayload, Call, json_response, route

from .base import VIEWER, GitHubSandboxBase, opt_str, parse_time
from .state import Label, Milestone, Repo

_COLOR = re.compile(r"^[0-9a-fA-F]{6}$")


class LabelRoutes(GitHubSandboxBase):
    """Routes for labels and milestones; ``GitHubSandbox`` adds repositories, issues and comments."""

    def _label_keys(self, repo: Repo, labels: Any) -> list[str]:
        """Lower-cased label keys for an issue, from names or ``{"name": ..}`` objects."""
        if not isinstance(labels, list):
            self.invalid("Issue", "labels", value=labels)
        keys: list[str] = []
        for entry in labels:
            label_name = self._label_name(entry)
            # GitHub creates labels an issue names that the repository does not have yet.
            if repo.label(label_name) is None:
                repo.labels[label_name.lower()] = Label(id=self.next_id("label"), name=label_name)
            if label_name.lower() not in keys:
                keys.append(label_name.lower())
        return keys

    def _label_name(self, entry: Any) -> str:
        """A label's name given as a string or as ``{"name": ..}``; a 422 when it is blank or not text."""
        name = entry.get("name") if isinstance(entry, dict) else entry
        if isinstance(name, str) and name.strip():
            return name
        self.invalid("Label", "name", value=name)

    # -- labels ------------------------------------------------------------------------------------
    @route("/repos/<owner>/<name>/labels")
    def list_labels(self, call: Call, owner: str, name: str) -> Response:
        repo = self.repo(owner, name)
        render = self.render(call)
        return self.page(call, sorted(repo.labels.values(), key=lambda lb: lb.id),
                         lambda lb: render.label(repo, lb))

    @route("/repos/<owner>/<name>/labels", methods=("POST",))
    def create_label(self, call: Call, owner: str, name: str) -> Response:
        repo = self.repo(owner, name)
        data = self.body(call)
        label_name = data.get("name")
        if not isinstance(label_name, str) or not label_name.strip():
            self.invalid("Label", "name", "missing_field")
        if repo.label(label_name) is not None:
            self.invalid("Label", "name", "already_exists", value=label_name)
        label = Label(id=self.next_id("label"), name=label_name,
                      color=self._color(data.get("color", "ededed")),
                      description=opt_str(data.get("description"), "description"))
        repo.labels[label_name.lower()] = label
        body = self.render(call).label(repo, label)
        return json_response(body, 201, {"Location": body["url"]})

    @route("/repos/<owner>/<name>/labels/<path:label_name>", methods=("GET", "PATCH", "DELETE"))
    def one_label(self, call: Call, owner: str, name: str, label_name: str) -> Response:
        repo = self.repo(owner, name)
        label = repo.label(label_name)
        if label is None:
            raise BadPayload(404, "Not Found")
        if call.request.method == "DELETE":
            del repo.labels[label.name.lower()]
            for issue in repo.issues.values():
                if label.name.lower() in issue.labels:
                    issue.labels.remove(label.name.lower())
            return Response(status=204)
        if call.request.method == "PATCH":
            data = self.body(call)
            new_name = data.get("new_name", data.get("name", label.name))
            if not isinstance(new_name, str) or not new_name.strip():
                self.invalid("Label", "name", value=new_name)
            other = repo.label(new_name)
            if other is not None and other is not label:
                self.invalid("Label", "name", "already_exists", value=new_name)
            if "color" in data:
                label.color = self._color(data["color"])
            if "description" in data:
                label.description = opt_str(data["description"], "description")
            if new_name != label.name:
                old_key = label.name.lower()
                del repo.labels[old_key]
                label.name = new_name
                repo.labels[new_name.lower()] = label
                for issue in repo.issues.values():
                    issue.labels = [new_name.lower() if k == old_key else k for k in issue.labels]
        return json_response(self.render(call).label(repo, label))

    def _color(self, color: Any) -> str:
        if not isinstance(color, str) or not _COLOR.match(color.removeprefix("#")):
            self.invalid("Label", "color", value=color)
        return color.removeprefix("#").lower()

    @route("/repos/<owner>/<name>/issues/<int:number>/labels",
           methods=("GET", "POST", "PUT", "DELETE"))
    def issue_labels(self, call: Call, owner: str, name: str, number: int) -> Response:
        repo = self.repo(owner, name)
        issue = self.issue(repo, number)
        method = call.request.method
        render = self.render(call)
        if method == "GET":
            return self.page(call, [repo.labels[k] for k in issue.labels if k in repo.labels],
                             lambda lb: render.label(repo, lb))
        if method == "DELETE":
            new: list[str] = []
        else:
            data = call.json()
            names = data.get("labels", []) if isinstance(data, dict) else data
            keys = self._label_keys(repo, names)
            new = keys if method == "PUT" else issue.labels + [k for k in keys if k not in issue.labels]
        if new != issue.labels:
            added = [k for k in new if k not in issue.labels]
            removed = [k for k in issue.labels if k not in new]
            issue.labels = new
            issue.updated_at = self.stamp(issue.updated_at)
            for key, action in [(k, "labeled") for k in added] + [(k, "unlabeled") for k in removed]:
                if key in repo.labels:  # GitHub sends one event per label
                    self.issue_event(call, repo, issue, action, label=render.label(repo, repo.labels[key]))
        if method == "DELETE":
            return Response(status=204)
        return json_response([render.label(repo, repo.labels[k]) for k in issue.labels])

    @route("/repos/<owner>/<name>/issues/<int:number>/labels/<path:label_name>", methods=("DELETE",))
    def remove_issue_label(self, call: Call, owner: str, name: str, number: int,
                           label_name: str) -> Response:
        repo = self.repo(owner, name)
        issue = self.issue(repo, number)
        if label_name.lower() not in issue.labels:
            raise BadPayload(404, "Label does not exist")
        issue.labels.remove(label_name.lower())
        issue.updated_at = self.stamp(issue.updated_at)
        render = self.render(call)
        if label_name.lower() in repo.labels:
            self.issue_event(call, repo, issue, "unlabeled",
                             label=render.label(repo, repo.labels[label_name.lower()]))
        return json_response([render.label(repo, repo.labels[k]) for k in issue.labels])

    # -- milestones --------------------------------------------------------------------------------
    @route("/repos/<owner>/<name>/milestones")
    def list_milestones(self, call: Call, owner: str, name: str) -> Response:
        repo = self.repo(owner, name)
        state = call.args.get("state", "open")
        sort, direction = call.args.get("sort", "due_on"), call.args.get("direction", "asc")
        # GitHub sorts milestones by due date (the default) or completeness, never by update time.
        for name, value, allowed in (("state", state, ("open", "closed", "all")),
                                     ("sort", sort, ("due_on", "completeness")),
                                     ("direction", direction, ("asc", "desc"))):
            if value not in allowed:
                self.invalid("Milestone", name, value=value)
        items = [m for m in repo.milestones.values() if state == "all" or m.state == state]
        if sort == "due_on":
            items.sort(key=lambda m: (m.due_on is None, m.due_on or m.created_at, m.number))
        else:
            items.sort(key=lambda m: (self._completeness(repo, m), m.number))
        if direction == "desc":
            items.reverse()
        render = self.render(call)
        return self.page(call, items, lambda m: render.milestone(repo, m))

    @route("/repos/<owner>/<name>/milestones", methods=("POST",))
    def create_milestone(self, call: Call, owner: str, name: str) -> Response:
        repo = self.repo(owner, name)
        data = self.body(call)
        title = data.get("title")
        if not isinstance(title, str) or not title.strip():
            self.invalid("Milestone", "title", "missing_field")
        if any(m.title == title for m in repo.milestones.values()):
            self.invalid("Milestone", "title", "already_exists", value=title)
        now = self.stamp()
        milestone = Milestone(id=self.next_id("milestone"), number=repo.next_milestone, title=title,
                              creator=VIEWER, created_at=now, updated_at=now)
        self._milestone_fields(milestone, data)
        repo.next_milestone += 1
        repo.milestones[milestone.number] = milestone
        body = self.render(call).milestone(repo, milestone)
        return json_response(body, 201, {"Location": body["url"]})

    @route("/repos/<owner>/<name>/milestones/<int:number>", methods=("GET", "PATCH", "DELETE"))
    def one_milestone(self, call: Call, owner: str, name: str, number: int) -> Response:
        repo = self.repo(owner, name)
        milestone = repo.milestones.get(number)
        if milestone is None:
            raise BadPayload(404, "Not Found")
        if call.request.method == "DELETE":
            del repo.milestones[number]
            for issue in repo.issues.values():
                if issue.milestone == number:
                    issue.milestone = None
            return Response(status=204)
        if call.request.method == "PATCH":
            data = self.body(call)
            if "title" in data:
                if not isinstance(data["title"], str) or not data["title"].strip():
                    self.invalid("Milestone", "title", value=data["title"])
                if any(m.title == data["title"] and m is not milestone for m in repo.milestones.values()):
                    self.invalid("Milestone", "title", "already_exists", value=data["title"])
                milestone.title = data["title"]
            self._milestone_fields(milestone, data)
            milestone.updated_at = self.stamp(milestone.updated_at)
        return json_response(self.render(call).milestone(repo, milestone))

    @staticmethod
    def _completeness(repo: Repo, milestone: Milestone) -> float:
        mine = [i for i in repo.issues.values() if i.milestone == milestone.number]
        return sum(i.state == "closed" for i in mine) / len(mine) if mine else 0.0

    def _milestone_fields(self, milestone: Milestone, data: dict[str, Any]) -> None:
        if "description" in data:
            milestone.description = opt_str(data["description"], "description")
        if "due_on" in data:
            try:
                milestone.due_on = None if data["due_on"] is None else _pacific_midnight(
                    parse_time(str(data["due_on"])))
            except ValueError:
                self.invalid("Milestone", "due_on", value=data["due_on"])
        if "state" in data:
            if data["state"] not in ("open", "closed"):
                self.invalid("Milestone", "state", value=data["state"])
            if data["state"] != milestone.state:
                milestone.state = data["state"]
                milestone.closed_at = self.stamp() if milestone.state == "closed" else None


def _pacific_midnight(moment: dt.datetime) -> dt.datetime:
    """GitHub keeps a milestone's due day (the date of the instant sent, in UTC), not the instant:
    served as midnight of that day in US Pacific time, in UTC (``...T07:00:00Z`` or ``T08:00:00Z``)."""
    from zoneinfo import ZoneInfo

    pacific = ZoneInfo("America/Los_Angeles")
    day = moment.astimezone(dt.UTC).date()
    return dt.datetime.combine(day, dt.time(), pacific).astimezone(dt.UTC)
