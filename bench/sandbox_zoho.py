"""Throughput of the Zoho CRM stand-in, single client on loopback: the real SDK and plain requests.

    python bench/sandbox_zoho.py [RECORDS] [--per-page N] [--gets N]

Seeds RECORDS Cases straight into the stand-in's state, then times listing every page of
``GET /crm/v8/Cases?fields=..&sort_by=Modified_Time&sort_order=asc`` (``page_token`` past 2000)
and N single-record gets three ways: through zohocrmsdk8-0; through one ``requests.Session`` with
the ``Zoho-oauthtoken`` header (the sandbox's own speed: the SDK parses every record into objects
and re-reads its field cache file per call); and through pmhub's Zoho connector (what a sync sees).
Target: at least 300 requests/s, so the sandbox never dominates a test run.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from typing import Any

import requests
from pmhub_plugins.zoho_crm.sandbox import ZohoCrmSandbox

from hub.sandbox.server import SandboxApp, SandboxServer

FIELDS = "Subject,Status,Priority,Type,Description,Account_Name,Pmhub_Id,Modified_Time"


def rate(label: str, count: int, seconds: float) -> float:
    per_second = count / seconds
    print(f"{label:<44} {count:>6} requests in {seconds:6.2f} s  {per_second:8.0f} requests/s")
    return per_second


def seed(service: ZohoCrmSandbox, count: int) -> list[str]:
    ids = []
    for n in range(count):
        result = service.store.insert("Cases", {
            "Subject": f"Case {n}", "Status": "New", "Priority": "Medium", "Type": "Problem",
            "Description": "Something is wrong " * 5, "Pmhub_Id": f"pmhub:bench:{n}"}, 0)
        ids.append(str(result["details"]["id"]))
    return ids


def init_sdk(base: str, resource_dir: str) -> None:
    from zohocrmsdk.src.com.zoho.api.authenticator.oauth_token import OAuthToken
    from zohocrmsdk.src.com.zoho.api.authenticator.store.token_store import TokenStore
    from zohocrmsdk.src.com.zoho.crm.api.dc.data_center import DataCenter
    from zohocrmsdk.src.com.zoho.crm.api.initializer import Initializer
    from zohocrmsdk.src.com.zoho.crm.api.sdk_config import SDKConfig

    class Store(TokenStore):  # type: ignore[misc]
        def __init__(self) -> None:
            self.token: Any = None

        def find_token(self, token: Any) -> Any:
            return self.token

        def save_token(self, token: Any) -> None:
            token.set_id("bench")
            self.token = token

        def delete_token(self, id: str) -> None:
            self.token = None

        def get_tokens(self) -> list[Any]:
            return [self.token] if self.token else []

        def delete_tokens(self) -> None:
            self.token = None

        def find_token_by_id(self, id: str) -> Any:
            return self.token

    Initializer.initialize(
        environment=DataCenter.Environment(base, base + "/oauth/v2/token", base),
        token=OAuthToken(client_id="bench", client_secret="bench", refresh_token="bench"),
        store=Store(), sdk_config=SDKConfig(update_api_domain=False, connect_timeout=5, read_timeout=10),
        resource_path=resource_dir)


def bench_sdk(base: str, ids: list[str], per_page: int, gets: int) -> tuple[float, float]:
    from zohocrmsdk.src.com.zoho.crm.api import HeaderMap, ParameterMap
    from zohocrmsdk.src.com.zoho.crm.api.record import GetRecordsParam, RecordOperations

    with tempfile.TemporaryDirectory() as tmp:
        init_sdk(base, tmp)
        operations = RecordOperations("Cases")
        operations.get_record(int(ids[0]), ParameterMap(), HeaderMap())  # warm the field cache
        started, pages, token, listed = time.perf_counter(), 0, None, 0
        while True:
            params = ParameterMap()
            params.add(GetRecordsParam.fields, FIELDS)
            params.add(GetRecordsParam.per_page, per_page)
            params.add(GetRecordsParam.sort_by, "Modified_Time")
            params.add(GetRecordsParam.sort_order, "asc")
            if token:
                params.add(GetRecordsParam.page_token, token)
            reply = operations.get_records(params, HeaderMap())
            pages += 1
            wrapper = reply.get_object()
            listed += len(wrapper.get_data())
            info = wrapper.get_info()
            if not info.get_more_records():
                break
            token = info.get_next_page_token()
        assert listed == len(ids), (listed, len(ids))
        list_rate = rate(f"SDK list pages ({per_page}/page)", pages, time.perf_counter() - started)
        started = time.perf_counter()
        for n in range(gets):
            reply = operations.get_record(int(ids[n % len(ids)]), ParameterMap(), HeaderMap())
            assert reply.get_status_code() == 200
        get_rate = rate("SDK single-record gets", gets, time.perf_counter() - started)
    return list_rate, get_rate


def bench_http(base: str, ids: list[str], per_page: int, gets: int) -> tuple[float, float]:
    session = requests.Session()
    token = session.post(f"{base}/oauth/v2/token", data={
        "grant_type": "refresh_token", "refresh_token": "bench", "client_id": "bench",
        "client_secret": "bench"}, timeout=10).json()["access_token"]
    session.headers["Authorization"] = f"Zoho-oauthtoken {token}"
    params: dict[str, Any] = {"fields": FIELDS, "per_page": per_page, "sort_by": "Modified_Time",
                              "sort_order": "asc"}
    started, pages, listed = time.perf_counter(), 0, 0
    while True:
        body = session.get(f"{base}/crm/v8/Cases", params=params, timeout=10).json()
        pages += 1
        listed += len(body["data"])
        if not body["info"]["more_records"]:
            break
        params = {**params, "page_token": body["info"]["next_page_token"]}
    assert listed == len(ids)
    list_rate = rate(f"requests list pages ({per_page}/page)", pages, time.perf_counter() - started)
    started = time.perf_counter()
    for n in range(gets):
        assert session.get(f"{base}/crm/v8/Cases/{ids[n % len(ids)]}", timeout=10).status_code == 200
    get_rate = rate("requests single-record gets", gets, time.perf_counter() - started)
    return list_rate, get_rate


def bench_connector(base: str, ids: list[str], per_page: int, gets: int) -> tuple[float, float]:
    """pmhub's Zoho connector on top of the SDK: what a sync run sees."""
    from pmhub_plugins.zoho_crm.connector import ZohoCrmConnector, ZohoCrmSettings

    with tempfile.TemporaryDirectory() as tmp:
        settings = ZohoCrmSettings(plugin="zoho_crm", base_url=base, client_id="bench", client_secret="bench",
                                   refresh_token="bench", page_size=per_page)
        connector = ZohoCrmConnector("bench", settings, data_dir=tmp)
        connector.open()
        connector.get("Cases", "issue", ids[0])  # warm the field cache
        connector.calls.counts.clear()
        started = time.perf_counter()
        listed = sum(1 for _ in connector.list_changed("Cases", "issue", None))
        seconds = time.perf_counter() - started
        assert listed == len(ids), (listed, len(ids))
        print(f"{'connector list_changed':<44} {listed:>6} records  in {seconds:6.2f} s  "
              f"{listed / seconds:8.0f} records/s")
        list_rate = rate("connector list pages", connector.calls.total, seconds)
        started = time.perf_counter()
        for n in range(gets):
            assert connector.get("Cases", "issue", ids[n % len(ids)]) is not None
        get_rate = rate("connector gets", gets, time.perf_counter() - started)
        connector.close()
    return list_rate, get_rate


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("records", type=int, nargs="?", default=5000)
    parser.add_argument("--per-page", type=int, default=200)
    parser.add_argument("--gets", type=int, default=1000)
    args = parser.parse_args()
    service = ZohoCrmSandbox()
    app = SandboxApp([service])  # resets its services, so seed after it
    ids = seed(service, args.records)
    with SandboxServer(app) as server:
        base = server.url + "/zoho"
        sdk = bench_sdk(base, ids, args.per_page, args.gets)
        raw = bench_http(base, ids, args.per_page, args.gets)
        bench_connector(base, ids, args.per_page, args.gets)
    print(f"slowest: SDK {min(sdk):.0f} requests/s, plain requests {min(raw):.0f} requests/s (target 300)")


if __name__ == "__main__":
    main()
