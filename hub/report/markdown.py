"""The report in Markdown, for notes and chat: the same figures and words as the HTML."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from hub.report.build import Report
from hub.report.i18n import Language
from hub.report.items import Item
from hub.report.limits import GROUP_LIMIT, LIST_LIMIT
from hub.report.words import HEALTH, STATUS, reason_text, word


def render_markdown(report: Report, lang: Language, *, brief: bool = False) -> str:
    """The whole report; ``brief`` for a CRM note: health, summary, milestones, what moved
    (done in the period), blocked work and open risks."""
    f, _ = report.figures, lang.gettext
    from babel.numbers import format_percent

    percent = format_percent(f.percent / 100, format="#,##0.0%", locale=lang.locale)
    period = f"{lang.day(f.since)} \u2013 {lang.day(f.as_of)}"  # an en dash between the dates
    lines = [f"## {report.customer}: {_('Progress report')} ({period})", "",
             f"**{_('Health')}: {word(HEALTH, f.health, lang)}**"]
    lines += [f"- {reason_text(r.code, r.values, lang)}" for r in f.reasons]
    lines += ["", f"**{f.done}/{f.total} {_('done')}** ({percent}) · {_('Opened in the period')}: {f.opened}"
              f" · {_('Closed in the period')}: {f.closed} · {_('Overdue')}: {f.overdue}"]
    if f.milestones:
        lines += ["", f"### {_('Milestones')}", "",
                  "| " + " | ".join([_("Milestone"), _("Due"), _("Done"), _("Forecast"), _("Variance (days)"),
                                     _("State")]) + " |", "|---|---|---|---|---|---|"]
        for m in f.milestones:
            variance = f"{m.variance_days:+d}" if m.variance_days is not None else "-"
            lines.append(f"| {_cell(m.name)} | {lang.day(m.due)} | {m.done}/{m.total} | "
                         f"{lang.day(m.forecast)} | {variance} | {word(HEALTH, m.state, lang)} |")
    days = {i.link_id: d for i, d in f.blocked}

    def section(title: str, items: Sequence[Item], extra: Callable[[Item], str] | None = None,
                limit: int = LIST_LIMIT) -> None:
        lines.extend(["", f"### {title}", ""])
        for item in items[:limit]:
            due = f" · {_('Due')} {lang.day(item.due_date)}" if item.due_date else ""
            more = extra(item) if extra else ""
            lines.append(f"- {_link(item)} · {word(STATUS, item.status, lang)}{due}{more}")
        if not items:
            lines.append(f"- {_('Nothing here.')}")
        elif len(items) > limit:
            more = _("… and %(count)s more (every item is in the JSON report).")
            lines.append(f"- {more % {'count': len(items) - limit}}")

    section(_("Done in the period"), f.done_in_period)
    if not brief:
        section(_("Awaiting your acceptance"), f.awaiting_acceptance)
    section(_("Blocked"), [i for i, _days in f.blocked],
            lambda i: f" · {_('Days blocked')}: {days[i.link_id]}")
    if not brief:
        for name, group in f.open_by_milestone.items():
            section(f"{_('Still open')}: {name or _('No milestone')}", group, limit=GROUP_LIMIT)
        section(_("Change requests"), f.change_requests)
        section(_("Customer feedback"), f.feedback)
    section(_("Open risks"), f.open_risks)
    return "\n".join(lines) + "\n"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _link(item: Item) -> str:
    title = _cell(item.title).replace("[", "\\[").replace("]", "\\]")
    links = [f"[{p.connection}]({p.url})" for p in item.places if p.url]
    return f"{title} ({', '.join(links)})" if links else title
