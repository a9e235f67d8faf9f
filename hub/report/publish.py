"""``pmhub report --publish``: the report goes to the customer's CRM record, once per period.

The file (the PDF, or the HTML where WeasyPrint cannot run) is attached to the customer's record
on the CRM side of the report's flow, and the brief Markdown summary is posted there as a progress
note. Both carry one marker derived from the flows, the customer and the period (not the date the
command ran, nor the language or format), and both are looked for before anything is written: a
second run for the same period attaches nothing and writes no note, after a crash between the two
writes as well. The CRM side is the flow's ``progress_notes`` side, else the side whose connector
can keep files on a customer (``customer_files`` and ``attach_to_customer``: Zoho CRM).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from hub.errors import ConfigError
from hub.report.build import Report
from hub.report.i18n import Language
from hub.report.markdown import render_markdown


@runtime_checkable
class KeepsCustomerFiles(Protocol):
    """A connector that keeps files and progress notes on a customer's record."""

    def customer_files(self, customer: str) -> list[str]: ...
    def attach_to_customer(self, customer: str, file_name: str, content: bytes) -> str: ...
    def has_progress(self, scope: str, customer: str, marker: str) -> bool: ...
    def post_progress(self, scope: str, customer: str, title: str, body: str, marker: str) -> None: ...


@dataclass(frozen=True)
class Published:
    connection: str
    file_name: str
    attached: bool
    noted: bool

    def describe(self) -> str:
        attached = "attached" if self.attached else "already attached"
        noted = "progress note posted" if self.noted else "progress note already there"
        return f"published to {self.connection}: {self.file_name} {attached}; {noted}"


def report_marker(report: Report) -> str:
    period = [report.flows, report.customer.casefold(), report.project,
              report.figures.since.isoformat(), report.figures.as_of.isoformat()]
    return "pmhub-report-" + hashlib.blake2b(repr(period).encode(), digest_size=6).hexdigest()


def file_name(report: Report, marker: str, extension: str) -> str:
    slug = re.sub(r"[^\w]+", "-", report.customer).strip("-").lower() or "customer"
    return f"progress-report-{slug}-{report.figures.as_of.isoformat()}-{marker.rsplit('-', 1)[1]}.{extension}"


def publish(hub: Any, report: Report, lang: Language) -> Published:
    """Attach the report and post its summary on the CRM side; each only when not there yet."""
    connection, scope = crm_side(hub, report.flows)
    connector = hub.connector(connection)
    if not isinstance(connector, KeepsCustomerFiles):
        raise ConfigError(f"connection {connection!r} cannot keep files on a customer's record",
                          key="--publish")
    retrier = hub.retriers[connection]
    marker = report_marker(report)
    content, extension = _document(report, lang)
    name = file_name(report, marker, extension)
    digest = marker.rsplit("-", 1)[1]
    attached = noted = False
    if not any(digest in existing for existing in retrier.call(connector.customer_files, report.customer)):
        retrier.call(connector.attach_to_customer, report.customer, name, content)
        attached = True
    if not retrier.call(connector.has_progress, scope, report.customer, marker):
        figures = report.figures
        period = f"{lang.day(figures.since)} \u2013 {lang.day(figures.as_of)}"
        title = f"{lang.gettext('Progress report')} {period}: {figures.done}/{figures.total}"
        retrier.call(connector.post_progress, scope, report.customer, title,
                     render_markdown(report, lang, brief=True), marker)
        noted = True
    return Published(connection, name, attached, noted)


def crm_side(hub: Any, flows: list[str]) -> tuple[str, str]:
    """(connection, scope) of the CRM side among the report's flows."""
    for name in flows:
        flow = hub.config.flow(name)
        if flow.progress_notes is not None:
            side = getattr(flow, flow.progress_notes.side)
            return side.connection, side.scope
    for name in flows:
        flow = hub.config.flow(name)
        for side in (flow.a, flow.b):
            plugin = hub.config.connections[side.connection].plugin
            if hasattr(hub.host.connector(plugin), "attach_to_customer"):
                return side.connection, side.scope
    raise ConfigError(f"no connection of flow(s) {', '.join(flows)} keeps files on a customer's record "
                      "(Zoho CRM does), so there is nowhere to publish", key="--publish")


def _document(report: Report, lang: Language) -> tuple[bytes, str]:
    from hub.report.render import render_html, render_pdf

    try:
        import weasyprint  # noqa: F401 - only to know whether a PDF can be made here
    except (ImportError, OSError):  # OSError: WeasyPrint installed but Debian's pango missing
        return render_html(report, lang).encode("utf-8"), "html"
    return render_pdf(report, lang), "pdf"
