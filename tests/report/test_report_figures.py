"""`pmhub report --format json` on a known five-week history gives exactly the figures worked out by hand."""

from __future__ import annotations

import json


def _figures(report_home, *args):
    result = report_home.report("--customer", "acme corp", "--format", "json", *args)
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_summary_milestones_and_health_of_the_fixture_history(report_home):
    data = _figures(report_home)
    assert data["customer"] == "Acme Corp"  # as written, found in any case
    assert data["period"] == {"since": "2026-11-16", "until": "2026-11-30"}
    # Scope: 11 Acme issues minus the cancelled "Old export"; Globex's issue is not counted.
    # Opened in the period: Reports page, Dark mode, Vendor delay, Feedback, Login.
    # Closed: Style guide (11-18), Public API (done again 11-26), Feedback (11-27); Wireframes was
    # done before the period. Overdue: Design sign-off (due 11-20) and Reports page (due 11-25).
    assert data["summary"] == {"total": 10, "done": 4, "percent": 40.0, "opened": 5, "closed": 3,
                               "reopened": 1, "cancelled": 1, "overdue": 2, "throughput_per_week": 1.0}
    # Throughput: 4 done in the 28 days up to 11-30 -> 7 days per open item, milestones in due order:
    # M1 1 open -> 7 d; M2 +2 open -> 21 d; M3 +2 open -> 35 d.
    assert data["milestones"] == [
        {"name": "M1 Design", "due": "2026-11-20", "done": 2, "total": 3, "forecast": "2026-12-07",
         "variance_days": 17, "state": "late"},
        {"name": "M2 Build", "due": "2026-12-15", "done": 1, "total": 3, "forecast": "2026-12-21",
         "variance_days": 6, "state": "at_risk"},
        {"name": "M3 Launch", "due": "2027-01-15", "done": 0, "total": 2, "forecast": "2027-01-04",
         "variance_days": -11, "state": "on_track"},
    ]
    assert data["health"] == "late"
    assert data["health_reasons"] == [{"code": "milestone_late", "name": "M1 Design", "due": "2026-11-20"}]


def test_lists_of_the_fixture_history(report_home):
    data = _figures(report_home)
    titles = lambda rows: [row["title"] for row in rows]  # noqa: E731
    assert titles(data["done_in_period"]) == ["Style guide", "Public API", "Feedback: colours"]
    assert titles(data["awaiting_acceptance"]) == ["Style guide", "Public API"]  # feedback is accepted
    assert [(b["title"], b["blocked_days"]) for b in data["blocked"]] == [("Database", 9)]
    assert titles(data["change_requests"]) == ["Dark mode"]
    assert [(r["title"], r["priority"]) for r in data["open_risks"]] == [("Vendor delay", "high")]
    assert titles(data["feedback"]) == ["Feedback: colours"]
    assert titles(data["overdue_items"]) == ["Design sign-off", "Reports page"]
    assert {name: titles(rows) for name, rows in data["open_by_milestone"].items()} == {
        "M2 Build": ["Reports page", "Database"], "M1 Design": ["Design sign-off"],
        "M3 Launch": ["Dark mode", "Login"], "": ["Vendor delay"]}
    [link_a, link_b] = data["done_in_period"][0]["links"]
    assert (link_a["connection"], link_a["id"]) == ("left", "A-2")
    assert (link_b["connection"], link_b["id"]) == ("right", "2")


def test_burn_up_replays_adds_done_reopen_and_cancel(report_home):
    burnup = {row["date"]: (row["scope"], row["done"]) for row in _figures(report_home)["burnup"]}
    assert burnup["2026-10-26"] == (3, 0)
    assert burnup["2026-11-05"] == (6, 1)
    assert burnup["2026-11-19"] == (8, 2)   # Vendor delay added, Old export cancelled the same day
    assert burnup["2026-11-20"] == (8, 3)   # Public API done
    assert burnup["2026-11-23"] == (8, 2)   # ... and re-opened
    assert burnup["2026-11-30"] == (10, 4)
    assert len(burnup) == 36


def test_the_period_changes_what_counts_as_opened_and_closed(report_home):
    data = _figures(report_home, "--since", "2026-11-25")
    assert (data["summary"]["opened"], data["summary"]["closed"], data["summary"]["reopened"]) == (0, 2, 0)


def test_with_two_customers_in_the_store_one_must_be_chosen(report_home):
    result = report_home.report("--format", "json")
    assert result.exit_code == 2 and "Acme Corp, Globex" in result.output


def test_the_brief_summary_for_progress_notes_has_the_same_figures(report_home):
    from hub.config import FlowConfig
    from hub.report.notes import progress_summary
    from hub.state.store import StateStore

    flow = FlowConfig(name="delivery", a={"connection": "left", "scope": "proj"},
                      b={"connection": "right", "scope": "proj"})
    store = StateStore.open(report_home.state_url)
    try:
        import datetime as dt

        title, body = progress_summary(store, flow, "Acme Corp", as_of=dt.date(2026, 11, 30))
        assert progress_summary(store, flow, "Initech") is None
    finally:
        store.close()
    assert title == "Progress report Nov 30, 2026: 4/10"
    assert "**Health: Late**" in body and "**4/10 done** (40.0%)" in body
    assert "| M2 Build | Dec 15, 2026 | 1/3 | Dec 21, 2026 | +6 | At risk |" in body
    assert "### Awaiting your acceptance" not in body  # the brief form


def test_the_same_figures_on_each_state_backend(tmp_path, state_url):
    from tests.report.conftest import ReportHome

    home = ReportHome(tmp_path, state_url=state_url)
    home.fill()
    data = _figures(home)
    assert (data["summary"]["done"], data["summary"]["total"], data["summary"]["closed"]) == (4, 10, 3)
    assert [m["forecast"] for m in data["milestones"]] == ["2026-12-07", "2026-12-21", "2027-01-04"]
    assert [(b["title"], b["blocked_days"]) for b in data["blocked"]] == [("Database", 9)]
