"""The contract kit run against the reference connector, and shown to catch broken connectors."""

from __future__ import annotations

import datetime as dt
import itertools
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from hub.connector import Remote
from hub.errors import PermanentError, TransientError
from hub.model import CanonicalRecord, Customer, Issue
from hub.testing.contract import ConnectorContract
from hub.testing.reference import ReferenceConnector, ReferenceSettings, ReferenceStore

FAULT_FOR_STATUS = {429: "rate_limited", 404: "not_found", 422: "permanent", 401: "auth"}
PAGE_SIZE = 5


def open_connector(cls: type[ReferenceConnector], path: str) -> ReferenceConnector:
    connector = cls("contract", ReferenceSettings(plugin="reference", path=path, page_size=PAGE_SIZE))
    connector.open()
    return connector


class TestReferenceContract(ConnectorContract):
    page_size = PAGE_SIZE
    connector_class = ReferenceConnector

    @pytest.fixture(params=["memory", "file"])
    def connector(self, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ReferenceConnector]:
        path = f"memory:{uuid.uuid4().hex}" if request.param == "memory" else str(tmp_path / "tool.db")
        self.store = ReferenceStore(path)
        connector = open_connector(ReferenceConnector, path)
        yield connector
        connector.close()
        self.store.close()

    @pytest.fixture
    def scope(self) -> str:
        return "contract"

    def inject_error(self, status: int, operation: str) -> float | None:
        retry_after = 2.0 if status == 429 else None
        self.store.inject(operation, FAULT_FOR_STATUS[status], retry_after=retry_after)
        return retry_after


class TestReferenceContractForCustomers(TestReferenceContract):
    record_type = "customer"

    def make_item(self, n: int) -> CanonicalRecord:
        return Customer(name=f"Customer {n}", website="https://example.com")


# -- the kit catches what is broken ---------------------------------------------------------------
class FirstPageOnly(ReferenceConnector):
    def list_changed(self, scope: str, record_type: str, since: dt.datetime | None) -> Iterator[Remote]:
        return itertools.islice(super().list_changed(scope, record_type, since), self.settings.page_size)


class MarkerInBody(ReferenceConnector):
    def create(self, scope: str, record_type: str, item: CanonicalRecord, marker: str) -> Remote:
        assert isinstance(item, Issue)
        marked = item.model_copy(update={"description": f"{item.description}\n<!-- {marker} -->"})
        return super().create(scope, record_type, marked, marker)


class RateLimitIsPermanent(ReferenceConnector):
    def list_changed(self, scope: str, record_type: str, since: dt.datetime | None) -> Iterator[Remote]:
        try:
            yield from super().list_changed(scope, record_type, since)
        except TransientError as error:
            raise PermanentError(str(error), status=error.status) from error


class NewestFirst(ReferenceConnector):
    def list_changed(self, scope: str, record_type: str, since: dt.datetime | None) -> Iterator[Remote]:
        return reversed(list(super().list_changed(scope, record_type, since)))


class UpdateIgnored(ReferenceConnector):
    def update(
        self, scope: str, record_type: str, external_id: str, item: CanonicalRecord,
        changed: frozenset[str],
    ) -> Remote:
        found = self.get(scope, record_type, external_id)
        assert found is not None
        return found


@pytest.fixture
def kit() -> Iterator[TestReferenceContract]:
    kit = TestReferenceContract()
    path = f"memory:{uuid.uuid4().hex}"
    kit.store = ReferenceStore(path)
    kit.path = path  # type: ignore[attr-defined]
    yield kit
    kit.store.close()


@pytest.mark.parametrize(
    ("broken", "check"),
    [
        (FirstPageOnly, "test_pagination_reaches_the_end"),
        (MarkerInBody, "test_marker_stays_out_of_the_item"),
        (NewestFirst, "test_listing_is_timestamped_and_monotonic"),
        (UpdateIgnored, "test_update_round_trips"),
    ],
)
def test_the_kit_fails_a_broken_connector_and_passes_the_reference(
    kit: TestReferenceContract, broken: type[ReferenceConnector], check: str
) -> None:
    connector = open_connector(broken, kit.path)  # type: ignore[attr-defined]
    with pytest.raises(AssertionError):
        getattr(kit, check)(connector, "broken")
    connector.close()
    healthy = open_connector(ReferenceConnector, kit.path)  # type: ignore[attr-defined]
    getattr(kit, check)(healthy, "healthy")
    healthy.close()


def test_the_kit_fails_a_connector_that_calls_a_rate_limit_permanent(kit: TestReferenceContract) -> None:
    connector = open_connector(RateLimitIsPermanent, kit.path)  # type: ignore[attr-defined]
    with pytest.raises(AssertionError, match="429 on list raised PermanentError"):
        kit.test_error_classification(connector, "broken", 429, TransientError, "list")
    kit.test_error_classification(connector, "broken", 404, PermanentError, "list")
    connector.close()


def test_checks_needing_an_undeclared_capability_are_skipped(kit: TestReferenceContract) -> None:
    class ReadOnly(ReferenceConnector):
        record_types = {"issue": frozenset({"read", "incremental"})}  # type: ignore[dict-item]

    connector = open_connector(ReadOnly, kit.path)  # type: ignore[attr-defined]
    with pytest.raises(pytest.skip.Exception, match="does not declare write for issue"):
        kit.test_pagination_reaches_the_end(connector, "scope")
    connector.close()


pytest_plugins = ["pytester"]

PLUGIN_AUTHORS_TEST_MODULE = '''
import itertools
import uuid
import pytest
from hub.testing.contract import ConnectorContract
from hub.testing.reference import ReferenceConnector, ReferenceSettings, ReferenceStore


class FirstPageOnly(ReferenceConnector):
    def list_changed(self, scope, record_type, since):
        return itertools.islice(super().list_changed(scope, record_type, since), self.settings.page_size)


class TestFirstPageOnly(ConnectorContract):
    page_size = 3

    @pytest.fixture
    def connector(self):
        path = f"memory:{uuid.uuid4().hex}"
        self.store = ReferenceStore(path)
        connector = FirstPageOnly("c", ReferenceSettings(plugin="reference", path=path, page_size=3))
        connector.open()
        yield connector
        connector.close()
        self.store.close()

    @pytest.fixture
    def scope(self):
        return "s"
'''


def test_a_plugin_authors_subclass_runs_as_a_suite_and_reports_the_broken_check(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(test_first_page_only=PLUGIN_AUTHORS_TEST_MODULE)
    result = pytester.runpytest_inprocess("-q", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=8, failed=1, skipped=16)
    result.stdout.fnmatch_lines(["*test_pagination_reaches_the_end*", "*missed 1 of 4 created records*"])
