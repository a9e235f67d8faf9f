"""The reference connector and its store: the pretend tool every engine test syncs against."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import textwrap
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pydantic
import pytest

from hub.connector import Capability, Remote
from hub.errors import AuthError, PermanentError, TransientError
from hub.model import RECORD_MODELS, Comment, Issue, Person
from hub.plugins import build_plugin_manager
from hub.testing.reference import ReferenceConnector, ReferenceSettings, ReferenceStore

SCOPE = "acme"


@pytest.fixture
def path() -> str:
    return f"memory:{uuid.uuid4().hex}"


@pytest.fixture
def store(path: str) -> Iterator[ReferenceStore]:
    with ReferenceStore(path) as store:
        yield store


def connect(path: str, page_size: int = 1000) -> ReferenceConnector:
    connector = ReferenceConnector(
        "ref", ReferenceSettings(plugin="reference", path=path, page_size=page_size)
    )
    connector.open()
    return connector


@pytest.fixture
def connector(store: ReferenceStore, path: str) -> Iterator[ReferenceConnector]:
    connector = connect(path, page_size=3)
    yield connector
    connector.close()


def listed(connector: ReferenceConnector, since: dt.datetime | None = None) -> list[Remote]:
    return list(connector.list_changed(SCOPE, "issue", since))


# -- the store, as a person using the tool sees it ---------------------------------------------
def test_a_person_puts_edits_and_removes_records(store: ReferenceStore) -> None:
    first = store.put(SCOPE, "issue", Issue(title="one"))
    second = store.put(SCOPE, "issue", Issue(title="two", labels=["b", "a"]))
    assert store.count(SCOPE, "issue") == 2
    edited = store.edit(SCOPE, "issue", first, title="one!", assignees=[Person(display_name="Ann")])
    assert edited.title == "one!" and edited.assignees[0].display_name == "Ann"
    assert store.get(SCOPE, "issue", first).title == "one!"  # type: ignore[union-attr]
    store.remove(SCOPE, "issue", second)
    assert store.get(SCOPE, "issue", second) is None
    assert [(i, item.title) for i, item in store.all(SCOPE, "issue")] == [(first, "one!")]
    assert store.count(SCOPE, "issue") == 1


def test_scopes_and_record_types_are_separate(store: ReferenceStore) -> None:
    issue = store.put(SCOPE, "issue", Issue(title="one"))
    store.put("other", "issue", Issue(title="elsewhere"))
    store.put(SCOPE, "comment", Comment(body="hi", issue=issue))
    assert store.count(SCOPE, "issue") == 1
    assert store.get("other", "issue", issue) is None
    assert store.get(SCOPE, "comment", issue) is None


def test_edit_rejects_unknown_fields_and_invalid_values(store: ReferenceStore) -> None:
    issue = store.put(SCOPE, "issue", Issue(title="one"))
    with pytest.raises(PermanentError):
        store.edit(SCOPE, "issue", issue, colour="red")
    with pytest.raises(pydantic.ValidationError):
        store.edit(SCOPE, "issue", issue, title="")


def test_updated_is_strictly_increasing_across_the_store(store: ReferenceStore, path: str) -> None:
    connector = connect(path)
    connector.create_many(SCOPE, "issue", [(Issue(title=f"i{n}"), f"m{n}") for n in range(50)])
    store.put("other", "issue", Issue(title="elsewhere"))
    store.edit(SCOPE, "issue", "1", title="edited")
    stamps = sorted(
        [r.updated for r in connector.list_changed(SCOPE, "issue", None)]
        + [r.updated for r in connector.list_changed("other", "issue", None)]
    )
    assert len(set(stamps)) == len(stamps) == 51
    assert all(s is not None and s.tzinfo is not None and s.utcoffset() == dt.timedelta(0) for s in stamps)
    connector.close()


def test_memory_store_lives_while_one_connection_is_open(path: str) -> None:
    holder = ReferenceStore(path)
    connector = connect(path)
    created = connector.create(SCOPE, "issue", Issue(title="kept"), "m")
    connector.close()
    assert holder.get(SCOPE, "issue", created.id) is not None
    holder.close()
    with ReferenceStore(path) as fresh:
        assert fresh.count(SCOPE, "issue") == 0
    with ReferenceStore(f"memory:{uuid.uuid4().hex}") as other:
        assert other.count(SCOPE, "issue") == 0


def test_a_memory_store_needs_a_name() -> None:
    with pytest.raises(ValueError, match="memory:NAME"):
        ReferenceStore("memory:")


# -- the connector ------------------------------------------------------------------------------
def test_declares_every_canonical_type_with_every_capability_but_webhooks() -> None:
    assert set(ReferenceConnector.record_types) == set(RECORD_MODELS)
    for record_type, capabilities in ReferenceConnector.record_types.items():
        # Progress notes attach to customers only.
        notes = {Capability.NOTES} if record_type != "customer" else set()
        assert capabilities == set(Capability) - {Capability.WEBHOOKS} - notes
    assert ReferenceConnector.sorted_by_updated and ReferenceConnector.cursor_overlap == dt.timedelta(0)


def test_registered_as_the_reference_plugin() -> None:
    host = build_plugin_manager()
    assert host.connector("reference") is ReferenceConnector


def test_settings_reject_unknown_keys() -> None:
    with pytest.raises(pydantic.ValidationError):
        ReferenceSettings(plugin="reference", path="memory:x", colour="red")  # type: ignore[call-arg]


def test_list_changed_pages_in_updated_order_and_counts_each_page(
    store: ReferenceStore, connector: ReferenceConnector
) -> None:
    ids = [store.put(SCOPE, "issue", Issue(title=f"i{n}")) for n in range(7)]
    store.edit(SCOPE, "issue", ids[0], title="edited last")
    records = listed(connector)
    assert [r.id for r in records] == ids[1:] + ids[:1]
    assert records[-1].item.title == "edited last"  # type: ignore[union-attr]
    assert connector.calls.counts == {"list": 3}  # pages of 3: 3 + 3 + 1
    stamps = [r.updated for r in records]
    assert stamps == sorted(stamps)
    assert all(r.version == r.updated.isoformat() for r in records)  # type: ignore[union-attr]
    assert all(r.item.updated == r.updated for r in records)  # type: ignore[union-attr]


def test_a_full_last_page_costs_one_empty_page(store: ReferenceStore, connector: ReferenceConnector) -> None:
    for n in range(6):
        store.put(SCOPE, "issue", Issue(title=f"i{n}"))
    assert len(listed(connector)) == 6
    assert connector.calls.counts == {"list": 3}


def test_list_changed_since_is_inclusive(store: ReferenceStore, connector: ReferenceConnector) -> None:
    for n in range(5):
        store.put(SCOPE, "issue", Issue(title=f"i{n}"))
    everything = listed(connector)
    later = listed(connector, everything[2].updated)
    assert [r.id for r in later] == [r.id for r in everything[2:]]
    assert listed(connector, everything[-1].updated + dt.timedelta(microseconds=1)) == []  # type: ignore[operator]


def test_deletions_are_listed(store: ReferenceStore, connector: ReferenceConnector) -> None:
    issue = store.put(SCOPE, "issue", Issue(title="gone soon"))
    before = listed(connector)[0]
    store.remove(SCOPE, "issue", issue)
    (deletion,) = listed(connector, before.updated)
    assert deletion.id == issue and deletion.deleted and deletion.item is None
    assert deletion.updated > before.updated  # type: ignore[operator]
    assert connector.get(SCOPE, "issue", issue) is None


def test_create_keeps_the_marker_out_of_the_item(
    connector: ReferenceConnector, store: ReferenceStore
) -> None:
    created = connector.create(SCOPE, "issue", Issue(title="new", description="text"), "pmhub:abc")
    assert created.marker == "pmhub:abc" and created.updated is not None
    assert created.version == created.updated.isoformat()
    found = connector.find_by_marker(SCOPE, "issue", "pmhub:abc")
    assert found is not None and found.id == created.id and found.item == created.item
    assert "pmhub:abc" not in found.item.model_dump_json()  # type: ignore[union-attr]
    assert connector.find_by_marker(SCOPE, "issue", "pmhub:unknown") is None
    assert connector.find_by_marker("other", "issue", "pmhub:abc") is None
    assert store.find_by_marker(SCOPE, "issue", "pmhub:abc") == [created.id]
    assert connector.calls.counts == {"create": 1, "find": 3}


def test_create_does_not_change_the_callers_item(connector: ReferenceConnector) -> None:
    item = Issue(title="mine")
    created = connector.create(SCOPE, "issue", item, "m")
    assert item.updated is None and created.item.updated == created.updated  # type: ignore[union-attr]


def test_create_many_writes_a_chunk_per_call(connector: ReferenceConnector, store: ReferenceStore) -> None:
    results = connector.create_many(SCOPE, "issue", [(Issue(title=f"i{n}"), f"m{n}") for n in range(7)])
    assert connector.calls.counts == {"bulk_create": 3}
    assert all(isinstance(r, Remote) for r in results)
    assert [r.item.title for r in results] == [f"i{n}" for n in range(7)]  # type: ignore[union-attr]
    assert [r.marker for r in results] == [f"m{n}" for n in range(7)]  # type: ignore[union-attr]
    assert [r.id for r in listed(connector)] == [r.id for r in results]  # type: ignore[union-attr]
    assert store.count(SCOPE, "issue") == 7


def test_update_writes_only_the_changed_fields(connector: ReferenceConnector, store: ReferenceStore) -> None:
    created = connector.create(SCOPE, "issue", Issue(title="old", description="keep"), "m")
    store.edit(SCOPE, "issue", created.id, labels=["theirs"])
    updated = connector.update(
        SCOPE, "issue", created.id, Issue(title="new", description="ignored"), frozenset({"title"})
    )
    assert updated.item.title == "new" and updated.item.description == "keep"  # type: ignore[union-attr]
    assert updated.item.labels == ["theirs"] and updated.marker == "m"  # type: ignore[union-attr]
    assert updated.updated > created.updated  # type: ignore[operator]
    assert connector.get(SCOPE, "issue", created.id).item == updated.item  # type: ignore[union-attr]


def test_update_and_delete_of_a_missing_record_are_permanent(connector: ReferenceConnector) -> None:
    for call in (
        lambda: connector.update(SCOPE, "issue", "999", Issue(title="x"), frozenset({"title"})),
        lambda: connector.delete(SCOPE, "issue", "999"),
        lambda: connector.update(SCOPE, "issue", "not-an-id", Issue(title="x"), frozenset({"title"})),
    ):
        with pytest.raises(PermanentError) as caught:
            call()
        assert caught.value.status == 404
    assert connector.get(SCOPE, "issue", "not-an-id") is None


def test_delete_removes_and_lists_a_deletion(connector: ReferenceConnector, store: ReferenceStore) -> None:
    created = connector.create(SCOPE, "issue", Issue(title="x"), "m")
    connector.delete(SCOPE, "issue", created.id)
    assert store.count(SCOPE, "issue") == 0
    assert connector.find_by_marker(SCOPE, "issue", "m") is None
    assert [r.deleted for r in listed(connector)] == [True]
    assert connector.calls.counts["delete"] == 1


def test_threads_share_a_memory_store(store: ReferenceStore, path: str) -> None:
    connectors = [connect(path, page_size=7) for _ in range(3)]
    errors: list[BaseException] = []

    def write(connector: ReferenceConnector, n: int) -> None:
        try:
            for k in range(20):
                connector.create_many(SCOPE, "issue", [(Issue(title=f"{n}-{k}-{j}"), "m") for j in range(5)])
                list(connector.list_changed(SCOPE, "issue", None))
        except BaseException as error:  # reported by the assertion below
            errors.append(error)

    threads = [threading.Thread(target=write, args=(c, n)) for n, c in enumerate(connectors)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert store.count(SCOPE, "issue") == 300
    for connector in connectors:
        connector.close()


# -- sharing a file between processes ------------------------------------------------------------
WRITER = textwrap.dedent("""
    import sys
    from hub.model import Issue
    from hub.testing.reference import ReferenceConnector, ReferenceSettings
    connector = ReferenceConnector("w", ReferenceSettings(plugin="reference", path=sys.argv[1]))
    connector.open()
    results = connector.create_many("acme", "issue", [(Issue(title=f"child {n}"), f"m{n}") for n in range(3)])
    print(" ".join(type(r).__name__ for r in results))
    connector.close()
""")


@pytest.mark.slow
def test_a_file_store_is_shared_with_another_process(tmp_path: Path) -> None:
    path = str(tmp_path / "tool.db")
    with ReferenceStore(path) as store:
        store.put(SCOPE, "issue", Issue(title="parent's"))
        # The fault is a row of the file, so it reaches the child's connector.
        store.inject("create", "permanent", match_title="child 1")
        child = subprocess.run(
            [sys.executable, "-c", WRITER, path], capture_output=True, text=True, timeout=60, check=True
        )
        assert child.stdout.split() == ["Remote", "PermanentError", "Remote"]
        titles = [item.title for _, item in store.all(SCOPE, "issue")]  # type: ignore[union-attr]
        assert titles == ["parent's", "child 0", "child 2"]
        assert store.find_by_marker(SCOPE, "issue", "m2") != []


SLOW_WRITER = textwrap.dedent("""
    import sys
    from hub.model import Issue
    from hub.testing.reference import ReferenceConnector, ReferenceSettings
    connector = ReferenceConnector("w", ReferenceSettings(plugin="reference", path=sys.argv[1], page_size=10))
    connector.open()
    n = 0
    while True:
        connector.create_many("acme", "issue", [(Issue(title=f"i{n + k}"), f"m{n + k}") for k in range(10)])
        n += 10
""")


@pytest.mark.slow
def test_a_killed_writer_leaves_whole_chunks_behind(tmp_path: Path) -> None:
    path = str(tmp_path / "tool.db")
    with ReferenceStore(path) as store:
        store.inject("create", "delay", times=None, delay=0.002)
        child = subprocess.Popen([sys.executable, "-c", SLOW_WRITER, path])
        try:
            deadline = time.monotonic() + 30
            while store.count(SCOPE, "issue") < 50 and time.monotonic() < deadline:
                time.sleep(0.02)
        finally:
            child.kill()
            child.wait()
        count = store.count(SCOPE, "issue")
        assert count >= 50 and count % 10 == 0
        assert len({item.title for _, item in store.all(SCOPE, "issue")}) == count  # type: ignore[union-attr]
        store.put(SCOPE, "issue", Issue(title="after the crash"))
    with ReferenceStore(path) as reopened:
        assert reopened.count(SCOPE, "issue") == count + 1


# -- faults --------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("mode", "error", "status"),
    [
        ("transient", TransientError, 503),
        ("rate_limited", TransientError, 429),
        ("permanent", PermanentError, 422),
        ("not_found", PermanentError, 404),
        ("auth", AuthError, 401),
    ],
)
@pytest.mark.parametrize("operation", ["list", "get", "find", "create", "update", "delete"])
def test_each_fault_mode_fails_each_operation_once(
    connector: ReferenceConnector, store: ReferenceStore, operation: str, mode: str,
    error: type[Exception], status: int,
) -> None:
    issue = store.put(SCOPE, "issue", Issue(title="x"))
    calls = {
        "list": lambda: listed(connector),
        "get": lambda: connector.get(SCOPE, "issue", issue),
        "find": lambda: connector.find_by_marker(SCOPE, "issue", "m"),
        "create": lambda: connector.create(SCOPE, "issue", Issue(title="y"), "m"),
        "update": lambda: connector.update(SCOPE, "issue", issue, Issue(title="z"), frozenset({"title"})),
        "delete": lambda: connector.delete(SCOPE, "issue", issue),
    }
    store.inject(operation, mode)
    with pytest.raises(error) as caught:
        calls[operation]()
    assert caught.value.status == status  # type: ignore[attr-defined]
    # A refused write leaves the tool as it was.
    assert store.count(SCOPE, "issue") == 1 and store.get(SCOPE, "issue", issue).title == "x"  # type: ignore[union-attr]
    calls[operation]()  # the fault was used up


def test_rate_limited_carries_retry_after(connector: ReferenceConnector, store: ReferenceStore) -> None:
    store.inject("list", "rate_limited", retry_after=7.0)
    store.inject("list", "transient", retry_after=2.0)
    store.inject("list", "rate_limited")
    retry_after = []
    for _ in range(3):
        with pytest.raises(TransientError) as caught:
            listed(connector)
        retry_after.append(caught.value.retry_after)
    assert retry_after == [7.0, 2.0, 0.1]


def test_lost_reply_applies_the_write_then_fails(
    connector: ReferenceConnector, store: ReferenceStore
) -> None:
    store.inject("create", "lost_reply")
    with pytest.raises(TransientError):
        connector.create(SCOPE, "issue", Issue(title="landed"), "pmhub:1")
    found = connector.find_by_marker(SCOPE, "issue", "pmhub:1")
    assert found is not None and found.item.title == "landed"  # type: ignore[union-attr]

    store.inject("update", "lost_reply")
    with pytest.raises(TransientError):
        connector.update(SCOPE, "issue", found.id, Issue(title="changed"), frozenset({"title"}))
    assert store.get(SCOPE, "issue", found.id).title == "changed"  # type: ignore[union-attr]

    store.inject("delete", "lost_reply")
    with pytest.raises(TransientError):
        connector.delete(SCOPE, "issue", found.id)
    assert store.count(SCOPE, "issue") == 0


def test_lost_reply_only_applies_to_writes(store: ReferenceStore) -> None:
    with pytest.raises(ValueError, match="lost_reply"):
        store.inject("list", "lost_reply")
    with pytest.raises(ValueError, match="operation"):
        store.inject("fetch", "transient")
    with pytest.raises(ValueError, match="mode"):
        store.inject("list", "flaky")


def test_delay_slows_the_call_and_proceeds(connector: ReferenceConnector, store: ReferenceStore) -> None:
    store.put(SCOPE, "issue", Issue(title="x"))
    store.inject("list", "delay", delay=0.2)
    started = time.monotonic()
    assert len(listed(connector)) == 1
    assert time.monotonic() - started >= 0.2
    started = time.monotonic()
    listed(connector)
    assert time.monotonic() - started < 0.2


def test_faults_count_down_persist_and_clear(connector: ReferenceConnector, store: ReferenceStore) -> None:
    store.inject("get", "transient", times=2)
    store.inject("find", "transient", times=None)
    for _ in range(2):
        with pytest.raises(TransientError):
            connector.get(SCOPE, "issue", "1")
    assert connector.get(SCOPE, "issue", "1") is None
    for _ in range(5):
        with pytest.raises(TransientError):
            connector.find_by_marker(SCOPE, "issue", "m")
    store.clear_faults()
    assert connector.find_by_marker(SCOPE, "issue", "m") is None


def test_a_fault_can_target_one_record_type(connector: ReferenceConnector, store: ReferenceStore) -> None:
    issue = connector.create(SCOPE, "issue", Issue(title="x"), "m")
    store.inject("create", "permanent", record_type="comment")
    connector.create(SCOPE, "issue", Issue(title="y"), "m2")
    with pytest.raises(PermanentError):
        connector.create(SCOPE, "comment", Comment(body="hi", issue=issue.id), "m3")


def test_a_fault_can_target_one_record_in_a_bulk_create(
    connector: ReferenceConnector, store: ReferenceStore
) -> None:
    store.inject("create", "permanent", times=None, match_title="bad")
    store.inject("create", "lost_reply", match_title="lost")
    titles = ["ok 1", "bad", "ok 2", "lost", "ok 3", "bad"]
    items = [(Issue(title=t), f"m-{n}") for n, t in enumerate(titles)]
    results = connector.create_many(SCOPE, "issue", items)
    kinds = [type(r).__name__ for r in results]
    assert kinds == ["Remote", "PermanentError", "Remote", "TransientError", "Remote", "PermanentError"]
    assert [item.title for _, item in store.all(SCOPE, "issue")] == ["ok 1", "ok 2", "lost", "ok 3"]  # type: ignore[union-attr]
    assert connector.find_by_marker(SCOPE, "issue", "m-3") is not None
    assert connector.calls.counts == {"bulk_create": 2, "find": 1}


def test_match_title_applies_to_updates_and_comment_bodies(
    connector: ReferenceConnector, store: ReferenceStore
) -> None:
    issue = store.put(SCOPE, "issue", Issue(title="x"))
    store.inject("update", "permanent", times=None, match_title="bad")
    store.inject("create", "permanent", times=None, match_title="bad")
    connector.update(SCOPE, "issue", issue, Issue(title="fine"), frozenset({"title"}))
    with pytest.raises(PermanentError):
        connector.update(SCOPE, "issue", issue, Issue(title="bad"), frozenset({"title"}))
    with pytest.raises(PermanentError):
        connector.create(SCOPE, "comment", Comment(body="bad", issue=issue), "m")
    connector.create(SCOPE, "comment", Comment(body="good", issue=issue), "m")


def test_delay_applies_to_each_item_of_a_bulk_create(
    connector: ReferenceConnector, store: ReferenceStore
) -> None:
    store.inject("create", "delay", times=None, delay=0.02)
    started = time.monotonic()
    results = connector.create_many(SCOPE, "issue", [(Issue(title=f"i{n}"), "m") for n in range(10)])
    assert time.monotonic() - started >= 0.2
    assert all(isinstance(r, Remote) for r in results) and store.count(SCOPE, "issue") == 10


def test_pending_faults_show_what_is_left(store: ReferenceStore) -> None:
    store.inject("update", "transient", times=2, record_type="issue")
    store.inject("update", "auth", times=None)
    assert [(f.mode, f.remaining) for f in store.pending_faults("update", "issue")] == [
        ("transient", 2), ("auth", None)
    ]
    assert [f.mode for f in store.pending_faults("update", "comment")] == ["auth"]
    assert store.take_fault("update", "issue").mode == "transient"  # type: ignore[union-attr]
    assert store.pending_faults("update", "issue")[0].remaining == 1
    assert store.pending_faults("create", "issue") == []


def test_a_record_must_match_its_type(store: ReferenceStore) -> None:
    with pytest.raises(PermanentError, match="cannot hold"):
        store.put(SCOPE, "customer", Issue(title="not a customer"))
    with pytest.raises(PermanentError, match="unknown record type"):
        store.put(SCOPE, "ticket", Issue(title="x"))
    assert store.get(SCOPE, "issue", "99999999999999999999") is None


def test_whoami_names_the_store(connector: ReferenceConnector, path: str) -> None:
    assert connector.whoami() == f"reference store {path}"


# -- `pmhub plugins` keeps the test double out of a user's way -------------------------------------
def _connector_rows(output: str) -> set[str]:
    """The plugin names in the first column of the ``connectors`` table."""
    names = set()
    for line in output.splitlines():
        cells = [cell.strip() for cell in line.strip("│┃|").split("│")]
        if len(cells) > 3 and "read" in cells[3]:
            names.add(cells[0])
    return names


def test_pmhub_plugins_lists_the_reference_connector_only_with_all() -> None:
    from click.testing import CliRunner

    from hub.cli import main

    plain = CliRunner().invoke(main, ["plugins"])
    assert plain.exit_code == 0, plain.output
    assert {"github", "jira", "trello", "zoho_crm"} <= _connector_rows(plain.output)
    assert "reference" not in _connector_rows(plain.output)
    assert "testing connectors not shown: reference (list them with --all)" in plain.output

    everything = CliRunner().invoke(main, ["plugins", "--all"])
    assert everything.exit_code == 0, everything.output
    assert {"github", "reference"} <= _connector_rows(everything.output)
    assert "not shown" not in everything.output


def test_a_config_can_still_use_the_hidden_reference_connector(pair: Any) -> None:
    pair.a.put("proj", "issue", Issue(title="still syncs"))
    pair.sync()
    assert [item.title for _, item in pair.b.all("proj", "issue")] == ["still syncs"]  # type: ignore[union-attr]
