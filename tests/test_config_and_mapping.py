"""Bad config and mappings get one clear message naming file, key and problem; exit code 2."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from hub.cli import main
from hub.errors import ConfigError
from hub.mapping import load_mapping, mapping_search_path, parse_mapping
from hub.plugins import build_plugin_manager

GOOD = """
[connections.left]
plugin = "reference"
path = "memory:cfg-left"

[connections.right]
plugin = "reference"
path = "memory:cfg-right"

[[flows]]
name = "main"
a = { connection = "left", scope = "p" }
b = { connection = "right", scope = "p" }
"""


def check(tmp_path: Path, text: str, *args: str):
    config = tmp_path / "pmhub.toml"
    config.write_text(text)
    return CliRunner().invoke(main, ["check", "--offline", "-c", str(config), *args])


def test_a_good_config_checks_ok(tmp_path):
    result = check(tmp_path, GOOD)
    assert result.exit_code == 0, result.output
    assert "2 connections, 1 flows" in result.output


@pytest.mark.parametrize(("change", "key", "problem"), [
    (("[[flows]]", "[[flows]]\ncolour = \"red\""), "flows[0].colour", "unknown key"),
    (("[[flows]]", "[[flows]]\ndirection = \"sideways\""), "flows[0].direction", "'a->b', 'b->a' or 'both'"),
    (("connection = \"right\"", "connection = \"nowhere\""), "flows[0].b.connection",
     "unknown connection 'nowhere'"),
    (("plugin = \"reference\"\npath = \"memory:cfg-left\"", "plugin = \"asana\""),
     "connections.left.plugin", "unknown plugin 'asana'"),
    (("path = \"memory:cfg-right\"", "path = \"memory:cfg-right\"\ntokn = \"x\""), "connections.right.tokn",
     "unknown key"),
    (("[[flows]]", "[[flows]]\nschedule = \"every five minutes\""), "flows[0].schedule",
     "not a cron expression"),
    (("[[flows]]", "[[flows]]\nrecords = [\"ticket\"]"), "flows[0].records", "unknown record type"),
    (("[[flows]]", "[[flows]]\nrecords = [\"milestone\", \"issue\"]\npairs = { milestone = \"issue\" }"),
     "flows[0]", "pmhub pairs project = \"issue\", not milestone with 'issue'"),
    (("[[flows]]", "[[flows]]\nrecords = [\"issue\"]\npairs = { project = \"issue\" }"),
     "flows[0]", "the flow does not sync projects"),
    (("[[flows]]", "[[flows]]\nrecords = [\"project\", \"issue\"]\npairs = { project = { a = \"issue\", "
                   "b = \"issue\" } }"), "flows[0].pairs.project", "name the one side"),
])
def test_bad_config_names_the_file_the_key_and_the_problem(tmp_path, change, key, problem):
    result = check(tmp_path, GOOD.replace(*change, 1))
    assert result.exit_code == 2, result.output
    assert str(tmp_path / "pmhub.toml") in result.output
    assert key in result.output and problem in result.output
    assert "Traceback" not in result.output


def test_invalid_toml_is_reported_with_its_line(tmp_path):
    result = check(tmp_path, GOOD + "\n[broken\n")
    assert result.exit_code == 2 and "not valid TOML" in result.output and "line" in result.output


def test_missing_config_file_says_how_to_make_one(tmp_path):
    result = CliRunner().invoke(main, ["check", "-c", str(tmp_path / "none.toml")])
    assert result.exit_code == 2 and "config.example.toml" in result.output


def test_secrets_resolve_from_env_and_file_and_never_print(tmp_path, monkeypatch):
    secret_file = tmp_path / "token.txt"
    secret_file.write_text("s3cr3t-from-file\n")
    text = GOOD.replace('path = "memory:cfg-left"', 'path = { file = "token.txt" }')
    text = text.replace('path = "memory:cfg-right"', 'path = { env = "PMHUB_TEST_PATH" }')
    monkeypatch.setenv("PMHUB_TEST_PATH", "memory:from-env")
    assert check(tmp_path, text).exit_code == 0
    monkeypatch.delenv("PMHUB_TEST_PATH")
    result = check(tmp_path, text)
    assert result.exit_code == 2
    assert "connections.right.path" in result.output and "PMHUB_TEST_PATH is not set" in result.output
    assert "s3cr3t" not in result.output


def test_a_secret_table_with_other_keys_is_rejected(tmp_path):
    result = check(tmp_path, GOOD.replace('path = "memory:cfg-left"', 'path = { env = "X", default = "y" }'))
    assert result.exit_code == 2 and "connections.left.path" in result.output


def _transforms():
    return build_plugin_manager().transforms


@pytest.mark.parametrize(("data", "key", "problem"), [
    ({"issue": {"fields": ["title", "colour"]}}, "issue.fields", "not canonical issue field"),
    ({"issue": {"a": {"status": {"Open": "opened"}}}}, "issue.a.status.Open", "not a canonical status"),
    ({"issue": {"a": {"transforms": {"priority": {"transform": "eval"}}}}},
     "issue.a.transforms.priority.transform", "unknown transform 'eval'"),
    ({"issue": {"c": {}}}, "issue.c", "unknown key"),
    ({"tickets": {}}, "tickets", "unknown section"),
    ({"people": [{"email": "x@y", "nick": "z"}]}, "people[0]", "unknown key"),
    ({"people": [{"email": 5, "a": "x"}]}, "people[0].email", "must be a non-empty string"),
    ({"issue": {"fields": "title"}}, "issue.fields", "must be an array of field names"),
    ({"issue": {"a": {"status_out": {"done": 5}}}}, "issue.a.status_out.done", "must be a string"),
    ({"issue": {"a": {"transforms": {"priority": {"transform": "label_prefix"}}}}},
     "issue.a.transforms.priority", "label_prefix: needs prefix"),
    ({"issue": {"a": {"transforms": {"priority": {"transform": "label_prefix", "prefix": "p: ",
                                                  "prefx": "q"}}}}},
     "issue.a.transforms.priority.prefx", "label_prefix: unknown parameter"),
    ({"issue": {"a": {"transforms": {"customer": {"transform": "field_label", "prefix": 3}}}}},
     "issue.a.transforms.customer.prefix", "field_label: must be a string"),
])
def test_bad_mapping_names_the_key_and_the_problem(data, key, problem):
    with pytest.raises(ConfigError) as caught:
        parse_mapping(data, name="m", file="m.toml", transforms=_transforms())
    assert caught.value.key == key and problem in caught.value.problem and caught.value.file == "m.toml"


def test_mapping_translates_raw_words_both_ways_with_a_label_transform():
    mapping = parse_mapping({
        "issue": {
            "a": {"status": {"open": "todo", "closed:completed": "done"},
                  "transforms": {"priority": {"transform": "label_prefix", "prefix": "priority: "}}},
            "b": {"status": {"To Do": "todo", "In Progress": "in_progress", "Done": "done"}},
        },
    }, name="m", file="m.toml", transforms=_transforms())
    inbound = mapping.inbound("issue", "a", {
        "title": "t", "status": "todo", "labels": ["bug", "priority: high"],
        "raw": {"status": "closed:completed"}})
    assert inbound["status"] == "done" and inbound["priority"] == "high" and inbound["labels"] == ["bug"]
    outbound_b = mapping.outbound("issue", "b", dict(inbound))
    assert outbound_b["raw"] == {"status": "Done"}
    outbound_a = mapping.outbound("issue", "a", {"labels": ["bug"], "status": "in_progress",
                                                 "priority": "low"})
    assert outbound_a["labels"] == ["bug", "priority: low"]
    # in_progress has no GitHub word: the connector decides from the category itself.
    assert "status" not in outbound_a["raw"]


def test_bad_mapping_file_fails_sync_with_exit_code_2(tmp_path):
    (tmp_path / "mine.toml").write_text('[issue]\nfields = ["title", "nonsense"]\n')
    text = GOOD.replace('b = { connection = "right", scope = "p" }',
                        'b = { connection = "right", scope = "p" }\nmapping = "mine.toml"')
    result = check(tmp_path, text)
    assert result.exit_code == 2 and "mine.toml" in result.output and "issue.fields" in result.output


def test_builtin_mappings_are_found_by_name_and_valid():
    search = mapping_search_path([])
    names = sorted(p.stem for p in search[-1].glob("*.toml"))
    for name in names:
        load_mapping(name, transforms=_transforms(), search=search)


def test_people_table_maps_handles_between_the_flows_connections():
    mapping = parse_mapping({"people": [{"email": "alice@acme.example", "name": "Alice", "a": "alice-gh",
                                         "b": "5b10ac"}]},
                            name="m", file="m.toml", transforms=_transforms()).for_connections("gh", "jira")
    inbound = mapping.inbound("issue", "a", {"assignees": [{"handles": {"gh": "alice-gh"}}]})
    [person] = inbound["assignees"]
    assert person["email"] == "alice@acme.example"
    assert person["handles"] == {"gh": "alice-gh", "jira": "5b10ac"}


def test_a_pair_says_which_side_holds_which_records_as_what():
    from hub.config import FlowConfig
    from hub.model import Kind

    short = FlowConfig.model_validate({"name": "f", "a": {"connection": "crm", "scope": "*"},
                                       "b": {"connection": "jira", "scope": "PORT"},
                                       "records": ["issue", "project"], "pairs": {"project": "issue"}})
    assert short.held_as("b", "project") == "issue" and short.held_as("a", "project") == "project"
    assert short.pairs["project"].kind == Kind.EPIC
    # Jira's issues hold the flow's issues first, then the projects paired with them.
    assert short.flow_types("b", "issue") == ("issue", "project")
    assert short.flow_types("a", "project") == ("project",) and short.flow_types("a", "issue") == ("issue",)
    long = FlowConfig.model_validate({"name": "f", "a": {"connection": "jira", "scope": "PORT"},
                                      "b": {"connection": "crm", "scope": "*"}, "records": ["project"],
                                      "pairs": {"project": {"a": "issue", "kind": "story"}}})
    assert long.held_as("a", "project") == "issue" and long.pairs["project"].kind == Kind.STORY
    assert long.flow_types("a", "issue") == ("project",), "the flow syncs no issues of its own"
