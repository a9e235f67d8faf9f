"""Zoho CRM sandbox behaviour over plain HTTP: paging, change tracking, deletions, COQL, errors."""

from __future__ import annotations

import datetime as dt
import time

import pytest
import requests

from hub.testing.sandbox_client import SandboxClient
from tests.sandbox.zoho_support import http, insert


@pytest.fixture
def zoho(sandbox: SandboxClient) -> tuple[str, requests.Session]:
    base = sandbox.base("zoho")
    return base, http(base)


def _bulk_insert(session: requests.Session, base: str, module: str, count: int) -> None:
    for start in range(0, count, 100):
        batch = [{"Account_Name": f"Account {n:05d}"} for n in range(start, min(count, start + 100))]
        reply = session.post(f"{base}/crm/v8/{module}", json={"data": batch}, timeout=30)
        assert reply.status_code == 201, reply.text


def test_page_stops_at_2000_records_and_page_token_goes_on(zoho: tuple[str, requests.Session]) -> None:
    base, session = zoho
    _bulk_insert(session, base, "Accounts", 2050)
    url = f"{base}/crm/v8/Accounts"
    too_far = session.get(url, params={"fields": "Account_Name", "page": 11, "per_page": 200}, timeout=10)
    assert too_far.status_code == 400
    assert too_far.json()["code"] == "DISCRETE_PAGINATION_LIMIT_EXCEEDED"

    seen: list[str] = []
    params: dict[str, str | int] = {"fields": "Account_Name", "per_page": 200, "sort_by": "id",
                                    "sort_order": "asc"}
    while True:
        body = session.get(url, params=params, timeout=10).json()
        seen += [r["Account_Name"] for r in body["data"]]
        if not body["info"]["more_records"]:
            break
        params = {**params, "page_token": body["info"]["next_page_token"]}
        params.pop("page", None)
    assert seen == [f"Account {n:05d}" for n in range(2050)]


def test_per_page_and_fields_limits(zoho: tuple[str, requests.Session]) -> None:
    base, session = zoho
    insert(session, base, "Accounts", Account_Name="Acme")
    many = ",".join(f"Field_{n}" for n in range(51))
    assert session.get(f"{base}/crm/v8/Accounts", params={"fields": many}, timeout=10).json()["code"] == (
        "LIMIT_EXCEEDED")
    ok = session.get(f"{base}/crm/v8/Accounts", params={"fields": "Account_Name", "per_page": 200},
                     timeout=10)
    assert ok.status_code == 200


def test_modified_time_is_the_real_second_of_each_update_and_if_modified_since_sees_it(
        zoho: tuple[str, requests.Session]) -> None:
    base, session = zoho
    first = insert(session, base, "Cases", Subject="first")
    second = insert(session, base, "Cases", Subject="second")
    params = {"fields": "Subject,Modified_Time", "sort_by": "Modified_Time", "sort_order": "asc"}
    before = {r["id"]: r["Modified_Time"] for r in
              session.get(f"{base}/crm/v8/Cases", params=params, timeout=10).json()["data"]}
    cursor = max(before.values())
    assert session.get(f"{base}/crm/v8/Cases", params=params, headers={"If-Modified-Since": cursor},
                       timeout=10).status_code == 304
    time.sleep(1.05 - time.time() % 1)  # into the next second, with most of it left
    stamps = []
    for status in ("Escalated", "On Hold"):  # two updates within one second, as Zoho stamps them
        reply = session.put(f"{base}/crm/v8/Cases/{first}", json={"data": [{"Status": status}]},
                            timeout=10)
        assert reply.status_code == 200
        stamps.append(reply.json()["data"][0]["details"]["Modified_Time"])
    now = dt.datetime.now(dt.UTC)
    assert stamps[0] == stamps[1], "whole seconds: updates within one second share it"
    assert dt.datetime.fromisoformat(stamps[1]) <= now, "never stamped ahead of the clock"
    changed = session.get(f"{base}/crm/v8/Cases", params=params, headers={"If-Modified-Since": cursor},
                          timeout=10)
    assert changed.status_code == 200
    [row] = changed.json()["data"]
    assert row["id"] == first and row["Modified_Time"] == stamps[1] > before[first]
    assert second in before


def test_deleted_records_and_their_if_modified_since(zoho: tuple[str, requests.Session]) -> None:
    base, session = zoho
    keep = insert(session, base, "Deals", Deal_Name="Keep", Stage="Qualification")
    gone = insert(session, base, "Deals", Deal_Name="Gone", Stage="Qualification")
    assert session.get(f"{base}/crm/v8/Deals/deleted", params={"type": "all"}, timeout=10).status_code == 204
    bad = session.delete(f"{base}/crm/v8/Deals", params={"ids": f"{gone},123"}, timeout=10)
    assert bad.status_code == 207
    assert [e["code"] for e in bad.json()["data"]] == ["SUCCESS", "INVALID_DATA"]
    tombstones = session.get(f"{base}/crm/v8/Deals/deleted", params={"type": "recycle"}, timeout=10).json()
    assert [(t["id"], t["display_name"], t["type"]) for t in tombstones["data"]] == [
        (gone, "Gone", "recycle")]
    assert session.get(f"{base}/crm/v8/Deals/deleted", params={"type": "permanent"},
                       timeout=10).status_code == 204
    later = (dt.datetime.now(dt.UTC) + dt.timedelta(seconds=5)).isoformat(timespec="seconds")
    assert session.get(f"{base}/crm/v8/Deals/deleted", headers={"If-Modified-Since": later},
                       timeout=10).status_code == 304
    assert session.get(f"{base}/crm/v8/Deals/{gone}", timeout=10).status_code == 204
    assert session.get(f"{base}/crm/v8/Deals/{keep}", timeout=10).status_code == 200
    assert session.get(f"{base}/crm/v8/Deals/{keep}", headers={"If-Modified-Since": later},
                       timeout=10).status_code == 304


def test_related_notes_post_and_list(zoho: tuple[str, requests.Session]) -> None:
    base, session = zoho
    account = insert(session, base, "Accounts", Account_Name="Acme")
    reply = session.post(f"{base}/crm/v8/Accounts/{account}/Notes",
                         json={"data": [{"Note_Title": "Weekly", "Note_Content": "All green"}]}, timeout=10)
    assert reply.status_code == 201
    notes = session.get(f"{base}/crm/v8/Accounts/{account}/Notes",
                        params={"fields": "Note_Title,Note_Content"}, timeout=10).json()["data"]
    assert [(n["Note_Title"], n["Parent_Id"]["id"], n["Parent_Id"]["name"]) for n in notes] == [
        ("Weekly", account, "Acme")]
    missing_content = session.post(f"{base}/crm/v8/Accounts/{account}/Notes",
                                   json={"data": [{"Note_Title": "Empty"}]}, timeout=10)
    assert missing_content.status_code == 400
    assert missing_content.json()["data"][0]["code"] == "MANDATORY_NOT_FOUND"


def test_lookups_must_point_at_existing_records(zoho: tuple[str, requests.Session]) -> None:
    base, session = zoho
    reply = session.post(f"{base}/crm/v8/Contacts", json={"data": [
        {"Last_Name": "Nobody", "Account_Name": {"id": "6403584000000999001"}}]}, timeout=10)
    assert reply.status_code == 400
    error = reply.json()["data"][0]
    assert (error["code"], error["details"]["api_name"]) == ("INVALID_DATA", "Account_Name")


@pytest.mark.parametrize("query,expected", [
    ("select Subject from Cases where Subject like '%export%'", ["Export invoices"]),
    ("select Subject from Cases where Description is null order by Subject", ["Export invoices", "Login"]),
    ("select Subject from Cases where (Status = 'Closed' or Priority = 'High') and Subject != 'Login' "
     "order by Subject desc", ["Password", "Export invoices"]),
    ("select Subject from Cases where Status not in ('New') order by Subject limit 1 offset 1", ["Password"]),
])
def test_coql_subset(zoho: tuple[str, requests.Session], query: str, expected: list[str]) -> None:
    base, session = zoho
    insert(session, base, "Cases", Subject="Export invoices", Priority="High")
    insert(session, base, "Cases", Subject="Login", Status="Escalated", Priority="High")
    insert(session, base, "Cases", Subject="Password", Status="Closed", Description="Reset it")
    reply = session.post(f"{base}/crm/v8/coql", json={"select_query": query}, timeout=10)
    assert reply.status_code == 200, reply.text
    assert [r["Subject"] for r in reply.json()["data"]] == expected


@pytest.mark.parametrize("query,code", [
    ("select Subject Cases", "SYNTAX_ERROR"),
    ("select Subject from Widgets", "INVALID_QUERY"),
    ("select Nope from Cases", "INVALID_QUERY"),
    ("select Subject from Cases limit 5000", "LIMIT_EXCEEDED"),
])
def test_coql_errors(zoho: tuple[str, requests.Session], query: str, code: str) -> None:
    base, session = zoho
    reply = session.post(f"{base}/crm/v8/coql", json={"select_query": query}, timeout=10)
    assert reply.status_code == 400 and reply.json()["code"] == code


def test_malformed_json_gets_zoho_envelope(zoho: tuple[str, requests.Session]) -> None:
    base, session = zoho
    reply = session.post(f"{base}/crm/v8/Accounts", data=b"{not json", timeout=10,
                         headers={"Content-Type": "application/json"})
    assert reply.status_code == 400
    assert reply.json()["code"] == "INVALID_DATA" and reply.json()["status"] == "error"


def test_issued_token_expires_after_its_lifetime(zoho: tuple[str, requests.Session]) -> None:
    base, _ = zoho
    assert requests.post(f"{base}/_expire_tokens", json={"expires_in": 1}, timeout=10).ok
    token = requests.post(f"{base}/oauth/v2/token", data={
        "grant_type": "refresh_token", "refresh_token": "r", "client_id": "c"}, timeout=10).json()
    session = http(base, token["access_token"])
    assert session.get(f"{base}/crm/v8/org", timeout=10).status_code == 200
    time.sleep(1.1)
    expired = session.get(f"{base}/crm/v8/org", timeout=10)
    assert expired.status_code == 401 and expired.json()["code"] == "INVALID_TOKEN"
