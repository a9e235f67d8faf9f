"""The reference connector: every capability over a ``ReferenceStore``, sorted incremental listing.

Connection settings (``plugin = "reference"``)::

    [connections.left]
    plugin = "reference"
    path = "memory:left"      # or a file path
    page_size = 1000
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from typing import ClassVar

from hub.connector import Capability, ConnectionSettings, Connector, Remote, chunks
from hub.errors import TransientError
from hub.model import RECORD_MODELS, CanonicalRecord
from hub.testing.reference.faults import Fault
from hub.testing.reference.store import ReferenceStore, to_micros


class ReferenceSettings(ConnectionSettings):
    """``path``: a SQLite file or ``memory:NAME``; ``page_size``: records per list page and bulk write."""

    path: str
    page_size: int = 1000


_ALL = frozenset({Capability.READ, Capability.INCREMENTAL, Capability.WRITE, Capability.DELETE,
                  Capability.BULK})


class ReferenceConnector(Connector):
    """A connector to a ``ReferenceStore``: every capability, sorted incremental listing, bulk create."""

    plugin: ClassVar[str] = "reference"
    settings_model: ClassVar[type[ConnectionSettings]] = ReferenceSettings
    record_types: ClassVar[dict[str, frozenset[Capability]]] = {
        **dict.fromkeys(RECORD_MODELS, _ALL), "customer": _ALL | {Capability.NOTES}}
    sorted_by_updated: ClassVar[bool] = True
    cursor_overlap: ClassVar[dt.timedelta] = dt.timedelta(0)
    scope_help: ClassVar[str] = "any name"
    parent_types: ClassVar[dict[str, str]] = {"issue": "issue"}

    settings: ReferenceSettings
    store: ReferenceStore

    def open(self) -> None:
        self.store = ReferenceStore(self.settings.path)

    def close(self) -> None:
        store = getattr(self, "store", None)
        if store is not None:
            store.close()

    def whoami(self) -> str:
        self.calls.add("whoami")
        self.store.pending_faults("list", "")  # one query: proves the store answers
        return f"reference store {self.settings.path}"

    def _call(self, kind: str, operation: str, record_type: str, item: CanonicalRecord | None = None
              ) -> Fault | None:
        """Count the call and meet its fault; raise unless the fault is a lost reply."""
        self.calls.add(kind)
        fault = self.store.take_fault(operation, record_type, item)
        if fault is not None and fault.mode != "lost_reply":
            raise fault.error(operation)
        return fault

    def list_changed(
        self, scope: str, record_type: str, since: dt.datetime | None
    ) -> Iterator[Remote]:
        start = to_micros(since) if since is not None else None
        after: tuple[int, int] | None = None
        size = self.settings.page_size
        while True:
            self._call("list", "list", record_type)
            page = self.store.page(scope, record_type, start, after, size)
            yield from page
            if len(page) < size:
                return
            last = page[-1]
            assert last.updated is not None
            after = (to_micros(last.updated), int(last.id))

    def get(self, scope: str, record_type: str, external_id: str) -> Remote | None:
        self._call("get", "get", record_type)
        found = self.store.record(scope, record_type, external_id)
        return found if found is not None and not found.deleted else None

    def find_by_marker(self, scope: str, record_type: str, marker: str) -> Remote | None:
        self._call("find", "find", record_type)
        return self.store.marked(scope, record_type, marker)

    def create(self, scope: str, record_type: str, item: CanonicalRecord, marker: str) -> Remote:
        fault = self._call("create", "create", record_type, item)
        created = self.store.insert(scope, record_type, [(item, marker)])[0]
        if fault is not None:
            raise fault.error("create")
        return created

    def create_many(
        self, scope: str, record_type: str, items: Sequence[tuple[CanonicalRecord, str]]
    ) -> list[Remote | Exception]:
        """One bulk write per ``page_size`` items; faults apply item by item, as a bulk API reports."""
        results: list[Remote | Exception] = []
        for chunk in chunks(items, self.settings.page_size):
            self.calls.add("bulk_create")
            pending = self.store.pending_faults("create", record_type)
            if not pending:
                results.extend(self.store.insert(scope, record_type, chunk))
                continue
            outcomes: list[Remote | Exception | None] = []
            accepted: list[tuple[CanonicalRecord, str]] = []
            lost: set[int] = set()
            for item, marker in chunk:
                fault = self.store.take_fault("create", record_type, item, pending)
                if fault is not None and fault.mode != "lost_reply":
                    outcomes.append(fault.error("create"))
                    continue
                if fault is not None:
                    lost.add(len(accepted))
                outcomes.append(None)
                accepted.append((item, marker))
            stored = iter(enumerate(self.store.insert(scope, record_type, accepted)))
            for outcome in outcomes:
                if outcome is not None:
                    results.append(outcome)
                    continue
                n, remote = next(stored)
                results.append(
                    TransientError("injected lost_reply fault on create: the write was applied, "
                                   "the reply lost") if n in lost else remote
                )
        return results

    def update(
        self, scope: str, record_type: str, external_id: str, item: CanonicalRecord,
        changed: frozenset[str],
    ) -> Remote:
        fault = self._call("update", "update", record_type, item)
        values = {name: getattr(item, name, None) for name in changed}
        updated = self.store.change(scope, record_type, external_id, values)
        if fault is not None:
            raise fault.error("update")
        return updated

    def delete(self, scope: str, record_type: str, external_id: str) -> None:
        fault = self._call("delete", "delete", record_type)
        self.store.erase(scope, record_type, external_id)
        if fault is not None:
            raise fault.error("delete")

    def has_progress(self, scope: str, customer: str, marker: str) -> bool:
        self.calls.add("list_notes")
        return any(note[2] == marker for note in self.store.notes(scope, customer))

    def post_progress(self, scope: str, customer: str, title: str, body: str, marker: str) -> None:
        self.calls.add("add_note")
        self.store.add_note(scope, customer, title, body, marker)

