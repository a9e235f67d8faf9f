"""How the state store talks to each backend: few statements per page, and on PostgreSQL plans
that stay by the index as a backfill fills the links table (``hub.state.membership``)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event, text

from hub.state.store import Link, StateStore


@contextmanager
def statements(store: StateStore) -> Iterator[list[tuple[str, object]]]:
    """The SQL text and parameters of each statement the store sends while in the block."""
    sent: list[tuple[str, object]] = []

    def record(_conn: object, _cursor: object, statement: str, parameters: object, *_: object) -> None:
        sent.append((statement, parameters))

    event.listen(store.engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        event.remove(store.engine, "before_cursor_execute", record)


def backfill(store: StateStore, count: int, page: int = 500) -> None:
    """``count`` new issue links written a page per transaction, as a backfill writes them."""
    for start in range(0, count, page):
        with store.transaction() as conn:
            store.write_links(conn, [Link("f", "issue", f"a{i}", f"b{i}", "1", "1", "fa", "fb",
                                          '{"title": "t", "status": "todo"}', '{"title": "t"}')
                                     for i in range(start, min(count, start + page))])


def selects_of(sent: list[tuple[str, object]], table: str) -> list[str]:
    return [sql for sql, _ in sent if sql.lstrip().upper().startswith("SELECT") and f"FROM {table}" in sql]


def test_a_long_id_list_is_one_statement_on_each_backend(state_url):
    store = StateStore.open(state_url)
    backfill(store, 1200)
    ids = [f"b{i}" for i in range(1200)] + ["b-missing"]
    with statements(store) as sent:
        found = store.links_by_ids("f", "issue", "b", ids)
    assert sorted(found) == sorted(ids[:-1]) and found["b7"].a_id == "a7"
    # One statement whose text does not depend on the count (an array on PostgreSQL, a JSON array
    # on SQLite), not IN lists of 500 placeholders rendered afresh for each call.
    [lookup] = selects_of(sent, "links")
    assert lookup.count("?") + lookup.count("%(") == 3

    store.add_intents("f", "issue", "b", [("a1", "pmhub-1")])
    with statements(store) as sent:
        store.add_intents("f", "issue", "b", [("a2", "pmhub-2"), ("a3", "pmhub-3")])
    # None pending (the engine leaves out those it found pending): a plain insert, no read first.
    # On PostgreSQL that is a COPY, which is no statement of SQLAlchemy's.
    plain = [sql.split()[0] for sql, _ in sent if not sql.startswith(("BEGIN", "SELECT 1"))]
    assert plain == ([] if store.engine.dialect.name == "postgresql" else ["INSERT"])
    # One pending after all (a caller that did not look): it keeps the marker its create may carry.
    store.add_intents("f", "issue", "b", [("a1", "pmhub-other"), ("a4", "pmhub-4")])
    assert store.intents_for("f", "issue", "b", ["a1", "a2", "a3", "a4"]) == {
        "a1": "pmhub-1", "a2": "pmhub-2", "a3": "pmhub-3", "a4": "pmhub-4"}
    store.close()


def test_links_are_found_by_their_whole_key_after_a_backfill(state_url):
    store = StateStore.open(state_url)
    backfill(store, 3000)
    wanted = [f"b{i}" for i in range(1000, 1500)]
    with statements(store) as sent:
        assert len(store.links_by_ids("f", "issue", "b", wanted)) == 500
    if store.engine.dialect.name != "postgresql":
        store.close()
        return
    [(lookup, parameters)] = [(sql, p) for sql, p in sent if "FROM links" in sql]
    with store.engine.connect() as conn:
        plan = "\n".join(conn.exec_driver_sql(f"EXPLAIN {lookup}", parameters).scalars())  # type: ignore[arg-type]
        analyzed = conn.execute(text("SELECT last_analyze FROM pg_stat_user_tables "
                                     "WHERE relid = CAST('links' AS regclass)")).scalar()
    # Without statistics the planner expects one link where there are 500 and takes the plan for
    # one: the (flow, record_type) prefix of the unique index, filtering every link of the flow by
    # b_id, so that a page's lookup grows with the table. Analyzed, it expects the 500.
    [expected] = re.findall(r"rows=(\d+)", plan.splitlines()[0])
    assert int(expected) >= 250, plan
    assert analyzed is not None
    store.close()


def test_a_read_on_postgresql_opens_no_transaction(state_url):
    """Reads outside a transaction are one statement each: on PostgreSQL they run in autocommit,
    so a read is its query alone, without BEGIN before it and ROLLBACK when the connection goes
    back to the pool."""
    store = StateStore.open(state_url)
    if store.engine.dialect.name != "postgresql":
        store.close()
        return
    import psycopg.pq

    during: list[psycopg.pq.TransactionStatus] = []

    def after_query(_conn: object, cursor: psycopg.Cursor, *_: object) -> None:
        during.append(cursor.connection.info.transaction_status)

    backfill(store, 3)
    event.listen(store.engine, "after_cursor_execute", after_query)
    assert store.links_by_ids("f", "issue", "a", ["a1"])["a1"].b_id == "b1"
    assert store.cursor("f", "a", "issue") is None and store.parked_records("f") == []
    # Inside a transaction the status would be INTRANS: psycopg sent BEGIN before the query.
    assert during == [psycopg.pq.TransactionStatus.IDLE] * 3
    store.close()
