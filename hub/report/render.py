"""The report in each format: HTML (one self-contained file), PDF (of that HTML), Markdown, JSON.

The HTML template is Jinja2 with gettext (``jinja2.ext.i18n``) over the catalogue of
``hub.report.i18n``; Markdown is written by ``hub.report.markdown``; charts are matplotlib SVG
inlined in the HTML; the PDF is WeasyPrint's rendering of the same HTML, with nothing fetched
(a URL fetcher that refuses every request).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from hub.report.build import Report
from hub.report.data import report_data
from hub.report.i18n import Language
from hub.report.limits import GROUP_LIMIT, LIST_LIMIT
from hub.report.markdown import render_markdown
from hub.report.words import HEALTH, PRIORITY, STATUS, reason_text, word

FORMATS = ("html", "pdf", "md", "json")


def _environment(lang: Language) -> Any:
    from jinja2 import Environment, PackageLoader

    env = Environment(loader=PackageLoader("hub.report", "templates"), autoescape=True,
                      extensions=["jinja2.ext.i18n"])
    env.install_gettext_translations(lang.translations, newstyle=True)  # type: ignore[attr-defined]
    return env


def _context(report: Report, lang: Language) -> dict[str, Any]:
    f = report.figures
    from babel.numbers import format_percent

    return {
        "lang": lang, "customer": report.customer, "project": report.project, "flows": report.flows,
        "f": f, "reasons": [reason_text(r.code, r.values, lang) for r in f.reasons],
        "day": lang.day, "status": lambda v: word(STATUS, v, lang),
        "priority": lambda v: word(PRIORITY, v, lang), "health": lambda v: word(HEALTH, v, lang),
        "percent": lambda v: format_percent(v / 100, format="#,##0.0%", locale=lang.locale),
        "late": lambda i: bool(i.due_date and i.status not in ("done", "cancelled") and i.due_date < f.as_of),
        "blocked_items": [i for i, _ in f.blocked], "blocked_days": {i.link_id: d for i, d in f.blocked},
        "list_limit": LIST_LIMIT, "group_limit": GROUP_LIMIT,
    }


def render_html(report: Report, lang: Language) -> str:
    from markupsafe import Markup

    from hub.report.charts import burnup_svg, timeline_svg

    context = _context(report, lang)
    context["burnup_svg"] = Markup(burnup_svg(report.figures, lang))
    context["timeline_svg"] = Markup(timeline_svg(report.figures, lang))
    return str(_environment(lang).get_template("report.html.j2").render(context))


def render_json(report: Report, lang: Language) -> str:
    return json.dumps(report_data(report, lang=lang.code), ensure_ascii=False, indent=2) + "\n"


def render_pdf(report: Report, lang: Language) -> bytes:
    from weasyprint import HTML

    document = HTML(string=render_html(report, lang), url_fetcher=_refuse_fetch)
    return bytes(document.write_pdf())


def _refuse_fetch(url: str, *_args: Any, **_kwargs: Any) -> dict[str, Any]:
    # The HTML is self-contained; anything it would fetch is a bug, and the PDF must not wait on it.
    raise ValueError(f"the report fetches nothing (asked for {url})")


RENDERERS: dict[str, Callable[[Report, Language], str | bytes]] = {
    "html": render_html, "pdf": render_pdf, "md": render_markdown, "json": render_json,
}


def render(report: Report, lang: Language, fmt: str) -> str | bytes:
    return RENDERERS[fmt](report, lang)
