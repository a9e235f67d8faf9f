"""Registering the tools' webhooks for every flow's scopes (``pmhub webhooks``, ``pmhub serve``).

Connection C's hooks deliver to ``<public_url>/hooks/<C>``, where ``pmhub serve`` receives them;
each tool signs with C's ``webhook_secret``. What a hook is in each tool, and how it is kept
idempotent, is the plugin's business (``Connector.install_webhooks`` and the plugin's
``webhook_admin`` module); this module only works out which connection covers which scopes and
reports per connection, so one tool refusing does not stop the others.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import quote

from hub.errors import ConfigError, ConnectorError

if TYPE_CHECKING:
    from hub.connector import Connector, WebhookRegistration
    from hub.engine.runner import Hub

log = logging.getLogger("pmhub.webhooks")

#: Hooks that expire (Zoho's channels, a week) are renewed once less than this is left; the
#: service's schedule ticks every few seconds to minutes, so this leaves many chances.
RENEW_WITHIN = dt.timedelta(days=1)


@dataclass
class Outcome:
    """What one connection's hooks came to."""

    connection: str
    scopes: list[str]
    registrations: list[WebhookRegistration] = field(default_factory=list)
    #: Why nothing was done (the connector cannot register hooks, a failure), or None.
    problem: str | None = None


def hook_url(public_url: str, connection: str) -> str:
    """Where connection ``connection``'s hooks deliver: ``<public_url>/hooks/<connection>``."""
    return f"{public_url.rstrip('/')}/hooks/{quote(connection, safe='')}"


def public_url(hub: Hub, given: str | None) -> str | None:
    """``--public-url`` when given, else the config's ``[server] public_url`` (None: neither)."""
    server = getattr(hub.config, "server", None)
    chosen = given or getattr(server, "public_url", None)
    if chosen is not None and not str(chosen).startswith(("http://", "https://")):
        raise ConfigError(f"public URL {chosen!r} must start with http:// or https://",
                          file=str(hub.config.path), key="server.public_url")
    return chosen


def scopes_by_connection(hub: Hub) -> dict[str, list[str]]:
    """Every connection the flows use, with the scopes they use it for (in config order)."""
    scopes: dict[str, list[str]] = {}
    for flow in hub.config.flows:
        for side in (flow.a, flow.b):
            wanted = scopes.setdefault(side.connection, [])
            if side.scope not in wanted:
                wanted.append(side.scope)
    return scopes


def install(hub: Hub, public: str) -> list[Outcome]:
    """Register (or bring up to date) every connection's hooks; expiring ones get a new expiry."""
    return _each(hub, lambda c, name, scopes: c.install_webhooks(scopes, hook_url(public, name),
                                                                 _secret(hub, name)))


def listed(hub: Hub, public: str | None) -> list[Outcome]:
    """The hooks registered for the flows' scopes: those delivering to pmhub's URL when ``public``
    is known, else every hook in those scopes."""
    return _each(hub, lambda c, name, scopes: c.list_webhooks(
        scopes, hook_url(public, name) if public else None), secret_needed=False)


def remove(hub: Hub, public: str) -> list[Outcome]:
    return _each(hub, lambda c, name, scopes: c.remove_webhooks(scopes, hook_url(public, name)),
                 secret_needed=False)


def renew_expiring(hub: Hub, within: dt.timedelta = RENEW_WITHIN) -> list[Outcome]:
    """Renew the hooks that expire within ``within`` (for ``pmhub serve``'s schedule ticks).

    Costs no API call while nothing is close to expiry: expiries are kept in the state store.
    Failures are logged and reported, never raised, so a tick goes on.
    """
    outcomes = _each(hub, lambda c, name, scopes: c.renew_webhooks(scopes, _secret(hub, name),
                                                                   within=within),
                     skip_without_secret=True)
    for outcome in outcomes:
        for registration in outcome.registrations:
            log.info("renewed webhook %s of connection %s for %s until %s", registration.id,
                     outcome.connection, registration.scope, registration.expires)
        if outcome.problem and outcome.problem != _CANNOT:
            log.warning("renewing webhooks of connection %s failed: %s", outcome.connection,
                        outcome.problem)
    return [o for o in outcomes if o.registrations or (o.problem and o.problem != _CANNOT)]


_CANNOT = "registers no webhooks (its plugin has no webhook_admin)"


def _each(hub: Hub, act: Callable[[Connector, str, list[str]], list[WebhookRegistration]], *,
          secret_needed: bool = True, skip_without_secret: bool = False) -> list[Outcome]:
    outcomes = []
    for name, scopes in scopes_by_connection(hub).items():
        outcome = Outcome(name, scopes)
        outcomes.append(outcome)
        settings = hub.config.connections[name]
        if hub.host.connector(settings.plugin).webhook_admin is None:
            outcome.problem = _CANNOT
            continue
        if secret_needed and getattr(settings, "webhook_secret", None) is None:
            if skip_without_secret:
                continue
            raise ConfigError("webhook_secret is not set; the tool signs deliveries with it and "
                              "pmhub serve refuses unsigned ones", file=str(hub.config.path),
                              key=f"connections.{name}.webhook_secret")
        try:
            outcome.registrations = act(hub.connector(name), name, scopes)
        except ConnectorError as error:
            outcome.problem = str(error)
    return outcomes


def _secret(hub: Hub, name: str) -> str:
    secret = getattr(hub.config.connections[name], "webhook_secret", None)
    if secret is None:  # _each checked it; this keeps the type honest
        raise ConfigError("webhook_secret is not set", key=f"connections.{name}.webhook_secret")
    return str(secret.get_secret_value())
