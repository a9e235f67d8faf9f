"""A delivery about a tool's record reaches every flow type that record may be: on a flow pairing
Deals with Epics, a Jira issue event is a targeted sync of the flow's issues and of its projects
(each keeps the records of its kind), and a Zoho Deal event of the projects only."""

from __future__ import annotations

from pathlib import Path

from hub.config import load_config
from hub.connector import WebhookEvent
from hub.plugins import build_plugin_manager
from hub.service.receiver import WebhookReceiver
from hub.state.store import StateStore
from tests.conftest import write_config


def test_a_jira_issue_event_targets_both_the_issues_and_the_paired_projects(tmp_path: Path) -> None:
    config_path = write_config(
        tmp_path / "pmhub.toml", state_url=f"sqlite:///{tmp_path / 'state.db'}",
        connections={
            "crm": {"plugin": "zoho_crm", "client_id": "1000.X", "client_secret": "s", "refresh_token": "r",
                    "webhook_secret": "channel-token"},
            "jira": {"plugin": "jira", "base_url": "http://127.0.0.1:9", "email": "bot@acme.example",
                     "token": "t", "webhook_secret": "hook-secret"},
        },
        flows=[{"name": "acme-delivery", "a": {"connection": "crm", "scope": "*"},
                "b": {"connection": "jira", "scope": "PORT"}, "records": ["project", "issue"],
                "pairs": {"project": "issue"}, "mapping": "zoho-jira"}])
    host = build_plugin_manager()
    config = load_config(config_path, host)
    store = StateStore.open(config.state.url or "")
    try:
        receiver = WebhookReceiver(config, host, store, None, None, None)  # type: ignore[arg-type]
        jira = receiver.connectors["jira"]
        event = WebhookEvent("issue", "10042", frozenset({"PORT", "10000"}))
        targets = receiver.targets("jira", jira, event)
        assert sorted((t.record_type, t.side, t.external_id) for t in targets) == [
            ("issue", "b", "10042"), ("project", "b", "10042")]
        crm = receiver.connectors["crm"]
        deal = receiver.targets("crm", crm, WebhookEvent("project", "640358400000050", frozenset({"Deals"})))
        assert [(t.record_type, t.side) for t in deal] == [("project", "a")]
        other = receiver.targets("jira", jira, WebhookEvent("issue", "7", frozenset({"OTHER"})))
        assert other == [], "another project's issue concerns no flow"
    finally:
        store.close()
