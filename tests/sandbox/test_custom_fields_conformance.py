"""Custom fields in the stand-ins against the oracles (issue 11, item 6): the requests the Trello
plugin sends for custom fields as the published description specifies them, and the stand-ins'
replies in the described shapes (Trello definitions and items, Jira's field list with custom fields
and their schemas, issues carrying custom values)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from hub.testing.sandbox_client import SandboxClient
from tests.sandbox.conformance import check_response, openapi, oracles_dir
from tests.sandbox.jira_support import http as jira_http
from tests.sandbox.jira_support import new_project
from tests.sandbox.trello_http import TrelloHttp

TRELLO = "trello/trello.openapi.json"
JIRA = "jira/jira-cloud-v3.openapi.json"


@pytest.fixture
def board(sandbox: SandboxClient) -> dict[str, Any]:
    trello = TrelloHttp(sandbox.base("trello"))
    created = trello.board("Custom fields")
    card = trello.card(trello.lists(created["id"])["To Do"], "A card")
    number = trello.call("POST", "/customFields", json={
        "idModel": created["id"], "modelType": "board", "name": "Points", "type": "number", "pos": "bottom"})
    tier = trello.call("POST", "/customFields", json={
        "idModel": created["id"], "modelType": "board", "name": "Tier", "type": "list", "pos": "bottom",
        "options": [{"value": {"text": "Gold"}}, {"value": {"text": "Silver"}}]})
    return {"trello": trello, "board": created, "card": card, "number": number, "tier": tier}


def test_requests_the_trello_plugin_sends_for_custom_fields_match_the_description(
        board: dict[str, Any]) -> None:
    from openapi_core.testing import MockRequest

    api = openapi(TRELLO)
    auth = {"key": "k", "token": "t"}
    card = board["card"]["id"]
    # The item PUT's body is described as oneOf two objects neither of which requires its key, so
    # every body matches both and no body validates; its paths are checked here, and its bodies
    # against each alternative on its own below. (The description types "number" as a number;
    # Trello's custom field guide, and pmhub, send it as a string, which Trello answers with.)
    requests: list[tuple[str, str, dict[str, Any], Any]] = [
        ("get", f"/1/boards/{board['board']['id']}/customFields", {}, None),
        ("get", f"/1/cards/{card}/customFieldItems", {}, None),
    ]
    for method, path, params, body in requests:
        data = json.dumps(body).encode() if body is not None else None
        try:
            api.validate_request(MockRequest("https://api.trello.com", method, path, args={**auth, **params},
                                             data=data))
        except Exception as error:  # the validator's own message is the useful part
            pytest.fail(f"{method.upper()} {path} {body}: {error} {error.__cause__ or ''}")
    described = json.loads((oracles_dir() / TRELLO).read_text(encoding="utf-8"))
    [by_value, by_id] = sorted(
        described["paths"]["/cards/{idCard}/customField/{idCustomField}/item"]["put"]["requestBody"]
        ["content"]["application/json"]["schema"]["oneOf"], key=lambda alt: "idValue" in alt["properties"])
    assert set(by_value["properties"]["value"]["properties"]) >= {"number", "date", "text"}
    assert "idValue" in by_id["properties"]


def test_trello_definitions_and_items_have_the_described_fields(board: dict[str, Any]) -> None:
    trello: TrelloHttp = board["trello"]
    [number, tier] = trello.get(f"/boards/{board['board']['id']}/customFields")
    assert {"id", "idModel", "modelType", "fieldGroup", "display", "name", "pos", "type"} <= set(number)
    assert [o["value"]["text"] for o in tier["options"]] == ["Gold", "Silver"]
    assert all(set(o) >= {"id", "idCustomField", "value", "color", "pos"} for o in tier["options"])
    card = board["card"]["id"]
    item = trello.call("PUT", f"/cards/{card}/customField/{number['id']}/item",
                       json={"value": {"number": "3"}})
    assert (item["value"], item["idCustomField"], item["idModel"], item["modelType"]) == (
        {"number": "3"}, number["id"], card, "card")
    trello.call("PUT", f"/cards/{card}/customField/{tier['id']}/item",
                json={"idValue": tier["options"][1]["id"]})
    items = trello.get(f"/cards/{card}/customFieldItems")
    assert sorted(("idValue" in i, i["idCustomField"]) for i in items) == sorted(
        [(False, number["id"]), (True, tier["id"])])
    assert trello.get(f"/cards/{card}", customFieldItems="true")["customFieldItems"] == items
    # An option the field does not have, and a value of the wrong kind, are refused.
    wrong = trello.raw("PUT", f"/cards/{card}/customField/{tier['id']}/item", json={"idValue": "0" * 24})
    assert wrong.status_code == 400
    wrong = trello.raw("PUT", f"/cards/{card}/customField/{number['id']}/item", json={"value": {"text": "x"}})
    assert wrong.status_code == 400


def test_jira_field_list_and_issues_with_custom_values_match_the_description(sandbox: SandboxClient) -> None:
    api = openapi(JIRA)
    server = "https://your-domain.atlassian.net"
    fields = jira_http(sandbox, "GET", "/field", version="3")
    check_response(api, server, "GET", "/rest/api/3/field", fields.status_code, fields.json())
    custom = {f["name"]: f for f in fields.json() if f["custom"]}
    assert custom["Story Points"]["schema"]["type"] == "number"
    assert custom["Customer Tier"]["schema"]["custom"].endswith(":select")
    assert custom["Start date"]["schema"]["type"] == "date"
    new_project(sandbox, "CFX", "Custom fields")
    created = jira_http(sandbox, "POST", "/issue", json={"fields": {
        "project": {"key": "CFX"}, "issuetype": {"name": "Task"}, "summary": "s", "customfield_10016": 2,
        "customfield_10020": {"value": "Gold"}, "customfield_10021": [{"value": "Web"}]}})
    assert created.status_code == 201, created.text
    reply = jira_http(sandbox, "GET", f"/issue/{created.json()['key']}", version="3")
    check_response(api, server, "GET", f"/rest/api/3/issue/{created.json()['key']}", reply.status_code,
                   reply.json())
    values = reply.json()["fields"]
    assert values["customfield_10016"] == 2.0
    assert values["customfield_10020"]["value"] == "Gold" and "self" in values["customfield_10020"]
    assert [o["value"] for o in values["customfield_10021"]] == ["Web"]
    refused = jira_http(sandbox, "PUT", f"/issue/{created.json()['key']}",
                        json={"fields": {"customfield_10020": {"value": "Platinum"}}})
    assert refused.status_code == 400 and "customfield_10020" in refused.json()["errors"]
