"""Issue 10 items 9, 10 and 13 (the runner's part), through the CLI over two reference tools:
comments whose issue the flow leaves out are skipped, not parked forever; ``pmhub parked`` lists and
drops; ``retry`` and ``conflicts resolve`` write only under the flow's lease, with a run record; a
bad mapping stops ``sync``, ``retry`` and ``daemon`` with exit 2 naming the file and key."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from click.testing import CliRunner

from hub.cli import main
from hub.model import Comment, Issue
from hub.state.store import StateStore
from tests.conftest import Pair, write_config

#: A holder the lease cannot take over: another host, still within its TTL.
OTHER_HOLDER = "another-host:4242"


def runs(pair: Pair) -> list[dict[str, object]]:
    store = StateStore.open(pair.state_url)
    try:
        return store.last_runs(limit_per_flow=100)
    finally:
        store.close()


def hold_lease(pair: Pair, holder: str | None = OTHER_HOLDER) -> None:
    store = StateStore.open(pair.state_url)
    try:
        if holder is None:
            store.release_lease("main", OTHER_HOLDER)
        else:
            assert store.acquire_lease("main", holder, dt.timedelta(minutes=5))
    finally:
        store.close()


def park_one(pair: Pair) -> None:
    """One issue parked on the way a -> b (b refuses it), one synced."""
    pair.a.put("proj", "issue", Issue(title="fine"))
    pair.a.put("proj", "issue", Issue(title="broken"))
    pair.b.inject("create", "permanent", times=None, match_title="broken")
    pair.sync(expect=1)
    pair.b.clear_faults()


# -- item 9 ------------------------------------------------------------------------------------
def test_a_comment_on_an_issue_the_filter_leaves_out_is_skipped_not_parked(make_pair) -> None:
    pair = make_pair(filter={"labels": ["customer"]})
    internal = pair.a.put("proj", "issue", Issue(title="internal chore", labels=["internal"]))
    pair.a.put("proj", "comment", Comment(issue=internal, body="only for us"))
    shared = pair.a.put("proj", "issue", Issue(title="customer work", labels=["customer"]))
    pair.a.put("proj", "comment", Comment(issue=shared, body="for the customer"))

    pair.sync()  # exit 0: nothing parked
    assert [c.body for _, c in pair.b.all("proj", "comment")] == ["for the customer"]
    assert pair.cli("parked").output.strip() == "no parked records"
    # A later comment on the left-out issue, when the issue itself is not read again: skipped too.
    pair.a.put("proj", "comment", Comment(issue=internal, body="still only for us"))
    pair.sync()
    retried = pair.cli("retry")
    assert retried.exit_code == 0 and "0 before, 0 after" in retried.output
    assert pair.b.count("proj", "comment") == 1


def test_pmhub_parked_lists_reasons_and_age_and_drop_discards_one_in_the_run_history(pair) -> None:
    park_one(pair)
    pair.b.inject("create", "permanent", times=None, match_title="broken")
    listed = pair.cli("parked")
    assert listed.exit_code == 0, listed.output
    row = next(line for line in listed.output.splitlines() if "a:2" in line)
    assert "issue" in row and "main" in row and "injected permanent fault on create" in row, row
    assert re.search(r"\b\d+s\b", row), f"no age in {row!r}"
    parked_id = int(re.findall(r"\d+", row.split("│")[1])[0])

    dropped = pair.cli("parked", "drop", str(parked_id))
    assert dropped.exit_code == 0, dropped.output
    assert "a:2" in dropped.output and "dropped" in dropped.output
    assert pair.cli("parked").output.strip() == "no parked records"
    last = runs(pair)[0]
    assert last["status"] == "dropped" and "a:2" in str(last["error"])
    assert pair.cli("parked", "drop", str(parked_id)).exit_code == 2
    pair.b.clear_faults()
    pair.cli("retry")
    assert [t.title for _, t in pair.b.all("proj", "issue")] == ["fine"], "a dropped record stays dropped"


def test_retry_forgets_a_parked_record_its_tool_no_longer_has(pair) -> None:
    park_one(pair)
    pair.a.remove("proj", "issue", "2")
    retried = pair.cli("retry")
    assert retried.exit_code == 0 and "1 before, 0 after" in retried.output


# -- item 10 -----------------------------------------------------------------------------------
def test_retry_under_a_lease_held_by_another_process_skips_and_writes_nothing(pair) -> None:
    park_one(pair)
    before = len(runs(pair))
    hold_lease(pair)
    retried = pair.cli("retry")
    assert "another pmhub process" in retried.output and OTHER_HOLDER in retried.output
    assert "1 before, 1 after" in retried.output
    assert [t.title for _, t in pair.b.all("proj", "issue")] == ["fine"], "nothing written"
    assert len(runs(pair)) == before, "no run: the other process runs the flow"

    hold_lease(pair, None)
    retried = pair.cli("retry")
    assert retried.exit_code == 0 and "1 before, 0 after" in retried.output
    assert sorted(t.title for _, t in pair.b.all("proj", "issue")) == ["broken", "fine"]
    assert len(runs(pair)) == before + 1 and runs(pair)[0]["status"] == "ok", "the retry is a recorded run"


def conflict_pair(make_pair) -> tuple[Pair, str]:
    pair = make_pair(conflict="manual")
    source = pair.a.put("proj", "issue", Issue(title="base"))
    pair.sync()
    twin = pair.b.all("proj", "issue")[0][0]
    pair.a.edit("proj", "issue", source, title="from a")
    pair.b.edit("proj", "issue", twin, title="from b")
    pair.sync(expect=1)
    return pair, twin


def test_conflicts_resolve_under_a_lease_held_by_another_process_writes_nothing(make_pair) -> None:
    pair, twin = conflict_pair(make_pair)
    before = len(runs(pair))
    hold_lease(pair)
    resolved = pair.cli("conflicts", "resolve", "1", "--take", "a")
    assert resolved.exit_code == 0, resolved.output
    assert "not written now" in resolved.output and OTHER_HOLDER in resolved.output
    assert pair.b.get("proj", "issue", twin).title == "from b", "nothing written to the tool"
    assert len(runs(pair)) == before

    hold_lease(pair, None)
    pair.sync()  # the choice was kept: the next run under the lease writes it
    assert pair.b.get("proj", "issue", twin).title == "from a"


def test_conflicts_resolve_writes_under_the_lease_and_records_a_run(make_pair) -> None:
    pair, twin = conflict_pair(make_pair)
    before = len(runs(pair))
    resolved = pair.cli("conflicts", "resolve", "1", "--take", "a")
    assert resolved.exit_code == 0 and "wrote it" in resolved.output, resolved.output
    assert pair.b.get("proj", "issue", twin).title == "from a"
    assert len(runs(pair)) == before + 1
    store = StateStore.open(pair.state_url)
    try:
        assert store.lease_holder("main") is None, "the lease is released afterwards"
    finally:
        store.close()


# -- item 13 (the runner) ----------------------------------------------------------------------
def test_a_bad_mapping_stops_sync_retry_and_daemon_with_exit_2_before_any_flow_runs(
        tmp_path: Path, make_pair) -> None:
    pair = make_pair()
    pair.a.put("proj", "issue", Issue(title="would be copied by the good flow"))
    bad = tmp_path / "bad-mapping.toml"
    bad.write_text('[issue.a.status_out]\ndone = 5\n', encoding="utf-8")
    good_flow = {**pair.flow, "schedule": "* * * * *"}
    bad_flow = {**pair.flow, "name": "second", "mapping": str(bad), "schedule": "* * * * *"}
    config = write_config(tmp_path / "two-flows.toml", state_url=pair.state_url,
                          connections={"left": {"plugin": "reference", "path": pair.paths["a"]},
                                       "right": {"plugin": "reference", "path": pair.paths["b"]}},
                          flows=[good_flow, bad_flow])
    for command in (["sync", "--quiet"], ["retry"], ["daemon", "--once"]):
        result = CliRunner().invoke(main, [*command, "--config", str(config)], catch_exceptions=False)
        assert result.exit_code == 2, (command, result.output)
        assert str(bad) in result.output and "issue.a.status_out.done" in result.output, result.output
        assert "Traceback" not in result.output
    assert pair.b.count("proj", "issue") == 0, "no flow ran, not even the good one"


# -- item 8 (the engine's part): a first run between two populated sides ---------------------------
def test_a_first_run_links_unique_titles_and_parks_ambiguous_ones_until_they_are_made_unique(
        make_pair) -> None:
    pair = make_pair(records=["issue"])  # the default match: marker, link, title
    pair.a.put("proj", "issue", Issue(title="Export invoices as CSV"))
    pair.b.put("proj", "issue", Issue(title="Export invoices as CSV"))
    first = pair.a.put("proj", "issue", Issue(title="Bug"))
    second = pair.a.put("proj", "issue", Issue(title="Bug"))
    pair.b.put("proj", "issue", Issue(title="Bug"))

    out = pair.sync(expect=1)
    assert "ambiguous title 'Bug'" in out.output
    assert sorted(t.title for _, t in pair.a.all("proj", "issue")) == ["Bug", "Bug", "Export invoices as CSV"]
    assert sorted(t.title for _, t in pair.b.all("proj", "issue")) == ["Bug", "Export invoices as CSV"], \
        "the unique title was linked, the ambiguous one neither linked nor copied"
    assert len(pair.store("a").all("proj", "issue")) == 3

    pair.a.edit("proj", "issue", second, title="Bug in the export")
    pair.sync()  # the renamed record is copied; the other two stay parked, even when read again...
    retried = pair.cli("retry")  # ...until a retry matches them, now that the title is unique
    assert retried.exit_code == 0, retried.output
    assert "3 before, 0 after" in retried.output or "2 before, 0 after" in retried.output
    assert sorted(t.title for _, t in pair.b.all("proj", "issue")) == [
        "Bug", "Bug in the export", "Export invoices as CSV"]
    assert pair.a.get("proj", "issue", first).title == "Bug"
    assert pair.a.count("proj", "issue") == 3
    pair.sync()
