"""The report as plain data: the JSON format, and what the templates are filled from."""

from __future__ import annotations

import datetime as dt
from typing import Any

from hub.report.build import Report
from hub.report.items import Item

SCHEMA_VERSION = 1


def _day(value: dt.date | None) -> str | None:
    return value.isoformat() if value else None


def item_data(item: Item) -> dict[str, Any]:
    return {
        "id": item.link_id, "flow": item.flow, "title": item.title, "kind": item.kind,
        "status": item.status, "priority": item.priority, "milestone": item.milestone,
        "due_date": _day(item.due_date), "customer": item.customer,
        "links": [{"connection": p.connection, "id": p.external_id, "url": p.url} for p in item.places],
    }


def report_data(report: Report, *, lang: str = "en") -> dict[str, Any]:
    """Every figure of the report, JSON-ready (dates as ISO strings)."""
    f = report.figures
    return {
        "schema": SCHEMA_VERSION,
        "customer": report.customer,
        "project": report.project,
        "flows": report.flows,
        "language": lang,
        "report_date": _day(f.as_of),
        "period": {"since": _day(f.since), "until": _day(f.as_of)},
        "health": f.health,
        "health_reasons": [{"code": r.code, **{k: _day(v) if isinstance(v, dt.date) else v
                                               for k, v in r.values.items()}} for r in f.reasons],
        "summary": {"total": f.total, "done": f.done, "percent": f.percent, "opened": f.opened,
                    "closed": f.closed, "reopened": f.reopened, "cancelled": f.cancelled,
                    "overdue": f.overdue, "throughput_per_week": f.throughput_per_week},
        "milestones": [{"name": m.name, "due": _day(m.due), "done": m.done, "total": m.total,
                        "forecast": _day(m.forecast), "variance_days": m.variance_days, "state": m.state}
                       for m in f.milestones],
        "burnup": [{"date": _day(day), "scope": scope, "done": done} for day, scope, done in f.burnup],
        "done_in_period": [item_data(i) for i in f.done_in_period],
        "open_by_milestone": {name: [item_data(i) for i in group]
                              for name, group in f.open_by_milestone.items()},
        "blocked": [{**item_data(i), "blocked_days": days} for i, days in f.blocked],
        "overdue_items": [item_data(i) for i in f.overdue_items],
        "change_requests": [item_data(i) for i in f.change_requests],
        "open_risks": [item_data(i) for i in f.open_risks],
        "feedback": [item_data(i) for i in f.feedback],
        "awaiting_acceptance": [item_data(i) for i in f.awaiting_acceptance],
    }
