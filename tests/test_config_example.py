"""config.example.toml documents every key of the config contract and is itself valid."""

from __future__ import annotations

import tomllib
from pathlib import Path

from pydantic import BaseModel

from hub.config import FlowConfig, QueueConfig, RetryConfig, ServerConfig, StateConfig, _RawConfig
from hub.plugins import build_plugin_manager

EXAMPLE = Path(__file__).resolve().parents[1] / "config.example.toml"


def _keys(model: type[BaseModel]) -> set[str]:
    return set(model.model_fields)


def test_example_documents_every_key():
    data = tomllib.loads(EXAMPLE.read_text())
    assert set(data) == _keys(_RawConfig) - {"queue"}  # queue mode is documented commented out
    queue = EXAMPLE.read_text().split("# [queue]")[1].split("\n\n")[0]
    for key in QueueConfig.model_fields:
        assert f"# {key} =" in queue, f"queue.{key} is not documented"
    assert set(data["state"]) == _keys(StateConfig)
    assert set(data["retry"]) == _keys(RetryConfig)
    server = EXAMPLE.read_text().split("[server]")[1].split("\n[")[0]
    for key in ServerConfig.model_fields:
        assert f"{key} =" in server, f"server.{key} is not documented"
    flow_keys = set().union(*(set(flow) for flow in data["flows"]))
    assert flow_keys == _keys(FlowConfig)
    host = build_plugin_manager()
    documented_plugins = {table["plugin"] for table in data["connections"].values()}
    assert documented_plugins == {"github", "jira", "trello", "zoho_crm"}
    for name, table in data["connections"].items():
        model = host.connector(table["plugin"]).settings_model
        commented = EXAMPLE.read_text().split(f"[connections.{name}]")[1].split("[connections.")[0]
        for key in model.model_fields:
            assert f"{key} =" in commented, f"connections.{name}.{key} is not documented"


def test_example_is_a_valid_config(tmp_path, monkeypatch):
    from hub.config import load_config

    for var in ("GITHUB_TOKEN", "JIRA_TOKEN", "TRELLO_TOKEN", "ZOHO_CLIENT_SECRET", "ZOHO_REFRESH_TOKEN"):
        monkeypatch.setenv(var, "secret")
    config = load_config(EXAMPLE, build_plugin_manager())
    assert [f.name for f in config.flows] == ["portal-issues", "customer-requests"]
