"""Assemble one customer's (or one project's) report from the state store: no tool is called."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from hub.config import Config, FlowConfig
from hub.errors import ConfigError
from hub.report.figures import Figures, compute
from hub.report.items import FlowSides, Item, milestone_dues, project_link, read_items
from hub.report.urls import url_builder
from hub.state.store import StateStore

DEFAULT_PERIOD_DAYS = 14


@dataclass(frozen=True)
class ReportRequest:
    customer: str | None = None
    project: str | None = None
    flows: Sequence[str] = ()
    since: dt.date | None = None
    as_of: dt.date | None = None


@dataclass
class Report:
    customer: str
    project: str | None
    flows: list[str]
    figures: Figures
    items: list[Item]


def flow_sides(flows: Sequence[FlowConfig]) -> list[FlowSides]:
    return [FlowSides(f.name, (f.a.connection, f.a.scope), (f.b.connection, f.b.scope)) for f in flows]


def build_report(store: StateStore, config: Config, request: ReportRequest) -> Report:
    """The report the request asks for; a ConfigError (exit 2) when there is nothing to report on."""
    flows = [config.flow(name) for name in request.flows] if request.flows else list(config.flows)
    flows = [f for f in flows if "issue" in f.records]
    if not flows:
        raise ConfigError("no flow syncs issues, so there is nothing to report on", key="--flow")
    items = read_items(store, flow_sides(flows), url_builder(config.connections))
    if not items:
        raise ConfigError("the state store holds no linked issues yet: run `pmhub sync` first, then report",
                          key="state")
    as_of = request.as_of or dt.datetime.now(dt.UTC).date()
    since = request.since or as_of - dt.timedelta(days=DEFAULT_PERIOD_DAYS)
    if since > as_of:
        raise ConfigError(f"--since {since} is after the report date {as_of}", key="--since")
    customer, chosen = _select(store, [f.name for f in flows], items, request)
    names = sorted({i.flow for i in chosen})
    figures = compute(chosen, as_of=as_of, since=since, milestone_dues=milestone_dues(store, names))
    return Report(customer, request.project, names, figures, chosen)


def _select(store: StateStore, flows: Sequence[str], items: Sequence[Item],
            request: ReportRequest) -> tuple[str, list[Item]]:
    customers = _customers(items)
    if request.project:
        found = project_link(store, flows, request.project)
        if found is None:
            raise ConfigError(f"no project {request.project!r} is linked in the chosen flows",
                              key="--project")
        _flow, project = found
        ids = set(project["ids"])
        chosen = [i for i in items if i.parent in ids]
        name = request.customer or next((i.customer for i in chosen if i.customer), None)
        return name or str(project.get("name") or request.project), chosen
    if request.customer is None:
        if len(customers) == 1:
            only = next(iter(customers.values()))
            return only, [i for i in items if (i.customer or "").casefold() == only.casefold()]
        raise ConfigError("choose a customer with --customer NAME; the state store knows: "
                          + (", ".join(sorted(customers.values())) or "no customer at all"), key="--customer")
    wanted = request.customer.casefold()
    if wanted not in customers:
        raise ConfigError(f"no linked issue is for customer {request.customer!r}; the state store knows: "
                          + (", ".join(sorted(customers.values())) or "no customer at all"), key="--customer")
    return customers[wanted], [i for i in items if (i.customer or "").casefold() == wanted]


def _customers(items: Sequence[Item]) -> Mapping[str, str]:
    """casefolded name -> the name as written (the first spelling seen)."""
    out: dict[str, str] = {}
    for item in items:
        if item.customer:
            out.setdefault(item.customer.casefold(), item.customer)
    return out


def busiest_customer(store: StateStore, config: Config) -> str | None:
    """The customer with the most linked issues (the first by name among equals), or None."""
    flows = [f for f in config.flows if "issue" in f.records]
    counts: dict[str, int] = {}
    for item in read_items(store, flow_sides(flows)) if flows else []:
        if item.customer:
            counts[item.customer] = counts.get(item.customer, 0) + 1
    return min(counts, key=lambda name: (-counts[name], name)) if counts else None
