"""Injected faults and token checks on the Trello stand-in, seen the way a plain-HTTP client sees them."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests
from pmhub_plugins.trello.sandbox import TrelloSandbox

from hub.sandbox.server import SandboxApp, SandboxServer
from hub.testing.sandbox_client import SandboxClient
from tests.sandbox.trello_http import TrelloHttp


@pytest.fixture
def trello(sandbox: SandboxClient) -> TrelloHttp:
    return TrelloHttp(sandbox.base("trello"))


def test_lost_reply_after_commit_leaves_exactly_one_card(sandbox: SandboxClient, trello: TrelloHttp) -> None:
    board = trello.board("Faults")
    todo = trello.lists(board["id"])["To Do"]
    sandbox.fault("trello", method="POST", path="^/1/cards$", status=502, after_commit=True)
    reply = trello.raw("POST", "/cards", params={"idList": todo, "name": "Only once"})
    assert reply.status_code == 502
    cards = trello.get(f"/boards/{board['id']}/cards/all")
    assert [c["name"] for c in cards] == ["Only once"], "the write happened although the reply was lost"
    assert trello.card(todo, "Next")["name"] == "Next", "the fault fires once"


def test_rate_limit_reply(sandbox: SandboxClient, trello: TrelloHttp) -> None:
    board = trello.board("Busy")
    sandbox.fault("trello", method="GET", path="/cards", status=429, times=2)
    for _ in range(2):
        reply = trello.raw("GET", f"/boards/{board['id']}/cards/all")
        assert reply.status_code == 429
        assert reply.json() == {"error": "API_TOKEN_LIMIT_EXCEEDED", "message": "Rate limit exceeded"}
        assert "Retry-After" not in reply.headers, "Trello sends no Retry-After"
    assert trello.get(f"/boards/{board['id']}/cards/all") == []
    logged = [r for r in sandbox.requests("trello") if r.get("fault")]
    assert [r["status"] for r in logged] == [429, 429]


def test_dropped_connection(sandbox: SandboxClient, trello: TrelloHttp) -> None:
    sandbox.fault("trello", path="^/1/members/me$", drop=True)
    with pytest.raises(requests.ConnectionError):
        trello.raw("GET", "/members/me")
    assert trello.get("/members/me")["username"] == "pmhubbot"


@pytest.fixture(scope="module")
def guarded() -> Iterator[str]:
    with SandboxServer(SandboxApp([TrelloSandbox()], token="t")) as server:
        yield server.url + "/trello/1"


def test_token_is_checked_when_set(guarded: str) -> None:
    def get(**kwargs: object) -> requests.Response:
        return requests.get(guarded + "/members/me", timeout=10, **kwargs)  # type: ignore[arg-type]

    assert get(params={"key": "k", "token": "t"}).status_code == 200
    oauth = {"Authorization": 'OAuth oauth_consumer_key="k", oauth_token="t"'}
    assert get(headers=oauth).status_code == 200
    for params, text in (({"key": "k", "token": "wrong"}, "invalid token"),
                         ({"key": "k"}, "unauthorized permission requested"),
                         ({"token": "t"}, "invalid key")):
        reply = get(params=params)
        assert (reply.status_code, reply.text) == (401, text)
        assert reply.headers["Content-Type"].startswith("text/plain")
