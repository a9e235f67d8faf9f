"""The connector contract kit: the standard checks every pmhub connector must pass, as pytest tests.

Subclass ``ConnectorContract`` in your plugin's test module; pytest collects the subclass and runs
every check against your connector. What you supply:

Fixtures (define them as methods of your subclass):
    ``connector``   an opened ``Connector`` instance pointed at a live target (your sandbox stand-in,
                    a test account); close it after the ``yield``.
    ``scope``       a scope the connector may create and change records in.

Class attributes:
    ``record_type``      the canonical type to exercise (default ``"issue"``).
    ``page_size``        the page size your ``connector`` is configured with; the kit creates
                         ``page_size + 1`` records to force a second page (default 100).
    ``connector_class``  optional; lets the declaration checks run without opening a connector.

Methods (override where the default does not fit):
    ``make_item(self, n) -> CanonicalRecord``   a new item to create;
                         default ``Issue(title=f"contract {n}")``.
    ``changed_item(self, item, text) -> (item, field)``   a copy with one synced text field set to
                         ``text``; default sets ``title``, ``body`` or ``name``, whichever exists.
    ``inject_error(self, status, operation) -> float | None``   make the connector's next call of
                         ``operation`` (``"list"``, ``"get"``, ``"create"``, ``"update"``) fail with HTTP
                         ``status`` (401, 404, 422 or 429); return the Retry-After seconds the service
                         will send, or None. Default: the error checks are skipped.

Example (a plugin whose sandbox stand-in has a fault API)::

    import pytest
    from hub.testing.contract import ConnectorContract
    from my_plugin import MyConnector, MySettings

    class TestMyConnector(ConnectorContract):
        page_size = 20
        connector_class = MyConnector

        @pytest.fixture
        def connector(self, sandbox):
            self.sandbox = sandbox
            settings = MySettings(plugin="mine", base_url=sandbox.base("mine"), page_size=20)
            connector = MyConnector("contract", settings)
            connector.open()
            yield connector
            connector.close()

        @pytest.fixture
        def scope(self):
            return "team-a"

        def inject_error(self, status, operation):
            # the sandbox fails the next request matching method and path with ``status``
            method, path = {"list": ("GET", "/items$"), "get": ("GET", "/items/"),
                            "create": ("POST", "/items$"), "update": ("PATCH", "/items/")}[operation]
            self.sandbox.fault("mine", method=method, path=path, status=status, retry_after=2)
            return 2.0 if status == 429 else None

The checks: ``test_declares_canonical_types_and_valid_capabilities``, ``test_describe_needs_no_io``,
``test_pagination_reaches_the_end``, ``test_listing_is_timestamped_and_monotonic``,
``test_listing_resumes_from_a_cursor``, ``test_create_then_find_by_marker``,
``test_marker_stays_out_of_the_item``, ``test_update_round_trips``, ``test_delete_removes_the_record``
and ``test_error_classification[status-operation]`` (429 -> TransientError with its retry_after,
404 and 422 -> PermanentError, 401 -> AuthError). A check that needs a capability the connector
does not declare for ``record_type`` is skipped, saying which one.
"""

from __future__ import annotations

import datetime as dt
import itertools
import socket
import uuid
from collections import Counter
from collections.abc import Iterable
from typing import Any, ClassVar

import pytest

from hub.connector import Capability, ConnectionSettings, Connector, Remote
from hub.errors import AuthError, ConnectorError, PermanentError, TransientError
from hub.model import RECORD_MODELS, CanonicalRecord, Issue

_EXPECTED_ERRORS: tuple[tuple[int, type[ConnectorError]], ...] = (
    (429, TransientError),
    (404, PermanentError),
    (422, PermanentError),
    (401, AuthError),
)
_OPERATION_NEEDS = {
    "list": Capability.READ, "get": Capability.READ,
    "create": Capability.WRITE, "update": Capability.WRITE,
}


class ConnectorContract:
    """Base class of a connector's contract tests; see the module docstring for what to supply."""

    record_type: ClassVar[str] = "issue"
    page_size: ClassVar[int] = 100
    connector_class: ClassVar[type[Connector] | None] = None

    # -- what the plugin author supplies -------------------------------------------------------
    @pytest.fixture
    def connector(self) -> Connector:
        pytest.fail(f"{type(self).__name__} must define a `connector` fixture yielding an opened connector")

    @pytest.fixture
    def scope(self) -> str:
        pytest.fail(f"{type(self).__name__} must define a `scope` fixture naming a writable scope")

    def make_item(self, n: int) -> CanonicalRecord:
        """The ``n``-th item the kit creates."""
        return Issue(title=f"contract {n}")

    def changed_item(self, item: CanonicalRecord, text: str) -> tuple[CanonicalRecord, str]:
        """A copy of ``item`` with one synced text field set to ``text``, and that field's name."""
        for name in ("title", "body", "name"):
            if name in type(item).model_fields:
                return item.model_copy(update={name: text}), name
        pytest.skip(f"override changed_item: {type(item).__name__} has no title, body or name")

    def inject_error(self, status: int, operation: str) -> float | None:
        """Make the next ``operation`` call fail with HTTP ``status``; return the Retry-After sent."""
        pytest.skip("override inject_error to run the error classification checks")

    # -- helpers -------------------------------------------------------------------------------
    def _class(self, request: pytest.FixtureRequest) -> type[Connector]:
        if self.connector_class is not None:
            return self.connector_class
        return type(request.getfixturevalue("connector"))

    def _require(self, connector: Connector, *needed: Capability) -> None:
        declared = connector.capabilities(self.record_type)
        missing = [c.value for c in needed if c not in declared]
        if missing:
            pytest.skip(f"{connector.plugin} does not declare {', '.join(missing)} for {self.record_type}")

    def _marker(self) -> str:
        return f"pmhub-contract-{uuid.uuid4().hex}"

    def _create(self, connector: Connector, scope: str, count: int, first: int = 0) -> list[Remote]:
        items = [(self.make_item(first + n), self._marker()) for n in range(count)]
        results = connector.create_many(scope, self.record_type, items)
        assert len(results) == count, f"create_many returned {len(results)} results for {count} items"
        failures = [r for r in results if isinstance(r, Exception)]
        assert not failures, f"creating {count} {self.record_type} records failed: {failures[:3]}"
        return [r for r in results if isinstance(r, Remote)]

    def _listing(self, connector: Connector, scope: str, since: dt.datetime | None) -> list[Remote]:
        return list(connector.list_changed(scope, self.record_type, since))

    # -- declarations --------------------------------------------------------------------------
    def test_declares_canonical_types_and_valid_capabilities(self, request: pytest.FixtureRequest) -> None:
        cls = self._class(request)
        assert isinstance(cls.plugin, str) and cls.plugin, "plugin must be a non-empty name"
        assert issubclass(cls.settings_model, ConnectionSettings)
        assert cls.record_types, "a connector declares at least one record type"
        for record_type, capabilities in cls.record_types.items():
            assert record_type in RECORD_MODELS, (
                f"{record_type!r} is not a canonical record type ({', '.join(RECORD_MODELS)})"
            )
            for capability in capabilities:
                assert capability in set(Capability), f"{record_type}: {capability!r} is not a Capability"
            if Capability.INCREMENTAL in capabilities:
                assert Capability.READ in capabilities, f"{record_type}: incremental without read"
            if Capability.BULK in capabilities:
                assert Capability.WRITE in capabilities, f"{record_type}: bulk without write"
        assert isinstance(cls.cursor_overlap, dt.timedelta) and cls.cursor_overlap >= dt.timedelta(0)

    def test_describe_needs_no_io(
        self, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        cls = self._class(request)

        def refuse(*args: Any, **kwargs: Any) -> None:
            raise AssertionError("describe() opened a network connection")

        monkeypatch.setattr(socket.socket, "connect", refuse)
        monkeypatch.setattr(socket, "create_connection", refuse)
        described = cls.describe()
        assert described["plugin"] == cls.plugin
        assert set(described["record_types"]) == set(cls.record_types)

    # -- reading -------------------------------------------------------------------------------
    def test_pagination_reaches_the_end(self, connector: Connector, scope: str) -> None:
        self._require(connector, Capability.READ, Capability.WRITE)
        created = self._create(connector, scope, self.page_size + 1)
        listed = self._listing(connector, scope, None)
        ids = Counter(r.id for r in listed)
        duplicates = sorted(i for i, n in ids.items() if n > 1)
        assert not duplicates, f"list_changed yielded ids more than once: {duplicates[:5]}"
        missing = [r.id for r in created if r.id not in ids]
        assert not missing, (
            f"list_changed(since=None) missed {len(missing)} of {len(created)} created records "
            f"(page size {self.page_size}): does it follow the pages to the end?"
        )

    def test_listing_is_timestamped_and_monotonic(self, connector: Connector, scope: str) -> None:
        self._require(connector, Capability.READ, Capability.INCREMENTAL)
        if Capability.WRITE in connector.capabilities(self.record_type):
            self._create(connector, scope, 3)
        listed = self._listing(connector, scope, None)
        if not listed:
            pytest.skip(f"no {self.record_type} records in {scope} to list")
        untimed = [r.id for r in listed if r.updated is None or r.updated.tzinfo is None]
        assert not untimed, f"records listed without an aware updated timestamp: {untimed[:5]}"
        if type(connector).sorted_by_updated:
            stamps = [r.updated for r in listed]
            backwards = [(a, b) for a, b in itertools.pairwise(stamps) if b < a]  # type: ignore[operator]
            assert not backwards, (
                f"sorted_by_updated is declared but updated went backwards: {backwards[0]}"
            )

    def test_listing_resumes_from_a_cursor(self, connector: Connector, scope: str) -> None:
        self._require(connector, Capability.READ, Capability.INCREMENTAL, Capability.WRITE)
        self._create(connector, scope, 2)
        first = self._listing(connector, scope, None)
        cursor = max(r.updated for r in first if r.updated is not None)
        later = self._create(connector, scope, 2, first=2)
        since = cursor - type(connector).cursor_overlap
        resumed = self._listing(connector, scope, since)
        ids = {r.id for r in resumed}
        missing = [r.id for r in later if r.id not in ids]
        assert not missing, f"listing since the cursor {since.isoformat()} missed later records {missing}"
        older = [(r.id, r.updated) for r in resumed if r.updated is not None and r.updated < since]
        assert not older, f"listing since {since.isoformat()} returned older records: {older[:3]}"

    # -- writing -------------------------------------------------------------------------------
    def test_create_then_find_by_marker(self, connector: Connector, scope: str) -> None:
        self._require(connector, Capability.WRITE)
        marker = self._marker()
        created = connector.create(scope, self.record_type, self.make_item(0), marker)
        assert created.id, "create returned no id"
        found = connector.find_by_marker(scope, self.record_type, marker)
        assert found is not None, "find_by_marker did not find the record just created with that marker"
        assert found.id == created.id
        assert connector.find_by_marker(scope, self.record_type, self._marker()) is None, (
            "find_by_marker of an unknown marker must be None"
        )

    def test_marker_stays_out_of_the_item(self, connector: Connector, scope: str) -> None:
        self._require(connector, Capability.WRITE)
        marker = self._marker()
        created = connector.create(scope, self.record_type, self.make_item(0), marker)
        found = connector.find_by_marker(scope, self.record_type, marker)
        seen = [("create", created), ("find_by_marker", found)]
        if Capability.READ in connector.capabilities(self.record_type):
            seen.append(("get", connector.get(scope, self.record_type, created.id)))
        for call, remote in seen:
            if remote is None or remote.item is None:
                continue
            leaks = [path for path, text in _strings(remote.item.model_dump(mode="json")) if marker in text]
            assert not leaks, f"the marker shows in the canonical item from {call}: {leaks}"

    def test_update_round_trips(self, connector: Connector, scope: str) -> None:
        self._require(connector, Capability.READ, Capability.WRITE)
        created = connector.create(scope, self.record_type, self.make_item(0), self._marker())
        assert created.item is not None, "create returned no item"
        text = f"contract updated {uuid.uuid4().hex[:8]}"
        changed, field = self.changed_item(created.item, text)
        updated = connector.update(scope, self.record_type, created.id, changed, frozenset({field}))
        assert updated.id == created.id
        fetched = connector.get(scope, self.record_type, created.id)
        assert fetched is not None and fetched.item is not None, "get found nothing after the update"
        assert getattr(fetched.item, field) == text, f"get returned {field}={getattr(fetched.item, field)!r}"
        if Capability.INCREMENTAL in connector.capabilities(self.record_type) and created.updated:
            since = created.updated - type(connector).cursor_overlap
            relisted = {r.id: r for r in self._listing(connector, scope, since)}
            assert created.id in relisted, "list_changed since before the update does not include it"
            item = relisted[created.id].item
            assert item is not None and getattr(item, field) == text

    def test_delete_removes_the_record(self, connector: Connector, scope: str) -> None:
        self._require(connector, Capability.READ, Capability.WRITE, Capability.DELETE)
        created = connector.create(scope, self.record_type, self.make_item(0), self._marker())
        connector.delete(scope, self.record_type, created.id)
        remaining = connector.get(scope, self.record_type, created.id)
        assert remaining is None or remaining.deleted, "get still finds the deleted record"

    # -- errors --------------------------------------------------------------------------------
    @pytest.mark.parametrize("operation", sorted(_OPERATION_NEEDS))
    @pytest.mark.parametrize(
        ("status", "expected"), _EXPECTED_ERRORS, ids=[str(s) for s, _ in _EXPECTED_ERRORS]
    )
    def test_error_classification(
        self, connector: Connector, scope: str, status: int, expected: type[ConnectorError], operation: str
    ) -> None:
        self._require(connector, _OPERATION_NEEDS[operation])
        existing: Remote | None = None
        if operation in ("get", "update"):
            self._require(connector, Capability.WRITE)
            existing = connector.create(scope, self.record_type, self.make_item(0), self._marker())
        retry_after = self.inject_error(status, operation)
        try:
            if operation == "list":
                self._listing(connector, scope, None)
            elif operation == "get":
                assert existing is not None
                got = connector.get(scope, self.record_type, existing.id)
                if status == 404 and got is None:
                    return  # get reports a vanished record as None, which is the contract
            elif operation == "create":
                connector.create(scope, self.record_type, self.make_item(1), self._marker())
            else:
                assert existing is not None and existing.item is not None
                changed, field = self.changed_item(existing.item, "contract error check")
                connector.update(scope, self.record_type, existing.id, changed, frozenset({field}))
        except ConnectorError as error:
            assert isinstance(error, expected), (
                f"HTTP {status} on {operation} raised {type(error).__name__}, expected {expected.__name__}"
            )
            assert error.status in (None, status), (
                f"error.status is {error.status}, the service sent {status}"
            )
            if retry_after is not None:
                assert isinstance(error, TransientError) and error.retry_after is not None, (
                    "the service sent Retry-After but the TransientError carries no retry_after"
                )
                assert error.retry_after == pytest.approx(retry_after, abs=1.0)
        else:
            raise AssertionError(f"HTTP {status} on {operation} raised nothing; expected {expected.__name__}")


def _strings(value: Any, path: str = "") -> Iterable[tuple[str, str]]:
    """Every string inside a JSON-ready value, with where it sits."""
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for key, inner in value.items():
            yield from _strings(inner, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        for n, inner in enumerate(value):
            yield from _strings(inner, f"{path}[{n}]")


__all__ = ["ConnectorContract"]
