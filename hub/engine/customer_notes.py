"""Customer progress notes: after a flow's issues sync, tell each customer how their work is moving.

For every customer whose linked issues changed status since the last note, one note goes to the
customer's record on the notes side: done/total, what moved since the last note, the next milestone
and its due date, then the brief form of the customer's progress report (``hub.report.notes``: health,
milestones with forecast and variance, what was done, blocked work, open risks), so the CRM note and
``pmhub report`` tell the customer the same thing.
The baseline of "what moved" is kept per customer in the state store; each note carries a marker
derived from the statuses it reports, so a re-run (even after a crash between writing the note and
recording it) never writes the same note twice.

It runs after the flow's records through ``NotesContext``: the flow, its sides, the store, whether
this is a dry run, and where to count a note and record it in the plan. ``RunContext`` is one.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from typing import Protocol

from hub.config import FlowConfig
from hub.connector import Capability
from hub.engine.context import OTHER, Side
from hub.engine.results import PlanEntry, SideStats
from hub.errors import PermanentError
from hub.state.store import StateStore


class NotesContext(Protocol):
    @property
    def flow(self) -> FlowConfig: ...
    @property
    def sides(self) -> dict[str, Side]: ...
    @property
    def store(self) -> StateStore: ...
    @property
    def dry_run(self) -> bool: ...
    def stats(self, side: str) -> SideStats: ...
    def add_plan_entry(self, entry: PlanEntry) -> None: ...


@dataclass(frozen=True)
class Tracked:
    key: str
    title: str
    status: str
    milestone: str | None
    due_date: str | None


def write_progress_notes(run: NotesContext) -> None:
    settings = run.flow.progress_notes
    if settings is None or not settings.enabled or "issue" not in run.flow.records:
        return
    notes_side = settings.side
    delivery_side = OTHER[notes_side]
    ctx = run.sides[notes_side]
    if Capability.NOTES not in ctx.connector.capabilities("customer"):
        raise PermanentError(f"connection {ctx.connection!r} ({ctx.connector.plugin}) cannot keep progress "
                             "notes; remove progress_notes from the flow")
    by_customer: dict[str, list[Tracked]] = {}
    for link in run.store.links_of(run.flow.name, "issue"):
        notes_view = link.snapshot_on(notes_side) or {}
        work_view = link.snapshot_on(delivery_side) or notes_view
        customer = notes_view.get("customer") or work_view.get("customer")
        if not customer:
            continue
        by_customer.setdefault(customer, []).append(Tracked(
            key=str(link.id), title=work_view.get("title") or notes_view.get("title") or "(untitled)",
            status=work_view.get("status") or "todo", milestone=work_view.get("milestone"),
            due_date=work_view.get("due_date")))
    baseline = run.store.progress_baseline(run.flow.name)
    for customer, issues in sorted(by_customer.items()):
        statuses = {issue.key: issue.status for issue in issues}
        before = baseline.get(customer)
        if before is None:
            # First sight of this customer: nothing has moved yet, so remember and stay quiet.
            if not run.dry_run:
                run.store.set_progress_baseline(run.flow.name, customer, statuses)
            continue
        if before == statuses:
            continue
        title, body = summarise(customer, issues, before)
        report = _report_summary(run, customer)
        if report is not None:
            body += "\n\n" + report
        marker = progress_marker(run.flow.name, customer, statuses)
        run.add_plan_entry(PlanEntry("note", "customer", "-", f"customer:{customer}", None, (), marker))
        if run.dry_run:
            continue
        if not ctx.retrier.call(ctx.connector.has_progress, ctx.scope, customer, marker):
            ctx.retrier.call(ctx.connector.post_progress, ctx.scope, customer, title, body, marker)
            run.stats(notes_side).notes += 1
        run.store.set_progress_baseline(run.flow.name, customer, statuses)


def summarise(customer: str, issues: list[Tracked], before: dict[str, str]) -> tuple[str, str]:
    counted = [i for i in issues if i.status != "cancelled"]
    done = sum(1 for i in counted if i.status == "done")
    lines = [f"**{done}/{len(counted)} done** for {customer}.", ""]
    moved = [i for i in issues if before.get(i.key) != i.status]
    if moved:
        lines.append("What moved:")
        lines += [f"- {i.title}: {_words(before.get(i.key))} -> {_words(i.status)}" for i in moved]
        lines.append("")
    upcoming = sorted((i for i in issues if i.status not in ("done", "cancelled") and i.due_date),
                      key=lambda i: i.due_date or "")
    if upcoming:
        nxt = upcoming[0]
        lines.append(f"Next milestone: {nxt.milestone or nxt.title}, due {nxt.due_date}.")
    else:
        lines.append("No open milestone with a due date.")
    title = f"Progress {dt.datetime.now(dt.UTC):%Y-%m-%d}: {done}/{len(counted)} done"
    return title, "\n".join(lines)


def _report_summary(run: NotesContext, customer: str) -> str | None:
    """The brief progress report's Markdown, read from the state store alone (no API call)."""
    from hub.report.notes import progress_summary  # the report's words load only for notes

    summary = progress_summary(run.store, run.flow, customer)
    return summary[1] if summary is not None else None


def progress_marker(flow: str, customer: str, statuses: dict[str, str]) -> str:
    digest = hashlib.blake2b(json.dumps([flow, customer, sorted(statuses.items())]).encode(),
                             digest_size=8).hexdigest()
    return f"pmhub-note-{digest}"


def _words(status: str | None) -> str:
    return (status or "new").replace("_", " ")
