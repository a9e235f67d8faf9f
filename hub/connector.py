"""The connector contract: what a plugin implements to bring a tool into pmhub.

A connector is a class. Its class attributes declare what it can do, and can be read without
connecting (``pmhub plugins`` shows them); its methods do the I/O. Records cross the boundary as
``Remote`` values holding canonical model objects; the tool's own vocabulary for status, priority
and kind travels in ``Issue.raw`` and is translated by the flow's mapping, not in code.

Errors: raise ``hub.errors.TransientError`` / ``PermanentError`` / ``AuthError`` (``error_for_status``
classifies an HTTP status). Never retry inside a connector: the engine retries in one place, and
knows that a create must be recovered by marker rather than re-sent.

State between runs: before ``open`` the engine calls ``bind_state`` with a ``ConnectorState``
(secrets, HTTP validators, the data dir) backed by pmhub's state store; a connector keeps nothing
between runs anywhere else.
"""

from __future__ import annotations

import datetime as dt
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any, ClassVar, Protocol

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from hub.errors import PermanentError, TransientError
from hub.model import CanonicalRecord
from hub.webhook_signatures import body_digest


class Capability(StrEnum):
    READ = "read"
    INCREMENTAL = "incremental"
    WRITE = "write"
    DELETE = "delete"
    WEBHOOKS = "webhooks"
    BULK = "bulk"
    #: Can attach progress notes to a customer (``post_progress`` / ``has_progress``).
    NOTES = "notes"


@dataclass(slots=True)
class Remote:
    """One record as a tool holds it, already in canonical form.

    ``version`` is whatever changes on every edit (the updated timestamp as the tool prints it, an
    ETag); with ``id`` it de-duplicates the overlap of incremental listings. ``marker`` is the pmhub
    marker found on the record, if any. A deletion is ``deleted=True`` with ``item=None``.
    """

    id: str
    updated: dt.datetime | None
    item: CanonicalRecord | None
    version: str | None = None
    url: str | None = None
    marker: str | None = None
    deleted: bool = False

    def __post_init__(self) -> None:
        if self.version is None and self.updated is not None:
            self.version = self.updated.isoformat()


@dataclass(slots=True)
class RateLimit:
    """What the tool said about its rate limit on the latest reply."""

    remaining: int | None = None
    limit: int | None = None
    reset_at: dt.datetime | None = None


@dataclass(frozen=True, slots=True)
class WebhookEvent:
    """A record a verified webhook delivery names: a hint to sync it now, never its content.

    ``scopes`` are the names the tool gives the record's scope in the payload (a Trello board's id
    and short link, a Jira project's key and id); a flow side whose scope is one of them takes the
    event. ``updated`` is the edit's time as the payload tells it, for the edit-to-twin latency.
    The record is fetched fresh before anything is written, so a deletion needs no flag: the fetch
    finds it gone and the flow's ``on_delete`` applies.
    """

    record_type: str
    external_id: str
    scopes: frozenset[str]
    updated: dt.datetime | None = None


@dataclass(slots=True)
class CallCounter:
    """API calls made by one connection, by kind; the run record shows them.

    Every connector counts each request as it makes it, so the engine hooks a connection's request
    ceiling (``requests_per_minute``) in here: ``before_each(n)`` may sleep until the request's turn.
    """

    counts: dict[str, int] = field(default_factory=dict)
    before_each: Callable[[int], None] | None = None

    def add(self, kind: str, n: int = 1) -> None:
        if self.before_each is not None:
            self.before_each(n)
        self.counts[kind] = self.counts.get(kind, 0) + n

    @property
    def total(self) -> int:
        return sum(self.counts.values())


class SecretStorage(Protocol):
    """Opaque strings per key that a connection keeps between runs (e.g. OAuth tokens).

    pmhub stores the values as given: a connector encrypts what it puts here itself.
    """

    def get(self, key: str) -> str | None: ...

    def put(self, key: str, value: str) -> None: ...

    def delete(self, key: str) -> None: ...


@dataclass(frozen=True, slots=True)
class HttpValidators:
    """What a server said identifies the version of one response, to ask next time "changed since?".

    ``etag`` goes back as ``If-None-Match`` and ``last_modified`` as ``If-Modified-Since``; a 304
    reply then means the response would be the same as the one they came with. ``body`` is what the
    connector needs to act on a 304 (e.g. the page it stands for), or None when "unchanged" alone
    says enough; pmhub stores it as is.
    """

    etag: str | None = None
    last_modified: str | None = None
    body: str | None = None

    def request_headers(self) -> dict[str, str]:
        """The conditional-request headers these validators make."""
        headers: dict[str, str] = {}
        if self.etag:
            headers["If-None-Match"] = self.etag
        if self.last_modified:
            headers["If-Modified-Since"] = self.last_modified
        return headers


class ValidatorStorage(Protocol):
    """HTTP validators of one connection kept between runs, under keys the connector chooses.

    A key names one request whose reply may come back unchanged: the URL with its query, or a
    listing's identity. Keys longer than 255 characters are stored under their SHA-256. Keep the
    number of keys bounded (one per listing, not one per ``since``): nothing expires them.
    """

    def get(self, key: str) -> HttpValidators | None: ...

    def put(self, key: str, validators: HttpValidators) -> None: ...

    def delete(self, key: str) -> None: ...


class MemorySecretStorage:
    """A ``SecretStorage`` in a dict: for tests and connectors used outside a hub."""

    def __init__(self) -> None:
        self.values: dict[str, str] = {}

    def get(self, key: str) -> str | None:
        return self.values.get(key)

    def put(self, key: str, value: str) -> None:
        self.values[key] = value

    def delete(self, key: str) -> None:
        self.values.pop(key, None)


class MemoryValidatorStorage:
    """A ``ValidatorStorage`` in a dict: validators last as long as the object."""

    def __init__(self) -> None:
        self.values: dict[str, HttpValidators] = {}

    def get(self, key: str) -> HttpValidators | None:
        return self.values.get(key)

    def put(self, key: str, validators: HttpValidators) -> None:
        self.values[key] = validators

    def delete(self, key: str) -> None:
        self.values.pop(key, None)


class WritePacer(Protocol):
    """Takes turns for writes to one connection shared by several processes."""

    def wait_turn(self, spacing: float) -> None:
        """Return once this write may go out: at least ``spacing`` seconds after the one before."""


@dataclass(frozen=True, slots=True)
class ConnectorState:
    """What one connection may keep between runs; ``Connector.bind_state`` receives it.

    ``secrets``: opaque values the connector encrypts itself (the Zoho connector's OAuth tokens).
    ``validators``: ETag / Last-Modified per listing, so an unchanged listing costs a 304 in the
    next run too (the GitHub connector's listings). ``data_dir``: pmhub's data directory, for
    files a client library insists on writing (it may not exist yet; create what you need in it).
    """

    secrets: SecretStorage
    validators: ValidatorStorage
    data_dir: Path
    #: Queue mode: spaces this connection's writes across every worker (``wait_turn(seconds)``
    #: before a write); None: a connector spaces its own writes in process, if it needs to.
    pacer: WritePacer | None = None

    @classmethod
    def in_memory(cls, data_dir: Path) -> ConnectorState:
        """State that lives as long as this object (tests, a connector used outside a hub)."""
        return cls(MemorySecretStorage(), MemoryValidatorStorage(), data_dir)


@dataclass(frozen=True, slots=True)
class WebhookRegistration:
    """One hook a tool holds (a GitHub repository hook, a Jira admin webhook, a Trello webhook, a
    Zoho notification channel), as ``pmhub webhooks install|list|remove`` report it."""

    #: The scope(s) it covers, as the flows name them (a Jira webhook covers several projects).
    scope: str
    #: Where the tool delivers.
    url: str
    #: The tool's id for it.
    id: str
    #: What this call did: "created", "updated", "removed", "renewed", or "" when only listed.
    action: str = ""
    active: bool = True
    #: What the tool tells about its latest delivery (GitHub's ``last_response``, Trello's failure
    #: count), or None when it tells nothing.
    last_delivery: str | None = None
    #: When the tool stops delivering unless renewed (Zoho's ``channel_expiry``), else None.
    expires: dt.datetime | None = None


class ConnectionSettings(BaseModel):
    """Base of every connector's settings: the keys of one ``[connections.NAME]`` table.

    Unknown keys are rejected. Secret fields are typed ``pydantic.SecretStr`` so they never print.
    """

    model_config = ConfigDict(extra="forbid")

    plugin: str
    base_url: str | None = None
    #: What proves a webhook delivery came from the tool (`pmhub serve`): the hook's HMAC secret
    #: (GitHub, Jira), the app secret (Trello), the channel token (Zoho CRM). None: deliveries are
    #: refused, never accepted unsigned.
    webhook_secret: SecretStr | None = None
    #: At most this many requests a minute to the tool, spaced evenly (``60 / N`` seconds apart); in
    #: queue mode by every worker together. None: only the tool's own quota and Retry-After limit.
    requests_per_minute: float | None = Field(None, gt=0)


class Connector(ABC):
    """Base class of every connector. Subclass, declare, implement; register with a hookimpl::

        @hub.hookimpl
        def register_connectors(register):
            register(MyConnector)
    """

    #: Plugin name used in config (``plugin = "..."``).
    plugin: ClassVar[str]
    #: Record types this connector handles, each with its capabilities.
    record_types: ClassVar[dict[str, frozenset[Capability]]]
    #: Model of the connection's config table.
    settings_model: ClassVar[type[ConnectionSettings]] = ConnectionSettings
    #: How far back to re-read past the cursor (clock skew, coarse precision, lagging search).
    cursor_overlap: ClassVar[dt.timedelta] = dt.timedelta(0)
    #: True when ``list_changed`` yields records in ascending ``updated`` order, so the cursor
    #: may advance after every committed batch instead of only at the end of a run.
    sorted_by_updated: ClassVar[bool] = False
    #: What a scope is for this tool, for help text (e.g. "owner/repo").
    scope_help: ClassVar[str] = "scope"
    #: Record types whose records sit under a parent (``Issue.parent``), with the parent's record
    #: type in this tool: {"issue": "issue"} for sub-issues, {"issue": "project"} where work sits
    #: in a project record (a Zoho Case in its Deal). A type left out has no parents here, and a
    #: flow with such a side leaves the parent alone.
    parent_types: ClassVar[dict[str, str]] = {}

    #: The connection's name (the ``[connections.NAME]`` key); error messages start with it.
    name: str
    settings: ConnectionSettings
    #: API calls made so far, by kind; each run record reports the calls made since the last one.
    calls: CallCounter
    #: Updated from every reply; the engine pauses before a call while the quota is spent.
    rate_limit: RateLimit

    def __init__(self, name: str, settings: ConnectionSettings) -> None:
        self.name = name
        self.settings = settings
        self.calls = CallCounter()
        self.rate_limit = RateLimit()

    # -- lifecycle -------------------------------------------------------------------------
    def bind_state(self, state: ConnectorState) -> None:  # noqa: B027 - optional hook
        """Receive what this connection keeps between runs. Called once, before ``open``.

        The engine passes state backed by pmhub's state store, scoped to this connection. Keep
        ``state`` (or its parts) for later calls; the default ignores it. A connector used outside
        a hub is never bound, so fall back to memory (``ConnectorState.in_memory``) until it is.
        """

    def open(self) -> None:  # noqa: B027 - optional hook
        """Connect (create clients). Called once before use, after ``bind_state``; may raise AuthError."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release clients and sessions."""

    def whoami(self) -> str:
        """Check the credentials with one cheap call; return who we are. Used by ``pmhub check``."""
        return self.name

    def check_scope(self, scope: str, record_type: str) -> None:
        """Read one page of ``record_type`` records in ``scope``; raise (``PermanentError`` for a
        scope that does not exist or cannot be read) when it fails. Used by ``pmhub check``.

        The default takes the first record of a full listing and stops: ``list_changed`` pages
        lazily, so that costs the listing's first page. Override where a cheaper call tells the same.
        """
        listing = self.list_changed(scope, record_type, None)
        try:
            next(iter(listing), None)
        finally:
            close = getattr(listing, "close", None)
            if callable(close):
                close()  # a generator's finally blocks run now, not whenever it is collected

    def check_fields(self, scope: str, record_type: str, fields: Mapping[str, str]) -> list[str]:
        """What is wrong with the custom fields a mapping names on this side (tool field name ->
        declared type: string, number, date, option, options, user); one sentence each, empty when
        the tool has them all. Used by ``pmhub check``. The default: a tool without custom fields."""
        return [f"{self.plugin} has no custom fields on {record_type}s: {name!r} cannot be kept there"
                for name in fields]

    # -- registering webhooks (``pmhub webhooks``) ----------------------------------------------
    # A connector that registers hooks names the module of its package that does it, imported
    # only when a command needs it; the module provides ``install``, ``listed`` and ``remove`` (and
    # ``renew`` when its hooks expire), each taking the connector first, like the methods below.
    webhook_admin: ClassVar[str | None] = None

    def install_webhooks(self, scopes: Sequence[str], url: str, secret: str) -> list[WebhookRegistration]:
        """Register, for every scope, the hook that delivers its changes to ``url`` signed with
        ``secret`` (the connection's ``webhook_secret``). Idempotent: a hook already delivering to
        ``url`` is updated (secret, events, active), never registered twice."""
        return list(self._webhook_admin().install(self, scopes, url, secret))

    def list_webhooks(self, scopes: Sequence[str], url: str | None) -> list[WebhookRegistration]:
        """The hooks registered for ``scopes`` that deliver to ``url`` (every one when None)."""
        return list(self._webhook_admin().listed(self, scopes, url))

    def remove_webhooks(self, scopes: Sequence[str], url: str) -> list[WebhookRegistration]:
        """Remove the hooks of ``scopes`` that deliver to ``url``; return what was removed."""
        return list(self._webhook_admin().remove(self, scopes, url))

    def renew_webhooks(self, scopes: Sequence[str], secret: str, *,
                       within: dt.timedelta) -> list[WebhookRegistration]:
        """Renew the hooks of ``scopes`` that expire within ``within`` (Zoho's channels), without
        an API call for those that do not. Hooks that never expire: nothing to do."""
        renew = getattr(self._webhook_admin(), "renew", None)
        return list(renew(self, scopes, secret, within=within)) if renew is not None else []

    def _webhook_admin(self) -> Any:
        if self.webhook_admin is None:
            raise PermanentError(f"{self.plugin} cannot register webhooks")
        import importlib

        package = type(self).__module__.rpartition(".")[0]
        return importlib.import_module(self.webhook_admin, package=package or None)

    # -- reading ---------------------------------------------------------------------------
    @abstractmethod
    def list_changed(
        self, scope: str, record_type: str, since: dt.datetime | None
    ) -> Iterator[Remote]:
        """Every record of ``record_type`` in ``scope`` changed at or after ``since`` (all when None),
        paging to the end. May include deletions (``Remote.deleted``) where the tool reports them."""

    @abstractmethod
    def get(self, scope: str, record_type: str, external_id: str) -> Remote | None:
        """One record, or None when it no longer exists."""

    @abstractmethod
    def find_by_marker(self, scope: str, record_type: str, marker: str) -> Remote | None:
        """The record carrying ``marker``, or None. How a create that lost its reply is recovered."""

    # -- writing ---------------------------------------------------------------------------
    @abstractmethod
    def create(self, scope: str, record_type: str, item: CanonicalRecord, marker: str) -> Remote:
        """Create a record carrying ``marker`` (so ``find_by_marker`` finds it); return it as stored."""

    def create_many(
        self, scope: str, record_type: str, items: Sequence[tuple[CanonicalRecord, str]]
    ) -> list[Remote | Exception]:
        """Create several; one result per item, in order. Override where the tool has bulk create."""
        results: list[Remote | Exception] = []
        for item, marker in items:
            try:
                results.append(self.create(scope, record_type, item, marker))
            except (TransientError, PermanentError) as error:
                results.append(error)
        return results

    @abstractmethod
    def update(
        self, scope: str, record_type: str, external_id: str, item: CanonicalRecord,
        changed: frozenset[str],
    ) -> Remote:
        """Write the ``changed`` canonical fields of ``item``; return the record as now stored."""

    def delete(self, scope: str, record_type: str, external_id: str) -> None:
        """Delete a record. Connectors without the ``delete`` capability keep this default."""
        raise PermanentError(f"{self.plugin} cannot delete {record_type} records")

    # -- progress notes (capability "notes" on record type "customer") -------------------------
    def has_progress(self, scope: str, customer: str, marker: str) -> bool:
        """Is a progress note carrying ``marker`` already attached to the customer named ``customer``?"""
        raise PermanentError(f"{self.plugin} cannot keep progress notes")

    def post_progress(self, scope: str, customer: str, title: str, body: str, marker: str) -> None:
        """Attach a progress note (Markdown ``body``) carrying ``marker`` to the customer's record."""
        raise PermanentError(f"{self.plugin} cannot keep progress notes")

    # -- webhooks (capability "webhooks"; `pmhub serve` receives them) --------------------------
    # Called on an instance that was never opened, from the server's request threads: no I/O.
    @classmethod
    def takes_webhooks(cls) -> bool:
        """Does any record type of this connector declare the ``webhooks`` capability?"""
        return any(Capability.WEBHOOKS in caps for caps in cls.record_types.values())

    def webhook_secret(self) -> str | None:
        """The connection's ``webhook_secret``, for ``verify_webhook``; None when not configured."""
        secret = self.settings.webhook_secret
        return secret.get_secret_value() if secret is not None else None

    def verify_webhook(self, headers: Mapping[str, str], body: bytes, url: str) -> bool:
        """Did the tool send this delivery? Checked against ``settings.webhook_secret`` in constant
        time before anything else looks at the body. ``headers`` are case-insensitive; ``url`` is
        the callback URL the delivery was sent to (Trello signs it). Default: no webhooks."""
        return False

    def webhook_delivery_id(self, headers: Mapping[str, str], body: bytes) -> str:
        """What identifies this delivery, the same when the tool sends it again (replays are
        acknowledged and ignored). Default: the body's SHA-256."""
        return body_digest(body)

    def webhook_events(self, headers: Mapping[str, str], body: bytes) -> list[WebhookEvent]:
        """The records a verified delivery names (none for an event pmhub does not sync)."""
        return []

    def webhook_in_scope(self, scope: str, event: WebhookEvent) -> bool:
        """Does ``event`` belong to a flow side whose scope is ``scope``? Default: ``scope`` is one
        of the event's scope names, ignoring case."""
        wanted = scope.strip().lower()
        return any(wanted == name.lower() for name in event.scopes)

    # -- helpers for subclasses ----------------------------------------------------------------
    @classmethod
    def capabilities(cls, record_type: str) -> frozenset[Capability]:
        return cls.record_types.get(record_type, frozenset())

    @classmethod
    def describe(cls) -> dict[str, Any]:
        return {
            "plugin": cls.plugin,
            "record_types": {k: sorted(v) for k, v in cls.record_types.items()},
            "scope": cls.scope_help,
        }


def chunks(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    """Split an iterable into lists of at most ``size`` (used for pages and bulk writes)."""
    batch: list[Any] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


__all__ = [
    "CallCounter", "Capability", "ConnectionSettings", "Connector", "ConnectorState", "HttpValidators",
    "MemorySecretStorage", "MemoryValidatorStorage", "PermanentError", "RateLimit", "Remote",
    "SecretStorage", "TransientError", "ValidatorStorage", "WebhookEvent", "chunks",
]
