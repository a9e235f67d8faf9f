"""Delivery ids kept in the state store: a replay is recognised (after a restart too), per
connection, until the id expires; expired ids are deleted. On SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

from hub.state.store import StateStore

DAY = dt.timedelta(days=1)


def test_a_delivery_is_new_once_per_connection_until_it_expires(state_url: str) -> None:
    store = StateStore.open(state_url)
    try:
        assert store.remember_delivery("gh", "delivery:72d3162e", DAY)
        assert not store.remember_delivery("gh", "delivery:72d3162e", DAY), "a replay"
        assert store.remember_delivery("jira", "delivery:72d3162e", DAY), "another connection's id"
        assert set(store.last_deliveries()) == {"gh", "jira"}

        assert store.remember_delivery("gh", "delivery:short-lived", dt.timedelta(0))
        assert store.remember_delivery("gh", "delivery:short-lived", DAY), "expired: new again"
        long_id = "sha256:" + "f" * 300  # stored by its hash, like a long validator key
        assert store.remember_delivery("crm", long_id, DAY)
        assert not store.remember_delivery("crm", long_id, DAY)
    finally:
        store.close()
    reopened = StateStore.open(state_url)
    try:
        assert not reopened.remember_delivery("gh", "delivery:72d3162e", DAY), "remembered across a restart"
        reopened.remember_delivery("gh", "delivery:gone-soon", dt.timedelta(0))
        assert reopened.forget_expired_deliveries() >= 1
    finally:
        reopened.close()
