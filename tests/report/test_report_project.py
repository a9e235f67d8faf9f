"""`pmhub report --project ID`: the issues under one linked project (a Deal, an Epic), as soon as the
project layer links projects and keeps each issue's parent in its snapshot."""

from __future__ import annotations

import json

from hub.state.store import Link, StateStore
from tests.report.fixture_history import FLOW, History, at


def test_a_project_report_counts_the_issues_under_that_project(report_home):
    store = StateStore.open(report_home.state_url)
    try:
        snapshot = json.dumps({"name": "Acme portal", "customer": "Acme Corp"})
        with store.transaction() as conn:
            store.write_links(conn, [Link(FLOW, "project", "DEAL-1", "EPIC-1", a_snapshot=snapshot,
                                          b_snapshot=snapshot)], at=at("2026-11-01"))
        history = History(store)
        history.add("P1", "2026-11-20", "Portal search", parent="EPIC-1")
        history.add("P2", "2026-11-21", "Portal login", parent="EPIC-1")
        history.move("P2", "2026-11-25", status="done")
    finally:
        store.close()
    result = report_home.report("--project", "DEAL-1", "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert (data["customer"], data["project"]) == ("Acme Corp", "DEAL-1")
    assert (data["summary"]["total"], data["summary"]["done"], data["summary"]["opened"]) == (2, 1, 2)
    unknown = report_home.report("--project", "DEAL-9", "--format", "json")
    assert unknown.exit_code == 2 and "no project 'DEAL-9'" in unknown.output
