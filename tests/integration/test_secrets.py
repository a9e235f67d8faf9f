"""Secrets never reach output, logs or the state store in clear, even when they are wrong."""

from __future__ import annotations

import logging

from click.testing import CliRunner

from hub.cli import main
from hub.sandbox.server import SandboxServer, build_sandbox
from hub.testing.sandbox_client import SandboxClient
from tests.conftest import write_config

SECRET = "ghp_SuperSecretTokenValue1234567890"


def _config(tmp_path, url):
    client = SandboxClient(url)
    return write_config(
        tmp_path / "pmhub.toml", state_url=f"sqlite:///{tmp_path / 'state.db'}",
        connections={"gh": {"plugin": "github", "base_url": client.base("github"),
                            "token": {"env": "PMHUB_TEST_GH_TOKEN"}, "seconds_between_writes": 0},
                     "ref": {"plugin": "reference", "path": f"{tmp_path / 'ref.sqlite'}"}},
        flows=[{"name": "f", "a": {"connection": "gh", "scope": "octocat/secrets"},
                "b": {"connection": "ref", "scope": "p"}, "records": ["issue"]}])


def test_a_wrong_token_fails_clearly_without_showing_it(tmp_path, monkeypatch, caplog):
    caplog.set_level(logging.DEBUG)
    monkeypatch.setenv("PMHUB_TEST_GH_TOKEN", SECRET)
    with SandboxServer(build_sandbox(token="the-right-one")) as server:
        config = _config(tmp_path, server.url)
        result = CliRunner().invoke(main, ["sync", "-q", "-c", str(config)])
        writes = [r for r in SandboxClient(server.url).requests("github") if r["method"] != "GET"]
    assert result.exit_code == 1
    assert "gh" in result.output and ("401" in result.output or "authentication" in result.output.lower())
    assert SECRET not in result.output
    assert SECRET not in caplog.text
    assert writes == []
    assert SECRET.encode() not in (tmp_path / "state.db").read_bytes()


def test_a_working_token_is_not_stored(tmp_path, monkeypatch, caplog, sandbox):
    caplog.set_level(logging.DEBUG)
    monkeypatch.setenv("PMHUB_TEST_GH_TOKEN", SECRET)
    from github import Auth, Github

    gh = Github(auth=Auth.Token("t"), base_url=sandbox.base("github"), retry=None)
    repo = gh.get_user().create_repo("secrets")
    repo.create_issue(title="hello")
    config = _config(tmp_path, sandbox.url)
    result = CliRunner().invoke(main, ["sync", "-q", "-c", str(config)])
    assert result.exit_code == 0, result.output
    assert SECRET not in result.output and SECRET not in caplog.text
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert SECRET.encode() not in path.read_bytes(), path
