"""`pmhub report --publish`: the report attached to the customer's account in the Zoho stand-in and
its summary posted as a progress note, through the real SDK; the same period twice publishes once."""

from __future__ import annotations

import pytest
import requests

from hub.testing.sandbox_client import SandboxClient
from tests.report.conftest import ReportHome
from tests.sandbox.zoho_support import REFRESH_TOKEN, http

pytest.importorskip("zohocrmsdk")


def _account_id(base: str, session: requests.Session) -> str:
    query = "select Account_Name from Accounts where Account_Name = 'Acme Corp'"
    return str(session.post(f"{base}/crm/v8/coql", json={"select_query": query}, timeout=10)
               .json()["data"][0]["id"])


def _published(base: str, session: requests.Session) -> tuple[list[dict], list[dict]]:
    account = _account_id(base, session)
    files = session.get(f"{base}/crm/v8/Accounts/{account}/Attachments", params={"fields": "File_Name,Size"},
                        timeout=10)
    notes = session.get(f"{base}/crm/v8/Accounts/{account}/Notes",
                        params={"fields": "Note_Title,Note_Content"}, timeout=10)
    return (files.json()["data"] if files.status_code == 200 else [],
            notes.json()["data"] if notes.status_code == 200 else [])


@pytest.mark.slow
def test_publishing_twice_for_one_period_attaches_once_and_notes_once(sandbox: SandboxClient, tmp_path):
    sandbox.reset("demo")
    base = sandbox.base("zoho")
    crm = {"plugin": "zoho_crm", "base_url": base, "client_id": "1000.CLIENT", "client_secret": "s",
           "refresh_token": REFRESH_TOKEN, "timeout": 10}
    home = ReportHome(tmp_path, left=crm, left_scope="Cases")
    home.fill()
    first = home.report("--customer", "Acme Corp", "--publish", "--out", str(tmp_path / "r.html"))
    assert first.exit_code == 0, first.output
    assert "attached; progress note posted" in first.output
    session = http(base)
    files, notes = _published(base, session)
    [attached] = files
    assert attached["File_Name"].startswith("progress-report-acme-corp-2026-11-30-")
    assert attached["File_Name"].endswith(".pdf") and int(attached["Size"]) > 10_000
    [note] = notes
    assert note["Note_Title"] == "Progress report Nov 16, 2026 \u2013 Nov 30, 2026: 4/10"
    assert "**Health: Late**" in note["Note_Content"] and "### Done in the period" in note["Note_Content"]
    account = _account_id(base, session)
    pdf = session.get(f"{base}/crm/v8/Accounts/{account}/Attachments/{attached['id']}", timeout=10).content
    assert pdf.startswith(b"%PDF")

    again = home.report("--customer", "Acme Corp", "--publish", "--format", "md", "--lang", "zh-CN")
    assert again.exit_code == 0, again.output
    assert "already attached; progress note already there" in again.output
    assert [len(found) for found in _published(base, session)] == [1, 1]

    later = home.report("--customer", "Acme Corp", "--publish", "--format", "json", "--since", "2026-11-23")
    assert later.exit_code == 0 and "attached; progress note posted" in later.output
    assert [len(found) for found in _published(base, session)] == [2, 2]


def test_publishing_needs_a_crm_among_the_flows(report_home):
    result = report_home.report("--customer", "Acme Corp", "--publish", "--format", "json")
    assert result.exit_code == 2 and "nowhere to publish" in result.output


def test_without_publish_no_tool_is_called(tmp_path):
    # The CRM's address answers nothing: a report that called it would fail.
    crm = {"plugin": "zoho_crm", "base_url": "http://127.0.0.1:9/zoho", "client_id": "1000.CLIENT",
           "client_secret": "s", "refresh_token": REFRESH_TOKEN, "timeout": 1}
    home = ReportHome(tmp_path, left=crm, left_scope="Cases")
    home.fill()
    for fmt in ("json", "md", "html"):
        result = home.report("--customer", "Acme Corp", "--format", fmt, "--out", str(tmp_path / f"r.{fmt}"))
        assert result.exit_code == 0, result.output
    data = (tmp_path / "r.json").read_text(encoding="utf-8")
    assert "http://127.0.0.1:9/zoho/crm/tab/Cases/A-2" in data  # the item's link into the CRM
