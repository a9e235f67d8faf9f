"""The status page: what each flow did lately, what waits for a person, what the webhooks brought.

Server-rendered from one Jinja2 template with its CSS inline: no build step, no external asset,
and it reads on a phone. Text that came from a tool (errors, parked reasons, conflicting values)
goes through the redactor first, and Jinja2 escapes everything.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from hub.config import Config
from hub.service.activity import OUTCOMES, Activity, Redactor
from hub.state.store import StateStore

RUNS_SHOWN = 5
VALUE_SHOWN = 80


@dataclass
class RunView:
    started: str
    duration: str
    status: str
    counts: str
    api_calls: int
    error: str


@dataclass
class FlowView:
    name: str
    a: str
    b: str
    direction: str
    schedule: str
    next_poll: str
    runs: list[RunView] = field(default_factory=list)


def render_status(config: Config, store: StateStore, activity: Activity, redact: Redactor,
                  next_polls: dict[str, dt.datetime], waiting: int, takes_webhooks: list[str]) -> str:
    runs: dict[str, list[dict[str, Any]]] = {}
    for row in store.last_runs(limit_per_flow=RUNS_SHOWN):
        runs.setdefault(row["flow"], []).append(row)
    flows = []
    for flow in config.flows:
        due = next_polls.get(flow.name)
        view = FlowView(flow.name, f"{flow.a.connection}: {flow.a.scope}",
                        f"{flow.b.connection}: {flow.b.scope}", flow.direction,
                        flow.schedule or "none (webhooks and pmhub sync only)",
                        _when(due) if due else "not scheduled")
        view.runs = [_run_view(row, redact) for row in runs.get(flow.name, [])]
        flows.append(view)
    parked = [{**row, "reason": redact(row["reason"]), "updated_at": _when(row["updated_at"])}
              for row in store.parked_records()]
    conflicts = [{**row, "a_value": _value(row["a_value"], redact), "b_value": _value(row["b_value"], redact),
                  "created_at": _when(row["created_at"])} for row in store.open_conflicts()]
    remembered = store.last_deliveries()
    deliveries = []
    for name in takes_webhooks:
        last = activity.last_delivery(name) or remembered.get(name)
        deliveries.append({"connection": name, "plugin": config.connections[name].plugin,
                           "counts": activity.deliveries(name), "last": _when(last) if last else "never",
                           "secret": config.connections[name].webhook_secret is not None})
    return _template().render(
        flows=flows, parked=parked, conflicts=conflicts, deliveries=deliveries, outcomes=OUTCOMES,
        running=activity.running, waiting=waiting, started=_when(activity.started),
        now=_when(dt.datetime.now(dt.UTC)))


def _template() -> Any:
    environment = Environment(loader=PackageLoader("hub.service", "templates"), trim_blocks=True,
                              autoescape=select_autoescape(default=True), lstrip_blocks=True)
    return environment.get_template("status.html")


def _run_view(row: dict[str, Any], redact: Redactor) -> RunView:
    stats: dict[str, dict[str, Any]] = row.get("stats") or {}
    parts = []
    for side in stats.values():
        done = [f"{side.get(k, 0)} {k}" for k in ("created", "updated", "deleted", "conflicts", "parked")
                if side.get(k)]
        parts.append(f"{side.get('connection', '?')}: {', '.join(done) or 'nothing to do'}")
    started, finished = row.get("started_at"), row.get("finished_at")
    duration = f"{(finished - started).total_seconds():.1f} s" if started and finished else "running"
    return RunView(_when(started) if started else "", duration, row["status"], "; ".join(parts),
                   sum(int(side.get("api_calls", 0)) for side in stats.values()), redact(row.get("error")))


def _when(moment: dt.datetime) -> str:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return f"{moment.astimezone(dt.UTC):%Y-%m-%d %H:%M:%S} UTC"


def _value(raw: str | None, redact: Redactor) -> str:
    try:
        value = json.loads(raw) if raw is not None else None
    except ValueError:
        value = raw
    text = redact(value if isinstance(value, str) else json.dumps(value))
    return text if len(text) <= VALUE_SHOWN else text[:VALUE_SHOWN - 1] + "…"
