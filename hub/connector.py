"""The connector contract: what a plugin implements to bring a tool into pmhub.

A connector is a class. Its class attributes declare what it can do, and can be read without
connecting (``pmhub plugins`` shows them); its methods do the I/O. Records cross the boundary as
``Remote`` values holding canonical model objects; the tool's own vocabulary for status, priority
and kind travels in ``Issue.raw`` and is translated by the flow's mapping, not in code.

Errors: raise ``hub.errors.TransientError`` / ``PermanentError`` / ``AuthError`` (``error_for_status``
classifies an HTTP status). Never retry inside a connector: the engine retries in one place, and
knows that a create must be recovered by marker rather than re-sent.
"""

from __future__ import annotations

import datetime as dt
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict

from hub.errors import PermanentError, TransientError
from hub.model import CanonicalRecord


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


@dataclass(slots=True)
class CallCounter:
    """API calls made by one connection, by kind; the run record shows them."""

    counts: dict[str, int] = field(default_factory=dict)

    def add(self, kind: str, n: int = 1) -> None:
        self.counts[kind] = self.counts.get(kind, 0) + n

    @property
    def total(self) -> int:
        return sum(self.counts.values())


class ConnectionSettings(BaseModel):
    """Base of every connector's settings: the keys of one ``[connections.NAME]`` table.

    Unknown keys are rejected. Secret fields are typed ``pydantic.SecretStr`` so they never print.
    """

    model_config = ConfigDict(extra="forbid")

    plugin: str
    base_url: str | None = None


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

    def __init__(self, name: str, settings: ConnectionSettings) -> None:
        self.name = name
        self.settings = settings
        self.calls = CallCounter()
        self.rate_limit = RateLimit()

    # -- lifecycle -------------------------------------------------------------------------
    def open(self) -> None:  # noqa: B027 - optional hook
        """Connect (create clients). Called once before use; may raise AuthError."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release clients and sessions."""

    def whoami(self) -> str:
        """Check the credentials with one cheap call; return who we are. Used by ``pmhub check``."""
        return self.name

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
    "CallCounter", "Capability", "ConnectionSettings", "Connector", "PermanentError", "RateLimit",
    "Remote", "TransientError", "chunks",
]
