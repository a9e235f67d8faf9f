"""The health rules of hub/report/figures.py, one at a time, on small made-up histories."""

from __future__ import annotations

import datetime as dt

from hub.report.figures import compute
from hub.report.items import Item
from hub.state.history import HistoryEvent

AS_OF = dt.date(2026, 11, 30)


def _at(day: str) -> dt.datetime:
    return dt.datetime.fromisoformat(f"{day}T09:00:00+00:00")


def item(n: int, *, status: str = "todo", milestone: str | None = "M1", due: str | None = None,
         kind: str = "task", priority: str | None = None, moves: tuple[tuple[str, str], ...] = (),
         created: str = "2026-11-02") -> Item:
    history = [HistoryEvent("f", n, "added", "todo", None, _at(created), 1, "sync")]
    previous = "todo"
    for day, new in moves:
        history.append(HistoryEvent("f", n, "status", new, previous, _at(day), 2, "sync"))
        previous = new
    return Item(link_id=n, flow="f", title=f"Item {n}", kind=kind, status=status, priority=priority,
                milestone=milestone, due_date=dt.date.fromisoformat(due) if due else None, labels=[],
                customer="C", created=_at(created), history=history)


def _health(items: list[Item]) -> tuple[str, list[str]]:
    figures = compute(items, as_of=AS_OF, since=AS_OF - dt.timedelta(days=14))
    return figures.health, [reason.code for reason in figures.reasons]


def _done(n: int, day: str, **kwargs) -> Item:
    return item(n, status="done", moves=((day, "done"),), **kwargs)


def test_on_track_when_the_forecast_meets_every_due_date():
    # 4 done in the last 28 days: 7 days per open item; 1 open -> forecast Dec 7, due Dec 20.
    items = [_done(n, "2026-11-20", due="2026-12-20") for n in range(1, 5)] + [item(5, due="2026-12-20")]
    assert _health(items) == ("on_track", [])


def test_at_risk_when_a_milestone_is_forecast_a_few_days_late():
    items = [_done(n, "2026-11-20", due="2026-12-04") for n in range(1, 5)] + [item(5, due="2026-12-04")]
    figures = compute(items, as_of=AS_OF, since=AS_OF - dt.timedelta(days=14))
    [milestone] = figures.milestones
    assert (milestone.forecast, milestone.variance_days) == (dt.date(2026, 12, 7), 3)
    assert milestone.state == "at_risk"
    assert _health(items) == ("at_risk", ["milestone_at_risk"])


def test_late_when_a_milestone_is_forecast_more_than_a_week_late():
    items = [_done(1, "2026-11-20", due="2026-12-02")] + [item(n, due="2026-12-02") for n in (2, 3)]
    # 1 done in 28 days: 28 days per item, 2 open -> Jan 25, 54 days after the due date.
    assert _health(items) == ("late", ["milestone_slipping"])


def test_no_throughput_means_no_forecast_and_at_risk():
    items = [item(1, due="2027-03-01")]
    figures = compute(items, as_of=AS_OF, since=AS_OF - dt.timedelta(days=14))
    assert (figures.milestones[0].forecast, figures.milestones[0].state) == (None, "at_risk")


def test_overdue_work_long_blocked_work_and_high_risks_each_put_the_project_at_risk():
    on_track = [_done(n, "2026-11-25", milestone=None) for n in range(1, 3)]
    assert _health(on_track) == ("on_track", [])
    overdue = item(10, milestone=None, due="2026-11-29")
    assert _health([*on_track, overdue]) == ("at_risk", ["overdue_items"])
    blocked_briefly = item(11, status="blocked", milestone=None, moves=(("2026-11-27", "blocked"),))
    assert _health([*on_track, blocked_briefly]) == ("on_track", [])
    blocked_long = item(12, status="blocked", milestone=None, moves=(("2026-11-25", "blocked"),))
    assert _health([*on_track, blocked_long]) == ("at_risk", ["blocked_items"])
    medium_risk = item(13, kind="risk", priority="medium", milestone=None)
    assert _health([*on_track, medium_risk]) == ("on_track", [])
    high_risk = item(14, kind="risk", priority="highest", milestone=None)
    assert _health([*on_track, high_risk]) == ("at_risk", ["high_risks"])


def test_a_finished_milestone_is_done_with_its_last_day_as_forecast():
    items = [_done(1, "2026-11-10", due="2026-11-15"), _done(2, "2026-11-18", due="2026-11-15")]
    [milestone] = compute(items, as_of=AS_OF, since=AS_OF - dt.timedelta(days=14)).milestones
    assert milestone.state == "done"
    assert (milestone.forecast, milestone.variance_days) == (dt.date(2026, 11, 18), 3)
