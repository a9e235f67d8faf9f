"""``pmhub check`` (issue 10, item 12): it says ok only when a sync could run. Through the CLI,
against the sandbox, with each tool's real client: one line per problem naming the connection (and
the flow and scope); exit 2 for config problems, 1 for a failing connection or scope, 0 otherwise.
A service answering an HTML page with status 200 is one clear line, never a traceback."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from hub.cli import main
from hub.testing.sandbox_client import SandboxClient
from tests.conftest import write_config
from tests.sandbox.jira_support import EMAIL
from tests.sandbox.trello_http import TrelloHttp
from tests.sandbox.zoho_support import REFRESH_TOKEN

HTML = "<!DOCTYPE html><html><head><title>Sign in</title></head><body>Sign in</body></html>"
HTML_HEADERS = {"Content-Type": "text/html; charset=utf-8"}
#: Where each tool's client asks first (its credentials check), under the service's root.
FIRST_CALL = {"github": "GET /github/user", "jira": "GET /jira/rest/api/2/myself",
              "trello": "GET /trello/1/members/me", "zoho": "POST /zoho/oauth/v2/token"}
CONNECTION = {"github": "gh", "jira": "jira", "trello": "board", "zoho": "crm"}


def connections(sandbox: SandboxClient) -> dict[str, dict[str, Any]]:
    return {
        "gh": {"plugin": "github", "base_url": sandbox.base("github"), "token": "t", "timeout": 5},
        "jira": {"plugin": "jira", "base_url": sandbox.base("jira"), "email": EMAIL, "token": "t",
                 "timeout": 5},
        "board": {"plugin": "trello", "base_url": sandbox.base("trello"), "key": "k", "token": "t",
                  "timeout": 5},
        "crm": {"plugin": "zoho_crm", "base_url": sandbox.base("zoho"), "client_id": "1000.CLIENT",
                "client_secret": "s", "refresh_token": REFRESH_TOKEN, "timeout": 5},
    }


def flows(repo: str = "acme/portal", project: str = "PORT",
          board: str | None = None) -> list[dict[str, Any]]:
    return [
        {"name": "portal", "a": {"connection": "gh", "scope": repo},
         "b": {"connection": "jira", "scope": project}, "mapping": "github-jira"},
        {"name": "customers", "a": {"connection": "board", "scope": board or "0" * 24},
         "b": {"connection": "crm", "scope": "Cases"}, "records": ["issue"]},
    ]


def demo_board(sandbox: SandboxClient) -> str:
    [board] = TrelloHttp(sandbox.base("trello")).get("/members/me/boards")
    return str(board["id"])


def check(tmp_path: Path, sandbox: SandboxClient, flow_list: list[dict[str, Any]], *args: str,
          state_url: str | None = None) -> Result:
    config = write_config(tmp_path / "pmhub.toml", connections=connections(sandbox), flows=flow_list,
                          state_url=state_url or f"sqlite:///{tmp_path / 'state.db'}")
    result = CliRunner().invoke(main, ["check", "-c", str(config), *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output
    return result


def lines_with(result: Result, text: str) -> list[str]:
    return [line for line in result.output.splitlines() if text in line]


@pytest.fixture
def demo(sandbox: SandboxClient) -> SandboxClient:
    sandbox.reset("demo")
    return sandbox


def test_check_reads_one_page_of_each_flows_scopes_and_says_ok(tmp_path: Path, demo: SandboxClient) -> None:
    board = demo_board(demo)
    demo.clear_requests()

    result = check(tmp_path, demo, flows(board=board))

    assert result.exit_code == 0, result.output
    for name in ("gh", "jira", "board", "crm"):
        assert len(lines_with(result, f"connection {name}: ok")) == 1, result.output
    assert len(lines_with(result, ": ok (issue, comment readable)")) == 2
    assert lines_with(result, f"flow customers side a: connection board scope '{board}': ok")
    listed = {(r["service"], r["path"]) for r in demo.requests() if r["method"] == "GET"}
    assert {("github", "/repos/acme/portal/issues"), ("github", "/repos/acme/portal/issues/comments")} \
        <= listed, "one page of each record type"


def test_scopes_that_do_not_exist_fail_naming_flow_side_connection_and_scope(
        tmp_path: Path, demo: SandboxClient) -> None:
    result = check(tmp_path, demo, flows(repo="acme/nope", project="NOPE"))

    assert result.exit_code == 1, result.output
    [github] = lines_with(result, "flow portal side a: connection gh scope 'acme/nope'")
    [jira] = lines_with(result, "flow portal side b: connection jira scope 'NOPE'")
    [trello] = lines_with(result, "flow customers side a: connection board scope '000000000000000000000000'")
    assert "FAILED" in github and "404" in github
    assert "FAILED" in jira and "NOPE" in jira.split("FAILED", 1)[1]
    assert "FAILED" in trello
    assert lines_with(result, "flow customers side b: connection crm scope 'Cases': ok")


def test_zero_flows_is_a_config_problem(tmp_path: Path, demo: SandboxClient) -> None:
    result = check(tmp_path, demo, [])

    assert result.exit_code == 2, result.output
    [line] = lines_with(result, "no flows")
    assert str(tmp_path / "pmhub.toml") in line
    assert "connection gh: ok" in result.output, "the connections are still checked"


@pytest.mark.parametrize("offline", [False, True], ids=["online", "offline"])
def test_a_missing_state_directory_is_a_config_problem_naming_the_path(
        tmp_path: Path, demo: SandboxClient, offline: bool) -> None:
    missing = tmp_path / "no" / "such" / "folder"

    result = check(tmp_path, demo, flows(board=demo_board(demo)), *(["--offline"] if offline else []),
                   state_url=f"sqlite:///{missing / 'state.db'}")

    assert result.exit_code == 2, result.output
    [line] = lines_with(result, "FAILED")
    assert line.startswith(f"state sqlite:///{missing / 'state.db'}")
    assert f"directory {missing} does not exist" in line
    assert not missing.exists(), "check creates nothing"


@pytest.mark.parametrize("service", ["github", "jira", "trello", "zoho"])
def test_an_html_page_with_status_200_is_one_clear_line_naming_connection_and_url(
        tmp_path: Path, demo: SandboxClient, service: str) -> None:
    board = demo_board(demo)
    demo.fault(service, status=200, times=1000, body=HTML, headers=HTML_HEADERS)

    result = check(tmp_path, demo, flows(board=board))

    assert result.exit_code == 1, result.output
    name = CONNECTION[service]
    [line] = lines_with(result, f"connection {name}: FAILED")
    method, path = FIRST_CALL[service].split(" ")
    assert f"{name}: {method} {demo.url}{path} answered HTTP 200 with text/html that is not JSON" in line
    assert "JSONDecodeError" not in result.output and "Expecting value" not in result.output
    others = [n for n in CONNECTION.values() if n != name]
    assert all(lines_with(result, f"connection {n}: ok") for n in others)


@pytest.mark.parametrize(("service", "path", "side"), [
    ("github", r"/issues/comments$", "flow portal side a: connection gh"),
    ("jira", r"/search/jql$", "flow portal side b: connection jira"),
    ("zoho", r"^/crm/v8/(Cases|coql)", "flow customers side b: connection crm"),
])
def test_an_html_page_while_reading_a_scope_fails_that_flow_side(
        tmp_path: Path, demo: SandboxClient, service: str, path: str, side: str) -> None:
    board = demo_board(demo)
    demo.fault(service, path=path, status=200, times=1000, body=HTML, headers=HTML_HEADERS)

    result = check(tmp_path, demo, flows(board=board))

    assert result.exit_code == 1, result.output
    [line] = lines_with(result, side)
    assert "FAILED" in line and "answered HTTP 200 with text/html that is not JSON" in line
    assert f"connection {CONNECTION[service]}: ok" in result.output


def test_sync_meets_an_html_page_with_one_clear_line_too(tmp_path: Path, demo: SandboxClient) -> None:
    demo.fault("github", path=r"/issues$", status=200, times=1000, body=HTML, headers=HTML_HEADERS)
    config = write_config(tmp_path / "pmhub.toml", connections=connections(demo), flows=flows()[:1],
                          state_url=f"sqlite:///{tmp_path / 'state.db'}")

    result = CliRunner().invoke(main, ["sync", "-c", str(config)])

    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit), result.exception
    assert "answered HTTP 200 with text/html that is not JSON" in result.output
    assert "Traceback" not in result.output and "JSONDecodeError" not in result.output
