"""The engine's layout holds: small rooms, no way back into the orchestration, no record-type branches."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import hub.engine
from hub.engine.policies import CommentPolicy, IssuePolicy, MilestonePolicy, RecordPolicy, policies
from hub.model import RECORD_MODELS

ENGINE = Path(hub.engine.__file__).parent
MODULES = sorted(ENGINE.glob("*.py"))


def imported(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return names


def test_every_engine_module_is_small():
    sizes = {path.name: len(path.read_text().splitlines()) for path in MODULES if path.name != "retry.py"}
    assert {name: n for name, n in sizes.items() if n >= 250} == {}


def test_only_the_runner_reaches_the_orchestration():
    reaching = {path.name for path in MODULES if "hub.engine.flow" in imported(path)}
    assert reaching == {"runner.py"}


def test_customer_notes_load_without_the_flow_run():
    code = "import sys, hub.engine.customer_notes; print('hub.engine.flow' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    assert out.strip() == "False"


def test_record_types_are_told_apart_by_policies_not_branches():
    branching = [path.name for path in MODULES if path.name != "policies.py"
                 and any(f'record_type == "{rt}"' in path.read_text() or f'record_type != "{rt}"'
                         in path.read_text() for rt in RECORD_MODELS)]
    assert branching == []
    chosen = policies()
    assert set(chosen) == set(RECORD_MODELS)
    assert isinstance(chosen["issue"], IssuePolicy) and isinstance(chosen["comment"], CommentPolicy)
    assert isinstance(chosen["milestone"], MilestonePolicy)
    assert type(chosen["project"]) is RecordPolicy


def test_a_comment_is_placed_under_its_issue_twin_and_attributed():
    source = {"issue": "7", "body": "looks good", "author": {"display_name": "Ada"}}
    placed = CommentPolicy().place({"body": "looks good"}, source, flow="main", via="left",
                                   twin_of=lambda rt, external_id: f"twin-of-{rt}-{external_id}")
    assert placed["issue"] == "twin-of-issue-7"
    assert placed["body"].startswith("**Ada** (via left):")
    assert CommentPolicy().inbound({"body": placed["body"]})["author"]["display_name"] == "Ada"
