"""The state store's HTTP validators: what a connector keeps per listing between runs."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import create_engine, inspect

from hub.state.store import MIGRATIONS, StateStore

KEY = "GET /repos/a/b/issues?state=all"


def test_validators_are_kept_per_connection_and_key_and_replaced_in_place(state_url: str) -> None:
    store = StateStore.open(state_url)
    try:
        store.put_validators("gh", KEY, etag='W/"1"', last_modified=None, body="[]")
        store.put_validators("other", KEY, etag='"x"', last_modified="Tue, 01 Dec 2026 08:00:00 GMT",
                             body=None)
        store.put_validators("gh", KEY, etag='W/"2"', last_modified=None, body='[{"n":1}]')

        assert store.get_validators("gh", KEY) == {
            "etag": 'W/"2"', "last_modified": None, "body": '[{"n":1}]'}
        assert store.get_validators("other", KEY) == {
            "etag": '"x"', "last_modified": "Tue, 01 Dec 2026 08:00:00 GMT", "body": None}
        assert store.get_validators("gh", "GET /repos/a/b/issues/comments") is None
        store.delete_validators("gh", KEY)
        assert store.get_validators("gh", KEY) is None
        assert store.get_validators("other", KEY) is not None
    finally:
        store.close()


def test_a_key_longer_than_the_column_is_kept_by_its_hash(state_url: str) -> None:
    store = StateStore.open(state_url)
    try:
        long_a, long_b = "GET /search?q=" + "a" * 400, "GET /search?q=" + "a" * 399 + "b"
        store.put_validators("gh", long_a, etag='"a"', last_modified=None, body=None)
        store.put_validators("gh", long_b, etag='"b"', last_modified=None, body=None)

        assert store.get_validators("gh", long_a) == {"etag": '"a"', "last_modified": None, "body": None}
        assert store.get_validators("gh", long_b)["etag"] == '"b"'  # type: ignore[index]
    finally:
        store.close()


def test_a_store_made_before_validators_existed_is_upgraded_on_open(tmp_path: Path) -> None:
    from alembic import command
    from alembic.config import Config

    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = create_engine(url)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "0002")
    assert "http_validators" not in inspect(engine).get_table_names()
    engine.dispose()

    store = StateStore.open(url)
    try:
        store.put_validators("gh", "k", etag='"e"', last_modified=None, body=None)
        assert store.get_validators("gh", "k") is not None
    finally:
        store.close()
