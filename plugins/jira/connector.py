"""The Jira Cloud connector, on the ``jira`` client library. A scope is a project key (``PORT``).

Design notes (the why):

* The ``jira`` library is imported in ``open()``, never at module level: importing it costs ~170 ms and
  ``pmhub --help`` must stay fast.
* ``JIRA(..., max_retries=0)``: the library's ResilientSession retries 429/503 for every method, POST
  included, so a create whose reply was lost could be sent twice. The engine retries in one place and
  recovers a lost create by its marker instead.
* Incremental listing uses ``search/jql`` with ``updated >= "yyyy/MM/dd HH:mm"``. Jira reads those digits
  in the *searching user's* time zone (``GET /myself``) at minute precision, so the cursor is converted
  to that zone and floored to the minute; records older than the cursor are then dropped client-side.
* Marker: a label ``pmhub-<marker>``, because labels are JQL-searchable and issue properties are not.
  Jira's search index is eventually consistent, so a marker search right after a create may miss; the
  engine looks for markers on the run after a lost reply, by when the index has caught up.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from typing import TYPE_CHECKING, Any, ClassVar, Literal
from zoneinfo import ZoneInfo

from pydantic import Field, SecretStr

from hub.connector import Capability, ConnectionSettings, Connector, Remote, WebhookEvent, chunks
from hub.errors import (
    AuthError,
    ConnectorError,
    PermanentError,
    TransientError,
    error_for_status,
    not_json,
)
from hub.model import CanonicalRecord, Comment, Issue, Kind, Milestone, Person, Priority, StatusCategory

from . import versions, webhooks
from .custom_fields import JiraCustomFields
from .markup import markdown_to_wiki, wiki_to_markdown

if TYPE_CHECKING:
    import requests
    import requests.adapters
    from jira import JIRA

MARKER_PREFIX = "pmhub-"
#: Comment markers live in a comment property (comments have no labels and are not JQL-searchable).
COMMENT_PROPERTY = "pmhub"
BULK_LIMIT = 50
#: Issues one POST /issue/bulkfetch may read back.
BULK_FETCH_LIMIT = 100
#: How far back, and through how many recently updated issues, find_by_marker looks for a comment
#: it has no memory of (recovery after a restart happens on the next run, not weeks later).
COMMENT_MARKER_WINDOW = "-14d"
COMMENT_MARKER_ISSUES = 25

PRIORITY_FROM_JIRA = {"Highest": Priority.HIGHEST, "High": Priority.HIGH, "Medium": Priority.MEDIUM,
                      "Low": Priority.LOW, "Lowest": Priority.LOWEST}
PRIORITY_TO_JIRA = {value: name for name, value in PRIORITY_FROM_JIRA.items()}
KIND_FROM_JIRA = {"Bug": Kind.BUG, "Story": Kind.STORY, "Epic": Kind.EPIC, "Task": Kind.TASK,
                  "Subtask": Kind.TASK, "Sub-task": Kind.TASK}
KIND_TO_JIRA = {Kind.BUG: "Bug", Kind.STORY: "Story", Kind.EPIC: "Epic", Kind.TASK: "Task"}
STATUS_FROM_CATEGORY = {"new": StatusCategory.TODO, "indeterminate": StatusCategory.IN_PROGRESS,
                        "done": StatusCategory.DONE}
#: Jira has three status categories; blocked work is still in progress, cancelled work is done.
CATEGORY_FOR_STATUS = {StatusCategory.TODO: "new", StatusCategory.IN_PROGRESS: "indeterminate",
                       StatusCategory.BLOCKED: "indeterminate", StatusCategory.DONE: "done",
                       StatusCategory.CANCELLED: "done"}
#: The fields an issue listing asks for: exactly what ``_issue_remote`` maps.
ISSUE_FIELDS = ("summary", "description", "labels", "priority", "issuetype", "status", "assignee",
                "reporter", "created", "updated", "duedate", "parent", "fixVersions", "timetracking",
                # Every custom field's value in the same read (see custom_fields.py).
                "*navigable")
COMMENT_LIST_FIELDS = ("comment", "updated")
JIRA_TIME = "%Y-%m-%dT%H:%M:%S.%f%z"


class JiraSettings(ConnectionSettings):
    """``[connections.NAME]`` with ``plugin = "jira"``."""

    base_url: str
    email: str
    token: SecretStr
    timeout: float = Field(default=30.0, gt=0)
    #: REST version: 2 sends wiki-markup strings, 3 sends ADF documents; pmhub converts either.
    api_version: Literal[2, 3] = 2
    #: Issues per search page (Jira caps pages that carry fields at 100).
    page_size: int = Field(default=100, ge=1, le=100)


class JiraConnector(Connector):
    """Issues, comments and versions (as milestones) of one Jira Cloud project."""

    plugin = "jira"
    record_types: ClassVar[dict[str, frozenset[Capability]]] = {
        "issue": frozenset({Capability.READ, Capability.INCREMENTAL, Capability.WRITE,
                            Capability.DELETE, Capability.BULK, Capability.WEBHOOKS}),
        "comment": frozenset({Capability.READ, Capability.INCREMENTAL, Capability.WRITE,
                              Capability.DELETE, Capability.WEBHOOKS}),
        # Versions (releases): listed whole, one request per project (``versions``).
        "milestone": frozenset({Capability.READ, Capability.WRITE}),
    }
    settings_model = JiraSettings
    # Flooring to the minute already covers JQL's precision; the two minutes on top cover the search
    # index lagging behind writes (an issue edited just before the last listing may not have been
    # searchable yet) and clock skew between the hub and Jira. Overlapping records are re-read and
    # de-duplicated by (id, updated) in the engine, so the window costs a few records, never a miss.
    cursor_overlap = dt.timedelta(minutes=2)
    sorted_by_updated = True
    scope_help = "Jira project key, e.g. PORT"
    #: ``pmhub webhooks`` registers an admin webhook per connection through this module of the plugin.
    webhook_admin: ClassVar[str | None] = ".webhook_admin"
    #: Issues sit under issues: an epic's children, a task's sub-tasks (``Issue.parent`` is the
    #: parent's issue id). Jira decides which types may sit under which (its hierarchy levels).
    parent_types: ClassVar[dict[str, str]] = {"issue": "issue"}

    settings: JiraSettings

    def __init__(self, name: str, settings: ConnectionSettings) -> None:
        super().__init__(name, settings)
        self._client: JIRA | None = None
        self._time_zone: ZoneInfo | None = None
        #: Comment marker -> the issue its create was sent to (see find_by_marker).
        self._comment_targets: dict[str, str] = {}
        #: Comments that came with the latest issue search, for the comment listing that follows.
        self._riding: _RidingComments | None = None
        self.custom_fields = JiraCustomFields(self)

    # -- lifecycle -------------------------------------------------------------------------
    def open(self) -> None:
        from jira import JIRA

        settings = self.settings
        with self._errors("open"):
            # No serverInfo call: the library only needs it for methods this connector does not use,
            # and Cloud answers it without checking credentials. GET /myself below does check them,
            # and brings the time zone JQL dates are read in: one call per run instead of three.
            client = JIRA(
                server=settings.base_url.rstrip("/"),
                basic_auth=(settings.email, settings.token.get_secret_value()),
                max_retries=0, timeout=settings.timeout, get_server_info=False,
                options={"rest_api_version": str(settings.api_version)},
            )
        # Counted as each request goes out (the connection's request ceiling waits there), checked
        # as each reply comes in.
        counted = _counted_adapter(self._count)
        for prefix in ("http://", "https://"):
            client._session.mount(prefix, counted)
        client._session.hooks["response"].append(self._on_response)
        self._client = client
        try:
            me = self._myself()
        except ConnectorError:
            self.close()
            raise
        if not me.get("accountId"):
            self.close()
            # Server and Data Center users have no accountId, and their search works differently.
            raise PermanentError(f"{self.name}: {settings.base_url} does not look like Jira Cloud "
                                 "(its users have no accountId); the jira plugin needs Jira Cloud")

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def whoami(self) -> str:
        me = self._myself()
        return f"{me.get('displayName')} <{me.get('emailAddress') or self.settings.email}>"

    @property
    def client(self) -> JIRA:
        if self._client is None:
            raise ConnectorError(f"{self.name}: connector used before open()")
        return self._client

    # -- webhooks (`pmhub serve`; see webhooks.py) -------------------------------------------
    def verify_webhook(self, headers: Mapping[str, str], body: bytes, url: str) -> bool:
        return webhooks.verify(self.webhook_secret(), headers, body)

    def webhook_delivery_id(self, headers: Mapping[str, str], body: bytes) -> str:
        return webhooks.delivery_id(headers, body)

    def webhook_events(self, headers: Mapping[str, str], body: bytes) -> list[WebhookEvent]:
        return webhooks.events(headers, body)

    # -- reading ---------------------------------------------------------------------------
    def list_changed(self, scope: str, record_type: str, since: dt.datetime | None) -> Iterator[Remote]:
        self._check_type(record_type)
        if record_type == "milestone":
            yield from versions.listing(self, scope)
            return
        jql = f"project = {_quote(scope)}"
        if since is not None:
            jql += f' AND updated >= "{self.jql_time(since)}"'
        jql += " ORDER BY updated ASC, key ASC"
        if record_type == "issue":
            yield from self._list_issues(scope, jql, since)
            return
        # Comments ride along with the issues' `comment` field in the same search: adding or editing
        # a comment bumps the issue's `updated`, so one search finds every changed comment without a
        # call per issue. The price: bigger pages, deletions go unseen, and Jira embeds a limited
        # number of comments per issue, so an issue with more is paged through its comment endpoint.
        riding = self._riding
        self._riding = None
        if riding is not None and riding.covers(scope, since):
            # The issue search moments ago carried these comments: no second search of the same
            # issues. A comment added since then has a later `updated` than the cursor this listing
            # can produce, so the next run still reads it.
            comments = [r for r in riding.comments
                        if since is None or (r.updated is not None and r.updated >= since)]
        else:
            comments = []
            for raw in self._search_each_once(jql, COMMENT_LIST_FIELDS):
                for comment in self._issue_comments(raw):
                    remote = self._comment_remote(raw["id"], raw.get("key", ""), comment)
                    if since is None or (remote.updated is not None and remote.updated >= since):
                        comments.append(remote)
        # Sorted so the engine may advance the cursor batch by batch (sorted_by_updated).
        comments.sort(key=lambda r: (r.updated or dt.datetime.min.replace(tzinfo=dt.UTC), r.id))
        yield from comments

    def _list_issues(self, scope: str, jql: str, since: dt.datetime | None) -> Iterator[Remote]:
        riding = _RidingComments(scope, since, time.monotonic())
        for raw in self._search_each_once(jql, (*ISSUE_FIELDS, "comment")):
            remote = self._issue_remote(raw)
            riding.add(self._all_embedded_comments(raw), raw, self)
            # The JQL covered the whole floored minute; what is older than the cursor is not asked for.
            if since is None or (remote.updated is not None and remote.updated >= since):
                yield remote
        # Only a listing read to its end may stand in for the comment search.
        self._riding = riding if riding.complete else None

    def _search_each_once(self, jql: str, fields: Sequence[str]) -> Iterator[dict[str, Any]]:
        """Every issue the JQL finds, once, in the query's order.

        Page tokens may behave like offsets: an issue edited while we page moves from an early page
        to the end, shifting the rest forward so one unchanged issue slips past the page boundary.
        The edited issue then shows up twice; that is the sign to read the result again and pick up
        what was skipped (a few passes at most; a busy project may need the next run). The edited
        issue's newer state is past the cursor, so the next run reads it.
        """
        returned: set[str] = set()
        for _attempt in range(3):
            moved = False
            this_pass: set[str] = set()
            for raw in self._search(jql, fields):
                issue_id = str(raw["id"])
                if issue_id in this_pass:
                    moved = True
                    continue
                this_pass.add(issue_id)
                if issue_id not in returned:
                    returned.add(issue_id)
                    yield raw
            if not moved:
                return

    def get(self, scope: str, record_type: str, external_id: str) -> Remote | None:
        self._check_type(record_type)
        if record_type == "milestone":
            return versions.get(self, external_id)
        try:
            if record_type == "issue":
                with self._errors("get"):
                    raw = self.client.issue(external_id, fields=",".join(ISSUE_FIELDS)).raw
                return self._issue_remote(raw)
            issue_id, comment_id = _split_comment_id(external_id)
            raw = self._call("GET", f"issue/{issue_id}/comment/{comment_id}",
                             params={"expand": "properties"})
            return self._comment_remote(issue_id, None, raw)
        except PermanentError as error:
            if error.status == 404:
                return None
            raise

    def find_by_marker(self, scope: str, record_type: str, marker: str) -> Remote | None:
        self._check_type(record_type)
        if record_type == "milestone":
            return versions.find_by_marker(self, scope, marker)
        if record_type == "issue":
            # JQL is eventually consistent (see the module docstring): fine for recovery on a later run.
            jql = f"project = {_quote(scope)} AND labels = {_quote(marker_label(marker))}"
            for raw in self._search(jql, ISSUE_FIELDS, limit=1):
                return self._issue_remote(raw)
            return None
        # Comment properties are not searchable. The issue a create was aimed at is remembered for
        # this connection's life (the engine's immediate recovery); after a restart, the comments of
        # the most recently updated issues are searched (adding the comment bumped its issue).
        known = self._comment_targets.get(marker)
        if known is not None:
            return self._comment_with_marker(known, None, marker)
        jql = (f"project = {_quote(scope)} AND updated >= {COMMENT_MARKER_WINDOW} "
               "ORDER BY updated DESC")
        for raw in self._search(jql, ("updated",), limit=COMMENT_MARKER_ISSUES):
            found = self._comment_with_marker(str(raw["id"]), raw.get("key"), marker)
            if found is not None:
                return found
        return None

    def _comment_with_marker(self, issue_id: str, issue_key: str | None, marker: str) -> Remote | None:
        start = 0
        while True:
            try:
                page = self._call("GET", f"issue/{issue_id}/comment",
                                  params={"startAt": start, "maxResults": 100, "expand": "properties"})
            except PermanentError as error:
                if error.status == 404:
                    return None  # the issue is gone, and its comments with it
                raise
            comments = page.get("comments") or []
            for comment in comments:
                if _comment_marker(comment) == marker:
                    return self._comment_remote(issue_id, issue_key, comment)
            start += len(comments)
            if not comments or start >= page.get("total", 0):
                return None

    # -- writing ---------------------------------------------------------------------------
    def create(self, scope: str, record_type: str, item: CanonicalRecord, marker: str) -> Remote:
        self._check_type(record_type)
        if record_type == "milestone":
            return versions.create(self, scope, _expect(item, Milestone), marker)
        if record_type == "comment":
            comment = _expect(item, Comment)
            self._comment_targets[marker] = comment.issue  # before sending: the reply may be lost
            body = {"body": self._body_out(comment.body),
                    "properties": [{"key": COMMENT_PROPERTY, "value": {"marker": marker}}]}
            raw = self._call("POST", f"issue/{comment.issue}/comment", json_body=body)
            remote = self._comment_remote(comment.issue, None, raw)
            remote.marker = marker
            return remote
        issue = _expect(item, Issue)
        fields = self._issue_fields(scope, issue, None, marker=marker)
        with self._errors("create"):
            created = self.client.create_issue(fields=fields, prefetch=False)
        return self._after_create(str(created.id), issue)

    def create_many(
        self, scope: str, record_type: str, items: Sequence[tuple[CanonicalRecord, str]]
    ) -> list[Remote | Exception]:
        if record_type != "issue":
            return super().create_many(scope, record_type, items)
        results: list[Remote | Exception] = []
        # Two bulk creates of 50, then one bulk read of the (up to) 100 created: 1.5 calls per 50.
        for group in chunks(items, BULK_FETCH_LIMIT):
            issues = [_expect(item, Issue) for item, _marker in group]
            created: list[str | Exception] = []
            for chunk in chunks(list(zip(issues, (m for _i, m in group), strict=True)), BULK_LIMIT):
                created.extend(self._bulk_create(scope, chunk))
            fetched = {raw["id"]: raw for raw in self._bulk_fetch(
                [c for c in created if isinstance(c, str)])}
            for issue, outcome in zip(issues, created, strict=True):
                if isinstance(outcome, Exception):
                    results.append(outcome)
                    continue
                try:
                    results.append(self._after_create(outcome, issue, fetched.get(outcome)))
                except (TransientError, PermanentError) as error:
                    results.append(error)
        return results

    def _bulk_create(self, scope: str, chunk: list[tuple[Issue, str]]) -> list[str | Exception]:
        """One ``POST /issue/bulk``: the new issue's id or the error, per element.

        An item refused before sending (a parent that is no Jira id, an option a field lacks) fails
        alone; the rest of the chunk is sent.
        """
        prepared: list[dict[str, Any] | PermanentError] = []
        for issue, marker in chunk:
            try:
                prepared.append(self._issue_fields(scope, issue, None, marker=marker))
            except PermanentError as error:
                prepared.append(error)
        field_list = [f for f in prepared if not isinstance(f, PermanentError)]
        if not field_list:  # every item was refused before sending
            return [f for f in prepared if isinstance(f, PermanentError)]
        try:
            with self._errors("bulk_create"):
                outcomes = iter(self.client.create_issues(field_list, prefetch=False))
        except (TransientError, PermanentError) as error:
            # Whether any of the chunk was created is unknown (a lost reply): every item sent gets the
            # error, and the engine recovers the ones that exist by their markers.
            return [f if isinstance(f, PermanentError) else error for f in prepared]
        results: list[str | Exception] = []
        for item in prepared:
            if isinstance(item, PermanentError):
                results.append(item)
                continue
            outcome = next(outcomes)
            results.append(str(outcome["issue"].id) if outcome["status"] == "Success"
                           else PermanentError(f"Jira refused the issue: {outcome['error']}", status=400))
        return results

    def _after_create(self, issue_id: str, issue: Issue, raw: dict[str, Any] | None = None) -> Remote:
        """New issues start in the workflow's first status; move them where the item says."""
        if raw is None:
            raw = self._get_issue_raw(issue_id, expand="transitions")
        target = self._status_target(issue, raw)
        if target is None:
            return self._issue_remote(raw)
        return self._issue_remote(self._transition(issue_id, raw, target), fresh=False)

    def update(
        self, scope: str, record_type: str, external_id: str, item: CanonicalRecord,
        changed: frozenset[str],
    ) -> Remote:
        self._check_type(record_type)
        if record_type == "milestone":
            return versions.update(self, external_id, _expect(item, Milestone), changed)
        if record_type == "comment":
            comment = _expect(item, Comment)
            issue_id, comment_id = _split_comment_id(external_id)
            raw = self._call("PUT", f"issue/{issue_id}/comment/{comment_id}",
                             json_body={"body": self._body_out(comment.body)})
            return self._comment_remote(issue_id, None, raw)
        issue = _expect(item, Issue)
        current: dict[str, Any] | None = None
        if "labels" in changed or "status" in changed:
            # One read gives the labels to keep (the marker), the status and its transitions.
            current = self._get_issue_raw(external_id, expand="transitions")
        target = self._status_target(issue, current) if "status" in changed else None
        if target is not None:
            assert current is not None
            current = self._transition(external_id, current, target)
        fields = self._issue_fields(scope, issue, changed, current=current)
        edits: dict[str, Any] = {}
        if "parent" in changed:
            # A new parent is a field; taking the parent away is the documented edit operation
            # ``update.parent.set.none`` (standard issue types only: a sub-task keeps one).
            if issue.parent:
                fields["parent"] = {"id": _parent_id(issue.parent)}
            else:
                edits["parent"] = [{"set": {"none": True}}]
        if fields or edits:
            # returnIssue saves the read-back; the edit comes after the transition so the reply is final.
            body: dict[str, Any] = {"fields": fields}
            if edits:
                body["update"] = edits
            raw = self._call("PUT", f"issue/{external_id}", json_body=body, params={"returnIssue": "true"})
            return self._issue_remote(raw or self._get_issue_raw(external_id))
        if current is not None:
            return self._issue_remote(current, fresh=target is None)
        return self._issue_remote(self._get_issue_raw(external_id))

    def delete(self, scope: str, record_type: str, external_id: str) -> None:
        self._check_type(record_type)
        if record_type == "comment":
            issue_id, comment_id = _split_comment_id(external_id)
            self._call("DELETE", f"issue/{issue_id}/comment/{comment_id}")
        else:
            self._call("DELETE", f"issue/{external_id}")

    # -- time zones ------------------------------------------------------------------------
    def user_time_zone(self) -> ZoneInfo:
        """The zone Jira reads JQL dates in: the API user's profile zone (one call, cached)."""
        if self._time_zone is None:
            self._time_zone = ZoneInfo(self._myself().get("timeZone") or "UTC")
        return self._time_zone

    def jql_time(self, since: dt.datetime) -> str:
        """``since`` as JQL date digits in the user's zone, floored to the minute (never later)."""
        if since.tzinfo is None:
            raise ValueError("cursor must be timezone-aware")
        local = since.astimezone(self.user_time_zone()).replace(second=0, microsecond=0)
        earlier = local.replace(fold=0).astimezone(dt.UTC)
        later = local.replace(fold=1).astimezone(dt.UTC)
        if earlier != later:
            # An autumn DST hour: the digits name two instants and Jira may pick the later one.
            # Stepping back by the ambiguity keeps the query at or before the cursor either way.
            local = local - abs(later - earlier)
        return local.strftime("%Y/%m/%d %H:%M")

    def _myself(self) -> dict[str, Any]:
        with self._errors("get"):
            me: dict[str, Any] = self.client.myself()
        try:
            self._time_zone = ZoneInfo(me.get("timeZone") or "UTC")
        except (ValueError, KeyError):  # ZoneInfoNotFoundError is a KeyError
            # An unknown zone: assume the earliest clock on earth, so the digits we send lie before
            # the cursor wherever the user really is (a longer overlap, never a gap).
            self._time_zone = ZoneInfo("Etc/GMT-14")
        return me

    # -- mapping in ------------------------------------------------------------------------
    def _issue_remote(self, raw: dict[str, Any], *, fresh: bool = True) -> Remote:
        """The canonical issue; ``fresh=False`` when ``raw`` predates our own last write to it."""
        fields = raw.get("fields") or {}
        labels = list(fields.get("labels") or [])
        markers = [label[len(MARKER_PREFIX):] for label in labels if label.startswith(MARKER_PREFIX)]
        status = fields.get("status") or {}
        category = (status.get("statusCategory") or {}).get("key", "new")
        priority_name = (fields.get("priority") or {}).get("name")
        type_name = (fields.get("issuetype") or {}).get("name", "Task")
        raw_words = {"status": status.get("name", ""), "kind": type_name}
        if priority_name:
            raw_words["priority"] = priority_name
        assignee = self._person(fields.get("assignee"))
        updated = _parse_time(fields.get("updated"))
        key = raw.get("key", "")
        custom, start_date, estimate = self.custom_fields.read(fields)
        item = Issue(
            custom=custom, start_date=start_date, estimate=estimate,
            title=fields.get("summary") or "(no summary)",
            description=self._body_in(fields.get("description")),
            kind=KIND_FROM_JIRA.get(type_name, Kind.TASK),
            status=STATUS_FROM_CATEGORY.get(category, StatusCategory.TODO),
            priority=PRIORITY_FROM_JIRA.get(priority_name) if priority_name else None,
            assignees=[assignee] if assignee else [],
            reporter=self._person(fields.get("reporter")),
            labels=[label for label in labels if not label.startswith(MARKER_PREFIX)],
            due_date=dt.date.fromisoformat(fields["duedate"]) if fields.get("duedate") else None,
            parent=_parent_in_project(key, fields.get("parent")),
            # pmhub's issue has one milestone; Jira's first fix version stands for it.
            milestone=next((v.get("name") for v in fields.get("fixVersions") or []), None),
            raw=raw_words,
            created=_parse_time(fields.get("created")),
            updated=updated,
            url=self._browse_url(key),
        )
        if not fresh:
            return Remote(id=str(raw["id"]), updated=None, item=item, version=None, url=item.url,
                          marker=markers[0] if markers else None)
        return Remote(id=str(raw["id"]), updated=updated, item=item, version=fields.get("updated"),
                      url=item.url, marker=markers[0] if markers else None)

    def _comment_remote(self, issue_id: str, issue_key: str | None, raw: dict[str, Any]) -> Remote:
        updated = _parse_time(raw.get("updated"))
        url = (f"{self._browse_url(issue_key)}?focusedCommentId={raw['id']}" if issue_key
               else raw.get("self"))
        item = Comment(body=self._body_in(raw.get("body")), author=self._person(raw.get("author")),
                       issue=str(issue_id), created=_parse_time(raw.get("created")), updated=updated,
                       url=url)
        return Remote(id=f"{issue_id}/{raw['id']}", updated=updated, item=item,
                      version=raw.get("updated"), url=url, marker=_comment_marker(raw))

    def _person(self, user: dict[str, Any] | None) -> Person | None:
        if not user:
            return None
        handles = {self.name: user["accountId"]} if user.get("accountId") else {}
        return Person(display_name=user.get("displayName"), email=user.get("emailAddress") or None,
                      handles=handles)

    def _body_in(self, body: Any) -> str:
        if isinstance(body, dict):  # REST v3: an ADF document
            from .adf import adf_to_wiki

            body = adf_to_wiki(body)
        return wiki_to_markdown(body)

    def _body_out(self, markdown: str) -> Any:
        wiki = markdown_to_wiki(markdown)
        if self.settings.api_version == 3:
            from .adf import wiki_to_adf

            return wiki_to_adf(wiki)
        return wiki

    def _browse_url(self, key: str) -> str:
        return f"{self.settings.base_url.rstrip('/')}/browse/{key}"

    # -- mapping out -----------------------------------------------------------------------
    def _issue_fields(self, scope: str, issue: Issue, changed: frozenset[str] | None, *,
                      marker: str | None = None, current: dict[str, Any] | None = None
                      ) -> dict[str, Any]:
        """Jira fields for ``issue``: all of them on create (``changed`` None), else the changed ones."""
        def wanted(name: str) -> bool:
            return changed is None or name in changed

        fields: dict[str, Any] = {}
        if changed is None:
            fields["project"] = {"key": scope}
            fields["issuetype"] = {"name": self._type_name(issue)}
        elif "kind" in changed:
            fields["issuetype"] = {"name": self._type_name(issue)}
        if wanted("title"):
            fields["summary"] = issue.title
        if wanted("description") and (changed is not None or issue.description):
            fields["description"] = self._body_out(issue.description) if issue.description else None
        if wanted("labels"):
            kept = [label for label in ((current or {}).get("fields") or {}).get("labels") or []
                    if label.startswith(MARKER_PREFIX)]
            if marker is not None:
                kept.append(marker_label(marker))
            fields["labels"] = sorted(set(issue.labels) | set(kept))
        elif marker is not None:
            fields["labels"] = [marker_label(marker)]
        if wanted("priority"):
            name = self._priority_name(issue)
            if name is not None:
                fields["priority"] = {"name": name}
        if wanted("assignees"):
            account = next((p.handles[self.name] for p in issue.assignees if self.name in p.handles),
                           None)
            # People without a Jira handle cannot be assigned; the mapping's people table supplies them.
            if account is not None or (changed is not None and not issue.assignees):
                fields["assignee"] = {"accountId": account} if account else None
        if wanted("due_date") and (changed is not None or issue.due_date):
            fields["duedate"] = issue.due_date.isoformat() if issue.due_date else None
        if wanted("milestone") and (changed is not None or issue.milestone):
            # By name: a version's name is unique in its project, and is what the milestone links carry.
            fields["fixVersions"] = [{"name": issue.milestone}] if issue.milestone else []
        if changed is None and issue.parent:
            fields["parent"] = {"id": _parent_id(issue.parent)}
        fields.update(self.custom_fields.write(issue, changed))
        return fields

    def check_fields(self, scope: str, record_type: str, fields: Mapping[str, str]) -> list[str]:
        if record_type != "issue":
            return super().check_fields(scope, record_type, fields)
        return self.custom_fields.check(fields)

    # The tool's own word in ``raw`` wins over the default name for a canonical value: the flow's
    # mapping fills it from the canonical value on every write, and may map many to one on purpose
    # (a requirement becomes a Story). Without a mapping, raw is empty and the defaults apply.
    @staticmethod
    def _type_name(issue: Issue) -> str:
        return issue.raw.get("kind") or KIND_TO_JIRA.get(issue.kind, "Task")

    @staticmethod
    def _priority_name(issue: Issue) -> str | None:
        raw = issue.raw.get("priority")
        if raw:
            return raw
        return PRIORITY_TO_JIRA.get(issue.priority) if issue.priority else None

    def _status_target(self, issue: Issue, current: dict[str, Any] | None) -> str | None:
        """The transition id that takes ``current`` to the item's status, or None if already there.

        The tool's own status name (``raw["status"]``, from the mapping) wins; otherwise any transition
        into the right status category does. Transition ids differ per workflow, so never hard-code them.
        """
        if current is None:
            return None
        status = (current.get("fields") or {}).get("status") or {}
        wanted_name = (issue.raw.get("status") or "").strip().lower()
        wanted_category = CATEGORY_FOR_STATUS[issue.status]
        transitions = current.get("transitions") or []
        if wanted_name:
            if status.get("name", "").lower() == wanted_name:
                return None
            for transition in transitions:
                if (transition.get("to") or {}).get("name", "").lower() == wanted_name:
                    return str(transition["id"])
        if (status.get("statusCategory") or {}).get("key") == wanted_category:
            return None
        for transition in transitions:
            if ((transition.get("to") or {}).get("statusCategory") or {}).get("key") == wanted_category:
                return str(transition["id"])
        raise PermanentError(f"no transition leads issue {current.get('key')} to "
                             f"{issue.raw.get('status') or issue.status.value}", status=None)

    def _transition(self, issue_id: str, raw: dict[str, Any], transition_id: str) -> dict[str, Any]:
        """Apply a transition; return ``raw`` with the status it leads to.

        No read-back: the status is known from the transition, and the new ``updated`` is not needed
        because the write makes the next listing re-read the issue anyway (``fresh=False`` tells the
        engine the version is unknown). Saves a call per status change.
        """
        with self._errors("transition"):
            self.client.transition_issue(issue_id, transition_id)
        target = next((t.get("to") for t in raw.get("transitions") or []
                       if str(t.get("id")) == transition_id), None)
        fields = dict(raw.get("fields") or {})
        if target:
            fields["status"] = target
        return {**raw, "fields": fields, "transitions": []}

    # -- HTTP ------------------------------------------------------------------------------
    def _search(self, jql: str, fields: Sequence[str], limit: int | None = None
                ) -> Iterator[dict[str, Any]]:
        token: str | None = None
        seen = 0
        page_size = self.settings.page_size if limit is None else min(limit, self.settings.page_size)
        while True:
            params: dict[str, Any] = {"jql": jql, "maxResults": page_size, "fields": list(fields)}
            if token:
                params["nextPageToken"] = token
            # Directly, not through enhanced_search_issues: that one first loads GET /field to
            # translate field names, a call per run that ids (what we send) never need.
            page = self._call("GET", "search/jql", params=params, operation="list")
            for raw in page.get("issues", []):
                yield raw
                seen += 1
                if limit is not None and seen >= limit:
                    return
            token = page.get("nextPageToken")
            if not token or page.get("isLast"):
                return

    @staticmethod
    def _embedded_comments(raw: dict[str, Any]) -> tuple[list[dict[str, Any]], int]:
        """The comments Jira embedded in an issue, and how many the issue has."""
        embedded = (raw.get("fields") or {}).get("comment") or {}
        comments = list(embedded.get("comments") or [])
        return comments, int(embedded.get("total", len(comments)))

    def _all_embedded_comments(self, raw: dict[str, Any]) -> list[dict[str, Any]] | None:
        """The issue's comments when Jira embedded all of them, else None."""
        comments, total = self._embedded_comments(raw)
        return comments if len(comments) >= total else None

    def _issue_comments(self, raw: dict[str, Any]) -> list[dict[str, Any]]:
        """The issue's comments, fetching those Jira did not embed."""
        comments, total = self._embedded_comments(raw)
        while len(comments) < total:
            page = self._call("GET", f"issue/{raw['id']}/comment",
                              params={"startAt": len(comments), "maxResults": 100})
            more = page.get("comments") or []
            if not more:
                break
            comments.extend(more)
        return comments

    def _get_issue_raw(self, issue_id: str, fields: Sequence[str] = ISSUE_FIELDS,
                       expand: str | None = None) -> dict[str, Any]:
        with self._errors("get"):
            issue = self.client.issue(issue_id, fields=",".join(fields), expand=expand)
        return dict(issue.raw)

    def _bulk_fetch(self, ids: list[str]) -> list[dict[str, Any]]:
        if not ids:
            return []
        # One read for the whole chunk; unlike search, bulkfetch does not wait for the index.
        body = {"issueIdsOrKeys": ids, "fields": list(ISSUE_FIELDS), "expand": ["transitions"]}
        reply = self._call("POST", "issue/bulkfetch", json_body=body)
        return list(reply.get("issues") or [])

    def _call(self, method: str, path: str, *, json_body: Any = None,
              params: dict[str, Any] | None = None, operation: str | None = None) -> Any:
        """A REST call the library has no method for, through its own session (auth, timeout, hooks)."""
        client = self.client
        url = client._get_url(path)
        data = json.dumps(json_body) if json_body is not None else None
        with self._errors(operation or method):
            reply = client._session.request(method, url, data=data, params=params)
        if not reply.content:
            return {}
        try:
            return reply.json()
        except ValueError:
            raise not_json(self.name, method, url, reply.status_code,
                           reply.headers.get("Content-Type")) from None

    @contextmanager
    def _errors(self, operation: str) -> Iterator[None]:
        """Translate the library's failures into pmhub's taxonomy (the one place for this plugin)."""
        import requests
        from jira import JIRAError

        try:
            yield
        except JIRAError as error:
            response = error.response
            headers = dict(response.headers) if response is not None else {}
            status = error.status_code
            message = f"{self.name}: Jira {operation} failed: {_error_text(error)}"
            if status is None:
                raise PermanentError(message) from None
            mapped = error_for_status(status, message, headers)
            if isinstance(mapped, AuthError):
                mapped = AuthError(f"{message} (check email and API token of connection "
                                   f"{self.name!r})", status=status)
            raise mapped from None
        except requests.RequestException as error:
            raise TransientError(f"{self.name}: Jira {operation} failed: {error}") from None

    def _on_response(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        if response.ok and not _may_be_json(response):
            # The library would parse it and raise JSONDecodeError from deep inside; every reply
            # passes this hook first, so the clear error is raised here, for library calls too.
            raise not_json(self.name, response.request.method or "GET", response.url,
                           response.status_code, response.headers.get("Content-Type"))
        self._record_rate_limit(response)

    def _count(self, request: requests.PreparedRequest) -> None:
        method = request.method or "GET"
        path = request.path_url.split("?", 1)[0]
        if "/search" in path:
            kind = "list"
        elif path.endswith("/issue/bulk"):
            kind = "bulk_create"
        elif path.endswith("/bulkfetch") or method == "GET":
            kind = "get"
        elif path.endswith("/transitions"):
            kind = "transition"
        else:
            kind = {"POST": "create", "PUT": "update", "DELETE": "delete"}.get(method, method.lower())
        self.calls.add(kind)

    def _record_rate_limit(self, response: requests.Response) -> None:
        headers = response.headers
        limit = headers.get("X-RateLimit-Limit")
        remaining = headers.get("X-RateLimit-Remaining")
        if limit and limit.isdigit():
            self.rate_limit.limit = int(limit)
        if remaining and remaining.lstrip("-").isdigit():
            self.rate_limit.remaining = int(remaining)
        reset = headers.get("X-RateLimit-Reset")
        retry_after = headers.get("Retry-After")
        if reset:
            # Jira Cloud sends an ISO-8601 instant here (GitHub an epoch; not Jira).
            with suppress(ValueError):
                self.rate_limit.reset_at = dt.datetime.fromisoformat(reset.replace("Z", "+00:00"))
        elif response.status_code == 429 and retry_after and retry_after.isdigit():
            self.rate_limit.remaining = 0
            self.rate_limit.reset_at = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=int(retry_after))

    def _check_type(self, record_type: str) -> None:
        if record_type not in self.record_types:
            raise PermanentError(f"the jira plugin has no {record_type!r} records "
                                 f"(it has {', '.join(self.record_types)})")


def marker_label(marker: str) -> str:
    """The label that carries a pmhub marker (labels cannot hold spaces)."""
    return MARKER_PREFIX + "_".join(marker.split())


def _comment_marker(raw: dict[str, Any]) -> str | None:
    for prop in raw.get("properties") or []:
        if prop.get("key") == COMMENT_PROPERTY and isinstance(prop.get("value"), dict):
            marker = prop["value"].get("marker")
            return str(marker) if marker else None
    return None


def _split_comment_id(external_id: str) -> tuple[str, str]:
    issue_id, sep, comment_id = external_id.partition("/")
    if not sep or not issue_id or not comment_id:
        raise PermanentError(f"not a Jira comment id (issue/comment): {external_id!r}", status=404)
    return issue_id, comment_id


def _parent_id(parent: str) -> str:
    """``Issue.parent`` as Jira takes it: the parent's issue id (digits)."""
    if not parent.isdigit():
        raise PermanentError(f"parent {parent!r} is not a Jira issue id", status=400)
    return parent


def _parent_in_project(key: str, parent: dict[str, Any] | None) -> str | None:
    """The parent's id when it is in the issue's own project (the connection's scope), else None.

    Jira lets an epic of another project hold an issue; that epic is outside the flow, and reading
    its id as the parent would leave the child waiting for a twin that never comes.
    """
    if not parent or not parent.get("id"):
        return None
    parent_key = str(parent.get("key") or "")
    if key and parent_key and parent_key.rsplit("-", 1)[0] != key.rsplit("-", 1)[0]:
        return None
    return str(parent["id"])


def _parse_time(value: str | None) -> dt.datetime | None:
    if not value:
        return None
    return dt.datetime.strptime(value, JIRA_TIME).astimezone(dt.UTC)


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _expect(item: CanonicalRecord, model: type[Any]) -> Any:
    if not isinstance(item, model):
        raise PermanentError(f"expected a {model.__name__}, got {type(item).__name__}")
    return item


def _may_be_json(response: requests.Response) -> bool:
    """False for a reply that is certainly not JSON (an HTML page), without parsing it: a JSON
    content type, an empty body, or a body opening like JSON all pass."""
    if "json" in response.headers.get("Content-Type", "").lower():
        return True
    start = response.content[:64].lstrip()
    return not start or start[:1] in (b"{", b"[", b'"') or start[:1].isdigit()


def _error_text(error: Any) -> str:
    response = getattr(error, "response", None)
    if response is not None:
        try:
            body = response.json()
        except ValueError:
            body = None
        if isinstance(body, dict):
            parts = list(body.get("errorMessages") or [])
            parts += [f"{k}: {v}" for k, v in (body.get("errors") or {}).items()]
            if parts:
                return f"HTTP {error.status_code}: " + "; ".join(parts)
    return f"HTTP {error.status_code}: {error.text}" if error.status_code else str(error.text)


__all__ = ["JiraConnector", "JiraSettings", "marker_label"]


class _RidingComments:
    """Comments carried by one complete issue search, offered to the comment listing right after it.

    Used only for the same scope, a cursor no earlier than the issue search's, within a few minutes
    (a daemon's next run searches again), and when every issue's comments were embedded in full.
    """

    MAX_AGE = 300.0
    MAX_COMMENTS = 50_000

    def __init__(self, scope: str, since: dt.datetime | None, started: float) -> None:
        self.scope, self.since, self.started = scope, since, started
        self.comments: list[Remote] = []
        self.complete = True

    def add(self, comments: list[dict[str, Any]] | None, raw: dict[str, Any], owner: JiraConnector) -> None:
        if not self.complete:
            return
        if comments is None or len(self.comments) + len(comments) > self.MAX_COMMENTS:
            self.complete, self.comments = False, []
            return
        self.comments.extend(owner._comment_remote(raw["id"], raw.get("key", ""), c) for c in comments)

    def covers(self, scope: str, since: dt.datetime | None) -> bool:
        fresh = time.monotonic() - self.started < self.MAX_AGE
        later = self.since is None or (since is not None and since >= self.since)
        return self.complete and fresh and scope == self.scope and later



def _counted_adapter(before: Callable[[requests.PreparedRequest], None]) -> requests.adapters.HTTPAdapter:
    """The session's transport, telling ``before`` of each request as it goes out (built here:
    the connector's module loads without ``requests`` until a connection opens)."""
    from requests.adapters import HTTPAdapter

    class CountedAdapter(HTTPAdapter):
        def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> requests.Response:
            before(request)
            return super().send(request, *args, **kwargs)

    return CountedAdapter()
