"""The Zoho CRM stand-in's Deals and the Deal lookup on Cases (issue 11), in the wire format checked
against Zoho's OpenAPI files, and as the real zohocrmsdk8-0 SDK reads them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import requests

from hub.testing.sandbox_client import SandboxClient
from tests.sandbox.conformance import check_response, oracles_dir
from tests.sandbox.zoho_oracle import SERVER, api
from tests.sandbox.zoho_support import http, init_sdk, insert

STANDARD_STAGES = ["Qualification", "Needs Analysis", "Value Proposition", "Identify Decision Makers",
                   "Proposal/Price Quote", "Negotiation/Review", "Closed Won", "Closed Lost",
                   "Closed-Lost to Competition"]


@pytest.fixture
def zoho(sandbox: SandboxClient) -> tuple[str, requests.Session]:
    oracles_dir()
    base = sandbox.base("zoho")
    return base, http(base)


def _checked(name: str, reply: requests.Response, path: str, *, as_status: int | None = None) -> Any:
    query = reply.request.url.partition("?")[2] if reply.request.url else ""
    body = reply.json()
    check_response(api(name), SERVER, reply.request.method or "GET", path, as_status or reply.status_code,
                   body, query=query)
    return body


def _fields(base: str, session: requests.Session, module: str) -> dict[str, dict[str, Any]]:
    reply = session.get(f"{base}/crm/v8/settings/fields", params={"module": module}, timeout=10)
    return {f["api_name"]: f for f in _checked("fields", reply, "/crm/v8/settings/fields")["fields"]}


def test_field_metadata_shows_deal_name_as_a_lookup_to_deals(zoho: tuple[str, requests.Session]) -> None:
    base, session = zoho
    deal_name = _fields(base, session, "Cases")["Deal_Name"]
    assert (deal_name["data_type"], deal_name["json_type"]) == ("lookup", "jsonobject")
    assert deal_name["lookup"]["module"]["api_name"] == "Deals" and deal_name["lookup"]["module"]["id"]
    deals = _fields(base, session, "Deals")
    assert deals["Closing_Date"]["data_type"] == "date"
    stage = deals["Stage"]
    assert stage["data_type"] == "picklist" and stage["system_mandatory"] is True
    values = stage["pick_list_values"]
    assert [v["actual_value"] for v in values] == STANDARD_STAGES
    forecast = {v["actual_value"]: (v["forecast_type"], v["forecast_category"]["name"]) for v in values}
    assert forecast["Negotiation/Review"] == ("Open", "Pipeline")
    assert forecast["Closed Won"] == ("Closed Won", "Closed")
    assert forecast["Closed-Lost to Competition"] == ("Closed Lost", "Omitted")


def test_a_case_prints_its_deal_by_name_and_id(zoho: tuple[str, requests.Session]) -> None:
    base, session = zoho
    deal = insert(session, base, "Deals", Deal_Name="Portal", Stage="Qualification",
                  Closing_Date="2026-03-31")
    case = insert(session, base, "Cases", Subject="SSO", Deal_Name={"id": deal})
    reply = session.get(f"{base}/crm/v8/Cases/{case}", params={"fields": "Subject,Deal_Name"}, timeout=10)
    assert _checked("record", reply, f"/crm/v8/Cases/{case}")["data"][0]["Deal_Name"] == {
        "name": "Portal", "id": deal}
    # A lookup prints the deal's current name.
    session.put(f"{base}/crm/v8/Deals/{deal}", json={"data": [{"Deal_Name": "Portal v2"}]},
                timeout=10).raise_for_status()
    listed = session.get(f"{base}/crm/v8/Cases", params={"fields": "Deal_Name"}, timeout=10).json()["data"]
    assert listed[0]["Deal_Name"] == {"name": "Portal v2", "id": deal}
    deal_row = session.get(f"{base}/crm/v8/Deals/{deal}", params={"fields": "Stage,Closing_Date"},
                           timeout=10).json()["data"][0]
    assert (deal_row["Stage"], deal_row["Closing_Date"]) == ("Qualification", "2026-03-31")


def test_a_deal_lookup_is_set_moved_cleared_and_checked(zoho: tuple[str, requests.Session]) -> None:
    base, session = zoho
    first = insert(session, base, "Deals", Deal_Name="First", Stage="Qualification")
    second = insert(session, base, "Deals", Deal_Name="Second", Stage="Qualification")
    case = insert(session, base, "Cases", Subject="SSO", Deal_Name={"id": first})

    def deal_of() -> Any:
        return session.get(f"{base}/crm/v8/Cases/{case}", params={"fields": "Deal_Name"},
                           timeout=10).json()["data"][0]["Deal_Name"]

    session.put(f"{base}/crm/v8/Cases/{case}", json={"data": [{"Deal_Name": {"id": second}}]},
                timeout=10).raise_for_status()
    assert deal_of() == {"name": "Second", "id": second}
    session.put(f"{base}/crm/v8/Cases/{case}", json={"data": [{"Deal_Name": None}]},
                timeout=10).raise_for_status()
    assert deal_of() is None

    bad = session.put(f"{base}/crm/v8/Cases/{case}",
                      json={"data": [{"Deal_Name": {"id": "6403584000000999001"}}]}, timeout=10)
    assert bad.status_code == 400
    error = _checked("record", bad, f"/crm/v8/Cases/{case}", as_status=200)["data"][0]
    assert (error["code"], error["status"]) == ("INVALID_DATA", "error")
    details = error["details"]
    assert (details["api_name"], details["json_path"]) == ("Deal_Name", "$.data[0].Deal_Name")
    assert deal_of() is None  # the refused write changed nothing


def test_the_sdk_reads_the_deal_lookup_and_the_stage_forecasts(sandbox: SandboxClient,
                                                               tmp_path: Path) -> None:
    pytest.importorskip("zohocrmsdk")
    from zohocrmsdk.src.com.zoho.crm.api import HeaderMap, ParameterMap
    from zohocrmsdk.src.com.zoho.crm.api.fields import FieldsOperations, GetFieldsParam
    from zohocrmsdk.src.com.zoho.crm.api.record import GetRecordParam, Record, RecordOperations

    base = sandbox.base("zoho")
    session = http(base)
    deal = insert(session, base, "Deals", Deal_Name="Portal", Stage="Negotiation/Review")
    case = insert(session, base, "Cases", Subject="SSO", Deal_Name={"id": deal})
    init_sdk(base, tmp_path / "sdk")

    def fields(module: str) -> dict[str, Any]:
        params = ParameterMap()
        params.add(GetFieldsParam.module, module)
        reply = FieldsOperations().get_fields(params)
        assert reply.get_status_code() == 200
        return {f.get_api_name(): f for f in reply.get_object().get_fields()}

    assert fields("Cases")["Deal_Name"].get_lookup().get_module().get_api_name() == "Deals"
    stages = {v.get_actual_value(): v for v in fields("Deals")["Stage"].get_pick_list_values()}
    assert list(stages) == STANDARD_STAGES
    won = stages["Closed Won"]
    assert (won.get_forecast_type(), won.get_probability()) == ("Closed Won", 100)

    params = ParameterMap()
    params.add(GetRecordParam.fields, "Subject,Deal_Name")
    [row] = RecordOperations("Cases").get_record(int(case), params, HeaderMap()).get_object().get_data()
    lookup = row.get_key_value("Deal_Name")
    assert isinstance(lookup, Record)
    assert (str(lookup.get_id()), lookup.get_key_value("name")) == (deal, "Portal")


def test_an_admin_adds_deal_stages_with_their_forecast_type(sandbox: SandboxClient,
                                                           zoho: tuple[str, requests.Session]) -> None:
    base, session = zoho
    stage_id = _fields(base, session, "Deals")["Stage"]["id"]
    path = f"/crm/v8/settings/fields/{stage_id}"
    new_stages = [{"display_value": "Delivered", "forecast_type": "Closed Won", "probability": 100},
                  {"display_value": "Kick-off"}]
    reply = session.patch(base + path, params={"module": "Deals"}, timeout=10,
                          json={"fields": [{"pick_list_values": new_stages}]})
    assert reply.status_code == 200
    [done] = _checked("fields", reply, path)["fields"]
    assert (done["code"], done["details"]["id"]) == ("SUCCESS", stage_id)
    values = _fields(base, session, "Deals")["Stage"]["pick_list_values"]
    assert [v["actual_value"] for v in values] == [*STANDARD_STAGES, "Delivered", "Kick-off"]
    added = {v["actual_value"]: (v["forecast_type"], v["forecast_category"]["name"], v["sequence_number"])
             for v in values[-2:]}
    assert added == {"Delivered": ("Closed Won", "Closed", 10), "Kick-off": ("Open", "Pipeline", 11)}

    nameless = session.patch(base + path, params={"module": "Deals"}, timeout=10,
                             json={"fields": [{"pick_list_values": [{"forecast_type": "Open"}]}]})
    assert nameless.status_code == 400 and nameless.json()["code"] == "MANDATORY_NOT_FOUND"
    not_a_picklist = _fields(base, session, "Deals")["Closing_Date"]["id"]
    wrong = session.patch(f"{base}/crm/v8/settings/fields/{not_a_picklist}", params={"module": "Deals"},
                          timeout=10, json={"fields": [{"pick_list_values": [{"display_value": "x"}]}]})
    assert wrong.status_code == 400 and wrong.json()["code"] == "INVALID_DATA"
    sandbox.reset("empty")  # a new org again
    assert [v["actual_value"] for v in _fields(base, session, "Deals")["Stage"]["pick_list_values"]] == \
        STANDARD_STAGES
