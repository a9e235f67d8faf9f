"""The Trello connector: one board as the scope; cards <-> issues, card comments <-> comments.

Plain HTTP with ``requests`` (py-trello hard-codes its host and sets no timeouts). Every call has a
timeout, is counted in ``self.calls``, and passes a client-side rate limiter first, because Trello
answers an exceeded limit with 429 and no Retry-After.

Connection settings (``plugin = "trello"``)::

    [connections.board]
    plugin = "trello"
    base_url = "https://api.trello.com"   # or the sandbox, e.g. http://127.0.0.1:8400/trello
    key = "..."                            # the API key is public by design (it names the app)
    token = { env = "TRELLO_TOKEN" }
    timeout = 30

How the Trello model maps onto the canonical one:
- card name -> title, desc -> description (Trello descriptions are Markdown already), label names ->
  labels (colour-only labels have no name to sync and are left alone), due -> due date, members ->
  assignees (``Person.handles[connection] = username``);
- the card's list name -> ``Issue.raw["status"]``, which the flow mapping turns into a category; the
  connector also sets a default category from the name ("To Do", "Doing", "Done" and look-alikes);
- an archived card is ``cancelled``, unless it sits in a done list (archiving finished work is a
  common way to tidy a board).
"""

from __future__ import annotations

import datetime as dt
import re
import time
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from pydantic import Field, SecretStr

from hub.connector import Capability, ConnectionSettings, Connector, Remote, WebhookEvent
from hub.custom_fields import touches_custom
from hub.errors import ConnectorError, PermanentError, TransientError, error_for_status, not_json
from hub.model import CanonicalRecord, Comment, Issue, Person, StatusCategory

from . import webhooks
from .custom_fields import TrelloCustomFields

if TYPE_CHECKING:
    import requests

#: The hidden marker is a Markdown link reference definition on a line of its own after a blank
#: line: ``[pmhub]: # (MARKER)`` defines a link label nobody uses, so CommonMark renderers (Trello's
#: included) show nothing for it, yet it survives in the raw description and comment text.
#: ``tests/plugins/test_trello_connector.py`` checks that it renders to nothing.
MARKER_LINE = "[pmhub]: # ({marker})"
_MARKER_RE = re.compile(r"(?:\A|\n\n)\[pmhub\]: # \((?P<marker>[A-Za-z0-9._:/-]+)\)[ \t]*(?=\n|\Z)")
_MARKER_OK = re.compile(r"^[A-Za-z0-9._:/-]+$")
_T = TypeVar("_T")
#: How Trello's form parameters say "no colour" for a label (its description: a colour or null).
LABEL_NO_COLOR = "null"

#: Default list for each status category, when no list has the name the mapping asked for.
DEFAULT_LISTS: dict[StatusCategory, tuple[str, ...]] = {
    StatusCategory.TODO: ("To Do", "Todo", "Backlog"),
    StatusCategory.IN_PROGRESS: ("Doing", "In Progress"),
    StatusCategory.BLOCKED: ("Blocked", "Doing", "In Progress"),
    StatusCategory.DONE: ("Done",),
    # A cancelled card is archived where it is (or in the to-do list when new): archived in a done
    # list it would read back as done.
    StatusCategory.CANCELLED: ("To Do", "Todo", "Backlog"),
}


def status_from_list(name: str) -> StatusCategory:
    """A sensible category for a list name; the flow's mapping may say otherwise."""
    lowered = name.strip().lower()
    if lowered in ("done", "complete", "completed", "closed", "shipped") or "done" in lowered.split():
        return StatusCategory.DONE
    if lowered in ("doing", "in progress", "wip", "in review", "review") or "progress" in lowered:
        return StatusCategory.IN_PROGRESS
    if "block" in lowered or "waiting" in lowered:
        return StatusCategory.BLOCKED
    return StatusCategory.TODO


def with_marker(text: str, marker: str) -> str:
    """``text`` carrying ``marker`` on a hidden last line (after a blank line, or it would be
    read as part of the preceding paragraph and shown)."""
    if not _MARKER_OK.match(marker):
        raise PermanentError(f"marker {marker!r} has characters that cannot be hidden in Markdown")
    line = MARKER_LINE.format(marker=marker)
    return f"{text}\n\n{line}" if text else line


def split_marker(text: str) -> tuple[str, str | None]:
    """Undo ``with_marker``: the text as the user sees it, and the marker if there is one."""
    # The last one counts: a user may have pasted a description that carried another marker.
    found = next(reversed(list(_MARKER_RE.finditer(text))), None)
    if found is None:
        return text, None
    return text[:found.start()] + text[found.end():], found.group("marker")


def parse_time(value: str | None) -> dt.datetime | None:
    if not value:
        return None
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(dt.UTC)


def trello_time(moment: dt.datetime) -> str:
    """An aware time in Trello's own format (UTC, milliseconds, Z)."""
    utc = moment.astimezone(dt.UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def id_time(object_id: str) -> dt.datetime | None:
    """Trello ids start with 8 hex digits of their creation time in seconds."""
    try:
        return dt.datetime.fromtimestamp(int(object_id[:8], 16), dt.UTC)
    except ValueError:
        return None


class TrelloSettings(ConnectionSettings):
    base_url: str = "https://api.trello.com"
    #: The application's API key; Trello treats it as public (the token is the secret).
    key: str
    token: SecretStr
    timeout: float = Field(default=30.0, gt=0)
    #: How far before the cursor to re-read comments, to catch edits: Trello lists an edited
    #: comment only as its original ``commentCard`` action (edits are webhook-only actions), whose
    #: date is when it was written. Edits to comments older than this are not seen.
    comment_edit_lookback_days: float = Field(default=7.0, ge=0)


class RateWindow:
    """A sliding window of request times; ``acquire`` waits until one more request fits.

    Trello allows 100 requests per 10 s per token and 300 per key. One connection holds one token,
    so the token limit binds; the key limit is shared with other apps' tokens that this instance
    cannot see, which is why 429 is still handled as a transient error.
    """

    def __init__(self, limit: int, seconds: float, *, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.limit, self.seconds = limit, seconds
        self.clock, self.sleep = clock, sleep
        self.sent: deque[float] = deque()
        self.waited = 0.0

    def acquire(self) -> None:
        now = self.clock()
        while self.sent and self.sent[0] <= now - self.seconds:
            self.sent.popleft()
        if len(self.sent) >= self.limit:
            pause = self.sent[0] + self.seconds - now
            if pause > 0:
                self.waited += pause
                self.sleep(pause)
            self.sent.popleft()
            now = self.clock()
        self.sent.append(now)


class TrelloConnector(Connector):
    plugin: ClassVar[str] = "trello"
    settings_model: ClassVar[type[ConnectionSettings]] = TrelloSettings
    record_types: ClassVar[dict[str, frozenset[Capability]]] = {
        "issue": frozenset({Capability.READ, Capability.INCREMENTAL, Capability.WRITE, Capability.DELETE,
                            Capability.WEBHOOKS}),
        "comment": frozenset({Capability.READ, Capability.INCREMENTAL, Capability.WRITE, Capability.DELETE,
                              Capability.WEBHOOKS}),
    }
    #: dateLastActivity and action dates have millisecond precision and come from Trello's clock
    #: alone, so a small overlap only covers writes landing while a listing is in flight.
    cursor_overlap: ClassVar[dt.timedelta] = dt.timedelta(seconds=5)
    sorted_by_updated: ClassVar[bool] = True
    scope_help: ClassVar[str] = "Trello board id (24 hex digits, or its 8-character short link)"
    #: ``pmhub webhooks`` registers a webhook per board through this module of the plugin.
    webhook_admin: ClassVar[str | None] = ".webhook_admin"

    #: Requests per window per token, and the window (Trello's published limits).
    TOKEN_LIMIT: ClassVar[int] = 100
    WINDOW_SECONDS: ClassVar[float] = 10.0
    #: Actions per page; Trello's maximum.
    ACTIONS_PAGE: ClassVar[int] = 1000

    settings: TrelloSettings

    def __init__(self, name: str, settings: ConnectionSettings) -> None:
        super().__init__(name, settings)
        self.window = RateWindow(self.TOKEN_LIMIT, self.WINDOW_SECONDS)
        self._http: requests.Session | None = None
        # Per-board lookups, filled on first need and refreshed on a miss (lists, labels and
        # members change rarely; a connector lives for one run).
        self._lists: dict[str, dict[str, dict[str, Any]]] = {}
        self._labels: dict[str, list[dict[str, Any]]] = {}
        self._members: dict[str, list[dict[str, Any]]] = {}
        self.custom_fields = TrelloCustomFields(self)

    # -- plumbing --------------------------------------------------------------------------
    def open(self) -> None:
        # requests is imported here, not at module level: listing plugins and loading configs
        # should not pay for it.
        import requests

        settings = self.settings
        http = requests.Session()
        # The OAuth header keeps the token out of URLs, which end up in logs and error messages.
        http.headers["Authorization"] = (
            f'OAuth oauth_consumer_key="{settings.key}", '
            f'oauth_token="{settings.token.get_secret_value()}"')
        http.headers["Accept"] = "application/json"
        self._http = http

    def close(self) -> None:
        if self._http is not None:
            self._http.close()
            self._http = None

    def _call(self, method: str, path: str, *, json_body: Any = None, **params: Any) -> Any:
        import requests

        if self._http is None:
            self.open()
        assert self._http is not None
        self.window.acquire()
        self.calls.add(method)
        url = f"{self.settings.base_url.rstrip('/')}/1{path}"
        values = {k: v for k, v in params.items() if v is not None}
        # Writes go as a form body, as Trello's own clients send them (a long description would
        # overflow a query string); reads as a query string.
        body, query = (values, None) if method in ("POST", "PUT") else (None, values)
        try:
            # A custom field item's value is nested ({"value": {"number": "3"}}): that one goes as JSON.
            reply = self._http.request(method, url, params=query, data=body, json=json_body,
                                       timeout=self.settings.timeout)
        except requests.Timeout:
            raise TransientError(f"Trello did not answer {method} {path} within {self.settings.timeout:g} s"
                                 ) from None
        except requests.RequestException as error:
            raise TransientError(f"cannot reach Trello at {self.settings.base_url}: "
                                 f"{type(error).__name__}") from None
        if reply.status_code >= 400:
            raise self._failure(method, path, reply)
        try:
            return reply.json()
        except ValueError:
            raise not_json(self.name, method, url, reply.status_code,
                           reply.headers.get("Content-Type")) from None

    def _failure(self, method: str, path: str, reply: requests.Response) -> ConnectorError:
        text = reply.text.strip()[:200] or reply.reason
        error = error_for_status(reply.status_code, f"Trello {method} {path}: {reply.status_code} {text}",
                                 reply.headers)
        if isinstance(error, TransientError) and reply.status_code == 429 and error.retry_after is None:
            # No Retry-After from Trello: waiting out one whole window is always enough.
            error.retry_after = self.WINDOW_SECONDS
        return error

    def whoami(self) -> str:
        return str(self._call("GET", "/members/me", fields="username")["username"])

    # -- board lookups ---------------------------------------------------------------------
    def _board_lists(self, board: str, *, want: str | None = None) -> dict[str, dict[str, Any]]:
        lists = self._lists.get(board)
        if lists is None or (want is not None and want not in lists):
            found = self._call("GET", f"/boards/{board}/lists", filter="all")
            lists = self._lists[board] = {item["id"]: item for item in found}
            if want is not None and want not in lists:
                # Not on this board (a card mid-move): remember that, rather than ask per card.
                lists[want] = {"id": want, "name": "", "closed": True}
        return lists

    def _board_labels(self, board: str, *, refresh: bool = False) -> list[dict[str, Any]]:
        if refresh or board not in self._labels:
            self._labels[board] = self._call("GET", f"/boards/{board}/labels", limit=1000)
        return self._labels[board]

    def _board_members(self, board: str, *, refresh: bool = False) -> list[dict[str, Any]]:
        if refresh or board not in self._members:
            self._members[board] = self._call("GET", f"/boards/{board}/members")
        return self._members[board]

    # -- cards <-> issues ------------------------------------------------------------------
    def _issue(self, board: str, card: dict[str, Any]) -> Remote:
        lists = self._board_lists(board, want=card["idList"])
        list_name = lists.get(card["idList"], {}).get("name", "")
        category = status_from_list(list_name)
        if card.get("closed") and category is not StatusCategory.DONE:
            category = StatusCategory.CANCELLED
        assignees = []
        if card.get("idMembers"):
            known = {m["id"]: m for m in self._board_members(board)}
            if any(m not in known for m in card["idMembers"]):
                known = {m["id"]: m for m in self._board_members(board, refresh=True)}
            for member_id in card["idMembers"]:
                member = known.get(member_id)
                if member is not None:
                    assignees.append(Person(display_name=member.get("fullName") or None,
                                            handles={self.name: member["username"]}))
        description, marker = split_marker(card.get("desc") or "")
        due = parse_time(card.get("due"))
        start = parse_time(card.get("start"))
        updated = parse_time(card.get("dateLastActivity"))
        item = Issue(
            title=card.get("name") or "(untitled card)",
            description=description,
            status=category,
            assignees=assignees,
            labels=[label["name"] for label in card.get("labels", []) if label.get("name")],
            due_date=due.date() if due else None,
            start_date=start.date() if start else None,
            custom=self.custom_fields.read(board, card),
            raw={"status": list_name},
            created=id_time(card["id"]),
            updated=updated,
            url=card.get("url") or card.get("shortUrl"),
        )
        return Remote(id=card["id"], updated=updated, item=item, version=card.get("dateLastActivity"),
                      url=item.url, marker=marker)

    def _cards(self, board: str) -> list[dict[str, Any]]:
        # One request for the whole board, archived cards and lists included: closing a card is a
        # change pmhub must see, and Trello has no "updated since" filter on cards. Asking for the
        # lists with their cards nested (a documented form) also refreshes the list names that
        # statuses are read from, so a listing never needs a second request for them.
        lists = self._call("GET", f"/boards/{board}/lists", filter="all", cards="all",
                           card_customFieldItems="true")
        self._lists[board] = {item["id"]: {k: v for k, v in item.items() if k != "cards"} for item in lists}
        return [card for item in lists for card in item.get("cards") or []]

    def _actions(self, board: str, kinds: str, since: dt.datetime | None) -> Iterator[dict[str, Any]]:
        """Board actions of ``kinds`` newer than ``since``, newest first, following ``before`` pages."""
        before: str | None = None
        while True:
            page = self._call("GET", f"/boards/{board}/actions", filter=kinds, limit=self.ACTIONS_PAGE,
                              since=trello_time(since) if since else None, before=before)
            yield from page
            if len(page) < self.ACTIONS_PAGE:
                return
            before = page[-1]["id"]

    def _list_for(self, board: str, item: Issue, current_list: str | None = None) -> dict[str, Any]:
        """The list a card for ``item`` belongs in: the one named as the mapping's raw status,
        else the default list of its category, else the first open list."""
        all_lists = self._board_lists(board)
        lists = [t for t in all_lists.values() if not t.get("closed")]
        by_name = {t["name"].strip().lower(): t for t in lists}
        wanted = item.raw.get("status")
        if wanted and wanted.strip().lower() in by_name:
            return by_name[wanted.strip().lower()]
        here = all_lists.get(current_list or "")
        if (item.status is StatusCategory.CANCELLED and here is not None
                and status_from_list(here["name"]) is not StatusCategory.DONE):
            return here
        for name in DEFAULT_LISTS[item.status]:
            if name.lower() in by_name:
                return by_name[name.lower()]
        for tlist in lists:
            if status_from_list(tlist["name"]) is item.status:
                return tlist
        if not lists:
            raise PermanentError(f"board {board} has no open list to put a card in")
        return lists[0]

    def _label_ids(self, board: str, names: list[str], keep: list[str]) -> list[str]:
        """Ids of the board's labels called ``names`` (created when missing), plus ``keep``."""
        labels = self._board_labels(board)
        by_name = {label["name"]: label["id"] for label in labels if label.get("name")}
        if any(name not in by_name for name in names):
            labels = self._board_labels(board, refresh=True)
            by_name = {label["name"]: label["id"] for label in labels if label.get("name")}
        ids = list(keep)
        for name in names:
            if name not in by_name:
                # ``color`` is required (a colour, or "null" for none). pmhub knows only the
                # name, so the label is colourless until someone on the board picks one.
                created = self._call("POST", "/labels", idBoard=board, name=name, color=LABEL_NO_COLOR)
                by_name[name] = created["id"]
                labels.append(created)
            ids.append(by_name[name])
        return ids

    def _member_ids(self, board: str, people: list[Person]) -> list[str]:
        """Board members among ``people`` (by their handle on this connection); others cannot be
        assigned in Trello and are left out."""
        usernames = [p.handles[self.name] for p in people if self.name in p.handles]
        if not usernames:
            return []
        members = {m["username"]: m["id"] for m in self._board_members(board)}
        if any(u not in members for u in usernames):
            members = {m["username"]: m["id"] for m in self._board_members(board, refresh=True)}
        return [members[u] for u in usernames if u in members]

    def _card_fields(self, board: str, item: Issue, changed: frozenset[str] | None,
                     current: dict[str, Any] | None, marker: str | None) -> dict[str, Any]:
        def wants(name: str) -> bool:
            return changed is None or name in changed

        fields: dict[str, Any] = {}
        if wants("title"):
            fields["name"] = item.title
        if wants("description") or (current is not None and marker is not None
                                     and split_marker(current.get("desc") or "")[1] != marker):
            fields["desc"] = with_marker(item.description, marker) if marker else item.description
        if wants("due_date"):
            fields["due"] = item.due_date.isoformat() if item.due_date else ""
        if wants("start_date") and (changed is not None or item.start_date):
            fields["start"] = item.start_date.isoformat() if item.start_date else ""
        if wants("labels"):
            unnamed = [lab["id"] for lab in (current or {}).get("labels", []) if not lab.get("name")]
            fields["idLabels"] = ",".join(self._label_ids(board, item.labels, unnamed))
        if wants("assignees"):
            fields["idMembers"] = ",".join(self._member_ids(board, item.assignees))
        if wants("status"):
            target = self._list_for(board, item, current["idList"] if current else None)
            if current is None or current["idList"] != target["id"]:
                fields["idList"] = target["id"]
            was_closed = bool(current and current.get("closed"))
            # Archived finished work reads as done, so done leaves an archived card archived.
            archive = item.status is StatusCategory.CANCELLED or (
                item.status is StatusCategory.DONE and was_closed)
            if current is None or was_closed != archive:
                fields["closed"] = "true" if archive else "false"
        return fields

    # -- comments --------------------------------------------------------------------------
    def _comment(self, action: dict[str, Any]) -> Remote:
        data = action.get("data", {})
        body, marker = split_marker(data.get("text") or "")
        creator = action.get("memberCreator") or {}
        author = (Person(display_name=creator.get("fullName") or None,
                         handles={self.name: creator["username"]}) if creator.get("username") else None)
        created = parse_time(action.get("date"))
        updated = parse_time(data.get("dateLastEdited")) or created
        card = data.get("card", {})
        item = Comment(body=body, author=author, issue=card.get("id", ""), created=created, updated=updated,
                       url=f"https://trello.com/c/{card['shortLink']}#comment-{action['id']}"
                       if card.get("shortLink") else None)
        return Remote(id=action["id"], updated=updated, item=item, url=item.url, marker=marker,
                      version=data.get("dateLastEdited") or action.get("date"))

    # -- webhooks (`pmhub serve`; see webhooks.py) -------------------------------------------
    def verify_webhook(self, headers: Mapping[str, str], body: bytes, url: str) -> bool:
        return webhooks.verify(self.webhook_secret(), headers, body, url)

    def webhook_delivery_id(self, headers: Mapping[str, str], body: bytes) -> str:
        return webhooks.delivery_id(headers, body)

    def webhook_events(self, headers: Mapping[str, str], body: bytes) -> list[WebhookEvent]:
        return webhooks.events(headers, body)

    # -- the contract ----------------------------------------------------------------------
    def list_changed(self, scope: str, record_type: str, since: dt.datetime | None) -> Iterator[Remote]:
        if record_type == "comment":
            yield from self._changed_comments(scope, since)
            return
        self._check_type(record_type)
        cards = self._cards(scope)
        changed = [self._issue(scope, card) for card in cards
                   if since is None or (parse_time(card.get("dateLastActivity")) or since) >= since]
        # A deleted card simply vanishes from cards/all: only the board's action log says it
        # existed. Both requests are needed, and each is one request per run. Deletions are read
        # even without a cursor: a side whose first listing was empty has none yet, and the
        # engine ignores deletions of records it never linked.
        present = {card["id"] for card in cards}
        for action in self._actions(scope, "deleteCard", since):
            card_id = action.get("data", {}).get("card", {}).get("id")
            if card_id and card_id not in present:
                changed.append(Remote(id=card_id, updated=parse_time(action["date"]), item=None,
                                      version=action["date"], deleted=True))
        changed.sort(key=lambda r: (r.updated or dt.datetime.min.replace(tzinfo=dt.UTC), r.id))
        yield from changed

    def _changed_comments(self, board: str, since: dt.datetime | None) -> Iterator[Remote]:
        lookback = dt.timedelta(days=self.settings.comment_edit_lookback_days)
        reach = since - lookback if since is not None else None
        comments = [self._comment(a) for a in self._actions(board, "commentCard", reach)]
        changed = [c for c in comments if since is None or (c.updated is not None and c.updated >= since)]
        changed.sort(key=lambda r: (r.updated or dt.datetime.min.replace(tzinfo=dt.UTC), r.id))
        yield from changed

    def get(self, scope: str, record_type: str, external_id: str) -> Remote | None:
        try:
            if record_type == "comment":
                action = self._call("GET", f"/actions/{external_id}")
                board = action.get("data", {}).get("board", {}).get("id")
                if action.get("type") != "commentCard" or not self._same_board(scope, board):
                    return None
                return self._comment(action)
            self._check_type(record_type)
            card = self._call("GET", f"/cards/{external_id}", customFieldItems="true")
        except PermanentError as error:
            if error.status == 404:
                return None
            raise
        if not self._same_board(scope, card.get("idBoard")):
            return None  # moved to another board: gone from this scope
        return self._issue(card["idBoard"], card)

    def _same_board(self, scope: str, board_id: str | None) -> bool:
        """Is ``board_id`` the scope's board? A scope may be a board's short link."""
        if board_id is None or board_id == scope:
            return board_id is not None
        if re.fullmatch(r"[0-9a-fA-F]{24}", scope):
            return False
        return bool(self._call("GET", f"/boards/{scope}", fields="id")["id"] == board_id)

    def find_by_marker(self, scope: str, record_type: str, marker: str) -> Remote | None:
        if record_type == "comment":
            for action in self._actions(scope, "commentCard", None):
                if split_marker(action.get("data", {}).get("text") or "")[1] == marker:
                    return self._comment(action)
            return None
        self._check_type(record_type)
        for card in self._cards(scope):
            if split_marker(card.get("desc") or "")[1] == marker:
                return self._issue(scope, card)
        return None

    def create(self, scope: str, record_type: str, item: CanonicalRecord, marker: str) -> Remote:
        if record_type == "comment":
            comment = self._expect(item, Comment)
            action = self._call("POST", f"/cards/{comment.issue}/actions/comments",
                                text=with_marker(comment.body, marker))
            return self._comment(action)
        issue = self._expect(item, Issue)
        fields = self._card_fields(scope, issue, None, None, marker)
        closed = fields.pop("closed", "false") == "true"
        custom = self.custom_fields.planned(scope, {}, issue) if issue.custom else []
        card = self._call("POST", "/cards", pos="bottom", **fields)
        if closed:
            # Trello creates cards open; a cancelled item is archived right after.
            card = self._call("PUT", f"/cards/{card['id']}", closed="true")
        if self.custom_fields.send(card["id"], custom):
            card = self._call("GET", f"/cards/{card['id']}", customFieldItems="true")
        return self._issue(scope, card)

    def update(self, scope: str, record_type: str, external_id: str, item: CanonicalRecord,
               changed: frozenset[str]) -> Remote:
        if record_type == "comment":
            comment = self._expect(item, Comment)
            current = self._call("GET", f"/actions/{external_id}")
            marker = split_marker(current.get("data", {}).get("text") or "")[1]
            text = with_marker(comment.body, marker) if marker else comment.body
            return self._comment(self._call("PUT", f"/actions/{external_id}", text=text))
        issue = self._expect(item, Issue)
        current = self._call("GET", f"/cards/{external_id}", customFieldItems="true")
        marker = split_marker(current.get("desc") or "")[1]
        fields = self._card_fields(scope, issue, changed, current, marker)
        # Custom values are compared with the card's, so only the ones that differ are written.
        custom = (self.custom_fields.planned(scope, current, issue)
                  if issue.custom and touches_custom(changed) else [])
        card = self._call("PUT", f"/cards/{external_id}", **fields) if fields else current
        if self.custom_fields.send(external_id, custom):
            card = self._call("GET", f"/cards/{external_id}", customFieldItems="true")
        elif fields:
            card["customFieldItems"] = current.get("customFieldItems") or []
        return self._issue(scope, card)

    def check_fields(self, scope: str, record_type: str, fields: Mapping[str, str]) -> list[str]:
        if record_type != "issue":
            return super().check_fields(scope, record_type, fields)
        return self.custom_fields.check(scope, fields)

    def delete(self, scope: str, record_type: str, external_id: str) -> None:
        path = f"/actions/{external_id}" if record_type == "comment" else f"/cards/{external_id}"
        if record_type != "comment":
            self._check_type(record_type)
        try:
            self._call("DELETE", path)
        except PermanentError as error:
            if error.status != 404:  # already gone is what was asked for
                raise

    # -- helpers ---------------------------------------------------------------------------
    def _check_type(self, record_type: str) -> None:
        if record_type not in self.record_types:
            raise PermanentError(f"trello does not handle {record_type!r} records")

    @staticmethod
    def _expect(item: CanonicalRecord, kind: type[_T]) -> _T:
        if not isinstance(item, kind):
            raise PermanentError(f"expected a {kind.__name__}, got a {type(item).__name__}")
        return item


__all__ = [
    "RateWindow", "TrelloConnector", "TrelloSettings", "split_marker", "status_from_list", "with_marker",
]
