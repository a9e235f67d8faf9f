"""``render_config`` writes TOML that reads back as written, whatever the strings and keys hold."""

from __future__ import annotations

import tomllib

from hub.config import render_config


def _round_trip(**kwargs):
    return tomllib.loads(render_config(**kwargs))


def test_a_string_with_a_newline_round_trips():
    text = "first line\nsecond line with \"quotes\" and a \\ backslash\ttab"
    data = _round_trip(connections={"left": {"plugin": "reference", "path": text}}, flows=[])
    assert data["connections"]["left"]["path"] == text


def test_a_key_with_a_space_round_trips():
    data = _round_trip(connections={"my tool": {"plugin": "reference", "odd key": 1}}, flows=[])
    assert data["connections"] == {"my tool": {"plugin": "reference", "odd key": 1}}


def test_a_dotted_key_stays_one_key_not_a_nested_table():
    data = _round_trip(connections={"a.b": {"plugin": "reference", "x.y": True}}, flows=[])
    assert data["connections"] == {"a.b": {"plugin": "reference", "x.y": True}}


def test_state_tables_flows_and_header_round_trip():
    flow = {"name": "main", "a": {"connection": "left", "scope": "p"},
            "b": {"connection": "right", "scope": "p"}, "records": ["issue", "comment"]}
    text = render_config(state_url="sqlite:///x.db", connections={"left": {"token": {"env": "T"}}},
                         flows=[flow], tables={"retry": {"initial_delay": 0.01}},
                         header="made by a test\nsecond line")
    assert text.startswith("# made by a test\n# second line\n")
    assert tomllib.loads(text) == {"state": {"url": "sqlite:///x.db"}, "retry": {"initial_delay": 0.01},
                                   "connections": {"left": {"token": {"env": "T"}}}, "flows": [flow]}
