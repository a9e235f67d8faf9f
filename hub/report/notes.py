"""The brief progress summary of one customer in one flow, for the flow's automatic progress notes.

The same words and figures as ``pmhub report --format md`` in its brief form (health, done/total,
milestones with forecast and variance, what was done, blocked work, open risks), from the state
store alone. ``hub.engine.customer_notes`` can post this instead of its one-line summary.
"""

from __future__ import annotations

import datetime as dt

from hub.config import FlowConfig
from hub.report.build import DEFAULT_PERIOD_DAYS, Report, flow_sides
from hub.report.figures import compute
from hub.report.i18n import language
from hub.report.items import milestone_dues, read_items
from hub.report.markdown import render_markdown
from hub.state.store import StateStore


def progress_summary(store: StateStore, flow: FlowConfig, customer: str, *, lang: str = "en",
                     as_of: dt.date | None = None) -> tuple[str, str] | None:
    """(title, Markdown body) of the customer's progress in ``flow``; None when it has no issues."""
    wanted = customer.casefold()
    items = [i for i in read_items(store, flow_sides([flow])) if (i.customer or "").casefold() == wanted]
    if not items:
        return None
    day = as_of or dt.datetime.now(dt.UTC).date()
    figures = compute(items, as_of=day, since=day - dt.timedelta(days=DEFAULT_PERIOD_DAYS),
                      milestone_dues=milestone_dues(store, [flow.name]))
    chosen = language(lang)
    report = Report(customer, None, [flow.name], figures, items)
    title = f"{chosen.gettext('Progress report')} {chosen.day(day)}: {figures.done}/{figures.total}"
    return title, render_markdown(report, chosen, brief=True)
