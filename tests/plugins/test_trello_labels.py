"""Trello labels (issue 10, item 15): ``color`` is required on a label create, a colour or null.

The stand-in refuses a create without it, as Trello's description says; the connector sends it,
checked against the stand-in through ``pmhub sync`` and against the description itself.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qsl

import pytest
import requests
from pmhub_plugins.trello.connector import TrelloConnector, TrelloSettings

from hub.model import Issue
from hub.testing.sandbox_client import SandboxClient
from tests.plugins.test_trello_sync import BoardFlow
from tests.sandbox.conformance import oracles_dir
from tests.sandbox.trello_http import TrelloHttp


@pytest.fixture
def trello(sandbox: SandboxClient) -> TrelloHttp:
    return TrelloHttp(sandbox.base("trello"))


@pytest.mark.parametrize("route", ["/labels", "/boards/{board}/labels"])
def test_the_stand_in_refuses_a_label_create_without_color(trello: TrelloHttp, route: str) -> None:
    board = trello.board("Labels", defaultLabels="false")
    path = route.format(board=board["id"])
    params = {"idBoard": board["id"]} if route == "/labels" else {}

    refused = trello.raw("POST", path, data={**params, "name": "customer"})
    colourless = trello.call("POST", path, data={**params, "name": "customer", "color": "null"})
    coloured = trello.call("POST", path, data={**params, "name": "urgent", "color": "red"})

    assert (refused.status_code, refused.text) == (400, "invalid value for color")
    assert refused.headers["Content-Type"].startswith("text/plain")
    assert (colourless["name"], colourless["color"]) == ("customer", None)
    assert coloured["color"] == "red"
    labels = trello.get(f"/boards/{board['id']}/labels")
    assert sorted((lab["name"], lab["color"]) for lab in labels) == [("customer", None), ("urgent", "red")]


@pytest.fixture
def flow(tmp_path: Path, sandbox: SandboxClient, monkeypatch: pytest.MonkeyPatch) -> Iterator[BoardFlow]:
    monkeypatch.setenv("PMHUB_TEST_TRELLO_TOKEN", "sandbox-token")
    made = BoardFlow(tmp_path, sandbox, records=["issue"], direction="a->b")
    yield made
    made.store.close()


def test_a_sync_creates_the_missing_label_colourless(flow: BoardFlow) -> None:
    flow.store.put("proj", "issue", Issue(title="Export PDF", labels=["customer", "finance"]))

    flow.sync()

    [card] = flow.cards()
    assert sorted(label["name"] for label in card["labels"]) == ["customer", "finance"]
    assert {label["color"] for label in card["labels"]} == {None}, "pmhub picks no colour"
    created = [r for r in flow.sandbox.requests("trello")
               if r["method"] == "POST" and r["path"] == "/1/labels"]
    assert [r["status"] for r in created] == [200, 200]


def test_the_connector_sends_every_required_label_parameter(
        sandbox: SandboxClient, trello: TrelloHttp) -> None:
    """The connector's own request, as it went on the wire, carries every parameter Trello's
    description marks required."""
    board = trello.board("Wire")
    todo = trello.lists(board["id"])["To Do"]
    card = trello.card(todo, "Card")
    connector = TrelloConnector("board", TrelloSettings(
        plugin="trello", base_url=sandbox.base("trello"), key="k", token="sandbox-token", timeout=10))
    connector.open()
    sent: list[requests.PreparedRequest] = []
    assert connector._http is not None
    connector._http.hooks["response"].append(lambda reply, **_: sent.append(reply.request))
    try:
        connector.update(board["id"], "issue", card["id"], Issue(title="Card", labels=["customer"]),
                         frozenset({"labels"}))
    finally:
        connector.close()

    [create] = [r for r in sent if r.method == "POST" and (r.path_url or "").startswith("/trello/1/labels")]
    body = create.body.decode() if isinstance(create.body, bytes) else str(create.body or "")
    sent_values = dict(parse_qsl(body))
    described = json.loads((oracles_dir() / "trello/trello.openapi.json").read_text(encoding="utf-8"))
    required = {p["name"] for p in described["paths"]["/labels"]["post"]["parameters"] if p.get("required")}
    assert required == {"name", "color", "idBoard"}
    assert required <= set(sent_values), f"missing {required - set(sent_values)}"
    assert sent_values == {"idBoard": board["id"], "name": "customer", "color": "null"}
