"""A run record counts every API call the run made, opening the connection included."""

from __future__ import annotations

import json

from click.testing import CliRunner

from hub.cli import main
from tests.conftest import write_config
from tests.sandbox.jira_support import new_issue, new_project


def test_recorded_api_calls_match_what_the_service_saw(tmp_path, sandbox):
    new_project(sandbox)
    new_issue(sandbox, "first")
    config = write_config(
        tmp_path / "pmhub.toml", state_url=f"sqlite:///{tmp_path / 'state.db'}",
        connections={"jira": {"plugin": "jira", "base_url": sandbox.base("jira"), "email": "bot@acme.example",
                              "token": "t"},
                     "ref": {"plugin": "reference", "path": str(tmp_path / "ref.sqlite")}},
        flows=[{"name": "f", "a": {"connection": "jira", "scope": "PORT"},
                "b": {"connection": "ref", "scope": "p"}, "records": ["issue"]}])
    sandbox.clear_requests()
    result = CliRunner().invoke(main, ["sync", "-q", "-c", str(config)])
    assert result.exit_code == 0, result.output
    seen_by_jira = len(sandbox.requests("jira"))
    status = json.loads(CliRunner().invoke(main, ["status", "--json", "-c", str(config)]).output)
    recorded = {s["connection"]: s["api_calls"] for s in status[0]["stats"].values()}
    assert recorded["jira"] == seen_by_jira
