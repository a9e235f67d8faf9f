"""A stateful stand-in for the Trello REST API, mounted under ``/trello`` (clients call ``/trello/1/...``).

It covers what pmhub's Trello plugin and the demo use: boards with their default lists and labels,
lists, cards (create, get, update, move, archive, delete), labels and members on cards, comments,
and the board's action log (``since``, ``before``, ``limit``, ``filter``) including ``deleteCard``.

Faithfulness notes, checked against ``shared/oracles/trello``:
- parameters are read from the query string, a form body or a JSON body, as Trello does;
- errors are Trello's plain-text bodies (``invalid id``, ``The requested resource was not found.``,
  ``invalid value for idList``, ``invalid token``); a 429 carries the JSON body Trello documents
  (``{"error": "API_TOKEN_LIMIT_EXCEEDED", "message": "Rate limit exceeded"}``) and no Retry-After;
- ids are 24 hex digits whose first 8 are the creation time in seconds;
- ``since`` and ``before`` take an action id (exclusive) or an ISO date (``since`` inclusive,
  ``before`` exclusive, compared with the action's millisecond date).
"""

from __future__ import annotations

import datetime as dt
import json
import random
import re
from collections.abc import Callable, Iterable
from typing import Any

from werkzeug.wrappers import Request, Response

from hub.sandbox.service import BadPayload, Call, json_response, route

from .custom_fields import TrelloCustomFields
from .seed import load_demo
from .state import (
    DEFAULT_LABEL_COLORS,
    DEFAULT_LISTS,
    ID_RE,
    Action,
    Board,
    Card,
    IdMaker,
    Label,
    Member,
    TrelloList,
    iso,
    parse_when,
    short_link,
)
from .webhooks import TrelloWebhooks

NOT_FOUND = "The requested resource was not found."
#: The member every token in the sandbox belongs to.
BOT_USERNAME = "pmhubbot"
#: Demo data is dated at a fixed moment so its ids are the same on every reset.
#: Action types Trello only delivers to webhooks, never in nested action listings; an edited or
#: deleted comment is therefore invisible to ``GET /1/boards/{id}/actions`` (Trello's TRELLO-787).
WEBHOOK_ONLY_ACTIONS = frozenset({"updateComment", "deleteComment"})


def _text(status: int, message: str) -> Response:
    return Response(message, status=status, mimetype="text/plain")


def _flag(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in ("true", "1", "yes", "on")


def _id_list(value: Any) -> list[str]:
    """``idLabels``/``idMembers`` arrive comma-separated in a query or form, or as a JSON array."""
    if value is None:
        return []
    items = value if isinstance(value, list) else str(value).split(",")
    return [str(item).strip() for item in items if str(item).strip()]


class TrelloSandbox(TrelloCustomFields, TrelloWebhooks):
    """Trello REST v1 stand-in. State lives in plain dicts keyed by id."""

    name = "trello"

    def reset(self, seed: str) -> None:
        # The counter survives resets so an id from before a reset never names a new object.
        if not hasattr(self, "_ids"):
            self._ids = IdMaker(0x5A0000)
        self._rng = random.Random(8400)
        self.members: dict[str, Member] = {}
        self.boards: dict[str, Board] = {}
        self.lists: dict[str, TrelloList] = {}
        self.labels: dict[str, Label] = {}
        self.cards: dict[str, Card] = {}
        self.actions: dict[str, Action] = {}
        #: Encoded card JSON by card id, for listing big boards fast; any write empties it.
        self._encoded_cards: dict[str, str] = {}
        self.me = self._add_member(BOT_USERNAME, "pmhub bot", self.now())
        self.reset_webhooks()
        self.reset_custom_fields()
        if seed == "demo":
            load_demo(self)

    # -- infrastructure ------------------------------------------------------------------
    @staticmethod
    def now() -> dt.datetime:
        return dt.datetime.now(dt.UTC)

    def handle(self, request: Request, subpath: str, base: str, token: str | None) -> Response:
        if request.method != "GET":
            # A write may change any card's JSON (a label rename shows on every card using it).
            self._encoded_cards.clear()
        return super().handle(request, subpath, base, token)

    def error(self, status: int, message: str, call: Call | None = None) -> Response:
        if status == 401:
            return _text(401, self._auth_problem(call) if call is not None else "invalid token")
        if status in (404, 405) and message in ("Not Found", "Method Not Allowed") and call is not None:
            # An unknown route: Trello's web framework answers "Cannot GET /1/...".
            path = "/" + call.request.path.lstrip("/").partition("/")[2]
            return _text(404, f"Cannot {call.request.method} {path}")
        if status == 429:
            return json_response({"error": "API_TOKEN_LIMIT_EXCEEDED", "message": "Rate limit exceeded"}, 429)
        if status >= 500 and message == "Injected fault":
            return _text(status, {500: "Internal Server Error", 502: "Bad Gateway",
                                  503: "Service Unavailable"}.get(status, "Server Error"))
        return _text(status, message)

    @staticmethod
    def _credentials(call: Call) -> tuple[str | None, str | None]:
        args = call.request.args
        key, token = args.get("key"), args.get("token")
        header = call.request.headers.get("Authorization", "")
        if header.startswith("OAuth "):
            pairs = dict(re.findall(r'(\w+)="([^"]*)"', header))
            key = key or pairs.get("oauth_consumer_key")
            token = token or pairs.get("oauth_token")
        if key is None or token is None:
            try:
                body = call.form_or_json()
            except BadPayload:
                body = {}
            key = key or body.get("key")
            token = token or body.get("token")
        return key, token

    def _auth_problem(self, call: Call) -> str:
        key, token = self._credentials(call)
        if not key:
            return "invalid key"
        if not token:
            return "unauthorized permission requested"
        return "invalid token"

    def authorized(self, call: Call, token: str) -> bool:
        key, given = self._credentials(call)
        return bool(key) and given == token

    @staticmethod
    def params(call: Call) -> dict[str, Any]:
        """Query string, form and JSON body merged; the body wins, as in Trello."""
        values: dict[str, Any] = dict(call.request.args.items())
        if call.request.get_data(cache=True) or call.request.form:
            values.update(call.form_or_json())
        return values

    def _stamp(self) -> dt.datetime:
        """Now, but strictly after the latest action, so action dates order like their ids."""
        now = self.now()
        moment = now.replace(microsecond=now.microsecond // 1000 * 1000)
        if self.actions:
            latest = max(action.date for action in self.actions.values())
            if moment <= latest:
                moment = latest + dt.timedelta(milliseconds=1)
        return moment

    # -- lookups -------------------------------------------------------------------------
    def _find(self, table: dict[str, Any], ref: str, *, by_short: bool = False) -> Any:
        if ID_RE.match(ref):
            found = table.get(ref.lower())
            if found is not None:
                return found
            raise BadPayload(404, NOT_FOUND)
        if by_short and len(ref) == 8:
            for item in table.values():
                if getattr(item, "short_link", None) == ref:
                    return item
            raise BadPayload(404, NOT_FOUND)
        raise BadPayload(400, "invalid id")

    def board(self, ref: str) -> Board:
        return self._find(self.boards, ref, by_short=True)

    def card(self, ref: str) -> Card:
        return self._find(self.cards, ref, by_short=True)

    def tlist(self, ref: str) -> TrelloList:
        return self._find(self.lists, ref)

    def label(self, ref: str) -> Label:
        return self._find(self.labels, ref)

    def action(self, ref: str) -> Action:
        return self._find(self.actions, ref)

    def member(self, ref: str) -> Member:
        if ref == "me":
            return self.me
        for member in self.members.values():
            if member.username == ref:
                return member
        return self._find(self.members, ref)

    # -- writes shared by routes and seeds -------------------------------------------------
    def _add_member(self, username: str, full_name: str, at: dt.datetime) -> Member:
        member = Member(self._ids.new(at), username, full_name)
        self.members[member.id] = member
        return member

    def _log(self, kind: str, board: Board, data: dict[str, Any], at: dt.datetime, *,
             card: Card | None = None, tlist: TrelloList | None = None) -> Action:
        data = {**data, "board": {"id": board.id, "name": board.name, "shortLink": board.short_link}}
        action = Action(self._ids.new(at), kind, self.me.id, at, board.id, data,
                        card=card.id if card else None, list_id=tlist.id if tlist else None)
        self.actions[action.id] = action
        board.last_activity = at
        self.action_event(action)
        return action

    def _create_board(self, name: str, desc: str, at: dt.datetime, *, lists: bool = True,
                      labels: bool = True) -> Board:
        board = Board(self._ids.new(at), name, desc, short_link(self._rng), at, self.me.id,
                      members=[self.me.id])
        self.boards[board.id] = board
        self._log("createBoard", board, {}, at)
        if lists:
            for index, list_name in enumerate(DEFAULT_LISTS):
                self._create_list(board, list_name, 16384.0 * (index + 1), at, log=False)
        if labels:
            for color in DEFAULT_LABEL_COLORS:
                self._create_label(board, "", color, at)
        return board

    def _create_list(self, board: Board, name: str, pos: float, at: dt.datetime, *,
                     log: bool = True) -> TrelloList:
        tlist = TrelloList(self._ids.new(at), name, board.id, pos)
        self.lists[tlist.id] = tlist
        if log:
            self._log("createList", board, {"list": tlist.ref()}, at, tlist=tlist)
        return tlist

    def _create_label(self, board: Board, name: str, color: str | None, at: dt.datetime) -> Label:
        label = Label(self._ids.new(at), board.id, name, color)
        self.labels[label.id] = label
        return label

    def _cards_of(self, *, board: str | None = None, tlist: str | None = None) -> list[Card]:
        found = [card for card in self.cards.values()
                 if (board is None or card.board == board) and (tlist is None or card.list_id == tlist)]
        found.sort(key=lambda card: (self.lists[card.list_id].pos if card.list_id in self.lists else 0,
                                     card.pos))
        return found

    def _position(self, value: Any, siblings: Iterable[float]) -> float:
        positions = sorted(siblings)
        if value in (None, "", "bottom"):
            return positions[-1] + 65536 if positions else 65535.0
        if value == "top":
            return positions[0] / 2 if positions else 65535.0
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise BadPayload(400, "invalid value for pos") from None
        if number < 0:
            raise BadPayload(400, "invalid value for pos")
        return number

    @staticmethod
    def _due(value: Any) -> str | None:
        if value in (None, "", "null"):
            return None
        moment = parse_when(str(value))
        if moment is None:
            raise BadPayload(400, "invalid value for due")
        return iso(moment)

    def _check_ids(self, ids: list[str], table: dict[str, Any], field_name: str,
                   board: Board | None = None) -> list[str]:
        out = []
        for ref in ids:
            item = table.get(ref.lower()) if ID_RE.match(ref) else None
            if item is None or (board is not None and getattr(item, "board", board.id) != board.id):
                raise BadPayload(400, f"invalid value for {field_name}")
            if ref.lower() not in out:
                out.append(ref.lower())
        return out

    def _create_card(self, tlist: TrelloList, values: dict[str, Any], at: dt.datetime) -> Card:
        board = self.boards[tlist.board]
        name = str(values.get("name") or "")
        if len(name) > 16384:
            raise BadPayload(400, "invalid value for name")
        labels = self._check_ids(_id_list(values.get("idLabels")), self.labels, "idLabels", board)
        members = self._check_ids(_id_list(values.get("idMembers")), self.members, "idMembers")
        card = Card(
            id=self._ids.new(at), name=name, desc=str(values.get("desc") or ""), board=board.id,
            list_id=tlist.id, pos=self._position(values.get("pos"),
                                              (c.pos for c in self._cards_of(tlist=tlist.id))),
            id_short=board.next_short, short_link=short_link(self._rng), last_activity=at,
            due=self._due(values.get("due")), due_complete=_flag(values.get("dueComplete", False)),
            start=self._due(values.get("start")), labels=labels, members=members,
        )
        board.next_short += 1
        self.cards[card.id] = card
        self._log("createCard", board, {"card": card.ref(), "list": tlist.ref()}, at, card=card,
                  tlist=tlist)
        return card

    def _comment(self, card: Card, text: str, at: dt.datetime) -> Action:
        board = self.boards[card.board]
        card.comments += 1
        card.last_activity = at
        return self._log("commentCard", board, {
            "text": text, "textData": {"emoji": {}}, "card": card.ref(),
            "list": self.lists[card.list_id].ref(),
        }, at, card=card, tlist=self.lists[card.list_id])

    def _card_json(self, card: Card, call: Call | None = None) -> dict[str, Any]:
        return card.to_json(self.labels) if call is None else self._card_view(call)(card)

    def _encoded_list(self, cards: list[Card]) -> Response:
        cache = self._encoded_cards
        parts = []
        for card in cards:
            encoded = cache.get(card.id)
            if encoded is None:
                encoded = cache[card.id] = json.dumps(card.to_json(self.labels), separators=(",", ":"))
            parts.append(encoded)
        return Response("[" + ",".join(parts) + "]", mimetype="application/json")

    def _card_view(self, call: Call) -> Callable[[Card], dict[str, Any]]:
        """How this request wants cards shown (``fields``, ``members``, ``list``), read once per
        request rather than once per card: listing a big board is the hot path."""
        args = call.args
        fields = args.get("fields")
        names = None if not fields or fields == "all" else fields.split(",")
        with_members = _flag(args.get("members", False))
        with_list = _flag(args.get("list", False))
        with_items = _flag(args.get("customFieldItems", False))

        def view(card: Card) -> dict[str, Any]:
            full = card.to_json(self.labels)
            out = full if names is None else {"id": card.id, **{n: full[n] for n in names if n in full}}
            if with_members:
                out["members"] = [self.members[m].brief() for m in card.members if m in self.members]
            if with_list:
                out["list"] = self.lists[card.list_id].to_json()
            if with_items:
                out["customFieldItems"] = self.card_items(card)
            return out

        return view

    def _board_json(self, board: Board, call: Call) -> dict[str, Any]:
        full = board.to_json()
        fields = call.args.get("fields")
        out = full if not fields or fields == "all" else {
            "id": board.id, **{name: full[name] for name in fields.split(",") if name in full}}
        lists_filter = call.args.get("lists")
        if lists_filter and lists_filter != "none":
            out["lists"] = [t.to_json() for t in self._lists_of(board, lists_filter)]
        cards_filter = call.args.get("cards")
        if cards_filter and cards_filter != "none":
            out["cards"] = [self._card_json(c) for c in self._filter_cards(board, cards_filter)]
        if call.args.get("labels") in ("all",):
            out["labels"] = [lab.to_json() for lab in self.labels.values() if lab.board == board.id]
        return out

    def _lists_of(self, board: Board, which: str) -> list[TrelloList]:
        found = sorted((t for t in self.lists.values() if t.board == board.id), key=lambda t: t.pos)
        if which in ("open", ""):
            return [t for t in found if not t.closed]
        if which == "closed":
            return [t for t in found if t.closed]
        if which == "all":
            return found
        raise BadPayload(400, "invalid value for filter")

    def _filter_cards(self, board: Board, which: str) -> list[Card]:
        cards = self._cards_of(board=board.id)
        lists_open = {t.id for t in self.lists.values() if t.board == board.id and not t.closed}
        rules: dict[str, Callable[[Card], bool]] = {
            "all": lambda c: True,
            "closed": lambda c: c.closed,
            "open": lambda c: not c.closed,
            "visible": lambda c: not c.closed and c.list_id in lists_open,
            "none": lambda c: False,
            "complete": lambda c: c.due_complete,
            "incomplete": lambda c: not c.due_complete,
        }
        if which not in rules:
            raise BadPayload(400, "invalid value for filter")
        return [card for card in cards if rules[which](card)]

    # -- members -------------------------------------------------------------------------
    @route("/1/members/<ref>")
    def get_member(self, call: Call, ref: str) -> Response:
        member = self.member(ref)
        boards = [b.id for b in self.boards.values() if member.id in b.members]
        return json_response(member.full(boards))

    @route("/1/members/<ref>/boards")
    def get_member_boards(self, call: Call, ref: str) -> Response:
        member = self.member(ref)
        which = call.args.get("filter", "all")
        boards = [b for b in self.boards.values() if member.id in b.members
                  and (which == "all" or (which == "open") != b.closed)]
        return json_response([self._board_json(b, call) for b in boards])

    # -- boards --------------------------------------------------------------------------
    @route("/1/boards", methods=("POST",))
    def create_board(self, call: Call) -> Response:
        values = self.params(call)
        name = str(values.get("name") or "").strip()
        if not name or len(name) > 16384:
            raise BadPayload(400, "invalid value for name")
        board = self._create_board(
            name, str(values.get("desc") or ""), self._stamp(),
            lists=_flag(values.get("defaultLists", True)), labels=_flag(values.get("defaultLabels", True)))
        return json_response(board.to_json())

    @route("/1/boards/<ref>")
    def get_board(self, call: Call, ref: str) -> Response:
        return json_response(self._board_json(self.board(ref), call))

    @route("/1/boards/<ref>", methods=("PUT",))
    def update_board(self, call: Call, ref: str) -> Response:
        board = self.board(ref)
        values = self.params(call)
        at = self._stamp()
        old: dict[str, Any] = {}
        if "name" in values:
            name = str(values["name"]).strip()
            if not name:
                raise BadPayload(400, "invalid value for name")
            old["name"], board.name = board.name, name
        if "desc" in values:
            old["desc"], board.desc = board.desc, str(values["desc"] or "")
        if "closed" in values:
            old["closed"], board.closed = board.closed, _flag(values["closed"])
        if old:
            self._log("updateBoard", board, {"old": old}, at)
        return json_response(board.to_json())

    @route("/1/boards/<ref>", methods=("DELETE",))
    def delete_board(self, call: Call, ref: str) -> Response:
        board = self.board(ref)
        del self.boards[board.id]
        for table in (self.lists, self.labels, self.cards, self.actions):
            for key in [k for k, v in table.items() if v.board == board.id]:
                del table[key]
        return json_response({"_value": None})

    @route("/1/boards/<ref>/lists")
    @route("/1/boards/<ref>/lists/<which>")
    def board_lists(self, call: Call, ref: str, which: str | None = None) -> Response:
        board = self.board(ref)
        lists = self._lists_of(board, which or call.args.get("filter", "open"))
        out = []
        for tlist in lists:
            item = tlist.to_json()
            del item["limits"]
            if call.args.get("cards") not in (None, "none"):
                item["cards"] = [self._card_json(c) for c in self._cards_of(tlist=tlist.id)
                                 if call.args["cards"] == "all" or not c.closed]
                if _flag(call.args.get("card_customFieldItems", False)):
                    for card_json in item["cards"]:
                        card_json["customFieldItems"] = self.card_items(self.cards[card_json["id"]])
            out.append(item)
        return json_response(out)

    @route("/1/boards/<ref>/lists", methods=("POST",))
    def board_create_list(self, call: Call, ref: str) -> Response:
        return self._new_list(self.board(ref), self.params(call))

    @route("/1/boards/<ref>/labels")
    def board_labels(self, call: Call, ref: str) -> Response:
        board = self.board(ref)
        limit = self._limit(call, default=50)
        labels = [lab.to_json() for lab in self.labels.values() if lab.board == board.id]
        return json_response(labels[:limit])

    @route("/1/boards/<ref>/labels", methods=("POST",))
    def board_create_label(self, call: Call, ref: str) -> Response:
        return self._new_label(self.board(ref), self.params(call))

    @route("/1/boards/<ref>/members")
    def board_members(self, call: Call, ref: str) -> Response:
        board = self.board(ref)
        return json_response([self.members[m].summary() for m in board.members if m in self.members])

    @route("/1/boards/<ref>/members/<member_ref>", methods=("PUT",))
    def board_add_member(self, call: Call, ref: str, member_ref: str) -> Response:
        board = self.board(ref)
        member = self.member(member_ref)
        if member.id not in board.members:
            board.members.append(member.id)
            self._log("addMemberToBoard", board, {"idMemberAdded": member.id,
                                                   "memberType": "normal"}, self._stamp())
        body = board.to_json()
        return json_response({"id": board.id, "members": [self.members[m].brief() for m in board.members],
                              "memberships": body["memberships"]})

    @route("/1/boards/<ref>/cards")
    @route("/1/boards/<ref>/cards/<which>")
    def board_cards(self, call: Call, ref: str, which: str | None = None) -> Response:
        board = self.board(ref)
        if which is not None and ID_RE.match(which):
            card = self.card(which)
            if card.board != board.id:
                raise BadPayload(404, NOT_FOUND)
            return json_response(self._card_json(card, call))
        which = which or call.args.get("filter", "open")
        cards = self._filter_cards(board, which)
        if not {"fields", "members", "list", "customFieldItems"} & set(call.args):
            return self._encoded_list(cards)
        view = self._card_view(call)
        return json_response([view(c) for c in cards])

    @route("/1/boards/<ref>/actions")
    def board_actions(self, call: Call, ref: str) -> Response:
        board = self.board(ref)
        return self._actions_reply(call, lambda a: a.board == board.id)

    # -- lists ---------------------------------------------------------------------------
    def _new_list(self, board: Board, values: dict[str, Any]) -> Response:
        name = str(values.get("name") or "").strip()
        if not name:
            raise BadPayload(400, "invalid value for name")
        siblings = [t.pos for t in self.lists.values() if t.board == board.id]
        tlist = self._create_list(board, name, self._position(values.get("pos"), siblings), self._stamp())
        return json_response(tlist.to_json())

    @route("/1/lists", methods=("POST",))
    def create_list(self, call: Call) -> Response:
        values = self.params(call)
        board_ref = str(values.get("idBoard") or "")
        if not ID_RE.match(board_ref) or board_ref.lower() not in self.boards:
            raise BadPayload(400, "invalid value for idBoard")
        return self._new_list(self.boards[board_ref.lower()], values)

    @route("/1/lists/<ref>")
    def get_list(self, call: Call, ref: str) -> Response:
        item = self.tlist(ref).to_json()
        del item["limits"]
        return json_response(item)

    @route("/1/lists/<ref>", methods=("PUT",))
    def update_list(self, call: Call, ref: str) -> Response:
        tlist = self.tlist(ref)
        values = self.params(call)
        old: dict[str, Any] = {}
        if "name" in values:
            if not str(values["name"]).strip():
                raise BadPayload(400, "invalid value for name")
            old["name"], tlist.name = tlist.name, str(values["name"]).strip()
        if "closed" in values:
            old["closed"], tlist.closed = tlist.closed, _flag(values["closed"])
        if "pos" in values:
            siblings = [t.pos for t in self.lists.values() if t.board == tlist.board and t is not tlist]
            old["pos"], tlist.pos = tlist.pos, self._position(values["pos"], siblings)
        if old:
            self._log("updateList", self.boards[tlist.board], {"old": old, "list": tlist.ref()},
                      self._stamp(), tlist=tlist)
        item = tlist.to_json()
        del item["limits"]
        return json_response(item)

    @route("/1/lists/<ref>/cards")
    def list_cards(self, call: Call, ref: str) -> Response:
        tlist = self.tlist(ref)
        which = call.args.get("filter", "open")
        cards = [c for c in self._filter_cards(self.boards[tlist.board], which) if c.list_id == tlist.id]
        view = self._card_view(call)
        return json_response([view(c) for c in cards])

    @route("/1/lists/<ref>/actions")
    def list_actions(self, call: Call, ref: str) -> Response:
        tlist = self.tlist(ref)
        return self._actions_reply(call, lambda a: a.list_id == tlist.id)

    # -- labels --------------------------------------------------------------------------
    def _new_label(self, board: Board, values: dict[str, Any]) -> Response:
        # Trello's description marks ``color`` required on every label create: a colour, or
        # ``null`` for none. Absent, Trello refuses the create like any missing required value.
        if "color" not in values:
            raise BadPayload(400, "invalid value for color")
        color = values["color"]
        color = None if color in (None, "", "null") else str(color)
        label = self._create_label(board, str(values.get("name") or ""), color, self._stamp())
        return json_response({**label.to_json(), "limits": {}})

    @route("/1/labels", methods=("POST",))
    def create_label(self, call: Call) -> Response:
        values = self.params(call)
        board_ref = str(values.get("idBoard") or "")
        if not ID_RE.match(board_ref) or board_ref.lower() not in self.boards:
            raise BadPayload(400, "invalid value for idBoard")
        return self._new_label(self.boards[board_ref.lower()], values)

    @route("/1/labels/<ref>")
    def get_label(self, call: Call, ref: str) -> Response:
        return json_response(self.label(ref).to_json())

    @route("/1/labels/<ref>", methods=("PUT",))
    def update_label(self, call: Call, ref: str) -> Response:
        label = self.label(ref)
        values = self.params(call)
        if "name" in values:
            label.name = str(values["name"] or "")
        if "color" in values:
            label.color = None if values["color"] in (None, "", "null") else str(values["color"])
        return json_response(label.to_json())

    @route("/1/labels/<ref>", methods=("DELETE",))
    def delete_label(self, call: Call, ref: str) -> Response:
        label = self.label(ref)
        del self.labels[label.id]
        for card in self.cards.values():
            if label.id in card.labels:
                card.labels.remove(label.id)
        return json_response({"limits": {}})

    # -- cards ---------------------------------------------------------------------------
    @route("/1/cards", methods=("POST",))
    def create_card(self, call: Call) -> Response:
        values = self.params(call)
        list_ref = str(values.get("idList") or "")
        if not ID_RE.match(list_ref) or list_ref.lower() not in self.lists:
            raise BadPayload(400, "invalid value for idList")
        card = self._create_card(self.lists[list_ref.lower()], values, self._stamp())
        return json_response({**self._card_json(card), "attachments": [], "stickers": [], "limits": {}})

    @route("/1/cards/<ref>")
    def get_card(self, call: Call, ref: str) -> Response:
        return json_response(self._card_json(self.card(ref), call))

    @route("/1/cards/<ref>", methods=("PUT",))
    def update_card(self, call: Call, ref: str) -> Response:
        card = self.card(ref)
        self._update_card(card, self.params(call))
        return json_response(self._card_json(card))

    @route("/1/cards/<ref>/<any(name,desc,closed,idList,due,dueComplete,pos,idBoard):field>",
           methods=("PUT",))
    def update_card_field(self, call: Call, ref: str, field: str) -> Response:
        card = self.card(ref)
        values = self.params(call)
        if "value" not in values:
            raise BadPayload(400, "invalid value for value")
        self._update_card(card, {field: values["value"]})
        return json_response(self._card_json(card))

    def _update_card(self, card: Card, values: dict[str, Any], at: dt.datetime | None = None) -> None:
        # Validate everything first so a bad value changes nothing.
        board = self.boards[card.board]
        target = self.lists[card.list_id]
        if "idList" in values:
            ref = str(values["idList"] or "")
            if not ID_RE.match(ref) or ref.lower() not in self.lists:
                raise BadPayload(400, "invalid value for idList")
            target = self.lists[ref.lower()]
        if "idBoard" in values and "idList" not in values:
            raise BadPayload(400, "invalid value for idList")
        if "name" in values and (not str(values["name"]).strip() or len(str(values["name"])) > 16384):
            raise BadPayload(400, "invalid value for name")
        new_board = self.boards[target.board]
        due = self._due(values["due"]) if "due" in values else card.due
        start = self._due(values["start"]) if "start" in values else card.start
        labels = (self._check_ids(_id_list(values["idLabels"]), self.labels, "idLabels", new_board)
                  if "idLabels" in values else card.labels)
        members = (self._check_ids(_id_list(values["idMembers"]), self.members, "idMembers")
                   if "idMembers" in values else card.members)
        siblings = (c.pos for c in self._cards_of(tlist=target.id) if c is not card)
        pos = self._position(values["pos"], siblings) if "pos" in values else card.pos

        at = at or self._stamp()
        changes: list[tuple[str, Any, Any]] = []
        for name, new in (("name", str(values.get("name", card.name))),
                          ("desc", str(values.get("desc", card.desc) or "")),
                          ("due", due),
                          ("start", start),
                          ("dueComplete", _flag(values.get("dueComplete", card.due_complete))),
                          ("closed", _flag(values.get("closed", card.closed))),
                          ("pos", pos)):
            attr = {"dueComplete": "due_complete"}.get(name, name)
            if getattr(card, attr) != new:
                changes.append((name, getattr(card, attr), new))
                setattr(card, attr, new)
        moved_from = self.lists[card.list_id] if target.id != card.list_id else None
        if moved_from is not None:
            card.list_id, card.board = target.id, target.board
            if card.board != board.id:
                card.id_short = new_board.next_short
                new_board.next_short += 1
        old_labels, old_members = list(card.labels), list(card.members)
        card.labels, card.members = list(labels), list(members)
        if not changes and moved_from is None and old_labels == card.labels and old_members == card.members:
            return
        card.last_activity = at
        here = self.lists[card.list_id]
        for name, old, new in changes:
            self._log("updateCard", new_board, {
                "card": {**card.ref(), name: new}, "old": {name: old}, "list": here.ref()},
                at, card=card, tlist=here)
        if moved_from is not None:
            self._log("updateCard", new_board, {
                "card": {**card.ref(), "idList": here.id}, "old": {"idList": moved_from.id},
                "listBefore": moved_from.ref(), "listAfter": here.ref()}, at, card=card, tlist=here)
        for label in set(card.labels) - set(old_labels):
            lab = self.labels[label]
            self._log("addLabelToCard", new_board, {"card": card.ref(), "label": {
                "id": lab.id, "name": lab.name, "color": lab.color}}, at, card=card)
        for label in set(old_labels) - set(card.labels):
            gone = self.labels.get(label)
            self._log("removeLabelFromCard", new_board, {"card": card.ref(), "label": {
                "id": label, "name": gone.name if gone else "", "color": gone.color if gone else None}},
                at, card=card)
        for member in set(card.members) - set(old_members):
            self._log("addMemberToCard", new_board, {"card": card.ref(), "idMember": member,
                                                     "member": self.members[member].summary()},
                      at, card=card)
        for member in set(old_members) - set(card.members):
            self._log("removeMemberFromCard", new_board, {"card": card.ref(), "idMember": member},
                      at, card=card)

    @route("/1/cards/<ref>", methods=("DELETE",))
    def delete_card(self, call: Call, ref: str) -> Response:
        card = self.card(ref)
        del self.cards[card.id]
        tlist = self.lists[card.list_id]
        self._log("deleteCard", self.boards[card.board], {
            "card": {"id": card.id, "idShort": card.id_short, "shortLink": card.short_link},
            "list": tlist.ref()}, self._stamp(), card=card, tlist=tlist)
        return json_response({"limits": {}})

    @route("/1/cards/<ref>/idLabels", methods=("POST",))
    def card_add_label(self, call: Call, ref: str) -> Response:
        card = self.card(ref)
        value = str(self.params(call).get("value") or "")
        self._check_ids([value], self.labels, "value", self.boards[card.board])
        if value.lower() in card.labels:
            raise BadPayload(400, "that label is already on the card")
        self._update_card(card, {"idLabels": [*card.labels, value.lower()]})
        return json_response(card.labels)

    @route("/1/cards/<ref>/idLabels/<label_ref>", methods=("DELETE",))
    def card_remove_label(self, call: Call, ref: str, label_ref: str) -> Response:
        card = self.card(ref)
        if not ID_RE.match(label_ref):
            raise BadPayload(400, "invalid value for idLabel")
        if label_ref.lower() not in card.labels:
            raise BadPayload(404, "That label is not on the card")
        self._update_card(card, {"idLabels": [lab for lab in card.labels if lab != label_ref.lower()]})
        return json_response({"_value": None})

    @route("/1/cards/<ref>/members")
    def card_members(self, call: Call, ref: str) -> Response:
        card = self.card(ref)
        return json_response([self.members[m].brief() for m in card.members if m in self.members])

    @route("/1/cards/<ref>/idMembers", methods=("POST",))
    def card_add_member(self, call: Call, ref: str) -> Response:
        card = self.card(ref)
        value = str(self.params(call).get("value") or "")
        self._check_ids([value], self.members, "value")
        if value.lower() in card.members:
            raise BadPayload(400, "member is already on the card")
        self._update_card(card, {"idMembers": [*card.members, value.lower()]})
        return json_response([self.members[m].brief() for m in card.members])

    @route("/1/cards/<ref>/idMembers/<member_ref>", methods=("DELETE",))
    def card_remove_member(self, call: Call, ref: str, member_ref: str) -> Response:
        card = self.card(ref)
        member = self.member(member_ref)
        if member.id not in card.members:
            raise BadPayload(400, "member is not on the card")
        self._update_card(card, {"idMembers": [m for m in card.members if m != member.id]})
        return json_response([self.members[m].brief() for m in card.members])

    @route("/1/cards/<ref>/actions")
    def card_actions(self, call: Call, ref: str) -> Response:
        card = self.card(ref)
        # Trello's default for a card's actions is its comments and list moves.
        return self._actions_reply(call, lambda a: a.card == card.id,
                                   default_filter="commentCard,updateCard:idList")

    # -- comments ------------------------------------------------------------------------
    @route("/1/cards/<ref>/actions/comments", methods=("POST",))
    def add_comment(self, call: Call, ref: str) -> Response:
        card = self.card(ref)
        text = self.params(call).get("text")
        if text is None or not str(text).strip() or len(str(text)) > 16384:
            raise BadPayload(400, "invalid value for text")
        action = self._comment(card, str(text), self._stamp())
        out = action.to_json(self.me)
        out["entities"] = [
            {"type": "member", "id": self.me.id, "username": self.me.username, "text": self.me.full_name},
            {"type": "text", "text": "on", "hideIfContext": True, "idContext": card.id},
            {"type": "card", "hideIfContext": True, "id": card.id, "shortLink": card.short_link,
             "text": card.name},
            {"type": "comment", "text": action.data["text"]},
        ]
        return json_response(out)

    def _comment_action(self, ref: str, card_ref: str | None = None) -> Action:
        action = self.action(ref)
        if action.type != "commentCard" or (card_ref is not None and action.card != self.card(card_ref).id):
            raise BadPayload(400, "invalid value for idAction")
        return action

    def _edit_comment(self, action: Action, text: Any) -> Response:
        if text is None or not str(text).strip():
            raise BadPayload(400, "invalid value for text")
        at = self._stamp()
        old = action.data["text"]
        action.data = {**action.data, "text": str(text), "dateLastEdited": iso(at)}
        card = self.cards.get(action.card or "")
        if card is not None:
            card.last_activity = at
        board = self.boards[action.board]
        self._log("updateComment", board, {
            "action": {"id": action.id, "text": str(text)}, "old": {"text": old},
            "card": action.data["card"]}, at, card=card)
        return json_response(action.to_json(self.members.get(action.creator)))

    @route("/1/actions/<ref>", methods=("PUT",))
    def update_action(self, call: Call, ref: str) -> Response:
        return self._edit_comment(self._comment_action(ref), self.params(call).get("text"))

    @route("/1/actions/<ref>/text", methods=("PUT",))
    def update_action_text(self, call: Call, ref: str) -> Response:
        return self._edit_comment(self._comment_action(ref), self.params(call).get("value"))

    @route("/1/cards/<card_ref>/actions/<ref>/comments", methods=("PUT",))
    def update_card_comment(self, call: Call, card_ref: str, ref: str) -> Response:
        return self._edit_comment(self._comment_action(ref, card_ref), self.params(call).get("text"))

    def _delete_comment(self, action: Action) -> Response:
        del self.actions[action.id]
        card = self.cards.get(action.card or "")
        at = self._stamp()
        if card is not None:
            card.comments = max(0, card.comments - 1)
            card.last_activity = at
        self._log("deleteComment", self.boards[action.board], {
            "action": {"id": action.id}, "card": action.data["card"]}, at, card=card)
        return json_response({"_value": None})

    @route("/1/actions/<ref>", methods=("DELETE",))
    def delete_action(self, call: Call, ref: str) -> Response:
        return self._delete_comment(self._comment_action(ref))

    @route("/1/cards/<card_ref>/actions/<ref>/comments", methods=("DELETE",))
    def delete_card_comment(self, call: Call, card_ref: str, ref: str) -> Response:
        return self._delete_comment(self._comment_action(ref, card_ref))

    @route("/1/actions/<ref>")
    def get_action(self, call: Call, ref: str) -> Response:
        action = self.action(ref)
        return json_response(action.to_json(self.members.get(action.creator)))

    # -- the action log ------------------------------------------------------------------
    @staticmethod
    def _limit(call: Call, default: int) -> int:
        raw = call.args.get("limit")
        if raw is None:
            return default
        try:
            limit = int(raw)
        except ValueError:
            raise BadPayload(400, "invalid value for limit") from None
        if not 0 <= limit <= 1000:
            raise BadPayload(400, "invalid value for limit")
        return limit

    def _actions_reply(self, call: Call, scope: Callable[[Action], bool], *,
                       default_filter: str = "all") -> Response:
        args = call.args
        wanted = [part.strip() for part in args.get("filter", default_filter).split(",") if part.strip()]
        limit = self._limit(call, default=50)
        try:
            page = int(args.get("page", "0"))
        except ValueError:
            raise BadPayload(400, "invalid value for page") from None
        if page < 0 or (page > 0 and page * limit >= 1000):
            raise BadPayload(400, "invalid value for page")
        keep = self._bound("since", args.get("since"), after=True)
        stop = self._bound("before", args.get("before"), after=False)
        found = [a for a in self.actions.values()
                 if scope(a) and keep(a) and stop(a) and self._wanted(a, wanted)]
        found.sort(key=lambda a: (a.date, a.id), reverse=True)
        chosen = found[page * limit:(page + 1) * limit]
        with_creator = _flag(args.get("memberCreator", True))
        return json_response([a.to_json(self.members.get(a.creator), with_creator=with_creator)
                              for a in chosen])

    @staticmethod
    def _wanted(action: Action, wanted: list[str]) -> bool:
        if action.type in WEBHOOK_ONLY_ACTIONS:
            return False
        for rule in wanted:
            kind, _, attr = rule.partition(":")
            if kind == "all" or (kind == action.type and (not attr or attr in action.data.get("old", {}))):
                return True
        return False

    @staticmethod
    def _bound(name: str, value: str | None, *, after: bool) -> Callable[[Action], bool]:
        if value in (None, "", "null", "lastView"):
            return lambda action: True
        if ID_RE.match(value):
            ref = value.lower()
            return (lambda a: a.id > ref) if after else (lambda a: a.id < ref)
        moment = parse_when(value)
        if moment is None:
            raise BadPayload(400, f"invalid value for {name}")
        return (lambda a: a.date >= moment) if after else (lambda a: a.date < moment)
