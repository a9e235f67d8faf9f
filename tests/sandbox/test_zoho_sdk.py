"""The real zohocrmsdk8-0 SDK against the Zoho CRM sandbox: what pmhub's Zoho plugin relies on."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from hub.testing.sandbox_client import SandboxClient
from tests.sandbox.zoho_support import http, init_sdk, insert

pytest.importorskip("zohocrmsdk")


@pytest.fixture
def zoho(sandbox: SandboxClient, tmp_path: Path) -> str:
    """The sandbox's ``/zoho`` root with the SDK initialised against it for this test."""
    base = sandbox.base("zoho")
    init_sdk(base, tmp_path / "zoho-sdk")
    return base


def _records(module: str, fields: str, headers: dict[Any, Any] | None = None,
             **params: Any) -> Any:
    from zohocrmsdk.src.com.zoho.crm.api import HeaderMap, ParameterMap
    from zohocrmsdk.src.com.zoho.crm.api.record import GetRecordsParam, RecordOperations

    param_map = ParameterMap()
    param_map.add(GetRecordsParam.fields, fields)
    for name, value in params.items():
        param_map.add(getattr(GetRecordsParam, name), value)
    header_map = HeaderMap()
    for header, value in (headers or {}).items():
        header_map.add(header, value)
    return RecordOperations(module).get_records(param_map, header_map)


def _upsert(module: str, values: dict[str, Any], check: list[str]) -> Any:
    from zohocrmsdk.src.com.zoho.crm.api import HeaderMap
    from zohocrmsdk.src.com.zoho.crm.api.record import BodyWrapper, Record, RecordOperations

    record = Record()
    for key, value in values.items():
        record.add_key_value(key, value)
    body = BodyWrapper()
    body.set_data([record])
    body.set_duplicate_check_fields(check)
    return RecordOperations(module).upsert_records(body, HeaderMap())


def test_initialize_with_refresh_token_calls_token_users_org(sandbox: SandboxClient, zoho: str) -> None:
    paths = [(r["method"], r["path"]) for r in sandbox.requests("zoho")]
    assert paths[:3] == [("POST", "/oauth/v2/token"), ("GET", "/crm/v8/users"), ("GET", "/crm/v8/org")]


def test_get_records_converts_fields_by_metadata(sandbox: SandboxClient, tmp_path: Path) -> None:
    from zohocrmsdk.src.com.zoho.crm.api.record import Record, ResponseWrapper
    from zohocrmsdk.src.com.zoho.crm.api.util import Choice

    sandbox.reset("demo")
    init_sdk(sandbox.base("zoho"), tmp_path / "sdk")
    reply = _records("Cases", "Subject,Status,Type,Account_Name,Modified_Time",
                     sort_by="Modified_Time", sort_order="asc")
    assert reply.get_status_code() == 200
    wrapper = reply.get_object()
    assert isinstance(wrapper, ResponseWrapper)
    cases = wrapper.get_data()
    assert {c.get_key_value("Subject") for c in cases} >= {"Export invoices as CSV", "Add SSO with Okta"}
    sso = next(c for c in cases if c.get_key_value("Subject") == "Add SSO with Okta")
    assert isinstance(sso.get_key_value("Type"), Choice)
    assert sso.get_key_value("Type").get_value() == "Change Request"
    assert isinstance(sso.get_key_value("Account_Name"), Record)
    assert sso.get_key_value("Account_Name").get_key_value("name") == "Acme Corp"
    assert isinstance(sso.get_key_value("Modified_Time"), dt.datetime)
    info = wrapper.get_info()
    assert info.get_count() == len(cases) and info.get_more_records() is False
    # The SDK asked for the field metadata of Cases (and of the modules its lookups point at).
    fetched = {r["query"] for r in sandbox.requests("zoho") if r["path"] == "/crm/v8/settings/fields"}
    assert "module=Cases" in fetched


def test_insert_then_get_by_id(zoho: str) -> None:
    from zohocrmsdk.src.com.zoho.crm.api import HeaderMap, ParameterMap
    from zohocrmsdk.src.com.zoho.crm.api.record import (
        ActionWrapper,
        BodyWrapper,
        Record,
        RecordOperations,
        ResponseWrapper,
        SuccessResponse,
    )

    account = Record()
    account.add_key_value("Account_Name", "Initech")
    account.add_key_value("Website", "https://initech.example")
    body = BodyWrapper()
    body.set_data([account])
    reply = RecordOperations("Accounts").create_records(body, HeaderMap())
    assert reply.get_status_code() == 201
    actions = reply.get_object()
    assert isinstance(actions, ActionWrapper)
    created = actions.get_data()[0]
    assert isinstance(created, SuccessResponse)
    assert created.get_message().get_value() == "record added"
    record_id = created.get_details()["id"]

    # The SDK types record ids as int (Java long), though the wire carries strings.
    got = RecordOperations("Accounts").get_record(int(record_id), ParameterMap(), HeaderMap())
    assert got.get_status_code() == 200
    wrapper = got.get_object()
    assert isinstance(wrapper, ResponseWrapper)
    assert wrapper.get_data()[0].get_key_value("Website") == "https://initech.example"


def test_upsert_with_duplicate_check_fields_updates_instead_of_duplicating(zoho: str) -> None:
    from zohocrmsdk.src.com.zoho.crm.api.record import ActionWrapper
    from zohocrmsdk.src.com.zoho.crm.api.util import Choice

    first = _upsert("Cases", {"Subject": "Dark mode", "Type": Choice("Feature Request"),
                              "Pmhub_Id": "pmhub:abc"}, ["Pmhub_Id"])
    second = _upsert("Cases", {"Subject": "Dark mode please", "Pmhub_Id": "pmhub:abc"}, ["Pmhub_Id"])
    assert first.get_status_code() == 201
    assert second.get_status_code() == 200
    one, two = (r.get_object().get_data()[0] for r in (first, second))
    assert isinstance(first.get_object(), ActionWrapper)
    assert one.get_details()["id"] == two.get_details()["id"]
    assert one.get_message().get_value() == "record added"
    assert two.get_message().get_value() == "record updated"
    assert two.get_details()["Modified_Time"] >= one.get_details()["Modified_Time"]  # whole seconds
    listed = http(zoho).get(f"{zoho}/crm/v8/Cases", params={"fields": "Subject,Pmhub_Id"}, timeout=10).json()
    assert [r["Subject"] for r in listed["data"]] == ["Dark mode please"]


def test_if_modified_since_gives_304_through_the_sdk(zoho: str) -> None:
    from zohocrmsdk.src.com.zoho.crm.api.record import GetRecordsHeader

    insert(http(zoho), zoho, "Deals", Deal_Name="Portal", Stage="Qualification")
    later = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=5)
    reply = _records("Deals", "Deal_Name", {GetRecordsHeader.if_modified_since: later})
    assert reply.get_status_code() == 304
    earlier = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    reply = _records("Deals", "Deal_Name", {GetRecordsHeader.if_modified_since: earlier})
    assert reply.get_status_code() == 200
    assert [r.get_key_value("Deal_Name") for r in reply.get_object().get_data()] == ["Portal"]


def test_deleted_records_through_the_sdk(zoho: str) -> None:
    from zohocrmsdk.src.com.zoho.crm.api import HeaderMap, ParameterMap
    from zohocrmsdk.src.com.zoho.crm.api.record import (
        DeletedRecordsWrapper,
        DeleteRecordsParam,
        GetDeletedRecordsParam,
        RecordOperations,
    )

    session = http(zoho)
    doomed = insert(session, zoho, "Accounts", Account_Name="Doomed Ltd")
    params = ParameterMap()
    params.add(DeleteRecordsParam.ids, doomed)
    assert RecordOperations("Accounts").delete_records(params, HeaderMap()).get_status_code() == 200
    params = ParameterMap()
    params.add(GetDeletedRecordsParam.type, "all")
    reply = RecordOperations("Accounts").get_deleted_records(params, HeaderMap())
    wrapper = reply.get_object()
    assert isinstance(wrapper, DeletedRecordsWrapper)
    [gone] = wrapper.get_data()
    assert str(gone.get_id()) == doomed and gone.get_display_name() == "Doomed Ltd"
    assert gone.get_type() == "recycle"


def test_notes_on_a_record_through_the_sdk(zoho: str) -> None:
    from zohocrmsdk.src.com.zoho.crm.api import HeaderMap, ParameterMap
    from zohocrmsdk.src.com.zoho.crm.api.modules import MinifiedModule
    from zohocrmsdk.src.com.zoho.crm.api.notes import BodyWrapper, Note, NotesOperations, ParentId
    from zohocrmsdk.src.com.zoho.crm.api.related_records import (
        GetRelatedRecordsParam,
        RelatedRecordsOperations,
        ResponseWrapper,
    )

    deal = insert(http(zoho), zoho, "Deals", Deal_Name="Portal", Stage="Qualification")
    note = Note()
    note.set_note_title("Progress")
    note.set_note_content("3 of 5 issues done")
    parent = ParentId()
    module = MinifiedModule()
    module.set_api_name("Deals")
    parent.set_module(module)
    parent.set_id(int(deal))
    note.set_parent_id(parent)
    body = BodyWrapper()
    body.set_data([note])
    assert NotesOperations().create_notes(body).get_status_code() == 201

    params = ParameterMap()
    params.add(GetRelatedRecordsParam.fields, "Note_Title,Note_Content")
    reply = RelatedRecordsOperations("Notes", "Deals").get_related_records(int(deal), params, HeaderMap())
    assert reply.get_status_code() == 200
    wrapper = reply.get_object()
    assert isinstance(wrapper, ResponseWrapper)
    assert [n.get_key_value("Note_Content") for n in wrapper.get_data()] == ["3 of 5 issues done"]


def test_coql_through_the_sdk(zoho: str) -> None:
    from zohocrmsdk.src.com.zoho.crm.api.coql import BodyWrapper, CoqlOperations, ResponseWrapper

    session = http(zoho)
    for n in range(3):
        insert(session, zoho, "Cases", Subject=f"case {n}", Pmhub_Id=f"pmhub:{n}")
    body = BodyWrapper()
    body.set_select_query("select Subject, Pmhub_Id from Cases where Pmhub_Id in ('pmhub:0', 'pmhub:2') "
                          "order by Subject desc limit 10")
    reply = CoqlOperations().get_records(body)
    assert reply.get_status_code() == 200
    wrapper = reply.get_object()
    assert isinstance(wrapper, ResponseWrapper)
    assert [r.get_key_value("Subject") for r in wrapper.get_data()] == ["case 2", "case 0"]
