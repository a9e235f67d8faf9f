"""The figures of a customer progress report, from the items and their history.

All figures are as of the report date ``as_of`` (a date, UTC) over the period ``since..as_of``
(both days included). An item is one linked issue; *in scope* means not cancelled (an issue whose
link was removed is not an item at all).

* **done / total**: items done / items in scope; **percent** is that in percent, one decimal.
* **opened** in the period: items added (linked) in it; **closed**: items done now whose last
  entry into done falls in it (an issue done, re-opened and done again counts once);
  **reopened**: moves out of done in the period; **cancelled**: entries into cancelled in it.
* **overdue**: open items (neither done nor cancelled) whose due date is before ``as_of``.
* **blocked**: items blocked now, with the days since they last entered blocked.
* **throughput**: items done now whose last entry into done falls in the 28 days up to
  ``as_of``, per day.
* **milestones**: one per milestone name the items carry. Its due date is the milestone record's
  (when the project layer syncs milestones) or else the latest due date of its items. Milestones
  with open work are worked in order of due date: the forecast of each is ``as_of`` plus its own
  and every earlier milestone's open items divided by the throughput (rounded up to whole days);
  a finished milestone's forecast is the day its last item was done. **variance** is forecast
  minus due date in days (positive: late). No throughput means no forecast.
  A milestone is *done* (no open work), *late* (past due with open work), *at risk* (forecast
  after its due date, or no forecast) or *on track*.
* **health** of the whole report:
  *late* when a milestone is late or forecast more than 7 days after its due date;
  else *at risk* when a milestone is at risk, an item is overdue, an item has been blocked for
  5 days or more, or a risk of high or highest priority is open;
  else *on track*.
* **awaiting acceptance**: items done in the period that carry no ``accepted`` label.
* **burn-up**: for each day from the first item's addition to ``as_of``, the items in scope and
  the items done at the end of that day, replayed from the history.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from hub.report.items import Item

THROUGHPUT_DAYS = 28
LATE_VARIANCE_DAYS = 7
BLOCKED_ALERT_DAYS = 5
HIGH_PRIORITIES = ("high", "highest")
PRIORITY_RANK = {"highest": 0, "high": 1, "medium": 2, "low": 3, "lowest": 4, None: 5}
ACCEPTED_LABEL = "accepted"


@dataclass(frozen=True, slots=True)
class MilestoneFigures:
    name: str
    due: dt.date | None
    start: dt.date | None
    done: int
    total: int
    forecast: dt.date | None
    variance_days: int | None
    state: str  # done, late, at_risk, on_track


@dataclass(frozen=True, slots=True)
class Reason:
    """Why the health is what it is: a message id of the catalogue and its values."""

    code: str
    values: Mapping[str, Any]


@dataclass(slots=True)
class Figures:
    as_of: dt.date
    since: dt.date
    total: int
    done: int
    percent: float
    opened: int
    closed: int
    reopened: int
    cancelled: int
    overdue: int
    throughput_per_week: float
    health: str
    reasons: list[Reason]
    milestones: list[MilestoneFigures]
    burnup: list[tuple[dt.date, int, int]]
    done_in_period: list[Item]
    open_by_milestone: dict[str, list[Item]]
    blocked: list[tuple[Item, int]]
    change_requests: list[Item]
    open_risks: list[Item]
    feedback: list[Item]
    awaiting_acceptance: list[Item]
    overdue_items: list[Item]
    dated_items: list[Item] = field(default_factory=list)


def _day(moment: dt.datetime) -> dt.date:
    return moment.astimezone(dt.UTC).date()


def _done_day(item: Item) -> dt.date | None:
    if item.status != "done":
        return None
    entered = item.entered("done")
    return _day(entered) if entered else _day(item.created)


def compute(items: Sequence[Item], *, as_of: dt.date, since: dt.date,
            milestone_dues: Mapping[str, dt.date] | None = None) -> Figures:
    dues = dict(milestone_dues or {})
    in_period = lambda day: day is not None and since <= day <= as_of  # noqa: E731
    scope = [i for i in items if i.status != "cancelled"]
    done_items = [i for i in scope if i.status == "done"]
    open_items = [i for i in scope if i.status != "done"]
    done_days = {i.link_id: _done_day(i) for i in done_items}

    opened = sum(1 for i in items if in_period(_day(i.history[0].at if i.history else i.created)))
    done_in_period = [i for i in done_items if in_period(done_days[i.link_id])]
    reopened = cancelled = 0
    for item in items:
        for event in item.history:
            if event.event == "status" and in_period(_day(event.at)):
                reopened += event.previous == "done" and event.status != "done"
                cancelled += event.status == "cancelled"
    overdue_items = sorted((i for i in open_items if i.due_date and i.due_date < as_of),
                           key=lambda i: (i.due_date, i.link_id))
    window_start = as_of - dt.timedelta(days=THROUGHPUT_DAYS - 1)
    recent = sum(1 for i in done_items if window_start <= (done_days[i.link_id] or as_of) <= as_of)
    per_day = recent / THROUGHPUT_DAYS

    milestones = _milestones(scope, done_days, dues, as_of, recent)
    blocked = sorted(((i, (as_of - _day(i.entered("blocked") or i.created)).days)
                      for i in open_items if i.status == "blocked"), key=lambda pair: -pair[1])
    by_priority = lambda i: (PRIORITY_RANK.get(i.priority, 5), i.link_id)  # noqa: E731
    open_risks = sorted((i for i in open_items if i.kind == "risk"), key=by_priority)
    open_by_milestone: dict[str, list[Item]] = {}
    for item in sorted(open_items, key=lambda i: (i.due_date or dt.date.max, i.link_id)):
        open_by_milestone.setdefault(item.milestone or "", []).append(item)
    awaiting = [i for i in done_in_period if ACCEPTED_LABEL not in (label.lower() for label in i.labels)]
    health, reasons = _health(milestones, overdue_items, blocked, open_risks)
    return Figures(
        as_of=as_of, since=since, total=len(scope), done=len(done_items),
        percent=round(100 * len(done_items) / len(scope), 1) if scope else 0.0,
        opened=opened, closed=len(done_in_period), reopened=reopened, cancelled=cancelled,
        overdue=len(overdue_items), throughput_per_week=round(per_day * 7, 2), health=health,
        reasons=reasons, milestones=milestones, burnup=burnup(items, as_of),
        done_in_period=sorted(done_in_period, key=lambda i: (done_days[i.link_id], i.link_id)),
        open_by_milestone=open_by_milestone, blocked=blocked,
        change_requests=[i for i in items if i.kind == "change_request"], open_risks=open_risks,
        feedback=[i for i in items if i.kind == "feedback"], awaiting_acceptance=awaiting,
        overdue_items=overdue_items,
        dated_items=sorted((i for i in scope if i.due_date), key=lambda i: (i.due_date, i.link_id)))


def _milestones(scope: Sequence[Item], done_days: Mapping[int, dt.date | None], dues: Mapping[str, dt.date],
                as_of: dt.date, recent: int) -> list[MilestoneFigures]:
    # ``recent`` items done in THROUGHPUT_DAYS: whole-number arithmetic, so a forecast never
    # moves by a day through floating-point rounding.
    groups: dict[str, list[Item]] = {}
    for item in scope:
        if item.milestone:
            groups.setdefault(item.milestone, []).append(item)
    for name in dues:
        groups.setdefault(name, [])

    def due_of(name: str) -> dt.date | None:
        dated = [i.due_date for i in groups[name] if i.due_date]
        return dues.get(name) or (max(dated) if dated else None)

    order = sorted(groups, key=lambda n: (due_of(n) or dt.date.max, n))
    out, backlog = [], 0
    for name in order:
        members = groups[name]
        done = sum(1 for i in members if i.status == "done")
        remaining = len(members) - done
        due = due_of(name)
        forecast: dt.date | None
        if remaining == 0:
            finished = [done_days[i.link_id] for i in members if done_days.get(i.link_id)]
            forecast = max(finished) if finished else None  # type: ignore[type-var]
        elif recent > 0:
            backlog += remaining
            forecast = as_of + dt.timedelta(days=-(-backlog * THROUGHPUT_DAYS // recent))
        else:
            forecast = None
        variance = (forecast - due).days if forecast and due else None
        if remaining == 0:
            state = "done"
        elif due is not None and due < as_of:
            state = "late"
        elif forecast is None or (variance is not None and variance > 0):
            state = "at_risk"
        else:
            state = "on_track"
        starts = [_day(i.created) for i in members]
        out.append(MilestoneFigures(name, due, min(starts) if starts else None, done, len(members),
                                    forecast, variance, state))
    return out


def _health(milestones: Sequence[MilestoneFigures], overdue: Sequence[Item],
            blocked: Sequence[tuple[Item, int]], risks: Sequence[Item]) -> tuple[str, list[Reason]]:
    late = [Reason("milestone_late", {"name": m.name, "due": m.due}) for m in milestones if m.state == "late"]
    late += [Reason("milestone_slipping", {"name": m.name, "days": m.variance_days}) for m in milestones
             if m.state != "late" and m.variance_days is not None and m.variance_days > LATE_VARIANCE_DAYS
             and m.state != "done"]
    if late:
        return "late", late
    risky = [Reason("milestone_at_risk", {"name": m.name}) for m in milestones if m.state == "at_risk"]
    if overdue:
        risky.append(Reason("overdue_items", {"count": len(overdue)}))
    long_blocked = [pair for pair in blocked if pair[1] >= BLOCKED_ALERT_DAYS]
    if long_blocked:
        risky.append(Reason("blocked_items", {"count": len(long_blocked), "days": BLOCKED_ALERT_DAYS}))
    high = [r for r in risks if r.priority in HIGH_PRIORITIES]
    if high:
        risky.append(Reason("high_risks", {"count": len(high)}))
    return ("at_risk", risky) if risky else ("on_track", [])


def burnup(items: Sequence[Item], as_of: dt.date) -> list[tuple[dt.date, int, int]]:
    """(day, in scope, done) for each day from the first addition to ``as_of``."""
    if not items:
        return []
    first = min(_day(i.history[0].at) if i.history else _day(i.created) for i in items)
    first = min(first, as_of)
    days = (as_of - first).days + 1
    scope_delta = [0] * (days + 1)
    done_delta = [0] * (days + 1)
    for item in items:
        in_scope = is_done = False
        for event in item.history:
            index = min(max((_day(event.at) - first).days, 0), days)
            status = event.status
            now_scope = event.event != "removed" and status != "cancelled"
            now_done = now_scope and status == "done"
            if event.event == "added" and status is None:
                now_scope, now_done = True, False
            scope_delta[index] += now_scope - in_scope
            done_delta[index] += now_done - is_done
            in_scope, is_done = now_scope, now_done
    series, scope, done = [], 0, 0
    for index in range(days):
        scope += scope_delta[index]
        done += done_delta[index]
        series.append((first + dt.timedelta(days=index), scope, done))
    return series
