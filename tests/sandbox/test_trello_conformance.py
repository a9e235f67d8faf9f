"""The Trello stand-in against the oracles: recorded real replies for shapes, the OpenAPI description
for the requests pmhub sends (its response schemas are too loose to say much; see the oracles README).
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from hub.testing.sandbox_client import SandboxClient
from tests.sandbox.conformance import assert_same_shape, openapi, recorded
from tests.sandbox.trello_http import TrelloHttp

RECORDINGS = "trello/recorded-exchanges.json"
DESCRIPTION = "trello/trello.openapi.json"
HEX = "[0-9a-f]{24}"


def real(method: str, path_regex: str, status: int = 200, *, query: str | None = None,
         where: Any = None) -> list[Any]:
    """Recorded bodies for ``method`` on paths matching ``path_regex`` (anchored), optionally only
    those whose query string contains ``query`` (``""``: recordings without ``fields=``)."""
    rx = re.compile(f"^{path_regex}$")
    out = []
    for entry in recorded(RECORDINGS):
        if entry["method"].upper() != method or entry["status"] != status:
            continue
        if not rx.match(entry["path"].split("?")[0]):
            continue
        uri = entry.get("uri", "")
        if query == "" and "fields=" in uri:
            continue
        if query and query not in uri:
            continue
        if where is not None and not where(entry["body"]):
            continue
        out.append(entry["body"])
    assert out, f"no recording for {method} {path_regex}"
    return out


@pytest.fixture
def trello(sandbox: SandboxClient) -> TrelloHttp:
    return TrelloHttp(sandbox.base("trello"))


@pytest.fixture
def world(trello: TrelloHttp) -> dict[str, Any]:
    """A board with a card in each state the recordings show: labelled, assigned, due, commented."""
    board = trello.board("Shapes", desc="a board")
    lists = trello.lists(board["id"])
    labels = trello.get(f"/boards/{board['id']}/labels")
    me = trello.get("/members/me")
    card = trello.card(lists["To Do"], "Labelled", desc="text", due="2026-03-01",
                       idLabels=labels[0]["id"], idMembers=me["id"])
    plain = trello.card(lists["To Do"], "Plain")
    comment = trello.call("POST", f"/cards/{card['id']}/actions/comments", params={"text": "Hello"})
    return {"board": board, "lists": lists, "labels": labels, "me": me, "card": card,
            "plain": plain, "comment": comment, "created": card}


def test_boards(trello: TrelloHttp, world: dict[str, Any]) -> None:
    board_id = world["board"]["id"]
    for body in real("POST", "/boards"):
        assert_same_shape(body, world["board"])
    for body in real("GET", f"/boards/{HEX}", query=""):
        assert_same_shape(body, trello.get(f"/boards/{board_id}"))
    for body in real("GET", f"/boards/{HEX}", query="fields=name,desc"):
        ours = trello.get(f"/boards/{board_id}", fields="name,desc")
        assert_same_shape(body, ours)
        assert set(ours) == set(body), "fields= returns the id and exactly those fields"
    for body in real("PUT", f"/boards/{HEX}"):
        assert_same_shape(body, trello.call("PUT", f"/boards/{board_id}", params={"desc": "changed"}))
    for body in real("GET", f"/boards/{HEX}/members"):
        assert_same_shape(body, trello.get(f"/boards/{board_id}/members"))
    for body in real("GET", "/members/me"):
        assert_same_shape(body, trello.get("/members/me"), depth=0)


def test_lists(trello: TrelloHttp, world: dict[str, Any]) -> None:
    board_id = world["board"]["id"]
    for body in real("GET", f"/boards/{HEX}/lists"):
        assert_same_shape(body, trello.get(f"/boards/{board_id}/lists"))
    list_id = world["lists"]["Doing"]
    for body in real("GET", f"/lists/{HEX}"):
        assert_same_shape(body, trello.get(f"/lists/{list_id}"))
    for body in real("PUT", f"/lists/{HEX}"):
        assert_same_shape(body, trello.call("PUT", f"/lists/{list_id}", params={"name": "Doing now"}))
    for body in real("POST", "/lists"):
        assert_same_shape(body, trello.call("POST", "/lists", params={"idBoard": board_id, "name": "L"}))
    for body in real("GET", f"/lists/{HEX}/cards", where=bool):
        assert_same_shape(body, trello.get(f"/lists/{world['lists']['To Do']}/cards"))


def test_labels(trello: TrelloHttp, world: dict[str, Any]) -> None:
    board_id = world["board"]["id"]
    for body in real("GET", f"/boards/{HEX}/labels"):
        assert_same_shape(body, world["labels"])
    created = trello.call("POST", "/labels", params={"idBoard": board_id, "name": "Test", "color": "green"})
    for body in real("POST", "/labels"):
        assert_same_shape(body, created)
    for body in real("GET", f"/labels/{HEX}"):
        assert_same_shape(body, trello.get(f"/labels/{created['id']}"))
    for body in real("PUT", f"/labels/{HEX}"):
        assert_same_shape(body, trello.call("PUT", f"/labels/{created['id']}", params={"color": "red"}))
    for body in real("DELETE", f"/labels/{HEX}"):
        assert trello.call("DELETE", f"/labels/{created['id']}") == body
    gone = trello.raw("GET", f"/labels/{created['id']}")
    [text] = real("GET", f"/labels/{HEX}", 404)
    assert (gone.status_code, gone.text) == (404, text)


def test_cards(trello: TrelloHttp, world: dict[str, Any]) -> None:
    card_id, board_id = world["card"]["id"], world["board"]["id"]
    for body in real("POST", "/cards"):
        assert_same_shape(body, world["created"])
    # Cards whose cover is an attachment carry attachment data the sandbox does not model.
    for body in real("GET", f"/cards/{HEX}", query="", where=lambda b: not b["cover"]["idAttachment"]):
        assert_same_shape(body, trello.get(f"/cards/{card_id}"))
    for body in real("GET", f"/cards/{HEX}", query="fields=desc,pos"):
        ours = trello.get(f"/cards/{card_id}", fields="desc,pos", members="true")
        assert_same_shape(body, ours)
        assert set(ours) == set(body)
    for body in real("GET", f"/boards/{HEX}/cards"):
        assert_same_shape(body, trello.get(f"/boards/{board_id}/cards"))
    for body in real("GET", f"/boards/{HEX}/cards/{HEX}"):
        assert_same_shape(body, trello.get(f"/boards/{board_id}/cards/{card_id}"))
    for body in real("PUT", f"/cards/{HEX}"):
        assert_same_shape(body, trello.call("PUT", f"/cards/{world['plain']['id']}",
                                            params={"closed": "true"}))
    for body in real("PUT", f"/cards/{HEX}/idList"):
        assert_same_shape(body, trello.call("PUT", f"/cards/{card_id}/idList",
                                            params={"value": world["lists"]["Doing"]}))
    for body in real("DELETE", f"/cards/{HEX}"):
        assert trello.call("DELETE", f"/cards/{world['plain']['id']}") == body


def test_labels_and_members_on_cards(trello: TrelloHttp, world: dict[str, Any]) -> None:
    card_id, me = world["plain"]["id"], world["me"]["id"]
    label_id = world["labels"][2]["id"]
    for body in real("POST", f"/cards/{HEX}/idLabels"):
        assert_same_shape(body, trello.call("POST", f"/cards/{card_id}/idLabels", params={"value": label_id}))
    for body in real("DELETE", f"/cards/{HEX}/idLabels/{HEX}"):
        assert trello.call("DELETE", f"/cards/{card_id}/idLabels/{label_id}") == body
    for body in real("POST", f"/cards/{HEX}/idMembers"):
        assert_same_shape(body, trello.call("POST", f"/cards/{card_id}/idMembers", params={"value": me}))
    for body in real("GET", f"/cards/{HEX}/members"):
        assert_same_shape(body, trello.get(f"/cards/{card_id}/members"))
    for body in real("DELETE", f"/cards/{HEX}/idMembers/{HEX}"):
        assert trello.call("DELETE", f"/cards/{card_id}/idMembers/{me}") == body


def test_comments(trello: TrelloHttp, world: dict[str, Any]) -> None:
    for body in real("POST", f"/cards/{HEX}/actions/comments"):
        assert_same_shape(body, world["comment"])
    comment_id = world["comment"]["id"]
    for body in real("GET", f"/actions/{HEX}"):
        # The recorded action is of another type; its envelope is what must match.
        assert_same_shape(body, trello.get(f"/actions/{comment_id}"), depth=0)
    for body in real("DELETE", f"/actions/{HEX}"):
        assert trello.call("DELETE", f"/actions/{comment_id}") == body
    [text] = real("GET", f"/actions/{HEX}", 404)
    gone = trello.raw("GET", f"/actions/{comment_id}")
    assert (gone.status_code, gone.text) == (404, text)


def test_actions_per_type(trello: TrelloHttp, world: dict[str, Any]) -> None:
    """Each action type pmhub reads has the envelope and the ``data`` keys of a real one."""
    card_id = world["plain"]["id"]
    trello.call("PUT", f"/cards/{card_id}", params={"due": "2026-04-01"})
    trello.call("PUT", f"/cards/{card_id}", params={"name": "Renamed"})
    trello.call("DELETE", f"/cards/{card_id}")
    ours = trello.get(f"/boards/{world['board']['id']}/actions", limit=1000)
    real_actions = [a for path in (f"/boards/{HEX}/actions", f"/cards/{HEX}/actions")
                    for body in real("GET", path) for a in body]
    checked = set()
    for action in real_actions:
        kind = action["type"]
        if kind not in ("createCard", "updateCard", "deleteCard", "commentCard", "createBoard"):
            continue
        old = set(action["data"].get("old", {}))
        mine = [a for a in ours if a["type"] == kind and set(a["data"].get("old", {})) == old]
        assert mine, f"the sandbox logged no {kind} action like {action['data']}"
        assert_same_shape(action, mine[0])
        checked.add(kind)
    assert checked == {"createCard", "updateCard", "deleteCard", "commentCard", "createBoard"}


def test_requests_pmhub_sends_match_the_description(world: dict[str, Any]) -> None:
    """The requests the Trello plugin makes, as the published description specifies them."""
    from openapi_core.testing import MockRequest

    api = openapi(DESCRIPTION)
    auth = {"key": "k", "token": "t"}
    card, board, todo = world["card"]["id"], world["board"]["id"], world["lists"]["To Do"]
    requests = [
        ("post", "/1/boards/", {"name": "B", "defaultLists": "true"}),
        ("post", "/1/cards", {"idList": todo, "name": "x", "desc": "y", "due": "2026-03-01", "pos": "bottom",
                              "idLabels": world["labels"][0]["id"]}),
        ("put", f"/1/cards/{card}", {"idList": todo, "closed": "true", "name": "n"}),
        ("delete", f"/1/cards/{card}", {}),
        ("get", f"/1/boards/{board}/cards/all", {}),
        ("get", f"/1/boards/{board}/lists", {}),
        ("get", f"/1/boards/{board}/actions", {"filter": "deleteCard", "since": "2026-01-05T09:00:00.000Z",
                                               "limit": "1000"}),
        ("post", f"/1/cards/{card}/actions/comments", {"text": "hi"}),
        ("put", f"/1/actions/{world['comment']['id']}", {"text": "edited"}),
        ("post", f"/1/cards/{card}/idLabels", {"value": world["labels"][1]["id"]}),
    ]
    for method, path, params in requests:
        try:
            api.validate_request(MockRequest("https://api.trello.com", method, path,
                                             args={**auth, **params}))
        except Exception as error:  # the validator's own message is the useful part
            pytest.fail(f"{method.upper()} {path} {params}: {error} {error.__cause__ or ''}")
