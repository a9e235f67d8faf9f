"""The Zoho stand-in's record attachments (upload multipart, list, download, delete) in Zoho's v8
format, checked against the oracle ``zoho-crm/attachments.json``, and the connector using them
through the real SDK."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests

from hub.testing.sandbox_client import SandboxClient
from tests.sandbox.conformance import check_response, oracles_dir
from tests.sandbox.zoho_oracle import SERVER, api
from tests.sandbox.zoho_support import http

pytest.importorskip("zohocrmsdk")

PDF = b"%PDF-1.7\n% a small file standing in for a report\n%%EOF\n"


def _account(base: str, session: requests.Session, name: str = "Acme Corp") -> str:
    query = f"select Account_Name from Accounts where Account_Name = '{name}'"
    reply = session.post(f"{base}/crm/v8/coql", json={"select_query": query}, timeout=10)
    return str(reply.json()["data"][0]["id"])


def _check(reply: requests.Response, path: str) -> dict:
    body = reply.json() if reply.content else None
    query = reply.request.url.partition("?")[2] if reply.request.url else ""
    check_response(api("attachments"), SERVER, reply.request.method or "GET", path, reply.status_code, body,
                   query=query)
    return body or {}


@pytest.fixture
def zoho(sandbox: SandboxClient) -> tuple[str, requests.Session]:
    oracles_dir()
    sandbox.reset("demo")
    base = sandbox.base("zoho")
    return base, http(base)


def test_upload_list_download_and_delete_in_the_v8_format(zoho):
    base, session = zoho
    account = _account(base, session)
    url = f"{base}/crm/v8/Accounts/{account}/Attachments"
    template = "/crm/v8/{module}/{record_id}/Attachments"
    assert session.get(url, params={"fields": "id,File_Name"}, timeout=10).status_code == 204

    uploaded = session.post(url, files={"file": ("report-acme.pdf", PDF, "application/pdf")}, timeout=10)
    assert uploaded.status_code == 200, uploaded.text
    [entry] = _check(uploaded, template)["data"]
    assert entry["code"] == "SUCCESS" and entry["status"] == "success"
    attachment_id = entry["details"]["id"]

    listed = session.get(url, params={"fields": "id,File_Name,Size"}, timeout=10)
    assert listed.status_code == 200
    body = _check(listed, template)
    [row] = body["data"]
    assert (row["id"], row["File_Name"], row["Size"], row["$se_module"]) == (
        attachment_id, "report-acme.pdf", str(len(PDF)), "Accounts")
    assert row["Parent_Id"] == {"id": account, "name": "Acme Corp"}
    assert body["info"] == {"per_page": 200, "count": 1, "page": 1, "more_records": False}

    downloaded = session.get(f"{url}/{attachment_id}", timeout=10)
    assert downloaded.status_code == 200 and downloaded.content == PDF
    assert downloaded.headers["Content-Type"] == "application/pdf"
    assert 'filename="report-acme.pdf"' in downloaded.headers["Content-Disposition"]

    deleted = session.delete(f"{url}/{attachment_id}", timeout=10)
    assert deleted.status_code == 200
    _check(deleted, "/crm/v8/{module}/{record_id}/Attachments/{id}")
    assert session.get(url, params={"fields": "id"}, timeout=10).status_code == 204


def test_refusals_name_the_problem_in_zohos_envelope(zoho):
    base, session = zoho
    account = _account(base, session)
    url = f"{base}/crm/v8/Accounts/{account}/Attachments"
    template = "/crm/v8/{module}/{record_id}/Attachments"
    no_file = session.post(url, data={"nothing": "here"}, timeout=10)
    assert no_file.status_code == 400 and no_file.json()["code"] == "INVALID_REQUEST"
    _check(no_file, template)
    no_fields = session.get(url, timeout=10)
    assert no_fields.status_code == 400 and no_fields.json()["details"] == {"param_name": "fields"}
    unknown = session.post(f"{base}/crm/v8/Accounts/111/Attachments", files={"file": ("a.pdf", PDF)},
                           timeout=10)
    assert unknown.status_code == 400 and unknown.json()["code"] == "INVALID_DATA"
    _check(unknown, template)
    elsewhere = session.get(f"{url}/999", timeout=10)
    assert elsewhere.status_code == 400 and elsewhere.json()["code"] == "INVALID_DATA"


def test_the_connector_attaches_lists_and_downloads_through_the_sdk(zoho, tmp_path: Path):
    from pmhub_plugins.zoho_crm.attachments import list_attachments

    from tests.plugins.test_zoho_connector import make_connector

    base, session = zoho
    connector = make_connector(base, tmp_path)
    connector.open()
    try:
        assert connector.customer_files("Acme Corp") == []
        attachment_id = connector.attach_to_customer("Acme Corp", "progress-acme.pdf", PDF)
        assert connector.customer_files("Acme Corp") == ["progress-acme.pdf"]
        account = _account(base, session)
        [listed] = list_attachments(connector, "Accounts", account)
        assert (listed.id, listed.size) == (attachment_id, len(PDF))
        assert connector.customer_files("Globex") == []
    finally:
        connector.close()
    # What the SDK sent is a multipart upload with the file, under its name, in the part "file".
    raw = session.get(f"{base}/crm/v8/Accounts/{account}/Attachments/{attachment_id}", timeout=10)
    assert raw.content == PDF
