"""The Trello stand-in behaves like Trello for what pmhub relies on: boards, cards, comments, actions."""

from __future__ import annotations

import datetime as dt
import re
import time

import pytest

from hub.testing.sandbox_client import SandboxClient
from tests.sandbox.trello_http import TrelloHttp

ID = re.compile(r"^[0-9a-f]{24}$")
TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")


@pytest.fixture
def trello(sandbox: SandboxClient) -> TrelloHttp:
    return TrelloHttp(sandbox.base("trello"))


@pytest.fixture
def board(trello: TrelloHttp) -> dict[str, str]:
    """A new board: its id plus the ids of its default lists by name."""
    created = trello.board("Customer board")
    return {"id": created["id"], **trello.lists(created["id"])}


def test_new_board_has_the_default_lists_and_labels(trello: TrelloHttp) -> None:
    created = trello.board("Acme")
    lists = trello.get(f"/boards/{created['id']}/lists")
    assert [item["name"] for item in lists] == ["To Do", "Doing", "Done"]
    assert all(item["idBoard"] == created["id"] and not item["closed"] for item in lists)
    assert [item["pos"] for item in lists] == sorted(item["pos"] for item in lists)
    colors = [label["color"] for label in trello.get(f"/boards/{created['id']}/labels")]
    assert colors == ["green", "yellow", "orange", "red", "purple", "blue"]
    members = trello.get(f"/boards/{created['id']}/members")
    assert [m["username"] for m in members] == ["pmhubbot"]


def test_board_without_default_lists(trello: TrelloHttp) -> None:
    created = trello.board("Bare", defaultLists="false", defaultLabels="false")
    assert trello.get(f"/boards/{created['id']}/lists") == []
    assert trello.get(f"/boards/{created['id']}/labels") == []


def test_ids_start_with_their_creation_time(trello: TrelloHttp, board: dict[str, str]) -> None:
    before = int(time.time())
    card = trello.card(board["To Do"])
    after = int(time.time())
    assert ID.match(card["id"])
    assert before <= int(card["id"][:8], 16) <= after
    assert TIMESTAMP.match(card["dateLastActivity"])
    second = trello.card(board["To Do"])
    assert second["id"] > card["id"], "ids sort by creation"


def test_card_create_accepts_query_form_and_json(trello: TrelloHttp, board: dict[str, str]) -> None:
    by_query = trello.call("POST", "/cards", params={"idList": board["To Do"], "name": "q"})
    by_form = trello.call("POST", "/cards", data={"idList": board["To Do"], "name": "f"})
    by_json = trello.call("POST", "/cards", json={"idList": board["To Do"], "name": "j",
                                                  "idLabels": [], "pos": "top"})
    assert [c["name"] for c in (by_query, by_form, by_json)] == ["q", "f", "j"]
    assert by_json["pos"] < by_query["pos"] < by_form["pos"]


def test_card_fields_on_create(trello: TrelloHttp, board: dict[str, str]) -> None:
    labels = trello.get(f"/boards/{board['id']}/labels")
    me = trello.get("/members/me")
    card = trello.card(board["Doing"], "Export PDF", desc="**bold**", due="2026-03-01",
                       idLabels=f"{labels[0]['id']},{labels[3]['id']}", idMembers=me["id"])
    got = trello.get(f"/cards/{card['id']}")
    assert got["desc"] == "**bold**"
    assert got["due"] == "2026-03-01T00:00:00.000Z"
    assert got["idLabels"] == [labels[0]["id"], labels[3]["id"]]
    assert [label["color"] for label in got["labels"]] == ["green", "red"]
    assert got["idMembers"] == [me["id"]]
    assert got["idList"] == board["Doing"] and got["idBoard"] == board["id"]
    only = trello.get(f"/cards/{card['id']}", fields="name,idList")
    assert only == {"id": card["id"], "name": "Export PDF", "idList": board["Doing"]}


def test_move_archive_and_delete(trello: TrelloHttp, board: dict[str, str]) -> None:
    card = trello.card(board["To Do"], "Ship it")
    moved = trello.call("PUT", f"/cards/{card['id']}", params={"idList": board["Done"]})
    assert moved["idList"] == board["Done"]
    assert moved["dateLastActivity"] >= card["dateLastActivity"]
    archived = trello.call("PUT", f"/cards/{card['id']}", params={"closed": "true"})
    assert archived["closed"] is True
    open_ids = [c["id"] for c in trello.get(f"/boards/{board['id']}/cards")]
    all_ids = [c["id"] for c in trello.get(f"/boards/{board['id']}/cards/all")]
    closed_ids = [c["id"] for c in trello.get(f"/boards/{board['id']}/cards/closed")]
    assert card["id"] not in open_ids
    assert card["id"] in all_ids and card["id"] in closed_ids
    assert trello.call("DELETE", f"/cards/{card['id']}") == {"limits": {}}
    gone = trello.raw("GET", f"/cards/{card['id']}")
    assert (gone.status_code, gone.text) == (404, "The requested resource was not found.")
    assert card["id"] not in [c["id"] for c in trello.get(f"/boards/{board['id']}/cards/all")]


def test_update_single_field_routes(trello: TrelloHttp, board: dict[str, str]) -> None:
    card = trello.card(board["To Do"])
    moved = trello.call("PUT", f"/cards/{card['id']}/idList", params={"value": board["Doing"]})
    assert moved["idList"] == board["Doing"]
    renamed = trello.call("PUT", f"/cards/{card['id']}/name", params={"value": "Renamed"})
    assert renamed["name"] == "Renamed"


def test_labels_and_members_on_cards(trello: TrelloHttp, board: dict[str, str]) -> None:
    card = trello.card(board["To Do"])
    label = trello.call("POST", "/labels", params={"idBoard": board["id"], "name": "customer",
                                                   "color": "sky"})
    added_labels = trello.call("POST", f"/cards/{card['id']}/idLabels", params={"value": label["id"]})
    assert added_labels == [label["id"]]
    assert [lab["name"] for lab in trello.get(f"/cards/{card['id']}")["labels"]] == ["customer"]
    assert trello.call("DELETE", f"/cards/{card['id']}/idLabels/{label['id']}") == {"_value": None}
    assert trello.get(f"/cards/{card['id']}")["idLabels"] == []
    me = trello.get("/members/me")
    added = trello.call("POST", f"/cards/{card['id']}/idMembers", params={"value": me["id"]})
    assert [m["username"] for m in added] == ["pmhubbot"]
    assert trello.call("DELETE", f"/cards/{card['id']}/idMembers/{me['id']}") == []


def test_comments_add_edit_delete(trello: TrelloHttp, board: dict[str, str]) -> None:
    card = trello.card(board["To Do"])
    comment = trello.call("POST", f"/cards/{card['id']}/actions/comments", params={"text": "First!"})
    assert comment["type"] == "commentCard" and comment["data"]["text"] == "First!"
    assert comment["data"]["card"]["id"] == card["id"]
    assert comment["memberCreator"]["username"] == "pmhubbot"
    assert trello.get(f"/cards/{card['id']}")["badges"]["comments"] == 1
    edited = trello.call("PUT", f"/actions/{comment['id']}", params={"text": "Edited"})
    assert edited["data"]["text"] == "Edited" and edited["id"] == comment["id"]
    again = trello.call("PUT", f"/actions/{comment['id']}/text", params={"value": "Again"})
    assert again["data"]["text"] == "Again"
    listed = trello.get(f"/boards/{board['id']}/actions", filter="commentCard")
    assert [(a["id"], a["data"]["text"]) for a in listed] == [(comment["id"], "Again")]
    assert listed[0]["data"]["dateLastEdited"] >= comment["date"]
    # Like Trello, edits are not actions of their own in listings (webhooks alone see them).
    kinds = {a["type"] for a in trello.get(f"/boards/{board['id']}/actions", filter="all")}
    assert "updateComment" not in kinds
    assert trello.call("DELETE", f"/actions/{comment['id']}") == {"_value": None}
    assert trello.get(f"/boards/{board['id']}/actions", filter="commentCard") == []
    assert trello.raw("GET", f"/actions/{comment['id']}").status_code == 404
    missing = trello.raw("POST", f"/cards/{card['id']}/actions/comments")
    assert (missing.status_code, missing.text) == (400, "invalid value for text")


def test_actions_newest_first_with_filter(trello: TrelloHttp, board: dict[str, str]) -> None:
    one = trello.card(board["To Do"], "one")
    two = trello.card(board["To Do"], "two")
    trello.call("PUT", f"/cards/{one['id']}", params={"idList": board["Doing"]})
    trello.call("DELETE", f"/cards/{two['id']}")
    actions = trello.get(f"/boards/{board['id']}/actions",
                         filter="createCard,updateCard,deleteCard")
    assert [a["type"] for a in actions] == ["deleteCard", "updateCard", "createCard", "createCard"]
    dates = [a["date"] for a in actions]
    assert dates == sorted(dates, reverse=True)
    deleted = trello.get(f"/boards/{board['id']}/actions", filter="deleteCard")
    assert [a["data"]["card"]["id"] for a in deleted] == [two["id"]]
    move = actions[1]["data"]
    assert (move["listBefore"]["name"], move["listAfter"]["name"]) == ("To Do", "Doing")
    assert move["old"] == {"idList": board["To Do"]}
    moves = trello.get(f"/boards/{board['id']}/actions", filter="updateCard:idList")
    assert [a["id"] for a in moves] == [actions[1]["id"]]


def test_actions_since_before_and_limit(trello: TrelloHttp, board: dict[str, str]) -> None:
    cards = [trello.card(board["To Do"], f"card {i}") for i in range(5)]
    created = trello.get(f"/boards/{board['id']}/actions", filter="createCard")
    assert [a["data"]["card"]["id"] for a in created] == [c["id"] for c in reversed(cards)]
    pivot = created[2]  # the third card's creation
    newer = trello.get(f"/boards/{board['id']}/actions", filter="createCard", since=pivot["id"])
    assert [a["id"] for a in newer] == [a["id"] for a in created[:2]]
    older = trello.get(f"/boards/{board['id']}/actions", filter="createCard", before=pivot["id"])
    assert [a["id"] for a in older] == [a["id"] for a in created[3:]]
    by_date = trello.get(f"/boards/{board['id']}/actions", filter="createCard", since=pivot["date"])
    assert [a["id"] for a in by_date] == [a["id"] for a in created[:3]], "an ISO since is inclusive"
    before_date = trello.get(f"/boards/{board['id']}/actions", filter="createCard", before=pivot["date"])
    assert [a["id"] for a in before_date] == [a["id"] for a in created[3:]]
    assert len(trello.get(f"/boards/{board['id']}/actions", filter="createCard", limit=2)) == 2
    assert trello.get(f"/boards/{board['id']}/actions", limit=1000) is not None
    too_many = trello.raw("GET", f"/boards/{board['id']}/actions", params={"limit": 1001})
    assert (too_many.status_code, too_many.text) == (400, "invalid value for limit")
    future = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)).isoformat()
    assert trello.get(f"/boards/{board['id']}/actions", since=future) == []


def test_bad_requests_get_trellos_replies(trello: TrelloHttp, board: dict[str, str]) -> None:
    cases = [
        ("POST", "/cards", {"name": "no list"}, 400, "invalid value for idList"),
        ("POST", "/cards", {"idList": "f" * 24}, 400, "invalid value for idList"),
        ("POST", "/cards", {"idList": board["To Do"], "due": "someday"}, 400, "invalid value for due"),
        ("POST", "/boards", {}, 400, "invalid value for name"),
        ("GET", "/cards/not-an-id", {}, 400, "invalid id"),
        ("GET", "/boards/" + "e" * 24, {}, 404, "The requested resource was not found."),
        ("PUT", "/cards/" + "e" * 24, {"name": "x"}, 404, "The requested resource was not found."),
        ("GET", "/nothing/here", {}, 404, "Cannot GET /1/nothing/here"),
    ]
    for method, path, params, status, text in cases:
        reply = trello.raw(method, path, params=params)
        assert (reply.status_code, reply.text) == (status, text), (method, path, params)
        assert reply.headers["Content-Type"].startswith("text/plain")


def test_demo_seed(sandbox: SandboxClient, trello: TrelloHttp) -> None:
    sandbox.reset("demo")
    boards = trello.get("/members/me/boards")
    assert [b["name"] for b in boards] == ["Acme Portal (customer)"]
    board_id = boards[0]["id"]
    lists = trello.lists(board_id)
    assert list(lists) == ["To Do", "Doing", "Done"]
    cards = trello.get(f"/boards/{board_id}/cards/all")
    assert len(cards) >= 5 and {c["idList"] for c in cards} == set(lists.values())
    assert any(c["closed"] for c in cards)
    assert trello.get(f"/boards/{board_id}/actions", filter="commentCard")
    sandbox.reset("demo")
    assert trello.get("/members/me/boards")[0]["id"] == board_id, "demo ids are stable across resets"


def test_listing_reflects_every_write(trello: TrelloHttp, board: dict[str, str]) -> None:
    """Listings are served from an encoded cache; a write anywhere (here a label rename) must show."""
    label = trello.call("POST", "/labels", params={"idBoard": board["id"], "name": "old", "color": "red"})
    trello.card(board["To Do"], "labelled", idLabels=label["id"])
    assert trello.get(f"/boards/{board['id']}/cards")[0]["labels"][0]["name"] == "old"
    trello.call("PUT", f"/labels/{label['id']}", params={"name": "new"})
    assert trello.get(f"/boards/{board['id']}/cards")[0]["labels"][0]["name"] == "new"
