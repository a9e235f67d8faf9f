"""What a backfill costs the state store per page: one ledger lookup of its records, no savepoint,
no lookup of the run its history names, and a lease renewed only now and then."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, event, select

from hub.engine.leases import LEASE_TTL, RENEW_AFTER, Renewal
from hub.model import Issue
from hub.state.schema import leases
from hub.state.store import StateStore
from tests.conftest import Pair
from tests.sent import sent_to_stores


@contextmanager
def every_statement() -> Iterator[list[str]]:
    """The SQL of every statement any engine sends in the block (the CLI opens its own store)."""
    sent: list[str] = []

    def record(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        sent.append(" ".join(statement.split()))

    event.listen(Engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        event.remove(Engine, "before_cursor_execute", record)


def test_a_backfill_looks_each_page_up_in_the_ledger_once(pair: Pair) -> None:
    pair.a.insert("proj", "issue", [(Issue(title=f"issue {i}"), None) for i in range(1200)])
    with every_statement() as sent:
        pair.sync()
    assert pair.b.count("proj", "issue") == 1200
    # Three pages of a's, each looked up when read; none again before its creates (nothing was
    # linked in between), and no page's history looks its run up.
    lookups = [sql for sql in sent if "a_snapshot" in sql and "FROM links WHERE" in sql
               and ("a_id = ANY" in sql or "links.a_id IN" in sql)]
    assert len(lookups) == 3, lookups
    assert not [sql for sql in sent if sql.startswith("SELECT runs.id")]
    assert not [sql for sql in sent if "SAVEPOINT" in sql]
    assert not [sql for sql in sent if sql.startswith("UPDATE leases")]  # a short run renews none
    pair.sync()
    assert pair.b.count("proj", "issue") == 1200


def test_a_long_run_renews_its_lease_once_a_tenth_of_its_life_has_passed(state_url: str) -> None:
    store = StateStore.open(state_url)
    now = [0.0]

    def expiry() -> object:
        with store.engine.connect() as conn:
            return conn.execute(select(leases.c.expires_at)).scalar_one()

    assert store.acquire_lease("f", "me", LEASE_TTL)
    renew = Renewal(store, "f", "me", clock=lambda: now[0])
    first = expiry()
    renew()
    now[0] = RENEW_AFTER.total_seconds() - 1
    renew()
    assert expiry() == first
    now[0] = RENEW_AFTER.total_seconds() + 1
    renew()
    renewed = expiry()
    assert renewed > first  # type: ignore[operator]
    now[0] += 1
    renew()  # renewed a second ago: not again
    assert expiry() == renewed
    store.close()


def test_a_quiet_run_reads_what_it_starts_from_with_its_lease_and_moves_its_cursors_at_once(
        pair: Pair) -> None:
    pair.a.insert("proj", "issue", [(Issue(title=f"issue {i}"), None) for i in range(3)])
    pair.sync()
    with sent_to_stores() as sent:
        pair.sync()
    on_postgresql = pair.state_url.startswith("postgresql")
    assert len([sql for sql in sent.of("FROM cursors") if sql.startswith("SELECT")]) == 1
    # One upsert per type, of the type's moved cursors (one round trip on PostgreSQL).
    writes = sent.trips_with("INTO cursors") if on_postgresql else sent.of("INTO cursors")
    assert len(writes) <= len(pair.flow.get("records", ["issue", "comment"])), writes
    assert not [sql for sql in sent.statements if sql.startswith("UPDATE cursors")]
    assert not sent.of("to_regclass")  # the schema's revision: one look
    if on_postgresql:
        # The lease and run record, with the flow's parked records, conflicts and cursors: one wait.
        assert len(sent.trip_of("INTO leases")) == 4
        assert sent.trip_of("FROM parked") == sent.trip_of("FROM conflicts") == sent.trip_of("INTO leases")
    assert pair.b.count("proj", "issue") == 3
