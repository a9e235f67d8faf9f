"""The Zoho CRM sandbox's replies checked against Zoho's own OpenAPI files (zoho/crm-oas, v8).

``zoho_oracle`` lists the documented gaps between those files and the real service, which are
relaxed rather than imitated. Two more, about statuses and codes:
- Most operations document only ``200``; inserts really answer ``201``, a 4xx carries the
  ``API_Exception`` envelope. Replies with an undocumented status are checked against the schema
  of the documented success reply or against ``API_Exception`` directly.
- ``TOO_MANY_REQUESTS``, ``DISCRETE_PAGINATION_LIMIT_EXCEEDED`` and ``SYNTAX_ERROR`` are real
  error codes missing from the ``code`` enum, so those errors are checked for shape only.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
import requests

from hub.testing.sandbox_client import SandboxClient
from tests.sandbox.conformance import check_response, oracles_dir
from tests.sandbox.zoho_oracle import SERVER, api, check_schema
from tests.sandbox.zoho_support import http, insert


def check(name: str, reply: requests.Response, path: str, *, as_status: int | None = None) -> Any:
    body = reply.json() if reply.content else None
    query = reply.request.url.partition("?")[2] if reply.request.url else ""
    check_response(api(name), SERVER, reply.request.method or "GET", path, as_status or reply.status_code,
                   body, query=query)
    return body


@pytest.fixture
def zoho(sandbox: SandboxClient) -> tuple[str, requests.Session]:
    oracles_dir()
    sandbox.reset("demo")
    base = sandbox.base("zoho")
    return base, http(base)


def test_current_user(zoho: tuple[str, requests.Session]) -> None:
    base, session = zoho
    reply = session.get(f"{base}/crm/v8/users", params={"type": "CurrentUser"}, timeout=10)
    assert reply.status_code == 200
    body = check("users", reply, "/crm/v8/users")
    assert body["users"][0]["email"] and body["info"]["count"] == 1


def test_org(zoho: tuple[str, requests.Session]) -> None:
    base, session = zoho
    reply = session.get(f"{base}/crm/v8/org", timeout=10)
    assert check("org", reply, "/crm/v8/org")["org"][0]["zgid"]


def test_modules(zoho: tuple[str, requests.Session]) -> None:
    base, session = zoho
    reply = session.get(f"{base}/crm/v8/settings/modules", timeout=10)
    body = check("modules", reply, "/crm/v8/settings/modules")
    assert {m["api_name"] for m in body["modules"]} >= {"Accounts", "Contacts", "Deals", "Cases", "Notes"}


@pytest.mark.parametrize("module", ["Accounts", "Contacts", "Deals", "Cases", "Notes"])
def test_field_metadata(zoho: tuple[str, requests.Session], module: str) -> None:
    base, session = zoho
    reply = session.get(f"{base}/crm/v8/settings/fields", params={"module": module}, timeout=10)
    body = check("fields", reply, "/crm/v8/settings/fields")
    by_name = {f["api_name"]: f for f in body["fields"]}
    if module != "Notes":
        assert by_name["Pmhub_Id"]["unique"] is not None and by_name["Pmhub_Id"]["custom_field"] is True


def test_case_picklists_carry_the_values_pmhub_maps(zoho: tuple[str, requests.Session]) -> None:
    base, session = zoho
    fields = session.get(f"{base}/crm/v8/settings/fields", params={"module": "Cases"}, timeout=10).json()
    values = {f["api_name"]: [v["display_value"] for v in f["pick_list_values"]] for f in fields["fields"]}
    assert values["Status"] == ["New", "Escalated", "On Hold", "Closed"]
    assert values["Type"] == ["-None-", "Question", "Problem", "Feature Request", "Change Request"]
    assert values["Priority"] == ["-None-", "High", "Medium", "Low"]


@pytest.mark.parametrize("module,fields", [
    ("Accounts", "Account_Name,Website,Industry,Phone,Owner,Pmhub_Id,Modified_Time"),
    ("Contacts", "First_Name,Last_Name,Email,Phone,Title,Account_Name"),
    ("Deals", "Deal_Name,Stage,Closing_Date,Amount,Account_Name,Description"),
    ("Cases", "Subject,Status,Priority,Type,Case_Origin,Description,Account_Name,Deal_Name,Owner"),
])
def test_list_and_get_records(zoho: tuple[str, requests.Session], module: str, fields: str) -> None:
    base, session = zoho
    reply = session.get(f"{base}/crm/v8/{module}", params={"fields": fields, "per_page": 1}, timeout=10)
    assert reply.status_code == 200
    body = check("record", reply, f"/crm/v8/{module}")
    assert body["info"]["per_page"] == 1 and body["info"]["more_records"] is True
    assert body["info"]["next_page_token"]
    record_id = body["data"][0]["id"]
    one = session.get(f"{base}/crm/v8/{module}/{record_id}", timeout=10)
    assert check("record", one, f"/crm/v8/{module}/{record_id}")["data"][0]["id"] == record_id


def test_insert_update_upsert_delete_replies(zoho: tuple[str, requests.Session]) -> None:
    base, session = zoho
    created = session.post(f"{base}/crm/v8/Accounts", json={"data": [{"Account_Name": "Initech"}]},
                           timeout=10)
    assert created.status_code == 201
    body = check("record", created, "/crm/v8/Accounts", as_status=200)
    entry = body["data"][0]
    assert entry["code"] == "SUCCESS" and entry["status"] == "success" and entry["message"] == "record added"
    assert set(entry["details"]) == {"id", "Created_Time", "Modified_Time", "Created_By", "Modified_By"}
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00", entry["details"]["Modified_Time"])
    account = entry["details"]["id"]

    updated = session.put(f"{base}/crm/v8/Accounts", json={"data": [{"id": account, "Phone": "1"}]},
                          timeout=10)
    assert check("record", updated, "/crm/v8/Accounts")["data"][0]["message"] == "record updated"
    by_id = session.put(f"{base}/crm/v8/Accounts/{account}", json={"data": [{"Phone": "2"}]}, timeout=10)
    assert check("record", by_id, f"/crm/v8/Accounts/{account}")["data"][0]["details"]["id"] == account

    upsert = session.post(f"{base}/crm/v8/Accounts/upsert", json={
        "data": [{"Account_Name": "Initech", "Website": "https://initech.example"}],
        "duplicate_check_fields": ["Account_Name"]}, timeout=10)
    result = check("record", upsert, "/crm/v8/Accounts/upsert")["data"][0]
    assert (result["action"], result["duplicate_field"], result["details"]["id"]) == (
        "update", "Account_Name", account)

    deleted = session.delete(f"{base}/crm/v8/Accounts", params={"ids": account}, timeout=10)
    assert check("record", deleted, "/crm/v8/Accounts")["data"][0]["message"] == "record deleted"
    tombstones = session.get(f"{base}/crm/v8/Accounts/deleted", params={"type": "all"}, timeout=10)
    assert check("record", tombstones, "/crm/v8/Accounts/deleted")["data"][0]["id"] == account


def test_notes_list_and_create(zoho: tuple[str, requests.Session]) -> None:
    base, session = zoho
    deals = session.get(f"{base}/crm/v8/Deals", params={"fields": "Deal_Name"}, timeout=10).json()
    deal = deals["data"][0]["id"]
    created = session.post(f"{base}/crm/v8/Notes", json={"data": [{
        "Note_Title": "Progress", "Note_Content": "2/4 done",
        "Parent_Id": {"module": {"api_name": "Deals"}, "id": deal}}]}, timeout=10)
    assert created.status_code == 201
    check("notes", created, "/crm/v8/Notes", as_status=200)
    listed = session.get(f"{base}/crm/v8/Notes", params={"fields": "Note_Title,Note_Content,Parent_Id"},
                         timeout=10)
    body = check("notes", listed, "/crm/v8/Notes")
    assert {n["Parent_Id"]["module"]["api_name"] for n in body["data"]} == {"Deals"}
    related = session.get(f"{base}/crm/v8/Deals/{deal}/Notes", params={"fields": "Note_Title,Note_Content"},
                          timeout=10)
    assert related.status_code == 200
    assert {n["Note_Content"] for n in related.json()["data"]} >= {"2/4 done"}


def test_related_lists_and_related_notes(zoho: tuple[str, requests.Session]) -> None:
    base, session = zoho
    reply = session.get(f"{base}/crm/v8/settings/related_lists", params={"module": "Deals"}, timeout=10)
    body = check("related_lists", reply, "/crm/v8/settings/related_lists")
    assert [r["api_name"] for r in body["related_lists"]] == ["Notes"]
    deals = session.get(f"{base}/crm/v8/Deals", params={"fields": "Deal_Name"}, timeout=10).json()["data"]
    portal = next(d["id"] for d in deals if d["Deal_Name"] == "Acme customer portal")
    notes = session.get(f"{base}/crm/v8/Deals/{portal}/Notes", params={"fields": "Note_Title,Note_Content"},
                        timeout=10)
    body = check("related_records", notes, f"/crm/v8/Deals/{portal}/Notes")
    assert [n["Note_Title"] for n in body["data"]] == ["Kick-off"]


def test_coql(zoho: tuple[str, requests.Session]) -> None:
    base, session = zoho
    reply = session.post(f"{base}/crm/v8/coql", json={
        "select_query": "select Subject, Status, Account_Name from Cases "
                        "where Status in ('New', 'Escalated') and Account_Name.Account_Name = 'Acme Corp' "
                        "order by Subject asc limit 0, 10"},
        timeout=10)
    body = check("coql", reply, "/crm/v8/coql")
    assert [r["Subject"] for r in body["data"]] == ["Export invoices as CSV", "Login page times out"]
    assert set(body["data"][0]["Account_Name"]) == {"id"}
    assert body["info"] == {"count": 2, "more_records": False}


@pytest.mark.parametrize("method,path,params,json_body,code", [
    ("GET", "/crm/v8/Widgets", {"fields": "Name"}, None, "INVALID_MODULE"),
    ("GET", "/crm/v8/Accounts", {}, None, "REQUIRED_PARAM_MISSING"),
    ("GET", "/crm/v8/Accounts", {"fields": "Account_Name", "per_page": "500"}, None, "INVALID_DATA"),
    ("POST", "/crm/v8/Accounts", {}, {"data": []}, "MANDATORY_NOT_FOUND"),
    ("POST", "/crm/v8/coql", {}, {"select_query": "select from"}, None),
])
def test_error_envelopes(zoho: tuple[str, requests.Session], method: str, path: str,
                         params: dict[str, str], json_body: Any, code: str | None) -> None:
    base, session = zoho
    reply = session.request(method, base + path, params=params, json=json_body, timeout=10)
    assert reply.status_code == 400
    body = reply.json()
    assert set(body) == {"code", "details", "message", "status"} and body["status"] == "error"
    if code is not None:
        assert body["code"] == code
        check_schema("record", "API_Exception", body)


def test_per_record_errors(zoho: tuple[str, requests.Session]) -> None:
    base, session = zoho
    insert(session, base, "Cases", Subject="one", Pmhub_Id="pmhub:1")
    reply = session.post(f"{base}/crm/v8/Cases", json={"data": [
        {"Subject": "two", "Pmhub_Id": "pmhub:1"}, {"Description": "no subject"}, {"Subject": "fine"}]},
        timeout=10)
    assert reply.status_code == 207
    duplicate, missing, fine = reply.json()["data"]
    assert duplicate["code"] == "DUPLICATE_DATA" and duplicate["details"]["api_name"] == "Pmhub_Id"
    assert duplicate["details"]["duplicate_record"]["id"]
    assert missing["code"] == "MANDATORY_NOT_FOUND" and missing["details"] == {
        "api_name": "Subject", "json_path": "$.data[1].Subject"}
    assert fine["status"] == "success"
    check("record", reply, "/crm/v8/Cases", as_status=200)
