"""Where an item lives in each tool, from the link's id, the connection's settings and the scope.

The state store keeps ids, not the tools' page URLs, so the report builds each URL the way the
tool's web UI addresses a record by that id. A connector this module does not know gets no link.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from urllib.parse import urlsplit

from hub.connector import ConnectionSettings
from hub.report.items import FlowSides

UrlBuilder = Callable[[str, str, str], str | None]


def _github(base_url: str, scope: str, external_id: str) -> str:
    parts = urlsplit(base_url)
    if parts.netloc == "api.github.com":
        web = "https://github.com"
    else:  # GitHub Enterprise (https://host/api/v3) and the sandbox (http://host:port/github)
        web = base_url.rstrip("/").removesuffix("/api/v3")
    return f"{web}/{scope}/issues/{external_id}"


def _jira(base_url: str, _scope: str, external_id: str) -> str:
    # The links hold Jira's numeric issue id, which ViewIssue.jspa resolves (browse/ wants the key).
    return f"{base_url.rstrip('/')}/secure/ViewIssue.jspa?id={external_id}"


def _trello(_base_url: str, _scope: str, external_id: str) -> str:
    return f"https://trello.com/c/{external_id}"


def _zoho(base_url: str, scope: str, external_id: str) -> str:
    host = urlsplit(base_url).netloc
    # API domain www.zohoapis.<dc> -> web UI crm.zoho.<dc>; elsewhere (the sandbox) the same host.
    web = f"https://crm.zoho.{host.split('zohoapis.', 1)[1]}" if "zohoapis." in host else base_url.rstrip("/")
    return f"{web}/crm/tab/{scope if scope != '*' else 'Cases'}/{external_id}"


BUILDERS: Mapping[str, Callable[[str, str, str], str]] = {
    "github": _github, "jira": _jira, "trello": _trello, "zoho_crm": _zoho,
}


def url_builder(settings: Mapping[str, ConnectionSettings]) -> Callable[[FlowSides, str, str], str | None]:
    """A function (flow, side, external id) -> URL of that record, or None."""

    def build(flow: FlowSides, side: str, external_id: str) -> str | None:
        connection, scope = getattr(flow, side)
        conf = settings.get(connection)
        builder = BUILDERS.get(conf.plugin) if conf is not None else None
        if conf is None or builder is None or not conf.base_url:
            return None
        return builder(conf.base_url, scope, external_id)

    return build
