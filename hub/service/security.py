"""Who may see the status page and the metrics.

On a loopback address only this machine can connect, so no token is needed. Bound anywhere else,
``/`` and ``/metrics`` need ``Authorization: Bearer <[server] token>``, and the server does not start
without a token. A browser cannot send a bearer token, so the token also works as the password of
HTTP Basic auth (any user name): the 401 asks for it, and a phone's browser shows a login prompt.
Webhooks prove themselves with their signatures; health checks reveal nothing.
"""

from __future__ import annotations

import base64
import hmac
import ipaddress

from hub.config import ServerConfig
from hub.errors import ConfigError


def is_loopback(host: str) -> bool:
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name may resolve anywhere


def check_exposure(server: ServerConfig, host: str) -> None:
    """Refuse to serve the page and metrics beyond this machine without a token."""
    if not is_loopback(host) and server.token is None:
        raise ConfigError(f"binding {host} (not loopback) needs a bearer token for the status page and "
                          f"metrics: set token = {{ env = \"PMHUB_SERVER_TOKEN\" }}", key="server.token")


class BearerGate:
    """Checks ``Authorization`` for the page and the metrics (in constant time)."""

    def __init__(self, server: ServerConfig, host: str) -> None:
        token = server.token.get_secret_value() if server.token is not None else None
        # A configured token is always asked for; off loopback there is always one (check_exposure).
        self.expected = f"Bearer {token}".encode() if token else None
        self.required = self.expected is not None or not is_loopback(host)

    def allows(self, authorization: str | None) -> bool:
        if not self.required:
            return True
        if self.expected is None:
            return False
        given = (authorization or "").encode()
        scheme, _, credentials = given.partition(b" ")
        if scheme.lower() == b"basic":
            try:
                _user, _, password = base64.b64decode(credentials, validate=True).partition(b":")
            except ValueError:
                return False
            given = b"Bearer " + password
        return hmac.compare_digest(given, self.expected)
