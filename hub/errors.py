"""The error taxonomy, and the one place that maps an HTTP status to it.

Connectors raise these; the engine decides what each means for a record:
retried (TransientError), parked (PermanentError), or the connection stops (AuthError).
"""

from __future__ import annotations

import email.utils
import time
from collections.abc import Mapping


class PmhubError(Exception):
    """Base of every error pmhub reports to a user."""


class ConfigError(PmhubError):
    """Bad configuration or mapping: names the file, the key and the problem."""

    def __init__(self, problem: str, *, file: str | None = None, key: str | None = None) -> None:
        self.problem, self.file, self.key = problem, file, key
        where = ": ".join(part for part in (file, key) if part)
        super().__init__(f"{where}: {problem}" if where else problem)


class StateStoreError(PmhubError):
    """The state store cannot be used (missing, damaged, read-only, full, a schema this pmhub does
    not know): one line naming the store (password masked), what is wrong and what to do. Not a
    flow's failure: every flow shares the store, so the command stops (exit 2)."""

    def __init__(self, location: str, problem: str, remedy: str) -> None:
        self.location, self.problem, self.remedy = location, problem, remedy
        super().__init__(f"state {location}: {problem}; {remedy}")


class ConnectorError(PmhubError):
    """A failure talking to a tool. ``status`` is the HTTP status where there was one."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class TransientError(ConnectorError):
    """Worth retrying: rate limits, 5xx, timeouts, dropped connections.

    ``retry_after``: the seconds the service asked for (Retry-After, or the time until a spent quota
    resets). ``wait_at_least``: the service refused without saying how long, but its documentation
    gives a floor (GitHub's secondary rate limits: "wait for at least one minute", then "an
    exponentially increasing amount of time"); the retry policy waits this long on the first
    refusal and doubles it on each further one.
    """

    def __init__(
        self, message: str, *, status: int | None = None, retry_after: float | None = None,
        wait_at_least: float | None = None,
    ) -> None:
        super().__init__(message, status=status)
        self.retry_after = retry_after
        self.wait_at_least = wait_at_least


class PermanentError(ConnectorError):
    """Retrying cannot help (400, 404, 410, 422, a mapping error): the record is parked."""


class NotJsonReply(PermanentError):
    """A tool answered with something that is not JSON, typically an HTML page with status 200: a
    ``base_url`` pointing at a web page (a login screen, a proxy) rather than the tool's API."""


def not_json(connection: str, method: str, url: str, status: int, content_type: str | None, *,
             setting: str = "base_url") -> NotJsonReply:
    """The one message for a reply that is not JSON: the connection, the request, what came, and
    the setting (``base_url``, or e.g. Zoho's ``accounts_url``) that most likely points wrong."""
    kind = content_type.split(";", 1)[0].strip() if content_type else ""
    where = url.split("?", 1)[0]  # a query may carry credentials (Trello's key and token)
    return NotJsonReply(
        f"{connection}: {method} {where} answered HTTP {status} with {kind or 'a body'} that is not "
        f"JSON; is {setting} the address of the tool's API?", status=status)


class AuthError(ConnectorError):
    """Credentials refused: the connection stops and the user is told which one."""


class BudgetExhausted(TransientError):
    """A connection used up its retry budget for this run; the rest waits for the next run."""


def retry_after_seconds(headers: Mapping[str, str], now: float | None = None) -> float | None:
    """Seconds to wait from ``Retry-After`` (seconds or HTTP-date) or a rate-limit reset header."""
    lowered = {k.lower(): v for k, v in headers.items()}
    now = time.time() if now is None else now
    value = lowered.get("retry-after")
    if value:
        value = value.strip()
        if value.isdigit():
            return float(value)
        try:
            return max(0.0, email.utils.parsedate_to_datetime(value).timestamp() - now)
        except (TypeError, ValueError):
            pass
    # A reset time only says how long to wait when the quota is actually gone.
    if lowered.get("x-ratelimit-remaining", lowered.get("ratelimit-remaining")) != "0":
        return None
    for name in ("x-ratelimit-reset", "ratelimit-reset"):
        reset = lowered.get(name)
        if reset and reset.strip().isdigit():
            seconds = float(reset)
            # GitHub sends an epoch timestamp, the IETF draft a delta.
            return max(0.0, seconds - now) if seconds > 1e9 else seconds
    return None


def error_for_status(
    status: int, message: str, headers: Mapping[str, str] | None = None, *,
    rate_limited: bool = False, wait_at_least: float | None = None,
) -> ConnectorError:
    """Classify an HTTP failure.

    A 403 is a rate limit, not refused credentials, when it says how long to wait (remaining 0,
    Retry-After) or when the connector recognised the tool's rate-limit reply (``rate_limited``:
    GitHub's secondary limits are a 403 whose only sign is the message). ``wait_at_least`` is the
    documented floor to wait when the reply gives no wait of its own (see ``TransientError``).
    """
    headers = headers or {}
    lowered = {k.lower(): v for k, v in headers.items()}
    rate_limited = rate_limited or status == 429 or (
        status == 403 and (lowered.get("x-ratelimit-remaining") == "0" or "retry-after" in lowered)
    )
    if rate_limited or status in (408, 425) or status >= 500:
        retry_after = retry_after_seconds(headers)
        return TransientError(message, status=status, retry_after=retry_after,
                              wait_at_least=wait_at_least if retry_after is None else None)
    if status in (401, 403):
        return AuthError(message, status=status)
    return PermanentError(message, status=status)


#: What a connector raises when a tool's payload does not fit the canonical model (pydantic's
#: ValidationError is a ValueError; a missing key or a wrong type shows up as the others).
DATA_ERRORS = (ValueError, TypeError, KeyError)


def unreadable(connection: str, error: Exception) -> PermanentError:
    """A clear, secret-free message for a payload the connector could not read."""
    details = getattr(error, "errors", None)
    if callable(details):
        parts = [f"{'.'.join(str(p) for p in e.get('loc', ())) or 'record'}: {e.get('msg')}"
                 for e in details()]
        text = "; ".join(parts[:5]) + (f" (and {len(parts) - 5} more)" if len(parts) > 5 else "")
    else:
        text = f"{type(error).__name__}: {error}"
    return PermanentError(f"{connection}: the tool sent data pmhub cannot read ({text})")
