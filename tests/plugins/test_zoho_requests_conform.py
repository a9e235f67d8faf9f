"""Every request pmhub's Zoho connector sends (through the SDK) checked against Zoho's v8 OpenAPI
files: paths, query parameters and JSON bodies the real service documents.

Gaps between the files and what the official SDK sends (which Zoho accepts), relaxed here:
- The SDK sends upserts without a Content-Type header (see API-NOTES); Zoho reads the body as
  JSON regardless, so a body without one is checked as ``application/json``.
- The SDK types record ids as long and sends them as JSON numbers; the files say string. Ids are
  turned into strings before the check.
The token endpoint belongs to Zoho's accounts server, which the files do not describe; the other
relaxations are listed in ``tests/sandbox/zoho_oracle.py``.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import pytest
from pmhub_plugins.zoho_crm.connector import ZohoCrmConnector, ZohoCrmSettings
from pmhub_plugins.zoho_crm.sandbox import ZohoCrmSandbox
from pmhub_plugins.zoho_crm.token_store import MemorySecretStorage
from werkzeug.wrappers import Request

from hub.model import Contact, Customer, Issue, Kind, Project, StatusCategory
from hub.sandbox.server import SandboxApp, SandboxServer
from tests.sandbox.conformance import oracles_dir
from tests.sandbox.zoho_oracle import SERVER, request_api

pytest.importorskip("zohocrmsdk")


class Recorder:
    """WSGI middleware keeping each request (method, path, query, headers, body) before serving it."""

    def __init__(self, app: SandboxApp) -> None:
        self.app = app
        self.seen: list[dict[str, Any]] = []

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        environ["wsgi.input"] = io.BytesIO(body)
        request = Request(environ)
        self.seen.append({"method": request.method, "path": request.path,
                          "query": request.query_string.decode(), "headers": dict(request.headers),
                          "body": body})
        return self.app(environ, start_response)


def _description(path: str) -> str | None:
    crm = path.removeprefix("/zoho")
    if not crm.startswith("/crm/v8/"):
        return None
    rest = crm.removeprefix("/crm/v8/").split("/")
    named = {"coql": "coql", "users": "users", "org": "org"}
    if rest[0] in named:
        return named[rest[0]]
    if rest[0] == "settings":
        return {"fields": "fields", "modules": "modules", "related_lists": "related_lists"}[rest[1]]
    if rest[0] == "Notes":
        return "notes"
    if len(rest) == 3 and rest[1] not in ("actions", "deleted"):
        return "related_records"
    return "record"


def _ids_as_strings(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: str(v) if k == "id" and isinstance(v, int) else _ids_as_strings(v)
                for k, v in value.items()}
    if isinstance(value, list):
        return [_ids_as_strings(v) for v in value]
    return value


@pytest.fixture
def recorded(tmp_path: Path) -> Iterator[tuple[ZohoCrmConnector, Recorder]]:
    oracles_dir()
    recorder = Recorder(SandboxApp([ZohoCrmSandbox()]))
    with SandboxServer(recorder) as server:  # type: ignore[arg-type]
        settings = ZohoCrmSettings(plugin="zoho_crm", base_url=server.url + "/zoho", client_id="1000.C",
                                   client_secret="s", refresh_token="1000.r", timeout=10)
        connector = ZohoCrmConnector("crm", settings, secrets=MemorySecretStorage(), data_dir=tmp_path)
        connector.open()
        yield connector, recorder
        connector.close()


def test_every_request_the_connector_sends_is_one_zoho_documents(
        recorded: tuple[ZohoCrmConnector, Recorder]) -> None:
    from openapi_core.testing import MockRequest

    connector, recorder = recorded
    connector.whoami()
    account = connector.create("Accounts", "customer", Customer(
        name="Acme", website="https://acme.example",
        contacts=[Contact(name="Ada Lovelace", email="ada@acme.example")]), "pmhub:acme")
    connector.update("Accounts", "customer", account.id, Customer(name="Acme", contacts=[
        Contact(name="Ada Lovelace", email="ada@acme.example", role="CTO")]), frozenset({"contacts"}))
    deal = connector.create("Deals", "project", Project(name="Portal", customer=account.id), "pmhub:portal")
    case = connector.create("Cases", "issue", Issue(title="SSO", kind=Kind.CHANGE_REQUEST, customer="Acme"),
                            "pmhub:sso")
    connector.update("Cases", "issue", case.id, Issue(title="SSO", status=StatusCategory.DONE),
                     frozenset({"status"}))
    connector.find_by_marker("Cases", "issue", "pmhub:sso")
    since = case.updated
    assert since is not None
    list(connector.list_changed("Accounts", "customer", since))
    list(connector.list_changed("Cases", "issue", None))
    connector.add_note("Deals", deal.id, "Progress", "1/1 done")
    connector.list_notes("Deals", deal.id)
    connector.delete("Cases", "issue", case.id)
    list(connector.list_changed("Cases", "issue", since))

    checked, problems = set(), []
    for seen in recorder.seen:
        name = _description(seen["path"])
        if name is None:
            continue
        body = seen["body"] or None
        if body is not None:
            body = json.dumps(_ids_as_strings(json.loads(body))).encode()
        request = MockRequest(SERVER, seen["method"].lower(), seen["path"].removeprefix("/zoho"),
                              args=dict(parse_qsl(seen["query"])), headers=seen["headers"], data=body,
                              content_type="application/json")
        result = request_api(name).unmarshal_request(request)
        checked.add((seen["method"], name))
        if result.errors:
            problems.append(f"{seen['method']} {seen['path']}?{seen['query']}: "
                            f"{'; '.join(str(e) for e in result.errors)[:300]}")
    assert not problems, "\n".join(problems)
    assert {("POST", "record"), ("PUT", "record"), ("DELETE", "record"), ("GET", "record"),
            ("POST", "coql"), ("POST", "notes"), ("GET", "related_records"), ("GET", "fields")} <= checked
