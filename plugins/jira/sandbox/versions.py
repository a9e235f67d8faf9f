"""Project versions of the Jira stand-in (what Jira calls a release: name, description, start and
release dates, released, archived) and the issues' ``fixVersions`` that name them.

The wire format follows Jira Cloud's REST API (``GET /project/{key}/versions``, ``POST /version``,
``GET|PUT|DELETE /version/{id}``; the ``Version`` schema of its OpenAPI description): ids are
strings, dates are ``YYYY-MM-DD``, a key without a value is left out, and a name is unique in its
project. Editing a version does not touch the issues that carry it (their ``updated`` stays).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from werkzeug.wrappers import Response

from hub.sandbox.service import Call, json_response, route

from .state import JiraFailure, object_body
from .webhooks import JiraWebhooks

API = "/rest/api/<any('2','3'):version>"


@dataclass
class VersionRecord:
    id: int
    project: str
    name: str
    description: str | None = None
    start_date: str | None = None
    release_date: str | None = None
    released: bool = False
    archived: bool = False


class JiraVersions(JiraWebhooks):
    """Version routes; ``JiraSandbox`` adds projects, issues and the rest. Expects ``projects``,
    ``issues`` and ``_find_project`` / ``_project_or_404`` from it."""

    def reset_versions(self) -> None:
        self.versions: dict[int, VersionRecord] = {}
        self.next_version_id = 10000

    # -- the JSON ----------------------------------------------------------------------------
    def version_view(self, call: Call, api: str, version: VersionRecord, *,
                     in_issue: bool = False) -> dict[str, Any]:
        body: dict[str, Any] = {"self": f"{call.base}/rest/api/{api}/version/{version.id}",
                                "id": str(version.id)}
        if version.description is not None:
            body["description"] = version.description
        body.update(name=version.name, archived=version.archived, released=version.released)
        if version.start_date is not None:
            body["startDate"] = version.start_date
        if version.release_date is not None:
            body["releaseDate"] = version.release_date
            if not in_issue:
                body["overdue"] = (not version.released
                                   and dt.date.fromisoformat(version.release_date) < dt.date.today())
                body["userReleaseDate"] = dt.date.fromisoformat(version.release_date).strftime("%d/%b/%y")
        if version.start_date is not None and not in_issue:
            body["userStartDate"] = dt.date.fromisoformat(version.start_date).strftime("%d/%b/%y")
        if not in_issue:
            body["projectId"] = int(self.projects[version.project]["id"])  # type: ignore[attr-defined]
        return body

    # -- an issue's fixVersions ---------------------------------------------------------------
    def fix_versions(self, project: str, value: Any, errors: dict[str, str]) -> list[int] | None:
        """The ids of the versions a ``fixVersions`` value names (by id or name, in ``project``)."""
        if value is None:
            return []
        if not isinstance(value, list):
            errors["fixVersions"] = "Operation value must be an array"
            return None
        chosen: list[int] = []
        for ref in value:
            wanted_id = str(ref.get("id")) if isinstance(ref, dict) and ref.get("id") is not None else None
            wanted_name = ref.get("name") if isinstance(ref, dict) else None
            match = next((v for v in self.versions.values() if v.project == project and (
                str(v.id) == wanted_id or (wanted_id is None and v.name == wanted_name))), None)
            if match is None:
                errors["fixVersions"] = (f"Version id '{wanted_id}' is not valid" if wanted_id is not None
                                         else f"Version name '{wanted_name}' is not valid")
                return None
            if match.id not in chosen:
                chosen.append(match.id)
        return chosen

    # -- routes ----------------------------------------------------------------------------
    @route(f"{API}/project/<id_or_key>/versions")
    def versions_of_project(self, call: Call, version: str, id_or_key: str) -> Response:
        key = self._project_or_404(id_or_key)  # type: ignore[attr-defined]
        mine = sorted((v for v in self.versions.values() if v.project == key), key=lambda v: v.id)
        return json_response([self.version_view(call, version, v) for v in mine])

    @route(f"{API}/version", methods=("POST",))
    def version_create(self, call: Call, version: str) -> Response:
        body = object_body(call)
        ref = body.get("projectId", body.get("project"))
        key = self._find_project(ref)  # type: ignore[attr-defined]
        errors: dict[str, str] = {}
        if key is None:
            errors["project"] = "Project must be specified to create a version."
        record = VersionRecord(id=self.next_version_id, project=key or "", name="")
        self._version_fields(record, body, errors, creating=True)
        if errors:
            raise JiraFailure(400, [], errors)
        self.next_version_id += 1
        self.versions[record.id] = record
        return json_response(self.version_view(call, version, record), 201)

    @route(f"{API}/version/<version_id>", methods=("GET", "PUT", "DELETE"))
    def version_one(self, call: Call, version: str, version_id: str) -> Response:
        record = self.versions.get(int(version_id)) if version_id.isdigit() else None
        if record is None:
            raise JiraFailure(404, [f"Could not find version for id '{version_id}'"])
        if call.request.method == "DELETE":
            del self.versions[record.id]
            for issue in self.issues.values():
                if record.id in issue.fix_versions:
                    issue.fix_versions.remove(record.id)
            return Response(status=204)
        if call.request.method == "PUT":
            errors: dict[str, str] = {}
            edited = VersionRecord(**vars(record))
            self._version_fields(edited, object_body(call), errors, creating=False)
            if errors:
                raise JiraFailure(400, [], errors)
            vars(record).update(vars(edited))
        return json_response(self.version_view(call, version, record))

    def _version_fields(self, record: VersionRecord, body: dict[str, Any], errors: dict[str, str],
                        *, creating: bool) -> None:
        if creating or "name" in body:
            name = body.get("name")
            if not isinstance(name, str) or not name.strip():
                errors["name"] = "You must specify a valid version name"
            elif len(name) > 255:
                errors["name"] = "The version name must be less than 255 characters."
            elif any(v.project == record.project and v.name == name.strip() and v.id != record.id
                     for v in self.versions.values()):
                errors["name"] = "A version with this name already exists in this project."
            else:
                record.name = name.strip()
        if "description" in body:
            description = body["description"]
            if description is not None and not isinstance(description, str):
                errors["description"] = "The description must be a string."
            else:
                record.description = description or None
        for key, attribute in (("startDate", "start_date"), ("releaseDate", "release_date")):
            if key not in body:
                continue
            if body[key] in (None, ""):
                setattr(record, attribute, None)
                continue
            try:
                setattr(record, attribute, dt.date.fromisoformat(str(body[key])).isoformat())
            except ValueError:
                errors[key] = "Please enter the date in the following format: yyyy-MM-dd"
        for key in ("released", "archived"):
            if key in body:
                if not isinstance(body[key], bool):
                    errors[key] = f"'{key}' must be true or false."
                else:
                    setattr(record, key, body[key])
        if record.start_date and record.release_date and record.start_date > record.release_date:
            errors["startDate"] = "The start date must be before the release date."
