"""The report's charts as SVG text, drawn by matplotlib (its SVG backend, text kept as text).

Matplotlib is imported only here, when a report with charts is made. Each chart gets its own
``svg.hashsalt`` so that the ids inside two inline SVGs of one page never collide.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
from collections.abc import Sequence
from typing import Any

from hub.report.figures import Figures
from hub.report.i18n import Language

#: At most this many dated items are drawn on the timeline (milestones always are): the late
#: ones first, then the open ones due soonest. A timeline of thousands of bars is unreadable.
TIMELINE_ITEMS = 30
COLORS = {"scope": "#5b6b7f", "done": "#2e8b57", "bar": "#4a7bd0", "late": "#c0392b", "risk": "#d68910",
          "finished": "#8fbc8f", "today": "#d35400"}


def _figure(width: float, height: float) -> tuple[Any, Any]:
    """A figure on the SVG canvas, without pyplot: no GUI backend, no global figure registry."""
    from matplotlib.backends.backend_svg import FigureCanvasSVG
    from matplotlib.figure import Figure

    # A CJK font with one weight makes the font manager warn on every chart; the glyphs are fine.
    logging.getLogger("matplotlib.font_manager").setLevel(logging.ERROR)
    fig = Figure(figsize=(width, height))
    FigureCanvasSVG(fig)
    return fig, fig.subplots()


def _svg(fig: Any, salt: str) -> str:
    import matplotlib

    out = io.StringIO()
    with matplotlib.rc_context({"svg.hashsalt": salt, "svg.fonttype": "none"}):
        fig.savefig(out, format="svg", bbox_inches="tight", metadata={"Date": None})
    text = out.getvalue()
    return text[text.index("<svg"):]  # inline: no XML prolog or doctype


def _style(lang: Language) -> Any:  # matplotlib types rcParams keys as literals
    families = ["DejaVu Sans"]
    if lang.locale.startswith("zh"):
        families = ["WenQuanYi Zen Hei", "Noto Sans CJK SC", "DejaVu Sans"]
    return {"font.family": "sans-serif", "font.sans-serif": families, "font.size": 9,
            "axes.spines.top": False, "axes.spines.right": False}


def burnup_svg(figures: Figures, lang: Language) -> str:
    import matplotlib

    with matplotlib.rc_context(_style(lang)):
        fig, ax = _figure(7.5, 3.0)
        days = [day for day, _, _ in figures.burnup]
        ax.plot(days, [scope for _, scope, _ in figures.burnup], color=COLORS["scope"],
                label=lang.gettext("Scope"), linewidth=2, drawstyle="steps-post")
        ax.plot(days, [done for _, _, done in figures.burnup], color=COLORS["done"],
                label=lang.gettext("Done"), linewidth=2, drawstyle="steps-post")
        ax.fill_between(days, [done for _, _, done in figures.burnup], step="post", color=COLORS["done"],
                        alpha=0.15)
        ax.axvline(figures.as_of, color=COLORS["today"], linestyle="--", linewidth=1)
        ax.set_ylim(bottom=0)
        ax.set_ylabel(lang.gettext("Items"))
        ax.legend(loc="upper left", frameon=False)
        fig.autofmt_xdate()
        return _svg(fig, "burnup")


def timeline_svg(figures: Figures, lang: Language) -> str:
    """Milestones (start to due, with the forecast) and dated items as bars on a calendar."""
    import matplotlib
    import matplotlib.dates as mdates

    rows = _timeline_rows(figures, lang)
    with matplotlib.rc_context(_style(lang)):
        fig, ax = _figure(7.5, 0.9 + 0.28 * max(len(rows), 1))
        for index, (_label, start, end, color, hatch) in enumerate(rows):
            begin = mdates.date2num(start)
            width = max(mdates.date2num(end) - begin, 1.0)
            ax.broken_barh([(begin, width)], (index - 0.35, 0.7), facecolors=color, hatch=hatch,
                           edgecolor="white" if not hatch else COLORS["late"])
        ax.set_yticks(range(len(rows)), [row[0] for row in rows])
        ax.invert_yaxis()
        ax.axvline(mdates.date2num(figures.as_of), color=COLORS["today"], linestyle="--", linewidth=1.2)
        ax.text(mdates.date2num(figures.as_of), -0.8, lang.gettext("Today"), color=COLORS["today"],
                ha="center", va="bottom", fontsize=8)
        ax.xaxis_date()
        ax.xaxis.set_major_formatter(mdates.DateFormatter("%Y-%m-%d"))
        fig.autofmt_xdate()
        return _svg(fig, "timeline")


def _timeline_rows(figures: Figures, lang: Language) -> list[tuple[str, dt.date, dt.date, str, str | None]]:
    rows: list[tuple[str, dt.date, dt.date, str, str | None]] = []
    for milestone in figures.milestones:
        if milestone.due is None:
            continue
        start = min(milestone.start or milestone.due, milestone.due)
        color = {"done": COLORS["finished"], "late": COLORS["late"], "at_risk": COLORS["risk"]}.get(
            milestone.state, COLORS["bar"])
        rows.append((f"◆ {milestone.name}", start, milestone.due, color, None))
        if milestone.forecast and milestone.forecast > milestone.due and milestone.state != "done":
            rows.append((f"  {lang.gettext('Forecast')}", milestone.due, milestone.forecast, "none", "///"))
    chosen = _chosen_items(figures.dated_items, figures.as_of)
    for item in chosen:
        assert item.due_date is not None
        start = min(item.created.date(), item.due_date)
        late = item.status != "done" and item.due_date < figures.as_of
        color = COLORS["finished"] if item.status == "done" else COLORS["late" if late else "bar"]
        rows.append((_short(item.title), start, item.due_date, color, None))
    return rows


def _chosen_items(items: Sequence[Any], as_of: dt.date) -> list[Any]:
    late = [i for i in items if i.status != "done" and i.due_date < as_of]
    upcoming = [i for i in items if i.status != "done" and i.due_date >= as_of]
    finished = [i for i in items if i.status == "done"]
    chosen = (late + upcoming + finished)[:TIMELINE_ITEMS]
    return sorted(chosen, key=lambda i: (i.due_date, i.link_id))


def _short(title: str, size: int = 38) -> str:
    return title if len(title) <= size else title[:size - 1] + "…"
