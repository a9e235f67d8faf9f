"""``pmhub report``: the customer progress report, from the state store (no tool is called)."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import click

from hub.cli import config_option, reports_errors

FORMATS = ("html", "pdf", "md", "json")
LANGUAGES = ("en", "zh-CN")


def _date(_ctx: click.Context, param: click.Parameter, value: str | None) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date (YYYY-MM-DD)", param=param) from None


def default_out(customer: str, as_of: dt.date, fmt: str) -> Path:
    slug = re.sub(r"[^\w]+", "-", customer, flags=re.UNICODE).strip("-").lower() or "customer"
    return Path(f"report-{slug}-{as_of.isoformat()}.{fmt}")


@click.command()
@click.option("--customer", help="The customer, by name as the issues carry it (any case).")
@click.option("--project", help="A linked project (Deal, Epic) by its id on either side.")
@click.option("--flow", "flows", multiple=True, help="Only these flows (repeatable; default: all).")
@click.option("--since", callback=_date, help="Start of the period (YYYY-MM-DD; default: 14 days ago).")
@click.option("--as-of", "as_of", callback=_date, help="Report date (YYYY-MM-DD; default: today, UTC).")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="html", show_default=True)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path),
              help="Where to write it (html/pdf default: report-<customer>-<date>.<format>; "
                   "md/json default: standard output).")
@click.option("--lang", default="en", show_default=True, help=f"Language: {', '.join(LANGUAGES)}.")
@click.option("--publish", is_flag=True,
              help="Attach the report (PDF, else HTML) to the customer's CRM record and post the summary "
                   "as a progress note; the same period twice publishes once.")
@config_option
@reports_errors
def report(customer: str | None, project: str | None, flows: tuple[str, ...], since: dt.date | None,
           as_of: dt.date | None, fmt: str, out: Path | None, lang: str, publish: bool,
           config_path: str | None) -> None:
    """Write the progress report of one customer (or project): health, summary, burn-up, timeline,
    milestones with forecasts, what is done, blocked, at risk and awaiting acceptance.

    Reads the state store only: no tool is called unless --publish. Exit 2 when there is nothing
    to report on (empty store, unknown customer) or for an unknown --lang.
    """
    from hub.engine.runner import open_hub
    from hub.report.build import ReportRequest, build_report
    from hub.report.i18n import language
    from hub.report.render import render

    chosen = language(lang)
    # dry_run: a missing state file is read as an empty store, never created by a report.
    with open_hub(config_path, dry_run=True) as hub:
        built = build_report(hub.store, hub.config, ReportRequest(customer, project, flows, since, as_of))
        content = render(built, chosen, fmt)
        if out is None and fmt in ("md", "json"):
            click.echo(content if isinstance(content, str) else content.decode(), nl=False)
        else:
            path = out or default_out(built.customer, built.figures.as_of, fmt)
            path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
            click.echo(f"report written: {path}", err=out is None and fmt in ("md", "json"))
        if publish:
            from hub.report.publish import publish as publish_report

            outcome = publish_report(hub, built, chosen)
            click.echo(outcome.describe())


COMMANDS = (report,)
