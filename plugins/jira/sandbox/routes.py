"""The Jira Cloud stand-in: REST v2 and v3 under ``/jira/rest/api/{2,3}``.

Faithful enough for the real ``jira`` client (serverInfo says Cloud, so it searches through
``search/jql`` with ``nextPageToken``). Bodies are stored as wiki markup and served as plain strings
on v2 and as ADF documents on v3. Timestamps use Jira's ``2025-01-02T03:04:05.678+0000`` form (in
UTC); ``updated`` moves on every edit, transition and comment, strictly increasing so ordering by
it is deterministic. Errors use Jira's ``{"errorMessages": [...], "errors": {...}}`` envelope.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from werkzeug.wrappers import Request, Response

from hub.sandbox.service import Call, json_response, route

from .. import adf
from . import custom_fields, hierarchy, jql, seed
from .state import (
    MISSING,
    SETTABLE,
    CommentRecord,
    IssueRecord,
    JiraFailure,
    decode_token,
    encode_token,
    field_schema,
    fields_arg,
    int_arg,
    jira_time,
    label_ops,
    list_arg,
    object_body,
    priority_id,
    status_def,
    update_sets,
)
from .versions import JiraVersions
from .views import JiraViews

API = "/rest/api/<any('2','3'):version>"
BULK_LIMIT = 50
#: Page size caps of search/jql: ids/keys only may page far, full issues are capped.
SEARCH_MAX_WITH_FIELDS = 100
SEARCH_MAX_IDS_ONLY = 5000

__all__ = ["JiraFailure", "JiraSandbox", "jira_time"]


class JiraSandbox(JiraVersions):
    """In-memory Jira Cloud site with one simplified workflow (To Do -> In Progress -> Done)."""

    name = "jira"

    def reset(self, seed_name: str) -> None:
        self.users: dict[str, dict[str, Any]] = seed.users()
        self.myself_id = seed.BOT_ACCOUNT_ID
        self.projects: dict[str, dict[str, Any]] = {}
        self.issues: dict[int, IssueRecord] = {}
        self.keys: dict[str, int] = {}
        self.next_issue_id = 10000
        self.next_project_id = 10000
        self.next_comment_id = 10000
        self.last_stamp = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
        self.reset_webhooks()
        self.reset_versions()
        if seed_name == "demo":
            self._load_demo()

    # -- plumbing --------------------------------------------------------------------------
    def handle(self, request: Request, subpath: str, base: str, token: str | None) -> Response:
        try:
            return super().handle(request, subpath, base, token)
        except JiraFailure as failure:
            return json_response(failure.body, failure.status)

    def error(self, status: int, message: str, call: Call | None = None) -> Response:
        if status == 401:
            # Jira Cloud's reply to bad basic-auth credentials.
            response = json_response({"errorMessages": [
                "You are not authenticated. Authentication required to perform this operation."],
                "errors": {}}, 401)
            response.headers["WWW-Authenticate"] = 'Basic realm="protected-area"'
            response.headers["X-Seraph-LoginReason"] = "AUTHENTICATED_FAILED"
            return response
        if status == 404 and message == "Not Found":
            message = "null for uri: " + (call.request.url if call is not None else "")
        response = json_response({"errorMessages": [message], "errors": {}}, status)
        if status == 429:
            response.headers["X-RateLimit-Limit"] = "100"
            response.headers["X-RateLimit-Remaining"] = "0"
            response.headers["RateLimit-Reason"] = "jira-burst-based"
        return response

    def authorized(self, call: Call, token: str) -> bool:
        auth = call.request.authorization
        if auth is None:
            return False
        if auth.type == "basic":
            return auth.password == token
        return auth.token == token  # Bearer (OAuth 2.0 apps)

    def now(self) -> dt.datetime:
        """The wall clock at millisecond precision, strictly increasing across calls."""
        current = dt.datetime.now(dt.UTC)
        current = current.replace(microsecond=current.microsecond // 1000 * 1000)
        if current <= self.last_stamp:
            current = self.last_stamp + dt.timedelta(milliseconds=1)
        self.last_stamp = current
        return current

    def _views(self, call: Call, version: str) -> JiraViews:
        return JiraViews(self, call, version)

    # -- lookups ---------------------------------------------------------------------------
    def _find_issue(self, id_or_key: str) -> IssueRecord:
        issue_id = int(id_or_key) if id_or_key.isdigit() else self.keys.get(id_or_key.upper())
        issue = self.issues.get(issue_id) if issue_id is not None else None
        if issue is None:
            raise JiraFailure(404, ["Issue does not exist or you do not have permission to see it."])
        return issue

    def _find_project(self, id_or_key: str | int | None) -> str | None:
        if id_or_key is None:
            return None
        text = str(id_or_key)
        for key, project in self.projects.items():
            if text.upper() == key or text == str(project["id"]):
                return key
        return None

    def _touch(self, issue: IssueRecord) -> None:
        issue.updated = self.now()

    # -- server, user, metadata ------------------------------------------------------------
    @route(f"{API}/serverInfo")
    def server_info(self, call: Call, version: str) -> Response:
        now = self.now()
        return json_response({
            "baseUrl": call.base, "displayUrl": call.base, "version": "1001.0.0-SNAPSHOT",
            "versionNumbers": [1001, 0, 0], "deploymentType": "Cloud", "buildNumber": 100271,
            "buildDate": "2025-11-20T00:00:00.000+0000", "serverTime": jira_time(now),
            "scmInfo": "pmhub-sandbox", "serverTitle": "Jira", "serverTimeZone": "Etc/UTC",
        })

    @route(f"{API}/myself")
    def myself(self, call: Call, version: str) -> Response:
        user = self._views(call, version).user(self.myself_id) or {}
        user.update({"locale": "en_US", "expand": "groups,applicationRoles",
                     "groups": {"size": 1, "items": []},
                     "applicationRoles": {"size": 1, "items": []}})
        return json_response(user)

    @route(f"{API}/user")
    def user(self, call: Call, version: str) -> Response:
        account_id = call.args.get("accountId", "")
        if account_id not in self.users:
            raise JiraFailure(404, [f"Specified user does not exist or you do not have required "
                                    f"permissions: {account_id}"])
        return json_response(self._views(call, version).user(account_id))

    @route(f"{API}/user/search")
    def user_search(self, call: Call, version: str) -> Response:
        query = (call.args.get("query") or call.args.get("username") or "").lower()
        account_id = call.args.get("accountId")
        found = [
            self._views(call, version).user(uid) for uid, user in self.users.items()
            if (account_id and uid == account_id) or (not account_id and query and (
                query in user["displayName"].lower() or query in user["emailAddress"].lower()))
        ]
        return json_response(found)

    @route(f"{API}/field")
    def fields(self, call: Call, version: str) -> Response:
        return json_response([
            {"id": f[0], "key": f[0], "name": f[1], "custom": False, "orderable": f[5],
             "navigable": f[4], "searchable": f[6], "clauseNames": list(f[7]), "schema": field_schema(f)}
            for f in seed.SYSTEM_FIELDS
        ] + custom_fields.field_list())

    @route(f"{API}/issuetype")
    def issue_types(self, call: Call, version: str) -> Response:
        return json_response([self._views(call, version).issuetype(t[0]) for t in seed.ISSUE_TYPES])

    @route(f"{API}/issuetype/<type_id>")
    def issue_type(self, call: Call, version: str, type_id: str) -> Response:
        return json_response(self._views(call, version).issuetype(type_id))

    @route(f"{API}/priority")
    def priorities(self, call: Call, version: str) -> Response:
        return json_response([self._views(call, version).priority(p[0]) for p in seed.PRIORITIES])

    @route(f"{API}/status")
    def statuses(self, call: Call, version: str) -> Response:
        return json_response([self._views(call, version).status(s.id) for s in seed.STATUSES])

    @route(f"{API}/label")
    def labels(self, call: Call, version: str) -> Response:
        every = sorted({label for issue in self.issues.values() for label in issue.labels})
        start = int_arg(call, "startAt", 0)
        limit = int_arg(call, "maxResults", 1000)
        page = every[start:start + limit]
        return json_response({"maxResults": limit, "startAt": start, "total": len(every),
                              "isLast": start + limit >= len(every), "values": page})

    # -- projects --------------------------------------------------------------------------
    @route(f"{API}/project")
    def projects_list(self, call: Call, version: str) -> Response:
        return json_response([self._views(call, version).project(key) for key in sorted(self.projects)])

    @route(f"{API}/project", methods=("POST",))
    def project_create(self, call: Call, version: str) -> Response:
        body = object_body(call)
        errors: dict[str, str] = {}
        key = str(body.get("key") or "")
        name = str(body.get("name") or "").strip()
        if not key:
            errors["projectKey"] = "You must specify a unique project key, at least 2 characters long."
        elif not (2 <= len(key) <= 10 and key[0].isalpha() and key.isupper()
                  and key.replace("_", "").isalnum() and key.isascii()):
            errors["projectKey"] = ("Project keys must start with an uppercase letter, followed by "
                                    "one or more uppercase alphanumeric characters.")
        elif key in self.projects:
            errors["projectKey"] = f"Project '{self.projects[key]['name']}' uses this project key."
        if not name:
            errors["projectName"] = "You must specify a valid project name."
        elif any(p["name"].lower() == name.lower() for p in self.projects.values()):
            errors["projectName"] = "A project with that name already exists."
        type_key = body.get("projectTypeKey", "software")
        if type_key not in ("software", "service_desk", "business"):
            errors["projectTypeKey"] = "Invalid project type key."
        lead = body.get("leadAccountId") or self.myself_id
        if lead not in self.users:
            errors["projectLead"] = "The user you specified as the project lead does not exist."
        if errors:
            raise JiraFailure(400, [], errors)
        project_id = self._add_project(key, name, str(body.get("description") or ""), lead, type_key,
                                       str(body.get("assigneeType") or "UNASSIGNED"))
        return json_response({"self": f"{call.base}/rest/api/{version}/project/{project_id}",
                              "id": project_id, "key": key}, 201)

    def _add_project(self, key: str, name: str, description: str, lead: str,
                     type_key: str = "software", assignee_type: str = "UNASSIGNED") -> int:
        project_id = self.next_project_id
        self.next_project_id += 1
        self.projects[key] = {"id": project_id, "key": key, "name": name,
                              "description": description, "lead": lead,
                              "projectTypeKey": type_key, "assigneeType": assignee_type,
                              "next_number": 1}
        return project_id

    def _project_or_404(self, id_or_key: str) -> str:
        key = self._find_project(id_or_key)
        if key is None:
            raise JiraFailure(404, [f"No project could be found with key '{id_or_key}'."])
        return key

    @route(f"{API}/project/<id_or_key>")
    def project_get(self, call: Call, version: str, id_or_key: str) -> Response:
        return json_response(self._views(call, version).project(self._project_or_404(id_or_key)))

    @route(f"{API}/project/<id_or_key>", methods=("DELETE",))
    def project_delete(self, call: Call, version: str, id_or_key: str) -> Response:
        key = self._project_or_404(id_or_key)
        for issue in [i for i in self.issues.values() if i.project == key]:
            self._remove_issue(issue)
        del self.projects[key]
        return Response(status=204)

    @route(f"{API}/project/<id_or_key>/statuses")
    def project_statuses(self, call: Call, version: str, id_or_key: str) -> Response:
        self._project_or_404(id_or_key)
        statuses = [self._views(call, version).status(s.id) for s in seed.STATUSES]
        return json_response([
            {"self": f"{call.base}/rest/api/{version}/issuetype/{tid}", "id": tid, "name": name,
             "subtask": subtask, "statuses": statuses}
            for tid, name, _description, _level, subtask in seed.ISSUE_TYPES
        ])

    # -- issues: create --------------------------------------------------------------------
    @route(f"{API}/issue", methods=("POST",))
    def issue_create(self, call: Call, version: str) -> Response:
        issue = self._create(version, object_body(call))
        return json_response(self._created_ref(call, version, issue), 201)

    @route(f"{API}/issue/bulk", methods=("POST",))
    def issue_bulk(self, call: Call, version: str) -> Response:
        body = object_body(call)
        updates = body.get("issueUpdates")
        if not isinstance(updates, list):
            raise JiraFailure(400, ["Field 'issueUpdates' is required and must be a list."])
        if len(updates) > BULK_LIMIT:
            raise JiraFailure(400, [f"The number of issues to create is limited to {BULK_LIMIT}."])
        created: list[dict[str, Any]] = []
        errors: list[dict[str, Any]] = []
        for number, update in enumerate(updates):
            try:
                if not isinstance(update, dict):
                    raise JiraFailure(400, ["Each element of 'issueUpdates' must be an object."])
                issue = self._create(version, update)
            except JiraFailure as failure:
                errors.append({"status": failure.status, "elementErrors": failure.body,
                               "failedElementNumber": number})
            else:
                created.append(self._created_ref(call, version, issue))
        # Jira answers 201 when anything was created and 400 (same body) when nothing was.
        return json_response({"issues": created, "errors": errors}, 201 if created or not errors else 400)

    def _created_ref(self, call: Call, version: str, issue: IssueRecord) -> dict[str, Any]:
        return {"id": str(issue.id), "key": issue.key,
                "self": f"{call.base}/rest/api/{version}/issue/{issue.id}"}

    def _create(self, version: str, body: dict[str, Any]) -> IssueRecord:
        fields = body.get("fields")
        if not isinstance(fields, dict):
            raise JiraFailure(400, [], {"summary": "You must specify a summary of the issue.",
                                        "project": "Specify a valid project ID or key",
                                        "issuetype": "Specify an issue type"})
        fields = {**fields, **update_sets(body.get("update"))}
        errors: dict[str, str] = {}
        project_ref = fields.get("project")
        project_key = None
        if isinstance(project_ref, dict):
            project_key = self._find_project(project_ref.get("key") or project_ref.get("id"))
        elif isinstance(project_ref, (str, int)):
            project_key = self._find_project(project_ref)
        if project_key is None:
            errors["project"] = "Specify a valid project ID or key"
        type_id = self._type_id(fields.get("issuetype"))
        if type_id is None:
            errors["issuetype"] = ("Specify an issue type" if not fields.get("issuetype")
                                   else "Specify a valid issue type")
        summary = fields.get("summary")
        if not isinstance(summary, str) or not summary.strip():
            errors["summary"] = "You must specify a summary of the issue."
        values = self._check_fields(version, fields, errors, creating=True, project=project_key)
        if type_id is not None:
            hierarchy.check(self.issues, type_id, values.get("parent"), errors)
        if errors:
            raise JiraFailure(400, [], errors)
        assert project_key is not None and type_id is not None
        project = self.projects[project_key]
        now = self.now()
        issue = IssueRecord(
            id=self.next_issue_id, key=f"{project_key}-{project['next_number']}",
            project=project_key, summary=str(summary).strip(), issuetype=type_id,
            status=seed.STATUSES[0].id, created=now, updated=now, status_changed=now,
            reporter=self.myself_id, creator=self.myself_id,
        )
        self.next_issue_id += 1
        project["next_number"] += 1
        self._apply(issue, values)
        for prop in body.get("properties") or []:
            if isinstance(prop, dict) and "key" in prop:
                issue.properties[str(prop["key"])] = prop.get("value")
        self.issues[issue.id] = issue
        self.keys[issue.key] = issue.id
        self.issue_event("jira:issue_created", issue)
        return issue

    def _type_id(self, ref: Any) -> str | None:
        if isinstance(ref, dict):
            wanted_id, wanted_name = ref.get("id"), ref.get("name")
        elif isinstance(ref, (str, int)):
            wanted_id, wanted_name = ref, ref
        else:
            return None
        for tid, name, *_ in seed.ISSUE_TYPES:
            if str(wanted_id) == tid or (isinstance(wanted_name, str) and wanted_name == name):
                return tid
        return None

    def _check_fields(self, version: str, fields: dict[str, Any], errors: dict[str, str],
                      *, creating: bool, project: str | None = None) -> dict[str, Any]:
        """Validate settable fields; return internal values for the ones present."""
        values: dict[str, Any] = {}
        for name, value in fields.items():
            if name not in SETTABLE:
                errors[name] = (f"Field '{name}' cannot be set. It is not on the appropriate screen, "
                                "or unknown.")
                continue
            if name in ("project", "summary") and creating:
                continue
            if name in custom_fields.FIELD_IDS:
                checked = custom_fields.check(name, value, errors)
                if name not in errors:
                    values.setdefault("custom", {})[name] = checked
                continue
            if name == "summary":
                if not isinstance(value, str) or not value.strip():
                    errors["summary"] = "You must specify a summary of the issue."
                elif len(value) > 255:
                    errors["summary"] = "Summary must be less than 255 characters."
                else:
                    values["summary"] = value.strip()
            elif name == "project":
                errors["project"] = "Field 'project' cannot be set. Move the issue instead."
            elif name == "issuetype":
                type_id = self._type_id(value)
                if type_id is None:
                    errors.setdefault("issuetype", "Specify a valid issue type")
                else:
                    values["issuetype"] = type_id
            elif name == "description":
                if value is None:
                    values["description"] = None
                elif version == "3":
                    if not adf.is_adf(value):
                        errors["description"] = ("Operation value must be an Atlassian Document "
                                                 "(see the Atlassian Document Format)")
                    else:
                        values["description"] = adf.adf_to_wiki(value)
                elif not isinstance(value, str):
                    errors["description"] = "Operation value must be a string"
                else:
                    values["description"] = value
            elif name == "labels":
                if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                    errors["labels"] = "Operation value must be a string array"
                else:
                    bad = [v for v in value if not v or any(c.isspace() for c in v)]
                    if bad:
                        errors["labels"] = f"The label '{bad[0]}' contains spaces which is invalid."
                    else:
                        values["labels"] = list(dict.fromkeys(value))
            elif name == "priority":
                chosen = priority_id(value)
                if value is not None and chosen is None:
                    errors["priority"] = "Specify the Priority (id or name) in the string format"
                else:
                    values["priority"] = chosen or seed.DEFAULT_PRIORITY
            elif name in ("assignee", "reporter"):
                if value is None:
                    values[name] = None
                    continue
                account = value.get("accountId") if isinstance(value, dict) else None
                if account is None and isinstance(value, dict) and value.get("id"):
                    account = value["id"]
                if account not in self.users:
                    errors[name] = (f"User '{account}' does not exist." if account else
                                    f"Specify a user by accountId for the {name}.")
                else:
                    values[name] = account
            elif name == "duedate":
                if value is None:
                    values["duedate"] = None
                else:
                    try:
                        values["duedate"] = dt.date.fromisoformat(str(value)).isoformat()
                    except ValueError:
                        errors["duedate"] = "Error parsing date string: " + str(value)
            elif name == "fixVersions":
                versions = self.fix_versions(project or "", value, errors)
                if versions is not None:
                    values["fix_versions"] = versions
            elif name == "parent":
                # By key or id; ``{"none": true}`` (update.parent.set.none) or null takes it away.
                ref = value.get("key") or value.get("id") if isinstance(value, dict) else value
                if ref is None:
                    values["parent"] = None
                    continue
                try:
                    values["parent"] = self._find_issue(str(ref)).id
                except JiraFailure:
                    errors["parent"] = f"Could not find issue by id or key: {ref}"
        return values

    def _apply(self, issue: IssueRecord, values: dict[str, Any]) -> None:
        for name, value in values.items():
            if name == "custom":
                issue.custom.update(value)
                continue
            setattr(issue, name, value)

    @route(f"{API}/issue/bulkfetch", methods=("POST",))
    def issue_bulkfetch(self, call: Call, version: str) -> Response:
        body = object_body(call)
        wanted = body.get("issueIdsOrKeys")
        if not isinstance(wanted, list) or not wanted:
            raise JiraFailure(400, ["issueIdsOrKeys must be a non-empty list."])
        if len(wanted) > 100:
            raise JiraFailure(400, ["The number of issues requested is limited to 100."])
        fields = fields_arg([str(f) for f in body.get("fields") or []], default="*navigable")
        expand = list_arg([str(e) for e in body.get("expand") or []])
        issues = []
        for ref in wanted:
            try:
                issue = self._find_issue(str(ref))
            except JiraFailure:
                continue  # Jira leaves out issues that do not exist or cannot be seen
            issues.append(self._views(call, version).issue(issue, fields, expand,
                                      [str(p) for p in body.get("properties") or []]))
        return json_response({"issues": issues, "issueErrors": []})

    # -- issues: read, edit, delete --------------------------------------------------------
    @route(f"{API}/issue/<id_or_key>")
    def issue_get(self, call: Call, version: str, id_or_key: str) -> Response:
        issue = self._find_issue(id_or_key)
        fields = fields_arg(call.request.args.getlist("fields"), default="*all")
        expand = list_arg(call.request.args.getlist("expand"))
        properties = list_arg(call.request.args.getlist("properties"))
        return json_response(self._views(call, version).issue(issue, fields, expand, sorted(properties)))

    @route(f"{API}/issue/<id_or_key>", methods=("PUT",))
    def issue_edit(self, call: Call, version: str, id_or_key: str) -> Response:
        issue = self._find_issue(id_or_key)
        body = object_body(call)
        fields = body.get("fields") or {}
        if not isinstance(fields, dict):
            raise JiraFailure(400, ["Field 'fields' must be an object."])
        errors: dict[str, str] = {}
        if "status" in fields:
            errors["status"] = ("Field 'status' cannot be set. It is not on the appropriate screen, "
                                "or unknown.")
            fields = {k: v for k, v in fields.items() if k != "status"}
        update = body.get("update") or {}
        comments = update.pop("comment", []) if isinstance(update, dict) else []
        merged = {**fields, **update_sets(update)}
        values = self._check_fields(version, merged, errors, creating=False, project=issue.project)
        hierarchy.check_edit(self.issues, issue, values, errors)
        labels = label_ops(update, issue.labels, errors)
        if errors:
            raise JiraFailure(400, [], errors)
        if labels is not None:
            values["labels"] = labels
        # Like Jira, an edit that changes nothing leaves `updated` (and so every cursor) alone.
        custom = values.get("custom") or {}
        changed = any(getattr(issue, name) != value for name, value in values.items() if name != "custom") \
            or any(issue.custom.get(name) != value for name, value in custom.items())
        self._apply(issue, values)
        for op in comments:
            if isinstance(op, dict) and isinstance(op.get("add"), dict):
                self._add_comment(version, issue, op["add"].get("body"))
                changed = True
        if changed:
            self._touch(issue)
            self.issue_event("jira:issue_updated", issue)
        if call.args.get("returnIssue") == "true":
            return json_response(self._views(call, version).issue(issue, None, set()))
        return Response(status=204)

    @route(f"{API}/issue/<id_or_key>", methods=("DELETE",))
    def issue_delete(self, call: Call, version: str, id_or_key: str) -> Response:
        issue = self._find_issue(id_or_key)
        children = [i for i in self.issues.values() if i.parent == issue.id]
        if children and call.args.get("deleteSubtasks") != "true":
            raise JiraFailure(400, ["The issue has subtasks; set deleteSubtasks=true to delete them."])
        for gone in [*children, issue]:
            self.issue_event("jira:issue_deleted", gone)
            self._remove_issue(gone)
        return Response(status=204)

    def _remove_issue(self, issue: IssueRecord) -> None:
        self.issues.pop(issue.id, None)
        self.keys.pop(issue.key, None)

    # -- transitions -----------------------------------------------------------------------
    @route(f"{API}/issue/<id_or_key>/transitions")
    def transitions_list(self, call: Call, version: str, id_or_key: str) -> Response:
        issue = self._find_issue(id_or_key)
        transitions = self._views(call, version).transitions(issue)
        wanted = call.args.get("transitionId")
        if wanted:
            transitions = [t for t in transitions if t["id"] == wanted]
        return json_response({"expand": "transitions", "transitions": transitions})

    @route(f"{API}/issue/<id_or_key>/transitions", methods=("POST",))
    def transitions_do(self, call: Call, version: str, id_or_key: str) -> Response:
        issue = self._find_issue(id_or_key)
        body = object_body(call)
        ref = body.get("transition")
        transition_id = str(ref.get("id")) if isinstance(ref, dict) and ref.get("id") is not None \
            else None
        if transition_id is None:
            raise JiraFailure(400, ["Missing 'transition' identifier"])
        target = next((s for s in seed.STATUSES if s.transition_id == transition_id
                       and s.id != issue.status), None)
        if target is None:
            raise JiraFailure(400, [f"Transition id '{transition_id}' is not valid for this issue."])
        errors: dict[str, str] = {}
        values = self._check_fields(version, body.get("fields") or {}, errors, creating=False)
        if errors:
            raise JiraFailure(400, [], errors)
        self._apply(issue, values)
        now = self.now()
        before = status_def(issue.status).category_key
        issue.status = target.id
        if before != target.category_key:
            issue.status_changed = now
        issue.resolutiondate = now if target.category_key == "done" else None
        update = body.get("update") or {}
        for op in update.get("comment", []) if isinstance(update, dict) else []:
            if isinstance(op, dict) and isinstance(op.get("add"), dict):
                self._add_comment(version, issue, op["add"].get("body"))
        issue.updated = now if issue.updated < now else self.now()
        self.issue_event("jira:issue_updated", issue)
        return Response(status=204)

    # -- comments --------------------------------------------------------------------------
    def _comment_body(self, version: str, body: Any) -> str:
        if version == "3":
            if not adf.is_adf(body):
                raise JiraFailure(400, [], {"comment": "Comment body is not valid!"})
            return adf.adf_to_wiki(body)
        if not isinstance(body, str) or not body.strip():
            raise JiraFailure(400, [], {"comment": "Comment body can not be empty!"})
        return body

    def _add_comment(self, version: str, issue: IssueRecord, body: Any,
                     properties: Any = None) -> CommentRecord:
        text = self._comment_body(version, body)
        now = self.now()
        comment = CommentRecord(self.next_comment_id, text, self.myself_id, self.myself_id, now, now)
        for prop in properties if isinstance(properties, list) else []:
            if isinstance(prop, dict) and "key" in prop:
                comment.properties[str(prop["key"])] = prop.get("value")
        self.next_comment_id += 1
        issue.comments.append(comment)
        issue.updated = now
        self.comment_event("comment_created", issue, comment)
        return comment

    def _find_comment(self, issue: IssueRecord, comment_id: str) -> CommentRecord:
        for comment in issue.comments:
            if str(comment.id) == comment_id:
                return comment
        raise JiraFailure(404, [f"Can not find a comment for the id: {comment_id}."])

    @route(f"{API}/issue/<id_or_key>/comment")
    def comments_list(self, call: Call, version: str, id_or_key: str) -> Response:
        issue = self._find_issue(id_or_key)
        start = int_arg(call, "startAt", 0)
        limit = min(int_arg(call, "maxResults", 5000), 5000)
        newest_first = call.args.get("orderBy", "created").startswith("-")
        with_properties = "properties" in list_arg(call.request.args.getlist("expand"))
        return json_response(self._views(call, version).comment_page(issue, start, limit, newest_first,
                                                with_properties))

    @route(f"{API}/issue/<id_or_key>/comment", methods=("POST",))
    def comment_add(self, call: Call, version: str, id_or_key: str) -> Response:
        issue = self._find_issue(id_or_key)
        body = object_body(call)
        comment = self._add_comment(version, issue, body.get("body"), body.get("properties"))
        return json_response(self._views(call, version).comment(issue, comment), 201)

    @route(f"{API}/issue/<id_or_key>/comment/<comment_id>")
    def comment_get(self, call: Call, version: str, id_or_key: str, comment_id: str) -> Response:
        issue = self._find_issue(id_or_key)
        with_properties = "properties" in list_arg(call.request.args.getlist("expand"))
        return json_response(self._views(call, version).comment(issue, self._find_comment(issue, comment_id),
                                           with_properties))

    @route(f"{API}/issue/<id_or_key>/comment/<comment_id>", methods=("PUT",))
    def comment_edit(self, call: Call, version: str, id_or_key: str, comment_id: str) -> Response:
        issue = self._find_issue(id_or_key)
        comment = self._find_comment(issue, comment_id)
        comment.body = self._comment_body(version, object_body(call).get("body"))
        comment.updated = self.now()
        comment.update_author = self.myself_id
        issue.updated = comment.updated
        self.comment_event("comment_updated", issue, comment)
        return json_response(self._views(call, version).comment(issue, comment))

    @route(f"{API}/issue/<id_or_key>/comment/<comment_id>", methods=("DELETE",))
    def comment_delete(self, call: Call, version: str, id_or_key: str, comment_id: str) -> Response:
        issue = self._find_issue(id_or_key)
        comment = self._find_comment(issue, comment_id)
        issue.comments.remove(comment)
        self._touch(issue)
        self.comment_event("comment_deleted", issue, comment)
        return Response(status=204)

    # -- properties ------------------------------------------------------------------------
    @route(f"{API}/issue/<id_or_key>/properties")
    def properties_list(self, call: Call, version: str, id_or_key: str) -> Response:
        issue = self._find_issue(id_or_key)
        return json_response({"keys": [
            {"self": f"{call.base}/rest/api/{version}/issue/{issue.id}/properties/{key}", "key": key}
            for key in issue.properties]})

    @route(f"{API}/issue/<id_or_key>/properties/<key>")
    def property_get(self, call: Call, version: str, id_or_key: str, key: str) -> Response:
        issue = self._find_issue(id_or_key)
        if key not in issue.properties:
            raise JiraFailure(404, [f"The property with key '{key}' does not exist."])
        return json_response({"key": key, "value": issue.properties[key]})

    @route(f"{API}/issue/<id_or_key>/properties/<key>", methods=("PUT",))
    def property_set(self, call: Call, version: str, id_or_key: str, key: str) -> Response:
        issue = self._find_issue(id_or_key)
        if len(key) > 255:
            raise JiraFailure(400, ["The property key can not be longer than 255 characters."])
        value = call.json()
        existed = key in issue.properties
        issue.properties[key] = value
        return Response(status=200 if existed else 201)

    @route(f"{API}/issue/<id_or_key>/properties/<key>", methods=("DELETE",))
    def property_delete(self, call: Call, version: str, id_or_key: str, key: str) -> Response:
        issue = self._find_issue(id_or_key)
        if issue.properties.pop(key, MISSING) is MISSING:
            raise JiraFailure(404, [f"The property with key '{key}' does not exist."])
        return Response(status=204)

    # -- search ----------------------------------------------------------------------------
    @route(f"{API}/search/jql", methods=("GET",))
    def search_get(self, call: Call, version: str) -> Response:
        args = call.request.args
        return self._search(call, version, jql_text=args.get("jql", ""),
                            token=args.get("nextPageToken"),
                            max_results=int_arg(call, "maxResults", 50),
                            fields=args.getlist("fields"), expand=args.getlist("expand"),
                            properties=args.getlist("properties"))

    @route(f"{API}/search/jql", methods=("POST",))
    def search_post(self, call: Call, version: str) -> Response:
        body = object_body(call)
        max_results = body.get("maxResults", 50)
        if not isinstance(max_results, int):
            raise JiraFailure(400, ["maxResults must be an integer."])
        expand = body.get("expand")
        return self._search(call, version, jql_text=str(body.get("jql") or ""),
                            token=body.get("nextPageToken"), max_results=max_results,
                            fields=list(body.get("fields") or []),
                            expand=[expand] if isinstance(expand, str) else list(expand or []),
                            properties=list(body.get("properties") or []))

    @route(f"{API}/search", methods=("GET", "POST"))
    def search_removed(self, call: Call, version: str) -> Response:
        # Cloud removed the startAt search; clients must move to search/jql.
        raise JiraFailure(410, ["The requested API has been removed. Please migrate to the "
                                "/rest/api/3/search/jql API."])

    def _search(self, call: Call, version: str, *, jql_text: str, token: str | None,
                max_results: int, fields: list[str], expand: list[str],
                properties: list[str]) -> Response:
        if not jql_text.strip():
            # The real service rejects unbounded queries on search/jql.
            raise JiraFailure(400, ["Unbounded JQL queries are not allowed here. Please add a "
                                    "search restriction to your query."])
        zone = self.users[self.myself_id]["timeZone"]
        try:
            query = jql.parse(jql_text, time_zone=zone, now=self.now())
        except jql.JqlError as error:
            raise JiraFailure(400, [str(error)]) from None
        for clause in query.clauses:
            if clause.field == "project" and clause.op in ("=", "in"):
                for value in clause.values:
                    if self._find_project(value) is None and value.lower() not in (
                            p["name"].lower() for p in self.projects.values()):
                        raise JiraFailure(400, [f"The value '{value}' does not exist for the field "
                                                "'project'."])
        wanted = fields_arg(fields, default="id")
        ids_only = wanted is not None and set(wanted) <= {"id", "key"}
        cap = SEARCH_MAX_IDS_ONLY if ids_only else SEARCH_MAX_WITH_FIELDS
        limit = max(0, min(max_results, cap))
        offset = decode_token(token, jql_text) if token else 0
        sort_key, needed = query.sort_key(), query.needs()
        views = ((issue, self._view(issue, needed)) for issue in self.issues.values())
        hits = [issue for issue, _view in sorted(
            ((issue, view) for issue, view in views if query.matches(view)),
            key=lambda pair: sort_key(pair[1]))]
        page = hits[offset:offset + limit]
        expand_set = list_arg(expand)
        body: dict[str, Any] = {"issues": [
            self._views(call, version).issue(issue, wanted, expand_set, properties) for issue in page]}
        if offset + limit < len(hits) and limit > 0:
            body["nextPageToken"] = encode_token(offset + limit, jql_text)
            body["isLast"] = False
        else:
            body["isLast"] = True
        if "names" in expand_set:
            body["names"] = {f[0]: f[1] for f in seed.SYSTEM_FIELDS}
        if "schema" in expand_set:
            body["schema"] = {f[0]: field_schema(f) for f in seed.SYSTEM_FIELDS}
        return json_response(body)

    def _view(self, issue: IssueRecord, needed: frozenset[str]) -> jql.IssueView:
        """What the query reads of one issue; only the ``needed`` terms are computed, because a
        search scans every issue and this is the sandbox's hot loop."""
        view: jql.IssueView = {}
        for name in needed:
            view[name] = self._term(issue, name)
        return view

    def _term(self, issue: IssueRecord, name: str) -> Any:
        if name == "project":
            project = self.projects[issue.project]
            return [issue.project, str(project["id"]), project["name"]]
        if name == "key":
            return [issue.key, str(issue.id)]
        if name == "labels":
            return issue.labels
        if name == "parent":
            parent = self.issues.get(issue.parent) if issue.parent is not None else None
            return [parent.key, str(parent.id)] if parent is not None else []
        if name in ("status", "statusCategory"):
            status = status_def(issue.status)
            if name == "status":
                return [status.name, status.id]
            return [status.category_name, status.category_key, str(status.category_id)]
        if name == "issuetype":
            return [t[1] for t in seed.ISSUE_TYPES if t[0] == issue.issuetype] + [issue.issuetype]
        if name == "priority":
            return [p[1] for p in seed.PRIORITIES if p[0] == issue.priority] + [issue.priority]
        if name in ("assignee", "reporter"):
            account = getattr(issue, name)
            user = self.users.get(account, {}) if account else {}
            return [account, user.get("displayName", ""), user.get("emailAddress", "")] if account else []
        if name in ("updated", "created"):
            return getattr(issue, name)
        if name == "_order_updated":
            return (issue.updated, issue.id)
        if name == "_order_created":
            return (issue.created, issue.id)
        if name == "_order_key":
            return (issue.project, int(issue.key.rsplit("-", 1)[1]))
        if name == "_order_priority":
            rank = next((n for n, p in enumerate(seed.PRIORITIES) if p[0] == issue.priority), 99)
            return (rank, issue.id)
        raise KeyError(name)

    # -- demo seed -------------------------------------------------------------------------
    def _load_demo(self) -> None:
        project = seed.DEMO_PROJECT
        self._add_project(project["key"], project["name"], project["description"], self.myself_id)
        start = self.now() - dt.timedelta(days=10)
        type_ids = {t[1]: t[0] for t in seed.ISSUE_TYPES}
        status_ids = {s.name: s.id for s in seed.STATUSES}
        priority_ids = {p[1]: p[0] for p in seed.PRIORITIES}
        for number, demo in enumerate(seed.DEMO_ISSUES, start=1):
            created = start + dt.timedelta(days=10 - demo.days_ago, hours=number)
            issue = IssueRecord(
                id=self.next_issue_id, key=f"{project['key']}-{number}", project=project["key"],
                summary=demo.summary, issuetype=type_ids[demo.issuetype],
                status=status_ids[demo.status], created=created, updated=created,
                description=demo.description or None, priority=priority_ids[demo.priority],
                labels=list(demo.labels), assignee=demo.assignee, reporter=self.myself_id,
                creator=self.myself_id, status_changed=created,
                resolutiondate=created if demo.status == "Done" else None,
            )
            for offset, (author, text) in enumerate(demo.comments, start=1):
                stamp = created + dt.timedelta(hours=offset)
                issue.comments.append(CommentRecord(self.next_comment_id, text, author, author, stamp, stamp))
                self.next_comment_id += 1
                issue.updated = stamp
            self.next_issue_id += 1
            self.issues[issue.id] = issue
            self.keys[issue.key] = issue.id
        self.projects[project["key"]]["next_number"] = len(seed.DEMO_ISSUES) + 1
