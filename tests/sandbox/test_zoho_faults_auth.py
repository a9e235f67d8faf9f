"""Zoho CRM sandbox: injected faults and authentication, seen through the real SDK and raw HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from pmhub_plugins.zoho_crm.sandbox import ZohoCrmSandbox

from hub.sandbox.server import SandboxServer, build_sandbox
from hub.testing.sandbox_client import SandboxClient
from tests.sandbox.zoho_support import REFRESH_TOKEN, http, init_sdk

pytest.importorskip("zohocrmsdk")


def _upsert_case(subject: str, marker: str) -> Any:
    from zohocrmsdk.src.com.zoho.crm.api import HeaderMap
    from zohocrmsdk.src.com.zoho.crm.api.record import BodyWrapper, Record, RecordOperations

    record = Record()
    record.add_key_value("Subject", subject)
    record.add_key_value("Pmhub_Id", marker)
    body = BodyWrapper()
    body.set_data([record])
    body.set_duplicate_check_fields(["Pmhub_Id"])
    return RecordOperations("Cases").upsert_records(body, HeaderMap())


def _list_cases() -> Any:
    from zohocrmsdk.src.com.zoho.crm.api import HeaderMap, ParameterMap
    from zohocrmsdk.src.com.zoho.crm.api.record import GetRecordsParam, RecordOperations

    params = ParameterMap()
    params.add(GetRecordsParam.fields, "Subject,Pmhub_Id")
    return RecordOperations("Cases").get_records(params, HeaderMap())


def test_after_commit_upsert_then_reupsert_leaves_one_record(sandbox: SandboxClient, tmp_path: Path) -> None:
    from zohocrmsdk.src.com.zoho.crm.api.record import APIException

    base = sandbox.base("zoho")
    init_sdk(base, tmp_path / "sdk")
    sandbox.fault("zoho", method="POST", path="/upsert$", status=502, after_commit=True)
    lost = _upsert_case("Needs export", "pmhub:lost-reply")
    assert lost.get_status_code() == 502  # the write happened, the reply was lost
    assert isinstance(lost.get_object(), APIException)
    again = _upsert_case("Needs export", "pmhub:lost-reply")
    assert again.get_status_code() == 200
    action = again.get_object().get_data()[0]
    assert action.get_message().get_value() == "record updated"
    listed = http(base).get(f"{base}/crm/v8/Cases", params={"fields": "Pmhub_Id"}, timeout=10).json()
    assert [r["Pmhub_Id"] for r in listed["data"]] == ["pmhub:lost-reply"]


def test_429_carries_too_many_requests_and_retry_after(sandbox: SandboxClient, tmp_path: Path) -> None:
    from zohocrmsdk.src.com.zoho.crm.api.record import APIException

    base = sandbox.base("zoho")
    sandbox.fault("zoho", method="GET", path="/crm/v8/Accounts$", status=429, retry_after=7)
    raw = http(base).get(f"{base}/crm/v8/Accounts", params={"fields": "Account_Name"}, timeout=10)
    assert raw.status_code == 429 and raw.headers["Retry-After"] == "7"
    assert raw.json()["code"] == "TOO_MANY_REQUESTS" and raw.json()["status"] == "error"

    init_sdk(base, tmp_path / "sdk")
    sandbox.fault("zoho", method="GET", path="/crm/v8/Cases$", status=429)
    reply = _list_cases()
    assert reply.get_status_code() == 429
    error = reply.get_object()
    assert isinstance(error, APIException)
    assert error.get_code().get_value() == "TOO_MANY_REQUESTS"


def test_expired_access_token_gets_invalid_token_until_refreshed(sandbox: SandboxClient,
                                                                 tmp_path: Path) -> None:
    from zohocrmsdk.src.com.zoho.crm.api.record import APIException

    base = sandbox.base("zoho")
    init_sdk(base, tmp_path / "sdk")
    assert _list_cases().get_status_code() == 204  # no cases yet, but the token works
    expired = requests.post(f"{base}/_expire_tokens", json={}, timeout=10).json()
    assert expired["expired"] >= 1
    reply = _list_cases()
    assert reply.get_status_code() == 401
    assert isinstance(reply.get_object(), APIException)
    assert reply.get_object().get_code().get_value() == "INVALID_TOKEN"
    # A fresh initialisation refreshes the token, which works again.
    init_sdk(base, tmp_path / "sdk2")
    assert _list_cases().get_status_code() == 204


def test_short_token_lifetime_is_configurable(sandbox: SandboxClient) -> None:
    base = sandbox.base("zoho")
    assert requests.post(f"{base}/_expire_tokens", json={"expires_in": 60}, timeout=10).ok
    token = requests.post(f"{base}/oauth/v2/token", data={
        "grant_type": "refresh_token", "refresh_token": "r", "client_id": "c", "client_secret": "s"},
        timeout=10).json()
    assert token["expires_in"] == 60 and token["token_type"] == "Bearer"
    assert token["api_domain"] == base


@pytest.fixture(scope="module")
def locked() -> Iterator[str]:
    """A sandbox started with ``--token``: only that refresh token, only tokens it issued."""
    app = build_sandbox(token=REFRESH_TOKEN, services=[ZohoCrmSandbox()])
    with SandboxServer(app) as server:
        yield server.url + "/zoho"


def test_locked_sandbox_rejects_a_wrong_refresh_token(locked: str, tmp_path: Path) -> None:
    from zohocrmsdk.src.com.zoho.crm.api.exception import SDKException

    # Zoho's accounts server answers a bad grant with 200 and {"error": "invalid_code"}.
    reply = requests.post(f"{locked}/oauth/v2/token", data={
        "grant_type": "refresh_token", "refresh_token": "wrong", "client_id": "c", "client_secret": "s"},
        timeout=10)
    assert reply.status_code == 200 and reply.json() == {"error": "invalid_code"}
    with pytest.raises(SDKException) as raised:
        init_sdk(locked, tmp_path / "sdk", refresh_token="1000.wrong")
    assert "invalid_code" in str(raised.value)


def test_locked_sandbox_rejects_unknown_and_missing_access_tokens(locked: str, tmp_path: Path) -> None:
    wrong = http(locked, token="1000.forged").get(f"{locked}/crm/v8/org", timeout=10)
    assert wrong.status_code == 401
    assert wrong.json() == {"code": "INVALID_TOKEN", "details": {}, "message": "invalid oauth token",
                            "status": "error"}
    missing = http(locked, token=None).get(f"{locked}/crm/v8/org", timeout=10)
    assert missing.status_code == 401 and missing.json()["code"] == "AUTHENTICATION_FAILURE"

    init_sdk(locked, tmp_path / "sdk")  # the right refresh token: initialisation succeeds
    assert _list_cases().get_status_code() == 204
