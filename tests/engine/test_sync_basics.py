"""Backfill, incremental runs, no duplicates after lost replies, dry-run, parking and retry."""

from __future__ import annotations

import datetime as dt

from hub.model import Issue, StatusCategory


def test_backfill_creates_one_twin_each_with_the_same_fields(pair):
    ids = [pair.a.put("proj", "issue", Issue(title=f"task {n}", labels=["x"])) for n in range(3)]
    pair.sync()
    twins = pair.b.all("proj", "issue")
    assert sorted(item.title for _, item in twins) == ["task 0", "task 1", "task 2"]
    assert all(item.labels == ["x"] for _, item in twins)
    assert len(ids) == 3


def test_second_run_with_nothing_changed_writes_nothing_and_lists_once_per_side(pair):
    for n in range(5):
        pair.a.put("proj", "issue", Issue(title=f"t{n}"))
    pair.sync()
    pair.sync()  # reads back our own creates on b: echoes, written nowhere
    out = pair.sync()
    assert "0 created, 0 updated" in out.output
    assert "left: 0 created, 0 updated, " in out.output
    # One list page per side per record type (issue, comment), nothing else.
    expected = "left: 0 created, 0 updated, 1 unchanged, 0 deleted, 0 conflicts, 0 parked, 2 API calls"
    assert expected in out.output


def test_edit_flows_across_and_is_not_echoed_back(pair):
    source = pair.a.put("proj", "issue", Issue(title="draft"))
    pair.sync()
    pair.a.edit("proj", "issue", source, title="final", status=StatusCategory.IN_PROGRESS)
    pair.sync()
    [(_twin_id, twin)] = pair.b.all("proj", "issue")
    assert (twin.title, twin.status) == ("final", StatusCategory.IN_PROGRESS)
    before = pair.a.get("proj", "issue", source)
    out = pair.sync()
    # The change our write caused on b is recognised as ours: nothing goes back to a.
    assert "left: 0 created, 0 updated" in out.output
    assert pair.a.get("proj", "issue", source) == before


def test_lost_reply_on_create_then_rerun_leaves_exactly_one_twin(pair):
    pair.a.put("proj", "issue", Issue(title="only once"))
    # The write happens, the reply is lost, and the retry fails too: the run ends without a link.
    pair.b.inject("create", "lost_reply", times=1)
    pair.b.inject("find", "transient", times=10)
    pair.sync(expect=1)
    assert pair.b.count("proj", "issue") == 1
    pair.b.clear_faults()
    pair.sync()
    pair.sync()
    assert pair.b.count("proj", "issue") == 1
    assert pair.cli("status").exit_code == 0


def test_lost_reply_is_recovered_within_the_same_run_by_marker(pair):
    pair.a.put("proj", "issue", Issue(title="recovered"))
    pair.b.inject("create", "lost_reply", times=1)
    pair.sync()
    assert pair.b.count("proj", "issue") == 1
    pair.sync()
    assert pair.b.count("proj", "issue") == 1


def test_dry_run_writes_nothing_remote_or_local(tmp_path, make_pair):
    pair = make_pair()
    pair.a.put("proj", "issue", Issue(title="planned"))
    out = pair.sync("--dry-run")
    assert "create" in out.output and "a:1" in out.output
    assert pair.b.count("proj", "issue") == 0
    assert not (tmp_path / "p0" / "state.db").exists()
    pair.sync()
    pair.a.edit("proj", "issue", "1", title="changed")
    before = (tmp_path / "p0" / "state.db").read_bytes()
    out = pair.sync("--dry-run")
    assert "update" in out.output and "title" in out.output
    assert pair.b.all("proj", "issue")[0][1].title == "planned"
    assert (tmp_path / "p0" / "state.db").read_bytes() == before


def test_permanent_error_parks_one_record_and_the_rest_goes_on_then_retry_applies(pair):
    for title in ("fine 1", "broken", "fine 2"):
        pair.a.put("proj", "issue", Issue(title=title))
    pair.b.inject("create", "permanent", times=None, match_title="broken")
    out = pair.sync(expect=1)
    assert "park" in out.output and "broken" not in [t.title for _, t in pair.b.all("proj", "issue")]
    assert sorted(t.title for _, t in pair.b.all("proj", "issue")) == ["fine 1", "fine 2"]
    status = pair.cli("status", "--json")
    assert '"parked": 1' in status.output
    pair.b.clear_faults()
    retried = pair.cli("retry")
    assert retried.exit_code == 0, retried.output
    assert "1 before, 0 after" in retried.output
    assert sorted(t.title for _, t in pair.b.all("proj", "issue")) == ["broken", "fine 1", "fine 2"]
    pair.sync()
    assert pair.b.count("proj", "issue") == 3


def test_transient_errors_are_retried_and_the_run_completes(pair):
    pair.a.put("proj", "issue", Issue(title="flaky"))
    pair.b.inject("create", "rate_limited", times=2, retry_after=0.05)
    pair.a.inject("list", "transient", times=1)
    pair.sync()
    assert pair.b.count("proj", "issue") == 1


def test_cursor_does_not_pass_a_record_that_was_neither_applied_nor_parked(pair):
    pair.a.put("proj", "issue", Issue(title="first"))
    pair.sync()
    pair.a.put("proj", "issue", Issue(title="unlucky"))
    pair.b.inject("create", "transient", times=None)
    pair.b.inject("find", "transient", times=None)
    pair.sync(expect=1)
    pair.b.clear_faults()
    pair.sync()
    assert sorted(t.title for _, t in pair.b.all("proj", "issue")) == ["first", "unlucky"]


def test_auth_error_names_the_connection_and_writes_nothing(pair):
    pair.a.put("proj", "issue", Issue(title="x"))
    pair.a.inject("list", "auth", times=None)
    out = pair.sync(expect=1)
    assert "authentication failed" in out.output and "left" in out.output
    assert pair.b.count("proj", "issue") == 0


def test_deletion_follows_on_delete_close(pair):
    source = pair.a.put("proj", "issue", Issue(title="going"))
    pair.sync()
    pair.a.remove("proj", "issue", source)
    pair.sync()
    [(_, twin)] = pair.b.all("proj", "issue")
    assert twin.status == StatusCategory.CANCELLED


def test_deletion_follows_on_delete_delete(make_pair):
    pair = make_pair(on_delete="delete")
    source = pair.a.put("proj", "issue", Issue(title="going"))
    pair.sync()
    pair.a.remove("proj", "issue", source)
    pair.sync()
    assert pair.b.count("proj", "issue") == 0


def test_deletion_with_on_delete_ignore_leaves_the_twin(make_pair):
    pair = make_pair(on_delete="ignore")
    source = pair.a.put("proj", "issue", Issue(title="going"))
    pair.sync()
    pair.a.remove("proj", "issue", source)
    pair.sync()
    assert pair.b.all("proj", "issue")[0][1].status == StatusCategory.TODO


def test_filter_by_label_only_syncs_matching_records(make_pair):
    pair = make_pair(filter={"labels": ["customer"]})
    pair.a.put("proj", "issue", Issue(title="yes", labels=["customer"]))
    pair.a.put("proj", "issue", Issue(title="no", labels=["internal"]))
    pair.sync()
    assert [t.title for _, t in pair.b.all("proj", "issue")] == ["yes"]


def test_one_way_flow_does_not_send_changes_back(make_pair):
    pair = make_pair(direction="a->b")
    pair.a.put("proj", "issue", Issue(title="one way"))
    pair.sync()
    twin_id = pair.b.all("proj", "issue")[0][0]
    pair.b.edit("proj", "issue", twin_id, title="edited on b")
    pair.sync()
    assert pair.a.all("proj", "issue")[0][1].title == "one way"


def test_a_side_with_nothing_to_list_still_gets_a_cursor(pair):
    from hub.state.store import StateStore

    pair.a.put("proj", "issue", Issue(title="no comments anywhere"))
    pair.sync()
    store = StateStore.open(pair.state_url)
    try:
        # Without a cursor every later run would list every comment from the beginning of time.
        assert store.cursor("main", "a", "comment") is not None
        assert store.cursor("main", "b", "comment") is not None
        # An old cursor over an empty listing moves up too, or every run re-reads the same span.
        long_ago = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
        with store.transaction() as conn:
            store.set_cursor(conn, "main", "b", "comment", long_ago)
        pair.sync()
        assert store.cursor("main", "b", "comment") > dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
    finally:
        store.close()


def test_filter_on_present_fields_creates_twins_only_for_customer_work_but_still_matches(make_pair):
    pair = make_pair(records=["issue"], filter={"present": ["customer"]}, match=["marker", "link", "title"])
    pair.a.put("proj", "issue", Issue(title="for a customer", customer="Acme"))
    pair.b.put("proj", "issue", Issue(title="internal chore"))
    b_shared = pair.b.put("proj", "issue", Issue(title="shared", labels=["x"]))
    pair.a.put("proj", "issue", Issue(title="shared", customer="Acme"))
    pair.sync()
    # a's customer work reached b; b's internal chore did not become an a record...
    assert sorted(t.title for _, t in pair.a.all("proj", "issue")) == ["for a customer", "shared"]
    # ...and b's "shared", though left out by the filter, was recognised as the twin, not duplicated.
    on_b = sorted(t.title for _, t in pair.b.all("proj", "issue"))
    assert on_b == ["for a customer", "internal chore", "shared"]
    assert pair.b.get("proj", "issue", b_shared).customer == "Acme"


def test_filter_on_an_unknown_field_is_a_config_error(make_pair):
    pair = make_pair(filter={"present": ["colour"]})
    result = pair.cli("check", "--offline")
    assert result.exit_code == 2 and "flows[0].filter.present" in result.output


def test_a_malformed_record_from_the_tool_is_a_clear_error_and_loses_nothing(pair):
    import sqlite3

    good = pair.a.put("proj", "issue", Issue(title="fine"))
    pair.sync()
    bad = pair.a.put("proj", "issue", Issue(title="will be mangled"))
    # The tool hands back something that is not an issue at all (no title, a stray field).
    path = pair.paths["a"]
    db = sqlite3.connect(f"file:{path[len('memory:'):]}?mode=memory&cache=shared", uri=True)
    db.execute("UPDATE records SET data = ? WHERE seq = ?", ('{"colour": "red"}', int(bad)))
    db.commit()
    out = pair.sync(expect=1)
    assert "Traceback" not in out.output
    assert "left (issues): the tool sent data pmhub cannot read (" in out.output
    assert "title: Field required" in out.output
    assert [t.title for _, t in pair.b.all("proj", "issue")] == ["fine"]
    # The tool is fixed: the record reads again, and nothing edited meanwhile is lost.
    pair.a.edit("proj", "issue", good, title="fine, edited")
    db.execute("UPDATE records SET data = ?, updated = (SELECT max(updated) FROM records) + 1 WHERE seq = ?",
               (Issue(title="repaired").model_dump_json(), int(bad)))
    db.commit()
    db.close()
    pair.sync()
    assert sorted(t.title for _, t in pair.b.all("proj", "issue")) == ["fine, edited", "repaired"]
