"""The Trello connector inside real sync runs (``pmhub sync`` through the CLI), against the sandbox:
a reference tool on one side, a Trello board on the other."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from hub.cli import main
from hub.model import Comment, Issue, StatusCategory
from hub.testing.reference import ReferenceStore
from hub.testing.sandbox_client import SandboxClient
from tests.conftest import write_config
from tests.sandbox.trello_http import TrelloHttp


class BoardFlow:
    """A reference tool (side a) and a Trello board (side b) joined by one flow."""

    def __init__(self, tmp_path: Path, sandbox: SandboxClient, **flow: Any) -> None:
        self.trello = TrelloHttp(sandbox.base("trello"))
        created = self.trello.board("Customer board")
        self.board = created["id"]
        self.lists = self.trello.lists(self.board)
        self.store = ReferenceStore(f"memory:trello-{uuid.uuid4().hex[:8]}")
        self.sandbox = sandbox
        self.config = write_config(
            tmp_path / "pmhub.toml", state_url=f"sqlite:///{tmp_path / 'state.db'}",
            connections={
                "tracker": {"plugin": "reference", "path": self.store.path},
                "board": {"plugin": "trello", "base_url": sandbox.base("trello"), "key": "sandbox-key",
                          "token": {"env": "PMHUB_TEST_TRELLO_TOKEN"}, "timeout": 10},
            },
            flows=[{"name": "customer", "a": {"connection": "tracker", "scope": "proj"},
                    "b": {"connection": "board", "scope": self.board}, **flow}])

    def sync(self, *args: str, expect: int = 0) -> Result:
        result = CliRunner().invoke(main, ["sync", "--quiet", *args, "--config", str(self.config)],
                                    catch_exceptions=False)
        assert result.exit_code == expect, result.output
        return result

    def cards(self) -> list[dict[str, Any]]:
        return self.trello.get(f"/boards/{self.board}/cards/all")


@pytest.fixture
def flow(tmp_path: Path, sandbox: SandboxClient, monkeypatch: pytest.MonkeyPatch) -> Iterator[BoardFlow]:
    monkeypatch.setenv("PMHUB_TEST_TRELLO_TOKEN", "sandbox-token")
    made = BoardFlow(tmp_path, sandbox, records=["issue", "comment"], direction="both", on_delete="close")
    yield made
    made.store.close()


def test_issue_becomes_a_card_once(flow: BoardFlow) -> None:
    flow.store.put("proj", "issue", Issue(title="Export PDF", description="Customers ask for it",
                                         labels=["customer"]))
    flow.sync()
    [card] = flow.cards()
    assert card["name"] == "Export PDF" and card["idList"] == flow.lists["To Do"]
    assert card["desc"].startswith("Customers ask for it\n\n[pmhub]: # (pmhub-")
    flow.sandbox.clear_requests()
    flow.sync()
    assert len(flow.cards()) == 1, "a second run creates nothing"
    writes = [r for r in flow.sandbox.requests("trello") if r["method"] != "GET"]
    assert writes == [], f"a no-op run writes nothing, got {writes}"


def test_card_moved_to_done_closes_the_twin(flow: BoardFlow) -> None:
    source = flow.store.put("proj", "issue", Issue(title="Ship it"))
    flow.sync()
    [card] = flow.cards()
    flow.trello.call("PUT", f"/cards/{card['id']}", params={"idList": flow.lists["Done"]})
    flow.sync()
    assert flow.store.get("proj", "issue", source).status is StatusCategory.DONE
    flow.sync()
    assert flow.trello.get(f"/cards/{card['id']}")["idList"] == flow.lists["Done"]


def test_comments_cross_both_ways(flow: BoardFlow) -> None:
    source = flow.store.put("proj", "issue", Issue(title="Discuss"))
    flow.sync()
    [card] = flow.cards()
    flow.trello.call("POST", f"/cards/{card['id']}/actions/comments", params={"text": "Customer says hi"})
    flow.store.put("proj", "comment", Comment(body="Dev says hi", issue=source))
    flow.sync()
    actions = flow.trello.get(f"/boards/{flow.board}/actions", filter="commentCard")
    texts = sorted(a["data"]["text"].split("\n\n[pmhub]: #")[0] for a in actions)
    assert texts == ["Customer says hi", "Dev says hi"], "the copy carries a hidden marker only"
    bodies = [c.body for _, c in flow.store.all("proj", "comment")]
    assert len(bodies) == 2 and "Dev says hi" in bodies
    assert any(b.endswith("\n\nCustomer says hi") for b in bodies), "copied with its author attributed"
    flow.sync()
    assert len(flow.trello.get(f"/boards/{flow.board}/actions", filter="commentCard")) == 2, "no echoes"


def test_deleted_card_closes_the_twin(flow: BoardFlow) -> None:
    source = flow.store.put("proj", "issue", Issue(title="Short-lived"))
    flow.sync()
    [card] = flow.cards()
    flow.trello.call("DELETE", f"/cards/{card['id']}")
    flow.sync()
    assert flow.store.get("proj", "issue", source).status.is_closed


def test_lost_create_reply_makes_no_duplicate(flow: BoardFlow) -> None:
    flow.store.put("proj", "issue", Issue(title="Exactly once"))
    flow.sandbox.fault("trello", method="POST", path="^/1/cards$", status=502, after_commit=True)
    # The run may finish within its retries or leave the record for the next one; either way the
    # card the lost reply created is found by its marker and never created twice.
    CliRunner().invoke(main, ["sync", "--quiet", "--config", str(flow.config)], catch_exceptions=False)
    flow.sync()
    assert [c["name"] for c in flow.cards()] == ["Exactly once"]
