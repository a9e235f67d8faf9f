"""Plumbing of the GitHub stand-in: state, clock, rate-limit headers, ETags, errors, pagination.

The routes live in ``routes`` and ``labels``; this module holds what every route shares.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import math
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from typing import Any, ClassVar, NoReturn
from urllib.parse import urlencode, urlsplit

from werkzeug.wrappers import Request, Response

from hub.sandbox.service import BadPayload, Call, SandboxService, json_response

from .limits import SECONDARY_LIMIT_DOCS, SECONDARY_LIMIT_MESSAGE, ContentCreationLimit
from .state import Issue, Render, Repo, User

DOCS = "https://docs.github.com/rest"
VIEWER = "octocat"
ORG = "acme"
#: People every seed knows; all of them may be assigned in any repository of the sandbox.
PEOPLE = (
    ("octocat", "The Octocat", "octocat@example.com", 583231),
    ("hubot", "Hubot", "hubot@example.com", 480938),
    ("monalisa", "Mona Lisa Octocat", "mona@example.com", 2154413),
)


class Reply(Exception):
    """Short-circuits a handler with a finished reply (GitHub's 422 with ``errors``, a 410)."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status)
        self.response = response


class GitHubSandboxBase(SandboxService):
    """State and shared behaviour; ``GitHubSandbox`` adds the routes."""

    name: ClassVar[str] = "github"
    RATE_LIMIT: ClassVar[int] = 5000

    # -- state -----------------------------------------------------------------------------------
    def reset(self, seed: str) -> None:
        self.users: dict[str, User] = {}
        self.repos: dict[tuple[str, str], Repo] = {}
        self._ids: dict[str, Iterator[int]] = {}
        #: Where each issue lives, by its global id: the repository's key and the issue number.
        self.issue_places: dict[int, tuple[tuple[str, str], int]] = {}
        self._last_stamp = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
        self.rate_used = 0
        self.rate_reset = int(time.time()) + 3600
        #: The secondary content-creation limit; off until the control API turns it on.
        self.content_limit: ContentCreationLimit | None = None
        for login, name, email, user_id in PEOPLE:
            self.users[login] = User(id=user_id, login=login, name=name, email=email)
        # Accounts are not data a sync moves, so every seed has the organisation the docs use.
        self.add_org(ORG)
        if seed == "demo":
            from .seed import load_demo

            load_demo(self)

    def next_id(self, kind: str) -> int:
        # Separate, realistic-looking id ranges per kind make mixed-up ids fail loudly in tests.
        start = {"repo": 700_000_000, "issue": 2_500_000_000, "comment": 2_400_000_000,
                 "label": 7_000_000_000, "milestone": 12_000_000, "user": 190_000_000,
                 "hook": 480_000_000}[kind]
        counter = self._ids.setdefault(kind, itertools.count(start + 1))
        return next(counter)

    def add_org(self, login: str) -> User:
        user = self.users.get(login.lower())
        if user is None:
            user = User(id=self.next_id("user"), login=login, name=login, type="Organization")
            self.users[login.lower()] = user
        return user

    def register_issue(self, repo: Repo, issue: Issue) -> None:
        """Make a new issue findable by its global id (sub-issues are added by id, not number)."""
        self.issue_places[issue.id] = ((repo.owner.lower(), repo.name.lower()), issue.number)

    def locate_issue(self, issue_id: int) -> tuple[Repo, Issue] | None:
        place = self.issue_places.get(issue_id)
        repo = self.repos.get(place[0]) if place is not None else None
        issue = repo.issues.get(place[1]) if repo is not None and place is not None else None
        return (repo, issue) if repo is not None and issue is not None else None

    def stamp(self, previous: dt.datetime | None = None) -> dt.datetime:
        """The time of a write: real UTC seconds, strictly after ``previous`` (the record's last stamp).

        GitHub keeps second precision, so two edits of one record in one second would share an
        ``updated_at`` and a sync keyed on (id, updated_at) would miss the second. Running the clock
        ahead would break ``since`` cursors taken from real time, so the write waits for the next
        second instead (at most one second, only when the same record changes twice in a second).
        """
        now = max(dt.datetime.now(dt.UTC).replace(microsecond=0), self._last_stamp)
        if previous is not None and now <= previous:
            target = previous + dt.timedelta(seconds=1)
            wait = (target - dt.datetime.now(dt.UTC)).total_seconds()
            if wait > 0:
                time.sleep(wait)
            now = target
        self._last_stamp = now
        return now

    # -- lookups ---------------------------------------------------------------------------------
    def render(self, call: Call) -> Render:
        return Render(call.base, self.users, VIEWER, self.locate_issue)

    def issue_event(self, call: Call, repo: Repo, issue: Issue, action: str,
                    changes: dict[str, Any] | None = None, **extra: Any) -> None:
        """Tell the repository's hooks about an issue write; ``webhooks.HookRoutes`` delivers."""

    def sub_issue_event(self, call: Call, parent: tuple[Repo, Issue], child: tuple[Repo, Issue],
                        added: bool) -> None:
        """Tell the hooks of both repositories about a sub-issue link; ``webhooks.HookRoutes`` delivers."""

    def repo(self, owner: str, name: str) -> Repo:
        repo = self.repos.get((owner.lower(), name.lower()))
        if repo is None:
            raise BadPayload(404, "Not Found")
        return repo

    def issue(self, repo: Repo, number: int) -> Issue:
        if number in repo.deleted:
            raise Reply(self.error(410, "This issue was deleted"))
        issue = repo.issues.get(number)
        if issue is None:
            raise BadPayload(404, "Not Found")
        return issue

    def body(self, call: Call) -> dict[str, Any]:
        data = call.json()
        if not isinstance(data, dict):
            raise BadPayload(400, "Problems parsing JSON")
        return data

    def invalid(self, resource: str, field: str, code: str = "invalid", value: Any = None,
                message: str | None = None) -> NoReturn:
        """GitHub's 422: ``Validation Failed`` with one entry in ``errors``."""
        entry: dict[str, Any] = {"resource": resource, "field": field, "code": code}
        if value is not None:
            entry["value"] = value
        if message is not None:
            entry["message"] = message
        raise Reply(json_response({"message": "Validation Failed", "errors": [entry],
                                   "documentation_url": DOCS, "status": "422"}, 422))

    # -- SandboxService hooks ----------------------------------------------------------------------
    def error(self, status: int, message: str, call: Call | None = None) -> Response:
        response = json_response({"message": message, "documentation_url": DOCS, "status": str(status)},
                                 status)
        return self.finish(call.request if call is not None else None, response)

    def authorized(self, call: Call, token: str) -> bool:
        scheme, _, value = call.request.headers.get("Authorization", "").partition(" ")
        return scheme.lower() in ("token", "bearer") and value.strip() == token

    def handle(self, request: Request, subpath: str, base: str, token: str | None) -> Response:
        creating = request.method == "POST" and self.content_limit is not None
        if creating and self.content_limit is not None:
            wait = self.content_limit.refusal()
            if wait is not None:
                return self.finish(request, self.secondary_limit_reply(wait))
        try:
            response = super().handle(request, subpath, base, token)
        except Reply as reply:
            response = reply.response
        if creating and self.content_limit is not None and response.status_code < 400:
            self.content_limit.note_create()
        return self.finish(request, response, free=subpath.rstrip("/") == "/rate_limit")

    def secondary_limit_reply(self, wait: float) -> Response:
        """GitHub's 403 past a secondary limit: its message and documentation_url, quota left in
        the rate-limit headers (``finish`` adds them), Retry-After only when configured."""
        headers = self.content_limit.retry_after_header(wait) if self.content_limit is not None else {}
        return json_response({"message": SECONDARY_LIMIT_MESSAGE, "documentation_url": SECONDARY_LIMIT_DOCS},
                             403, headers=headers)

    def decorate(self, call: Call, response: Response) -> Response:
        return self.finish(call.request, response)

    def control(self, name: str, request: Request) -> Response | None:
        """``/_sandbox/github/content-creation-limit``: POST ``{"limit": N, "window_seconds": S,
        "retry_after": B}`` turns the limit on (window 60 s, no Retry-After unless asked), DELETE
        turns it off, GET shows it (null when off). A reset turns it off."""
        if name != "content-creation-limit":
            return None
        if request.method == "POST":
            try:
                self.content_limit = ContentCreationLimit.from_json(request.get_json(silent=True))
            except ValueError as error:
                return json_response({"error": str(error)}, 400)
            return json_response({"content_creation_limit": self.content_limit.to_json()}, 201)
        if request.method == "DELETE":
            self.content_limit = None
        elif request.method != "GET":
            return json_response({"error": f"{request.method} is not a method of this control"}, 405)
        limit = self.content_limit
        return json_response({"content_creation_limit": limit.to_json() if limit is not None else None})

    # -- reply decoration ------------------------------------------------------------------------
    def finish(self, request: Request | None, response: Response, *, free: bool = False) -> Response:
        """Add GitHub's headers; answer a matching ``If-None-Match`` with 304 (which costs nothing
        against the rate limit, as on GitHub). Idempotent: a reply is decorated once."""
        if "X-RateLimit-Limit" in response.headers:
            return response
        if request is not None and request.method == "GET" and response.status_code == 200:
            etag = 'W/"' + hashlib.sha256(response.get_data()).hexdigest() + '"'
            response.headers["ETag"] = etag
            if _etag_matches(request.headers.get("If-None-Match"), etag):
                response = Response(status=304, headers={"ETag": etag})
                free = True
        now = int(time.time())
        if now >= self.rate_reset:
            self.rate_used, self.rate_reset = 0, now + 3600
        if not free:
            self.rate_used += 1
        headers = response.headers
        headers["X-RateLimit-Limit"] = str(self.RATE_LIMIT)
        headers["X-RateLimit-Remaining"] = str(max(0, self.RATE_LIMIT - self.rate_used))
        headers["X-RateLimit-Used"] = str(self.rate_used)
        headers["X-RateLimit-Reset"] = str(self.rate_reset)
        headers["X-RateLimit-Resource"] = "core"
        headers["X-GitHub-Media-Type"] = "github.v3; format=json"
        headers["X-GitHub-Api-Version-Selected"] = "2022-11-28"
        headers["X-GitHub-Request-Id"] = uuid.uuid4().hex[:20].upper()
        if response.mimetype == "application/json":
            headers["Content-Type"] = "application/json; charset=utf-8"
        return response

    def rate_limit_body(self) -> dict[str, Any]:
        core = {"limit": self.RATE_LIMIT, "used": self.rate_used,
                "remaining": max(0, self.RATE_LIMIT - self.rate_used), "reset": self.rate_reset}
        idle = {"limit": 30, "used": 0, "remaining": 30, "reset": int(time.time()) + 60}
        return {"resources": {"core": core, "search": idle,
                              "graphql": {**core, "used": 0, "remaining": self.RATE_LIMIT}},
                "rate": core}

    def page(self, call: Call, items: Sequence[Any], render: Callable[[Any], Any]) -> Response:
        """One page of a listing with GitHub's RFC 5988 ``Link`` header rooted at the client's base."""
        per_page = min(100, max(1, _int_arg(call, "per_page", 30)))
        page = max(1, _int_arg(call, "page", 1))
        last = max(1, math.ceil(len(items) / per_page))
        chunk = items[(page - 1) * per_page: page * per_page]
        response = json_response([render(item) for item in chunk])
        links = []
        if page < last:
            links += [(page + 1, "next"), (last, "last")]
        if page > 1:
            links += [(min(page - 1, last), "prev"), (1, "first")]
        if links:
            response.headers["Link"] = ", ".join(
                f'<{_page_url(call, number)}>; rel="{rel}"' for number, rel in links)
        return response


def _int_arg(call: Call, name: str, default: int) -> int:
    try:
        return int(call.args.get(name, default))
    except (TypeError, ValueError):
        return default


def _page_url(call: Call, number: int) -> str:
    prefix = urlsplit(call.base).path.rstrip("/")
    path = call.request.path[len(prefix):] if call.request.path.startswith(prefix) else call.request.path
    query = [(k, v) for k, v in call.args.items(multi=True) if k != "page"] + [("page", str(number))]
    return f"{call.base}{path}?{urlencode(query)}"


def _etag_matches(header: str | None, etag: str) -> bool:
    if not header:
        return False
    if header.strip() == "*":
        return True
    bare = etag.removeprefix("W/")
    return any(candidate.strip().removeprefix("W/") == bare for candidate in header.split(","))


def parse_time(value: str) -> dt.datetime:
    """GitHub's ISO 8601 timestamps (``Z`` or an offset); ValueError otherwise."""
    parsed = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed.astimezone(dt.UTC)


def opt_str(value: Any, field: str) -> str | None:
    """An optional string field of a request body; GitHub's 422 for anything else."""
    if value is None or isinstance(value, str):
        return value
    raise BadPayload(422, f"Invalid request.\n\n{value!r} is not a string (field {field}).")
