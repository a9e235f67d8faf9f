"""Zoho stamps Modified_Time in whole seconds: edits within one second share it. Through
``pmhub sync``, the Zoho and Jira stand-ins and the real zohocrmsdk and ``jira`` clients: quick
edits of one case do not hide a case made afterwards, and a person's edit in the same second as
pmhub's own write to a case is not taken for that write."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from hub.cli import main
from hub.testing.sandbox_client import SandboxClient
from tests.chaos.tools import JiraTool, ZohoTool
from tests.conftest import write_config
from tests.sandbox.jira_support import EMAIL


class ZohoJira:
    """Zoho cases and a Jira project joined by one two-way flow."""

    def __init__(self, tmp_path: Path, sandbox: SandboxClient) -> None:
        self.zoho, self.jira = ZohoTool(sandbox), JiraTool(sandbox, "CASE", ("todo", "done"))
        self.config = write_config(
            tmp_path / "pmhub.toml", state_url=f"sqlite:///{tmp_path / 'state.db'}",
            connections={"crm": {"plugin": "zoho_crm", "base_url": sandbox.base("zoho"),
                                 "client_id": "1000.PMHUBTEST", "client_secret": {"env": "ZS"},
                                 "refresh_token": {"env": "ZR"}, "timeout": 10},
                         "jira": {"plugin": "jira", "base_url": sandbox.base("jira"), "email": EMAIL,
                                  "token": "t", "timeout": 10}},
            flows=[{"name": "cases", "a": {"connection": "crm", "scope": "Cases"},
                    "b": {"connection": "jira", "scope": "CASE"}, "mapping": "zoho-jira",
                    "records": ["issue"]}])

    def sync(self) -> None:
        result = CliRunner().invoke(main, ["sync", "--quiet", "--config", str(self.config)],
                                    catch_exceptions=False)
        assert result.exit_code == 0, result.output


@pytest.fixture
def hub(tmp_path: Path, sandbox: SandboxClient, monkeypatch: pytest.MonkeyPatch) -> ZohoJira:
    monkeypatch.setenv("ZS", "client-secret")
    monkeypatch.setenv("ZR", "1000.integration-refresh")
    return ZohoJira(tmp_path, sandbox)


def at_the_start_of_a_second() -> None:
    """Leave most of a second for what follows, so that it happens within one second."""
    time.sleep(1.0 - time.time() % 1)


def stamps(zoho: ZohoTool, case_id: str) -> tuple[str, str]:
    """A case's Created_Time and Modified_Time, as Zoho prints them."""
    reply = zoho.http.get(f"{zoho.base}/Cases/{case_id}", params={"fields": "Created_Time,Modified_Time"},
                          timeout=10)
    row = reply.json()["data"][0]
    return row["Created_Time"], row["Modified_Time"]


def test_a_case_made_after_quick_edits_of_another_reaches_jira(hub: ZohoJira) -> None:
    at_the_start_of_a_second()
    first = hub.zoho.create("C1 first", "words.")
    for n in range(4):  # four edits within a second
        hub.zoho.edit(first, "description", f"edit {n}.")
    hub.sync()
    hub.zoho.create("C2 second", "words.")
    hub.sync()
    assert sorted(r.title for r in hub.jira.records()) == ["C1 first", "C2 second"]


def test_a_zoho_edit_in_the_second_of_pmhubs_own_write_reaches_jira(hub: ZohoJira) -> None:
    hub.jira.create("C1 born in jira", "words.")
    at_the_start_of_a_second()
    hub.sync()  # pmhub creates the Zoho case
    [case] = hub.zoho.records()
    hub.zoho.edit(case.id, "title", "C1 renamed in zoho")
    made, edited = stamps(hub.zoho, case.id)
    assert made == edited, "the edit did not happen within the second of pmhub's write; run again"
    hub.sync()
    assert [r.title for r in hub.jira.records()] == ["C1 renamed in zoho"]
