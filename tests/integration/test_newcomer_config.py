"""Issue 10 item 8, the newcomer's path: copy config.example.toml, point its connections at
``pmhub sandbox --seed demo`` (only the addresses changed), run ``pmhub sync``: records that already
exist on both sides ("Export invoices as CSV" is GitHub #2, PORT-2 and a CRM case) are linked, and
no side ends with a second copy of anything. Read back through PyGithub, ``jira`` and Zoho's API."""

from __future__ import annotations

import tomllib
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import requests
import tomli_w
from click.testing import CliRunner

from hub.cli import main
from hub.testing.sandbox_client import SandboxClient
from tests.sandbox.github_support import github_client
from tests.sandbox.jira_support import jira_client

EXAMPLE = Path(__file__).resolve().parents[2] / "config.example.toml"
TOKEN = "sandbox-token"
SERVICES = {"gh": "github", "jira": "jira", "board": "trello", "crm": "zoho"}


def newcomer_config(tmp_path: Path, sandbox: SandboxClient, monkeypatch: pytest.MonkeyPatch) -> Path:
    data = tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))
    for name, service in SERVICES.items():
        data["connections"][name]["base_url"] = sandbox.base(service)
    data["connections"]["crm"]["accounts_url"] = sandbox.base("zoho")
    # GitHub's write pacing only makes the test slower; it changes nothing about what is written.
    data["connections"]["gh"]["seconds_between_writes"] = 0
    data["state"]["url"] = f"sqlite:///{tmp_path / 'pmhub.db'}"
    for var in ("GITHUB_TOKEN", "JIRA_TOKEN", "TRELLO_TOKEN", "ZOHO_CLIENT_SECRET", "ZOHO_REFRESH_TOKEN"):
        monkeypatch.setenv(var, TOKEN)
    path = tmp_path / "pmhub.toml"
    path.write_text(tomli_w.dumps(data), encoding="utf-8")
    return path


def zoho_cases(sandbox: SandboxClient) -> list[dict[str, Any]]:
    base = sandbox.base("zoho")
    token = requests.post(f"{base}/oauth/v2/token", timeout=10, data={
        "grant_type": "refresh_token", "refresh_token": TOKEN, "client_id": "1000.TEST",
        "client_secret": TOKEN}).json()["access_token"]
    reply = requests.get(f"{base}/crm/v8/Cases", params={"fields": "Subject"}, timeout=10,
                         headers={"Authorization": f"Zoho-oauthtoken {token}"})
    reply.raise_for_status()
    return list(reply.json().get("data", []))


def twice(names: list[str]) -> list[str]:
    return sorted(name for name, n in Counter(names).items() if n > 1)


def test_the_example_config_on_the_demo_seed_syncs_without_a_single_duplicate(
        tmp_path: Path, sandbox: SandboxClient, monkeypatch: pytest.MonkeyPatch) -> None:
    sandbox.reset("demo")
    config = newcomer_config(tmp_path, sandbox, monkeypatch)

    for _ in range(2):
        result = CliRunner().invoke(main, ["sync", "--quiet", "--config", str(config)],
                                    catch_exceptions=False)
        assert result.exit_code in (0, 1), result.output
        assert "Traceback" not in result.output

    repo = github_client(sandbox.base("github"), token=TOKEN).get_repo("acme/portal")
    issues = [i for i in repo.get_issues(state="all") if i.pull_request is None]
    jira = jira_client(sandbox.base("jira"), token=TOKEN)
    tickets = list(jira.search_issues("project = PORT ORDER BY key ASC", maxResults=False))
    cases = zoho_cases(sandbox)

    assert twice([i.title for i in issues]) == []
    assert twice([t.fields.summary for t in tickets]) == []
    assert twice([c["Subject"] for c in cases]) == []
    for issue in issues:
        assert twice([c.body for c in issue.get_comments()]) == [], issue.title
    for ticket in tickets:
        assert twice([c.body for c in jira.comments(ticket.key)]) == [], ticket.fields.summary
    # The pair the seed already holds on every side is linked, not copied: still one of each.
    assert [i.number for i in issues if i.title == "Export invoices as CSV"] == [2]
    assert [t.key for t in tickets if t.fields.summary == "Export invoices as CSV"] == ["PORT-2"]
    assert len([c for c in cases if c["Subject"] == "Export invoices as CSV"]) == 1
