"""Three-way merge with each conflict policy, the conflict queue, echo suppression across a chain,
comments with attribution, and first-run matching."""

from __future__ import annotations

import json
import uuid

import pytest
from click.testing import CliRunner

from hub.cli import main
from hub.model import Comment, Issue, Priority, StatusCategory
from hub.testing.reference import ReferenceStore
from tests.conftest import write_config


def _linked(pair, **fields):
    source = pair.a.put("proj", "issue", Issue(title="base", **fields))
    pair.sync()
    [(twin, _)] = pair.b.all("proj", "issue")
    return source, twin


def test_different_fields_changed_on_both_sides_merge(pair):
    source, twin = _linked(pair)
    pair.a.edit("proj", "issue", source, title="title from a")
    pair.b.edit("proj", "issue", twin, priority=Priority.HIGH)
    pair.sync()
    for store, ident in ((pair.a, source), (pair.b, twin)):
        item = store.get("proj", "issue", ident)
        assert (item.title, item.priority) == ("title from a", Priority.HIGH)


@pytest.mark.parametrize(("policy", "winner"), [("prefer-a", "from a"), ("prefer-b", "from b"),
                                                ("newest", "from b")])
def test_same_field_changed_on_both_sides_follows_the_policy(make_pair, policy, winner):
    pair = make_pair(conflict=policy)
    source, twin = _linked(pair)
    pair.a.edit("proj", "issue", source, title="from a")
    pair.b.edit("proj", "issue", twin, title="from b")  # later, so newest picks b
    pair.sync()
    assert pair.a.get("proj", "issue", source).title == winner
    assert pair.b.get("proj", "issue", twin).title == winner


def test_manual_policy_parks_a_conflict_that_the_cli_lists_and_resolves(make_pair):
    pair = make_pair(conflict="manual")
    source, twin = _linked(pair)
    pair.a.edit("proj", "issue", source, title="from a", priority=Priority.LOW)
    pair.b.edit("proj", "issue", twin, title="from b")
    out = pair.sync(expect=1)
    assert "conflict" in out.output
    # The field without a conflict still merged; the conflicting one waits.
    assert pair.b.get("proj", "issue", twin).priority == Priority.LOW
    assert pair.a.get("proj", "issue", source).title == "from a"
    assert pair.b.get("proj", "issue", twin).title == "from b"
    listed = pair.cli("conflicts")
    assert listed.exit_code == 0 and "title" in listed.output and "from b" in listed.output
    # An unrelated later edit must not sneak the conflicting value across.
    pair.a.edit("proj", "issue", source, status=StatusCategory.IN_PROGRESS)
    pair.sync(expect=1)
    assert pair.b.get("proj", "issue", twin).title == "from b"
    conflict_id = json.loads(pair.cli("status", "--json").output)[0]["conflicts"]
    assert conflict_id == 1
    resolved = pair.cli("conflicts", "resolve", "1", "--take", "b")
    assert resolved.exit_code == 0, resolved.output
    assert pair.a.get("proj", "issue", source).title == "from b"
    assert "no open conflicts" in pair.cli("conflicts").output
    pair.sync()
    assert pair.a.get("proj", "issue", source).title == "from b"
    assert pair.b.get("proj", "issue", twin).title == "from b"


def test_unknown_conflict_id_is_a_usage_error(pair):
    result = pair.cli("conflicts", "resolve", "99", "--take", "a")
    assert result.exit_code == 2 and "no open conflict with id 99" in result.output


def test_chain_of_three_tools_propagates_once_and_never_loops(tmp_path):
    tag = uuid.uuid4().hex[:8]
    stores = {n: ReferenceStore(f"memory:{n}-{tag}") for n in ("gh", "jira", "trello")}
    config = write_config(
        tmp_path / "chain.toml", state_url=f"sqlite:///{tmp_path / 'state.db'}",
        connections={n: {"plugin": "reference", "path": f"memory:{n}-{tag}"} for n in stores},
        flows=[{"name": "gh-jira", "a": {"connection": "gh", "scope": "p"},
                "b": {"connection": "jira", "scope": "p"}, "records": ["issue"]},
               {"name": "jira-trello", "a": {"connection": "jira", "scope": "p"},
                "b": {"connection": "trello", "scope": "p"}, "records": ["issue"]}])

    def sync() -> str:
        result = CliRunner().invoke(main, ["sync", "-q", "-c", str(config)])
        assert result.exit_code == 0, result.output
        return result.output

    source = stores["gh"].put("p", "issue", Issue(title="travels"))
    sync()
    sync()
    assert [s.count("p", "issue") for s in stores.values()] == [1, 1, 1]
    stores["trello"].edit("p", "issue", stores["trello"].all("p", "issue")[0][0], title="edited at the end")
    for _ in range(3):
        sync()
    assert stores["gh"].get("p", "issue", source).title == "edited at the end"
    # Settled: further runs write nothing anywhere.
    out = sync()
    assert out.count("0 created, 0 updated") == 4, out
    assert [s.count("p", "issue") for s in stores.values()] == [1, 1, 1]
    for store in stores.values():
        store.close()


def test_comments_sync_append_wise_with_attribution_and_edits(pair):
    source, twin = _linked(pair)
    from hub.model import Person

    comment = pair.a.put("proj", "comment", Comment(body="Looks good", issue=source,
                                                     author=Person(display_name="Alice")))
    pair.sync()
    [(twin_comment, copied)] = pair.b.all("proj", "comment")
    assert copied.issue == twin
    assert copied.body.startswith("**Alice** (via left):") and copied.body.endswith("Looks good")
    pair.b.put("proj", "comment", Comment(body="Thanks", issue=twin, author=Person(display_name="Bob")))
    pair.sync()
    bodies = sorted(c.body.split("\n")[-1] for _, c in pair.a.all("proj", "comment"))
    assert bodies == ["Looks good", "Thanks"]
    pair.a.edit("proj", "comment", comment, body="Looks great")
    pair.sync()
    assert pair.b.get("proj", "comment", twin_comment).body.endswith("Looks great")
    out = pair.sync()
    assert "left: 0 created, 0 updated" in out.output and "right: 0 created, 0 updated" in out.output
    assert pair.a.count("proj", "comment") == 2 and pair.b.count("proj", "comment") == 2


def test_first_run_matches_existing_records_by_exact_title(make_pair):
    pair = make_pair(match=["marker", "link", "title"])
    pair.a.put("proj", "issue", Issue(title="already in both"))
    pair.b.put("proj", "issue", Issue(title="already in both"))
    pair.a.put("proj", "issue", Issue(title="only in a"))
    pair.sync()
    assert sorted(t.title for _, t in pair.b.all("proj", "issue")) == ["already in both", "only in a"]
    assert sorted(t.title for _, t in pair.a.all("proj", "issue")) == ["already in both", "only in a"]


def test_first_run_matches_by_a_link_in_the_body(make_pair):
    pair = make_pair()
    b_id = pair.b.put("proj", "issue", Issue(title="b side", url="https://b.example/issues/7"))
    pair.a.put("proj", "issue", Issue(title="a side", description="Tracked in https://b.example/issues/7"))
    pair.sync()
    assert pair.b.count("proj", "issue") == 1 and pair.a.count("proj", "issue") == 1
    assert b_id == pair.b.all("proj", "issue")[0][0]


def test_lost_state_store_is_recovered_by_deterministic_markers(make_pair, tmp_path):
    pair = make_pair()
    for n in range(3):
        pair.a.put("proj", "issue", Issue(title=f"t{n}"))
    pair.sync()
    (tmp_path / "p0" / "state.db").unlink()  # the state store is gone
    pair.sync()
    assert pair.b.count("proj", "issue") == 3
    assert pair.a.count("proj", "issue") == 3


def test_a_value_a_transform_carries_in_another_field_is_rewritten_when_it_changes(make_pair, tmp_path):
    (tmp_path / "label.toml").write_text(
        '[issue.b.transforms.customer]\ntransform = "field_label"\nprefix = "customer:"\n')
    pair = make_pair(records=["issue"], mapping=str(tmp_path / "label.toml"))
    source = pair.a.put("proj", "issue", Issue(title="work", customer="Old Co"))
    pair.sync()
    [(twin, item)] = pair.b.all("proj", "issue")
    assert item.labels == ["customer:Old_Co"]
    pair.a.edit("proj", "issue", source, customer="New Co")
    pair.sync()
    # Only `customer` changed canonically, but on b it lives in the labels: they must be rewritten.
    assert pair.b.get("proj", "issue", twin).labels == ["customer:New_Co"]
    out = pair.sync()
    assert "left: 0 created, 0 updated" in out.output and "right: 0 created, 0 updated" in out.output
    assert pair.a.get("proj", "issue", source).customer == "New Co"


def test_records_matched_on_the_first_run_merge_by_policy_instead_of_one_overwriting_the_other(make_pair):
    pair = make_pair(match=["title"], conflict="prefer-a", records=["issue"])
    a_id = pair.a.put("proj", "issue", Issue(title="Export invoices", description="from a",
                                               labels=["billing"]))
    b_id = pair.b.put("proj", "issue", Issue(title="Export invoices", description="from b",
                                               priority=Priority.HIGH))
    pair.sync()
    for store, ident in ((pair.a, a_id), (pair.b, b_id)):
        item = store.get("proj", "issue", ident)
        # Two values differ: the policy decides (a wins). A blank is no value: b's priority fills it.
        assert (item.description, item.labels, item.priority) == ("from a", ["billing"], Priority.HIGH)
    out = pair.sync()
    assert "left: 0 created, 0 updated" in out.output and "right: 0 created, 0 updated" in out.output
    out = pair.sync()
    assert "left: 0 created, 0 updated" in out.output and "right: 0 created, 0 updated" in out.output
    assert pair.a.get("proj", "issue", a_id).description == "from a"


def test_a_one_way_b_to_a_flow_also_matches_existing_records_on_its_first_run(make_pair):
    pair = make_pair(direction="b->a", match=["marker", "link", "title"], records=["issue"])
    pair.a.put("proj", "issue", Issue(title="in both"))
    pair.b.put("proj", "issue", Issue(title="in both"))
    pair.b.put("proj", "issue", Issue(title="only in b"))
    pair.sync()
    assert sorted(t.title for _, t in pair.a.all("proj", "issue")) == ["in both", "only in b"]
    pair.sync()
    assert pair.a.count("proj", "issue") == 2 and pair.b.count("proj", "issue") == 2
