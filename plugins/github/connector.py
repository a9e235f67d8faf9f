"""The GitHub connector: issues and issue comments of one repository (scope ``owner/repo``).

It talks through PyGithub (imported in ``open()``, so ``pmhub --help`` never pays for it) and its
public ``Github.requester``: the JSON GitHub returns is converted in one place, conditional
requests and paging stay under our control, and PyGithub still supplies auth, ``base_url``
handling, write throttling, timeouts and ``GithubException``. Retries are off (``retry=None``):
the engine retries in one place and recovers a lost create by its marker instead of re-sending.

Markers: a create appends a hidden ``<!-- pmhub:MARKER -->`` line to the body; converting to
canonical strips it, and updates of the body keep it.

Parents: ``Issue.parent`` is the parent issue's number, read from ``parent_issue_url`` and written
through the REST sub-issues endpoints (``sub_issues.py``, which also says what GitHub's
timestamps do when a parent changes).

Conditional requests across runs: when a listing fits on one page, that page's ETag and JSON are
kept in pmhub's state store (``ConnectorState.validators``, one entry per repository and kind). The
next listing sends the ETag as ``If-None-Match``; GitHub answers 304, which costs no rate limit,
when the page would be the same, and the stored JSON stands in for it. GitHub's ETag is a digest of
the body, not of the URL (the same listing under two queries carries one ETag), so the entry matches
even after the cursor, and with it ``since``, has moved on: a cron run against a quiet repository,
whose page is the empty list or the cursor's overlap, costs only 304s.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator, Mapping
from typing import Any, ClassVar, TypeVar
from urllib.parse import quote, urlencode

from pydantic import Field, SecretStr

from hub.connector import (
    Capability,
    ConnectionSettings,
    Connector,
    ConnectorState,
    HttpValidators,
    MemoryValidatorStorage,
    Remote,
    ValidatorStorage,
    WebhookEvent,
    WritePacer,
)
from hub.errors import ConnectorError, PermanentError, TransientError, error_for_status, not_json
from hub.model import CanonicalRecord, Comment, Issue, Milestone, Person, StatusCategory

from . import milestones, sub_issues, webhooks

_MARKER = re.compile(r"[ \t]*<!--\s*pmhub:(?P<marker>[A-Za-z0-9._:-]+)\s*-->[ \t]*\n?")
_LINK_NEXT = re.compile(r'<([^>]+)>;\s*rel="next"')
_ISSUE_NUMBER = re.compile(r"/issues/(\d+)$")
_TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
#: The wordings of GitHub's rate-limit refusals: "API rate limit exceeded for ...", "You have
#: exceeded a secondary rate limit ...", and the older "abuse detection mechanism" / "temporarily
#: blocked from content creation".
_RATE_LIMIT_MESSAGE = re.compile(
    r"rate limit exceeded|secondary rate limit|abuse detection|temporarily blocked from content creation",
    re.IGNORECASE)
_T = TypeVar("_T")
_RW = frozenset({Capability.READ, Capability.INCREMENTAL, Capability.WRITE})
#: GitHub's own words for an issue's status, as carried in ``Issue.raw["status"]``.
RAW_STATUSES = ("open", "closed:completed", "closed:not_planned", "closed:duplicate")
#: Largest listing page kept for the next run's conditional request (characters of JSON). A quiet
#: repository's page holds the few records of the cursor's overlap; a backfill's is not worth keeping.
REMEMBERED_PAGE_LIMIT = 256 * 1024


class GitHubSettings(ConnectionSettings):
    """``[connections.NAME]`` with ``plugin = "github"``."""

    base_url: str = "https://api.github.com"
    token: SecretStr
    per_page: int = Field(100, ge=1, le=100)
    #: GitHub documents about 80 content-creating requests a minute before secondary limits bite.
    seconds_between_writes: float = Field(1.0, ge=0)
    #: Seconds to wait for GitHub (PyGithub takes whole seconds).
    timeout: int = Field(30, gt=0)
    #: Seconds to wait after a secondary rate limit that gives no Retry-After (and leaves quota):
    #: GitHub says to wait at least a minute, then exponentially longer while it keeps refusing.
    #: The wait doubles on each refusal of one call, within the run's [retry] budget.
    secondary_limit_wait: float = Field(60.0, gt=0)


def _counting_auth(token: str, on_request: Any) -> Any:
    """A PyGithub token auth that also reports each request it signs.

    Auth objects are PyGithub's public extension point and sign every HTTP request exactly once,
    which makes this the least invasive way to count calls (no patching of the Requester, no
    reaching into its private connection or session).
    """
    from github import Auth

    class CountingToken(Auth.Token):
        def authentication(self, headers: dict[str, Any]) -> None:
            on_request()
            super().authentication(headers)

    return CountingToken(token)


class GitHubConnector(Connector):
    """Issues (pull requests left out), their comments and milestones in one GitHub repository."""

    plugin: ClassVar[str] = "github"
    record_types: ClassVar[dict[str, frozenset[Capability]]] = {"issue": _RW | {Capability.WEBHOOKS},
                                                                "comment": _RW | {Capability.WEBHOOKS},
                                                                "milestone": _RW}
    settings_model: ClassVar[type[ConnectionSettings]] = GitHubSettings
    # ``since`` is inclusive at whole seconds, so precision needs no overlap; a few seconds cover
    # a write that reaches GitHub's listing a moment after a later one (replication lag). Records
    # re-read in the overlap cost nothing extra: they come on the same first page.
    cursor_overlap: ClassVar[dt.timedelta] = dt.timedelta(seconds=5)
    sorted_by_updated: ClassVar[bool] = True
    scope_help: ClassVar[str] = "owner/repo"
    #: ``pmhub webhooks`` registers repository hooks through this module of the plugin.
    webhook_admin: ClassVar[str | None] = ".webhook_admin"
    #: How far back ``find_by_marker`` looks (see there).
    marker_window: ClassVar[dt.timedelta] = dt.timedelta(hours=1)
    #: Issues sit under issues (sub-issues; ``Issue.parent`` is the parent's number, see sub_issues.py).
    parent_types: ClassVar[dict[str, str]] = {"issue": "issue"}

    settings: GitHubSettings

    def __init__(self, name: str, settings: ConnectionSettings) -> None:
        super().__init__(name, settings)
        self._gh: Any = None
        self._operation = "other"
        # Until the engine binds the state store, listings are remembered for this instance only.
        self._validators: ValidatorStorage = MemoryValidatorStorage()
        self._pacer: WritePacer | None = None
        self._markers: dict[tuple[str, str, str], str] = {}
        self._milestones: dict[str, dict[str, int]] = {}
        #: (repository lower-cased, issue number) -> (the issue's global id, its parent's number) as
        #: last read: a parent-only change then needs just the sub-issue call.
        self._places: dict[tuple[str, str], tuple[int, str | None]] = {}

    # -- lifecycle -------------------------------------------------------------------------------
    def bind_state(self, state: ConnectorState) -> None:
        """Listing pages' ETags go to ``state.validators``, so the next run can ask for a 304; in
        queue mode ``state.pacer`` spaces the writes of every worker together."""
        self._validators = state.validators
        self._pacer = state.pacer

    def open(self) -> None:
        from github import Github

        self._gh = Github(
            auth=_counting_auth(self.settings.token.get_secret_value(), self._count),
            base_url=self.settings.base_url.rstrip("/"), per_page=self.settings.per_page,
            timeout=self.settings.timeout, retry=None, lazy=True,
            seconds_between_requests=None,
            # A shared pacer spaces writes cluster-wide; PyGithub's own spacing is per process.
            seconds_between_writes=(self.settings.seconds_between_writes or None) if self._pacer is None
            else None,
        )

    def close(self) -> None:
        if self._gh is not None:
            self._gh.close()
            self._gh = None

    def whoami(self) -> str:
        return str(self._request("whoami", "GET", "/user")["login"])

    def check_fields(self, scope: str, record_type: str, fields: Mapping[str, str]) -> list[str]:
        # Projects (v2) have fields, but an issue itself has none that the REST API offers.
        return [f"GitHub {record_type}s have no custom fields: {name!r} cannot be kept there (leave it "
                "out on this side, or carry the value as a label with a transform)" for name in fields]

    # -- webhooks (`pmhub serve`; see webhooks.py) -------------------------------------------
    def verify_webhook(self, headers: Mapping[str, str], body: bytes, url: str) -> bool:
        return webhooks.verify(self.webhook_secret(), headers, body)

    def webhook_delivery_id(self, headers: Mapping[str, str], body: bytes) -> str:
        return webhooks.delivery_id(headers, body)

    def webhook_events(self, headers: Mapping[str, str], body: bytes) -> list[WebhookEvent]:
        return webhooks.events(headers, body)

    # -- reading -------------------------------------------------------------------------------
    def list_changed(self, scope: str, record_type: str, since: dt.datetime | None) -> Iterator[Remote]:
        return self._list(scope, record_type, since, "list")

    def _list(self, scope: str, record_type: str, since: dt.datetime | None,
              operation: str) -> Iterator[Remote]:
        if record_type == "milestone":
            yield from milestones.listing(self, scope, since, operation)
            return
        path = f"{self._repo_path(scope)}/issues"
        if record_type == "comment":
            path += "/comments"
        else:
            self._check_type(record_type)
        params: dict[str, Any] = {"sort": "updated", "direction": "asc", "per_page": self.settings.per_page}
        if record_type == "issue":
            params["state"] = "all"
        if since is not None:
            params["since"] = _whole_seconds(since)
        yield from self._listing(scope, record_type, path, params, operation)

    def get(self, scope: str, record_type: str, external_id: str) -> Remote | None:
        self._check_type(record_type)
        if record_type == "milestone":
            return milestones.get(self, scope, external_id)
        try:
            data = self._request("get", "GET", self._record_path(scope, record_type, external_id))
        except PermanentError as error:
            if error.status in (404, 410):  # gone (410 is a deleted issue)
                return None
            raise
        if record_type == "issue" and "pull_request" in data:
            return None
        return self._remember(scope, record_type, self._to_remote(record_type, data))

    def find_by_marker(self, scope: str, record_type: str, marker: str) -> Remote | None:
        """Look through records changed in the last ``marker_window`` for the marker.

        The search API (``in:body``) would reach further back, but it is eventually consistent: a
        create whose reply was lost a moment ago is often not indexed yet, which is exactly the
        case this method exists for; it also has a separate, small rate limit. A recent listing is
        consistent and usually one request. The cost: a lost create older than the window is not
        found, so the engine must recover lost creates on its next run, not days later.
        """
        if record_type == "milestone":
            return milestones.find_by_marker(self, scope, marker)
        since = dt.datetime.now(dt.UTC) - self.marker_window
        for remote in self._list(scope, record_type, since, "find"):
            if remote.marker == marker:
                return remote
        return None

    # -- writing -------------------------------------------------------------------------------
    def create(self, scope: str, record_type: str, item: CanonicalRecord, marker: str) -> Remote:
        self._check_type(record_type)
        if record_type == "milestone":
            return milestones.create(self, scope, _expect(item, Milestone), marker)
        if record_type == "comment":
            item = _expect(item, Comment)
            if not item.issue.isdigit():
                raise PermanentError(f"{self.name}: comment parent {item.issue!r} is not an issue number")
            data = self._request("create", "POST", f"{self._repo_path(scope)}/issues/{item.issue}/comments",
                                 {"body": _with_marker(item.body, marker)})
            return self._remember(scope, record_type, self._to_remote(record_type, data))
        item = _expect(item, Issue)
        parent = sub_issues.checked(self, item.parent)
        payload: dict[str, Any] = {"title": item.title, "body": _with_marker(item.description, marker)}
        payload.update(self._issue_fields(scope, item, frozenset({"labels", "assignees", "milestone"})))
        data = self._request("create", "POST", f"{self._repo_path(scope)}/issues", payload)
        try:
            # GitHub creates every issue open; a closed one takes a second write.
            state = self._state_fields(item)
            if state["state"] == "closed":
                data = self._request("create", "PATCH",
                                     f"{self._repo_path(scope)}/issues/{data['number']}", state)
            # A parent takes one more write, which needs the new issue's global id.
            placed = sub_issues.place(self, scope, "create", str(data["number"]), data["id"], None,
                                      parent, moving=False)
        except TransientError as error:
            # The issue exists. A follow-up refused for a while (a secondary limit on the sub-issue
            # POST) must not read as a create that never happened, or the engine would send it again:
            # without a wait to honour, it is settled by the marker and what is missing written then.
            raise TransientError(f"{self.name}: issue #{data['number']} was created, but a follow-up "
                                 f"write failed: {error}") from error
        return self._remember(scope, record_type, self._issue_placed(data, parent, placed))

    def update(self, scope: str, record_type: str, external_id: str, item: CanonicalRecord,
               changed: frozenset[str]) -> Remote:
        self._check_type(record_type)
        if record_type == "milestone":
            return milestones.update(self, scope, external_id, _expect(item, Milestone), changed)
        path = self._record_path(scope, record_type, external_id)
        payload: dict[str, Any] = {}
        if record_type == "comment":
            item = _expect(item, Comment)
            if "body" in changed:
                payload["body"] = _with_marker(item.body, self._marker_of(scope, record_type, external_id))
        else:
            item = _expect(item, Issue)
            if "title" in changed:
                payload["title"] = item.title
            if "description" in changed:
                payload["body"] = _with_marker(item.description,
                                               self._marker_of(scope, record_type, external_id))
            payload.update(self._issue_fields(scope, item, changed))
            if "status" in changed:
                payload.update(self._state_fields(item))
            if "parent" in changed:
                return self._update_parent(scope, external_id, path, payload,
                                           sub_issues.checked(self, item.parent))
        if payload:
            data = self._request("update", "PATCH", path, payload)
        else:  # nothing GitHub stores changed (e.g. only the priority): report it as it is
            data = self._request("update", "GET", path)
        return self._remember(scope, record_type, self._to_remote(record_type, data))

    def _update_parent(self, scope: str, number: str, path: str, payload: dict[str, Any],
                       parent: str | None) -> Remote:
        """An issue update that moves it to ``parent`` (None: out from under its parent).

        The other fields go first (their reply carries the global id and the current parent); with
        none to write, the id and parent remembered from this run's reads save a GET.
        """
        known = self._places.get((scope.lower(), number))
        if payload:
            data: dict[str, Any] | None = self._request("update", "PATCH", path, payload)
        elif known is None:
            data = self._request("update", "GET", path)
        else:
            data = None
        if data is not None:
            child_id, current = data["id"], sub_issues.parent_of(data)
        else:
            assert known is not None
            child_id, current = known
        placed = sub_issues.place(self, scope, "update", number, child_id, current, parent, moving=True)
        if data is None:
            self._places[(scope.lower(), number)] = (child_id, parent)
            # Nothing was read back: the engine keeps what it wrote as this side's snapshot.
            return Remote(id=number, updated=None, item=None)
        return self._remember(scope, "issue", self._issue_placed(data, parent, placed))

    def _issue_placed(self, data: dict[str, Any], parent: str | None, placed: bool) -> Remote:
        """The issue in ``data`` as it is after a sub-issue call put it under ``parent``.

        The sub-issue calls answer with the parent, so the child's new ``updated_at`` is unknown:
        the version is left out (the next listing reads the child again).
        """
        if not placed:
            return self._to_remote("issue", data)
        url = data["url"].rsplit("/", 1)[0] + f"/{parent}" if parent is not None else None
        remote = self._to_remote("issue", {**data, "parent_issue_url": url})
        remote.updated = remote.version = None
        return remote

    # -- conversion ----------------------------------------------------------------------------
    def _to_remote(self, record_type: str, data: dict[str, Any]) -> Remote:
        body, marker = split_marker(data.get("body") or "")
        updated = _parse_time(data["updated_at"])
        login = (data.get("user") or {}).get("login")
        author = self._person(login) if login else None
        if record_type == "comment":
            number = _ISSUE_NUMBER.search(data.get("issue_url", ""))
            item: CanonicalRecord = Comment(
                body=body, author=author, issue=number.group(1) if number else "",
                created=_parse_time(data["created_at"]), updated=updated, url=data.get("html_url"))
            return Remote(id=str(data["id"]), updated=updated, item=item, version=data["updated_at"],
                          url=data.get("html_url"), marker=marker)
        reason = data.get("state_reason") or "completed"
        raw_status = "open" if data["state"] == "open" else f"closed:{reason}"
        milestone = data.get("milestone") or {}
        parent = sub_issues.parent_of(data)
        place = sub_issues.key_of(data)
        if place is not None:
            self._places[place] = (data["id"], parent)
        item = Issue(
            title=data["title"], description=body, status=_STATUS_OF_RAW.get(raw_status, StatusCategory.DONE),
            assignees=[self._person(a["login"]) for a in data.get("assignees") or []],
            reporter=author, labels=[label["name"] for label in data.get("labels") or []],
            milestone=milestone.get("title"), raw={"status": raw_status}, parent=parent,
            created=_parse_time(data["created_at"]), updated=updated, url=data.get("html_url"),
        )
        return Remote(id=str(data["number"]), updated=updated, item=item, version=data["updated_at"],
                      url=data.get("html_url"), marker=marker)

    def _person(self, login: str) -> Person:
        return Person(handles={self.name: login})

    def _issue_fields(self, scope: str, item: Issue, changed: frozenset[str]) -> dict[str, Any]:
        fields: dict[str, Any] = {}
        if "labels" in changed:
            fields["labels"] = list(item.labels)
        if "assignees" in changed:
            # People without a handle on this connection cannot be assigned here; the users
            # mapping is what gives them one.
            fields["assignees"] = [p.handles[self.name] for p in item.assignees if self.name in p.handles]
        if "milestone" in changed:
            fields["milestone"] = None if item.milestone is None else self._milestone(scope, item.milestone)
        return fields

    def _state_fields(self, item: Issue) -> dict[str, Any]:
        raw = item.raw.get("status")
        if raw not in RAW_STATUSES:
            raw = _RAW_OF_STATUS[item.status]
        if raw == "open":
            return {"state": "open"}
        return {"state": "closed", "state_reason": raw.split(":", 1)[1]}

    def _milestone(self, scope: str, title: str) -> int:
        """The number of the milestone called ``title``, created when the repository lacks it."""
        known = self._milestones.get(scope)
        if known is None or title not in known:
            known = {}
            url: str | None = f"{self._repo_path(scope)}/milestones"
            params: dict[str, Any] | None = {"state": "all", "per_page": 100}
            while url is not None:
                _, headers, page = self._request_raw("milestones", "GET", url, params)
                known.update({m["title"]: m["number"] for m in page})
                url, params = _next_link(headers), None
            self._milestones[scope] = known
        if title not in known:
            data = self._request("milestones", "POST", f"{self._repo_path(scope)}/milestones",
                                 {"title": title})
            known[title] = data["number"]
        return known[title]

    def _marker_of(self, scope: str, record_type: str, external_id: str) -> str | None:
        """The marker to keep in a rewritten body: remembered from an earlier read, else one GET."""
        key = (scope, record_type, external_id)
        if key not in self._markers:
            data = self._request("update", "GET", self._record_path(scope, record_type, external_id))
            self._remember(scope, record_type, self._to_remote(record_type, data))
        return self._markers.get(key) or None

    def _remember(self, scope: str, record_type: str, remote: Remote) -> Remote:
        self._markers[(scope, record_type, remote.id)] = remote.marker or ""
        return remote

    # -- HTTP ----------------------------------------------------------------------------------
    def _listing(self, scope: str, record_type: str, path: str, params: dict[str, Any],
                 operation: str) -> Iterator[Remote]:
        """Every record of a listing sorted by ``updated`` ascending, paged by ``Link: rel=next``.

        Paging by page number can skip a record: when an issue already read is edited mid-listing,
        it moves to the end and everything after it shifts back one place across a page boundary.
        The edited issue then shows up a second time, which is how the shift is noticed; the listing
        is then read once more from the start, yielding only versions not yet yielded.
        """
        yielded: set[tuple[str, str | None]] = set()
        for _attempt in range(3):
            ids: set[str] = set()
            shifted = False
            for remote in self._records(scope, record_type, path, params, operation):
                if remote.id in ids:
                    shifted = True
                ids.add(remote.id)
                if (remote.id, remote.version) in yielded:
                    continue
                yielded.add((remote.id, remote.version))
                yield self._remember(scope, record_type, remote)
            if not shifted:
                return

    def _records(self, scope: str, record_type: str, path: str, params: dict[str, Any],
                 operation: str) -> Iterator[Remote]:
        # Only the engine's listings are remembered: find_by_marker's look-back moves every second.
        key = _listing_key(path, params) if operation == "list" else None
        remembered = self._validators.get(key) if key is not None else None
        if remembered is not None and remembered.body is None:
            remembered = None  # a 304 would leave nothing to stand in for the page
        headers = remembered.request_headers() if remembered is not None else None
        status, reply_headers, data = self._request_raw(operation, "GET", path, params, headers=headers)
        if status == 304 and remembered is not None and remembered.body is not None:
            # The page is what it was: the stored JSON stands in for it. Only a page that ended its
            # listing is stored, so there is no next page to follow.
            data, next_url = json.loads(remembered.body), None
        else:
            next_url = _next_link(reply_headers)
            if key is not None:
                self._remember_page(key, reply_headers, data, next_url, params)
        for d in data or []:
            if self._wanted(record_type, d):
                yield self._to_remote(record_type, d)
        while next_url is not None:
            _, reply_headers, data = self._request_raw(operation, "GET", next_url, None)
            for d in data:
                if self._wanted(record_type, d):
                    yield self._to_remote(record_type, d)
            next_url = _next_link(reply_headers)

    def _remember_page(self, key: str, headers: dict[str, Any], data: list[Any], next_url: str | None,
                       params: dict[str, Any]) -> None:
        """Keep a listing's only page for the next run's ``If-None-Match``.

        Only a page that is the whole listing: no next link, and not full (a full page may be
        followed by records that arrive later while the page itself, and its ETag, stay the same).
        """
        etag = headers.get("etag")
        if not etag or next_url is not None or len(data) >= int(params.get("per_page", 30)):
            return
        body = json.dumps(data, separators=(",", ":"))
        if len(body) <= REMEMBERED_PAGE_LIMIT:
            self._validators.put(key, HttpValidators(etag=etag, last_modified=headers.get("last-modified"),
                                                     body=body))

    @staticmethod
    def _wanted(record_type: str, data: dict[str, Any]) -> bool:
        # Pull requests are issues to GitHub's API, and their comments are issue comments; pmhub
        # syncs neither. A PR comment is told apart by its web URL (.../pull/N#issuecomment-...).
        if record_type == "issue":
            return "pull_request" not in data
        return "/pull/" not in (data.get("html_url") or "")

    def _request(self, operation: str, verb: str, url: str, payload: Any = None) -> Any:
        return self._request_raw(operation, verb, url, None, payload)[2]

    def _request_raw(self, operation: str, verb: str, url: str, params: dict[str, Any] | None,
                     payload: Any = None, *, headers: dict[str, str] | None = None,
                     ) -> tuple[int, dict[str, Any], Any]:
        """One HTTP request, counted under ``operation``; failures become pmhub's error taxonomy.

        Returns (status, lower-cased headers, parsed JSON); a 304 has no body.
        """
        import requests
        from github import GithubException

        if self._gh is None:
            raise ConnectorError(f"{self.name}: the connector is not open")
        requester = self._gh.requester
        self._operation = operation
        if self._pacer is not None and verb != "GET":
            self._pacer.wait_turn(self.settings.seconds_between_writes)
        try:
            status, reply_headers, output = requester.requestJson(verb, url, params, headers, payload)
            try:
                data = _json(output) if status != 304 else None
            except ValueError:
                if status < 400:
                    raise not_json(self.name, verb, self._full_url(url), status,
                                   reply_headers.get("content-type")) from None
                data = None  # an error page: the status says enough
            if status >= 400:
                raise requester.createException(status, reply_headers, data)
            return status, reply_headers, data
        except GithubException as error:
            message = error.data.get("message") if isinstance(error.data, dict) else None
            limited = _rate_limited(error.status, message, error.headers)
            raise error_for_status(error.status, f"{self.name}: {verb} {_short(url)}: HTTP {error.status} "
                                   f"{message or ''}".rstrip(), _wait_headers(error.headers),
                                   rate_limited=limited,
                                   wait_at_least=self.settings.secondary_limit_wait if limited else None,
                                   ) from error
        except (requests.exceptions.ConnectionError, requests.exceptions.Timeout,
                requests.exceptions.RetryError) as error:
            raise TransientError(f"{self.name}: {verb} {_short(url)}: {type(error).__name__}") from error
        finally:
            self._operation = "other"
            self._note_rate_limit()

    def _full_url(self, url: str) -> str:
        # PyGithub takes paths relative to base_url and absolute next links alike.
        return url if "://" in url else f"{self.settings.base_url.rstrip('/')}{url}"

    def _count(self) -> None:
        self.calls.add(self._operation)

    def _note_rate_limit(self) -> None:
        requester = self._gh.requester if self._gh is not None else None
        if requester is None:
            return
        remaining, limit = requester.rate_limiting
        if limit >= 0:
            self.rate_limit.remaining, self.rate_limit.limit = remaining, limit
        reset = requester.rate_limiting_resettime
        if reset:
            self.rate_limit.reset_at = dt.datetime.fromtimestamp(reset, dt.UTC)

    def _repo_path(self, scope: str) -> str:
        owner, _, name = scope.partition("/")
        if not owner or not name or "/" in name:
            raise PermanentError(f"{self.name}: scope {scope!r} is not owner/repo")
        return f"/repos/{quote(owner, safe='')}/{quote(name, safe='')}"

    def _record_path(self, scope: str, record_type: str, external_id: str) -> str:
        if not external_id.isdigit():
            raise PermanentError(f"{self.name}: {external_id!r} is not a GitHub {record_type} id")
        middle = "issues/comments" if record_type == "comment" else "issues"
        return f"{self._repo_path(scope)}/{middle}/{external_id}"

    def _check_type(self, record_type: str) -> None:
        if record_type not in self.record_types:
            raise PermanentError(f"{self.name}: GitHub connector has no record type {record_type!r}")


_STATUS_OF_RAW = {
    "open": StatusCategory.TODO,
    "closed:completed": StatusCategory.DONE,
    "closed:not_planned": StatusCategory.CANCELLED,
    "closed:duplicate": StatusCategory.CANCELLED,
}
_RAW_OF_STATUS = {
    StatusCategory.TODO: "open",
    StatusCategory.IN_PROGRESS: "open",
    StatusCategory.BLOCKED: "open",
    StatusCategory.DONE: "closed:completed",
    StatusCategory.CANCELLED: "closed:not_planned",
}


def _expect(item: object, kind: type[_T]) -> _T:
    if not isinstance(item, kind):
        raise PermanentError(f"expected a canonical {kind.__name__}, got {type(item).__name__}")
    return item


def split_marker(body: str) -> tuple[str, str | None]:
    """``body`` without pmhub's hidden marker line, and the marker (None when there is none)."""
    found = _MARKER.search(body)
    if found is None:
        return body, None
    cleaned = (body[:found.start()] + body[found.end():]).rstrip()
    return cleaned, found.group("marker")


def _with_marker(body: str, marker: str | None) -> str:
    body = split_marker(body)[0]
    if not marker:
        return body
    return f"{body}\n\n<!-- pmhub:{marker} -->" if body else f"<!-- pmhub:{marker} -->"


def _whole_seconds(value: dt.datetime) -> str:
    # GitHub reads ``since`` in whole seconds; PyGithub would drop tzinfo, so convert first.
    if value.tzinfo is None:
        raise ValueError("since must be timezone-aware")
    return value.astimezone(dt.UTC).strftime(_TIME_FORMAT)


def _parse_time(value: str) -> dt.datetime:
    return dt.datetime.strptime(value, _TIME_FORMAT).replace(tzinfo=dt.UTC)


def _listing_key(path: str, params: dict[str, Any]) -> str:
    """A listing's identity: its path and query without ``since``, which moves with the cursor."""
    query = urlencode(sorted((k, str(v)) for k, v in params.items() if k != "since"))
    return f"GET {path}?{query}"


def _next_link(headers: dict[str, Any]) -> str | None:
    found = _LINK_NEXT.search(headers.get("link", ""))
    return found.group(1) if found else None


def _rate_limited(status: int, message: str | None, headers: dict[str, Any] | None) -> bool:
    """Is this refusal one of GitHub's rate limits ("Rate limits for the REST API")?

    Primary: 403 or 429 with ``x-ratelimit-remaining: 0``. Secondary: 403 or 429 whose message
    says so; ``retry-after`` may be missing and quota may remain, so the message is the only sign
    that tells it from a 403 for missing permissions.
    """
    if status not in (403, 429):
        return False
    lowered = {str(k).lower(): str(v) for k, v in (headers or {}).items()}
    return (status == 429 or lowered.get("x-ratelimit-remaining") == "0" or "retry-after" in lowered
            or _RATE_LIMIT_MESSAGE.search(message or "") is not None)


def _wait_headers(headers: dict[str, Any] | None) -> dict[str, str]:
    """The headers that say how long to wait, as GitHub means them.

    ``x-ratelimit-reset`` is when the hourly quota refills; it says how long to wait only when the
    quota is spent (remaining 0). A secondary limit or a 5xx without ``Retry-After`` must not make
    the engine wait up to an hour for that reset, so the header is dropped then.
    """
    out = {str(k).lower(): str(v) for k, v in (headers or {}).items()}
    if out.get("x-ratelimit-remaining") != "0":
        out.pop("x-ratelimit-reset", None)
    return out


def _json(output: Any) -> Any:
    import json

    return json.loads(output) if output else None


def _short(url: str) -> str:
    return url.split("?", 1)[0]
