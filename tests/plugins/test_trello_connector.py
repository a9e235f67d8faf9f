"""The Trello connector against the Trello sandbox: what the sync engine relies on, card by card."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from pmhub_plugins.trello.connector import (
    RateWindow,
    TrelloConnector,
    TrelloSettings,
    split_marker,
    status_from_list,
    with_marker,
)
from pmhub_plugins.trello.sandbox import TrelloSandbox
from pydantic import ValidationError

from hub.connector import Remote
from hub.errors import AuthError, PermanentError, TransientError
from hub.model import Comment, Issue, Person, StatusCategory
from hub.sandbox.server import SandboxApp, SandboxServer
from hub.testing.contract import ConnectorContract
from hub.testing.sandbox_client import SandboxClient
from tests.sandbox.trello_http import TrelloHttp

MARKER = "pmhub-0123456789abcdef"


def make_connector(base: str, *, token: str = "sandbox-token", timeout: float = 10) -> TrelloConnector:
    settings = TrelloSettings(plugin="trello", base_url=base, key="sandbox-key", token=token, timeout=timeout)
    connector = TrelloConnector("board", settings)
    connector.open()
    return connector


@pytest.fixture
def trello(sandbox: SandboxClient) -> TrelloHttp:
    """The board's users, acting through the API directly."""
    return TrelloHttp(sandbox.base("trello"))


@pytest.fixture
def board(trello: TrelloHttp) -> dict[str, str]:
    created = trello.board("Customer board")
    return {"id": created["id"], **trello.lists(created["id"])}


@pytest.fixture
def connector(sandbox: SandboxClient) -> Iterator[TrelloConnector]:
    connector = make_connector(sandbox.base("trello"))
    yield connector
    connector.close()


def listed(connector: TrelloConnector, board: str, since: dt.datetime | None = None,
           record_type: str = "issue") -> dict[str, Remote]:
    return {r.id: r for r in connector.list_changed(board, record_type, since)}


# -- settings and small pieces ----------------------------------------------------------------
def test_settings_keep_the_token_secret() -> None:
    settings = TrelloSettings(plugin="trello", key="k", token="very-secret")
    assert settings.base_url == "https://api.trello.com"
    assert "very-secret" not in repr(settings) and "very-secret" not in str(settings.model_dump())
    with pytest.raises(ValidationError):
        TrelloSettings(plugin="trello", key="k", token="t", tokne="typo")


def test_marker_is_hidden_markdown_and_round_trips() -> None:
    markdown_it = pytest.importorskip("markdown_it")
    render = markdown_it.MarkdownIt("commonmark").render
    for text in ("", "Plain text", "Para one.\n\nPara two\n", "- a list\n- of items"):
        marked = with_marker(text, MARKER)
        assert split_marker(marked) == (text, MARKER)
        assert MARKER not in render(marked), "the marker must not show when Trello renders the text"
        assert render(marked) == render(text)
    assert split_marker("no marker here") == ("no marker here", None)
    with pytest.raises(PermanentError):
        with_marker("x", "has spaces)")


def test_status_from_list_names() -> None:
    assert status_from_list("To Do") is StatusCategory.TODO
    assert status_from_list("Doing") is StatusCategory.IN_PROGRESS
    assert status_from_list("Done") is StatusCategory.DONE
    assert status_from_list("Blocked by customer") is StatusCategory.BLOCKED
    assert status_from_list("Ideas") is StatusCategory.TODO


def test_rate_window_pauses_before_the_limit() -> None:
    now = [0.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    window = RateWindow(3, 10.0, clock=lambda: now[0], sleep=sleep)
    for _ in range(3):
        window.acquire()
        now[0] += 1.0
    assert slept == []
    window.acquire()  # the 4th within 10 s waits until the 1st leaves the window
    assert slept == [pytest.approx(7.0)]
    now[0] += 20.0
    window.acquire()
    assert len(slept) == 1


# -- reading -------------------------------------------------------------------------------------
def test_cards_become_issues(trello: TrelloHttp, board: dict[str, str], connector: TrelloConnector) -> None:
    me = trello.get("/members/me")
    label = trello.call("POST", "/labels",
                        params={"idBoard": board["id"], "name": "customer", "color": "green"})
    unnamed = trello.get(f"/boards/{board['id']}/labels")[0]
    card = trello.card(board["Doing"], "Export PDF", desc="**Bold** ask", due="2026-03-01",
                       idLabels=f"{label['id']},{unnamed['id']}", idMembers=me["id"])
    remote = listed(connector, board["id"])[card["id"]]
    issue = remote.item
    assert isinstance(issue, Issue)
    assert (issue.title, issue.description) == ("Export PDF", "**Bold** ask")
    assert issue.labels == ["customer"], "colour-only labels have no name to sync"
    assert issue.due_date == dt.date(2026, 3, 1)
    assert issue.assignees == [Person(display_name="pmhub bot", handles={"board": "pmhubbot"})]
    assert (issue.status, issue.raw) == (StatusCategory.IN_PROGRESS, {"status": "Doing"})
    assert issue.created is not None and issue.created.tzinfo is not None
    assert remote.updated == issue.updated and remote.version == card["dateLastActivity"]
    assert remote.url == card["url"] and remote.marker is None


def test_archived_cards_are_cancelled_unless_done(trello: TrelloHttp, board: dict[str, str],
                                                  connector: TrelloConnector) -> None:
    dropped = trello.card(board["To Do"], "Dropped")
    finished = trello.card(board["Done"], "Finished")
    for card in (dropped, finished):
        trello.call("PUT", f"/cards/{card['id']}", params={"closed": "true"})
    found = listed(connector, board["id"])
    assert found[dropped["id"]].item.status is StatusCategory.CANCELLED  # type: ignore[union-attr]
    assert found[finished["id"]].item.status is StatusCategory.DONE  # type: ignore[union-attr]


def test_list_changed_since_a_cursor(trello: TrelloHttp, board: dict[str, str],
                                     connector: TrelloConnector, sandbox: SandboxClient) -> None:
    old = trello.card(board["To Do"], "old")
    touched = trello.card(board["To Do"], "touched")
    cursor = max(r.updated for r in listed(connector, board["id"]).values() if r.updated)
    later = dt.datetime.fromisoformat(cursor.isoformat()) + dt.timedelta(milliseconds=1)
    new = trello.card(board["To Do"], "new")
    trello.call("PUT", f"/cards/{touched['id']}", params={"idList": board["Doing"]})
    sandbox.clear_requests()
    changed = listed(connector, board["id"], later)
    assert set(changed) == {new["id"], touched["id"]}
    assert old["id"] not in changed
    stamps = [r.updated for r in connector.list_changed(board["id"], "issue", later)]
    assert stamps == sorted(stamps), "sorted_by_updated is declared"
    assert changed[touched["id"]].item.raw == {"status": "Doing"}  # type: ignore[union-attr]


def test_a_quiet_board_costs_two_requests(trello: TrelloHttp, board: dict[str, str],
                                          connector: TrelloConnector, sandbox: SandboxClient) -> None:
    trello.card(board["To Do"], "settled")
    future = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=1)
    sandbox.clear_requests()
    before = connector.calls.total
    assert listed(connector, board["id"], future) == {}
    paths = [r["path"] for r in sandbox.requests("trello")]
    assert paths == [f"/1/boards/{board['id']}/lists", f"/1/boards/{board['id']}/actions"]
    assert connector.calls.total - before == 2


def test_deletions_come_from_the_action_log(trello: TrelloHttp, board: dict[str, str],
                                            connector: TrelloConnector) -> None:
    doomed = trello.card(board["To Do"], "doomed")
    since = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
    trello.call("DELETE", f"/cards/{doomed['id']}")
    gone = listed(connector, board["id"], since)[doomed["id"]]
    assert gone.deleted and gone.item is None and gone.updated is not None
    assert listed(connector, board["id"], None)[doomed["id"]].deleted, "a full listing reports it too"


def test_get(trello: TrelloHttp, board: dict[str, str], connector: TrelloConnector) -> None:
    card = trello.card(board["To Do"], "one")
    got = connector.get(board["id"], "issue", card["id"])
    assert got is not None and got.item.title == "one"  # type: ignore[union-attr]
    trello.call("DELETE", f"/cards/{card['id']}")
    assert connector.get(board["id"], "issue", card["id"]) is None
    other = trello.board("Elsewhere")
    elsewhere = trello.card(trello.lists(other["id"])["To Do"], "not ours")
    assert connector.get(board["id"], "issue", elsewhere["id"]) is None


# -- writing -------------------------------------------------------------------------------------
def test_create_with_marker_then_find_it(trello: TrelloHttp, board: dict[str, str],
                                         connector: TrelloConnector) -> None:
    item = Issue(title="From Jira", description="Steps:\n\n1. log in", labels=["customer", "bug"],
                 due_date=dt.date(2026, 4, 2), status=StatusCategory.IN_PROGRESS,
                 assignees=[Person(handles={"board": "pmhubbot"})])
    created = connector.create(board["id"], "issue", item, MARKER)
    raw = trello.get(f"/cards/{created.id}")
    assert raw["desc"] == f"Steps:\n\n1. log in\n\n[pmhub]: # ({MARKER})"
    assert raw["idList"] == board["Doing"]
    assert sorted(label["name"] for label in raw["labels"]) == ["bug", "customer"]
    assert raw["due"].startswith("2026-04-02")
    assert len(raw["idMembers"]) == 1
    assert created.marker == MARKER and created.item.description == item.description  # type: ignore[union-attr]
    found = connector.find_by_marker(board["id"], "issue", MARKER)
    assert found is not None and found.id == created.id and found.marker == MARKER
    assert connector.find_by_marker(board["id"], "issue", "pmhub-ffffffffffffffff") is None
    again = connector.create(board["id"], "issue", Issue(title="labels exist now", labels=["bug"]), "pmhub-2")
    assert len([lab for lab in trello.get(f"/boards/{board['id']}/labels") if lab["name"] == "bug"]) == 1
    assert again.item.labels == ["bug"]  # type: ignore[union-attr]


def test_move_between_lists_by_raw_status(trello: TrelloHttp, board: dict[str, str],
                                          connector: TrelloConnector) -> None:
    trello.call("POST", "/lists", params={"idBoard": board["id"], "name": "Waiting on customer"})
    created = connector.create(board["id"], "issue", Issue(title="Move me"), MARKER)
    assert trello.get(f"/cards/{created.id}")["idList"] == board["To Do"]
    named = Issue(title="Move me", status=StatusCategory.BLOCKED, raw={"status": "Waiting on customer"})
    moved = connector.update(board["id"], "issue", created.id, named, frozenset({"status"}))
    assert moved.item.raw == {"status": "Waiting on customer"}  # type: ignore[union-attr]
    by_category = Issue(title="Move me", status=StatusCategory.DONE)
    done = connector.update(board["id"], "issue", created.id, by_category, frozenset({"status"}))
    assert trello.get(f"/cards/{created.id}")["idList"] == board["Done"]
    assert done.item.status is StatusCategory.DONE  # type: ignore[union-attr]
    assert split_marker(trello.get(f"/cards/{created.id}")["desc"])[1] == MARKER, "marker survives"


def test_update_writes_only_what_changed(trello: TrelloHttp, board: dict[str, str],
                                         connector: TrelloConnector) -> None:
    created = connector.create(board["id"], "issue", Issue(title="Before", description="text"), MARKER)
    trello.call("PUT", f"/cards/{created.id}", params={"idList": board["Doing"]})  # a user moves it
    edited = Issue(title="After", description="new text", status=StatusCategory.TODO)
    updated = connector.update(board["id"], "issue", created.id, edited, frozenset({"title", "description"}))
    raw = trello.get(f"/cards/{created.id}")
    assert (raw["name"], raw["idList"]) == ("After", board["Doing"]), "status was not among the changes"
    assert raw["desc"] == f"new text\n\n[pmhub]: # ({MARKER})"
    assert updated.item.description == "new text"  # type: ignore[union-attr]


def test_archive_and_delete(trello: TrelloHttp, board: dict[str, str], connector: TrelloConnector) -> None:
    created = connector.create(board["id"], "issue", Issue(title="Not needed"), MARKER)
    cancelled = Issue(title="Not needed", status=StatusCategory.CANCELLED)
    result = connector.update(board["id"], "issue", created.id, cancelled, frozenset({"status"}))
    raw = trello.get(f"/cards/{created.id}")
    assert raw["closed"] is True and raw["idList"] == board["To Do"]
    assert result.item.status is StatusCategory.CANCELLED  # type: ignore[union-attr]
    reopened = connector.update(board["id"], "issue", created.id, Issue(title="Not needed"),
                                frozenset({"status"}))
    assert trello.get(f"/cards/{created.id}")["closed"] is False
    assert reopened.item.status is StatusCategory.TODO  # type: ignore[union-attr]
    connector.delete(board["id"], "issue", created.id)
    assert connector.get(board["id"], "issue", created.id) is None
    connector.delete(board["id"], "issue", created.id)  # deleting what is gone is not an error


def test_lost_create_reply_is_recovered_by_marker(trello: TrelloHttp, board: dict[str, str],
                                                  connector: TrelloConnector, sandbox: SandboxClient) -> None:
    sandbox.fault("trello", method="POST", path="^/1/cards$", status=502, after_commit=True)
    with pytest.raises(TransientError):
        connector.create(board["id"], "issue", Issue(title="Once"), MARKER)
    found = connector.find_by_marker(board["id"], "issue", MARKER)
    assert found is not None and found.item.title == "Once"  # type: ignore[union-attr]
    assert len(trello.get(f"/boards/{board['id']}/cards/all")) == 1


# -- comments ------------------------------------------------------------------------------------
def test_comments(trello: TrelloHttp, board: dict[str, str], connector: TrelloConnector) -> None:
    card = trello.card(board["To Do"], "Discussed")
    since = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
    theirs = trello.call("POST", f"/cards/{card['id']}/actions/comments",
                         params={"text": "From the customer"})
    ours = connector.create(board["id"], "comment", Comment(body="From Jira", issue=card["id"]), MARKER)
    assert trello.get(f"/actions/{ours.id}")["data"]["text"].endswith(f"[pmhub]: # ({MARKER})")
    found = listed(connector, board["id"], since, "comment")
    assert set(found) == {theirs["id"], ours.id}
    comment = found[theirs["id"]].item
    assert isinstance(comment, Comment)
    assert (comment.body, comment.issue) == ("From the customer", card["id"])
    assert comment.author == Person(display_name="pmhub bot", handles={"board": "pmhubbot"})
    assert found[ours.id].marker == MARKER and found[ours.id].item.body == "From Jira"  # type: ignore[union-attr]
    assert connector.find_by_marker(board["id"], "comment", MARKER).id == ours.id  # type: ignore[union-attr]

    now = dt.datetime.now(dt.UTC)
    after_writes = now.replace(microsecond=now.microsecond // 1000 * 1000)  # Trello keeps milliseconds
    trello.call("PUT", f"/actions/{theirs['id']}", params={"text": "Edited by the customer"})
    edited = listed(connector, board["id"], after_writes, "comment")
    assert list(edited) == [theirs["id"]], "an edit within the look-back window is seen"
    assert edited[theirs["id"]].item.body == "Edited by the customer"  # type: ignore[union-attr]

    updated = connector.update(board["id"], "comment", ours.id, Comment(body="Jira edit", issue=card["id"]),
                               frozenset({"body"}))
    assert updated.item.body == "Jira edit" and updated.marker == MARKER  # type: ignore[union-attr]
    connector.delete(board["id"], "comment", ours.id)
    assert connector.get(board["id"], "comment", ours.id) is None


# -- errors --------------------------------------------------------------------------------------
def test_errors_are_classified(trello: TrelloHttp, board: dict[str, str], connector: TrelloConnector,
                               sandbox: SandboxClient) -> None:
    with pytest.raises(PermanentError) as bad_id:
        connector.get(board["id"], "issue", "not-an-id")
    assert bad_id.value.status == 400 and "invalid id" in str(bad_id.value)
    with pytest.raises(PermanentError) as missing_board:
        list(connector.list_changed("f" * 24, "issue", None))
    assert missing_board.value.status == 404
    card = trello.card(board["To Do"])
    trello.call("DELETE", f"/cards/{card['id']}")
    with pytest.raises(PermanentError):
        connector.update(board["id"], "issue", card["id"], Issue(title="x"), frozenset({"title"}))

    sandbox.fault("trello", method="GET", path="/lists$", status=429)
    with pytest.raises(TransientError) as limited:
        list(connector.list_changed(board["id"], "issue", None))
    assert limited.value.status == 429 and limited.value.retry_after == 10.0
    sandbox.fault("trello", method="GET", path="/lists$", status=503)
    with pytest.raises(TransientError):
        list(connector.list_changed(board["id"], "issue", None))
    sandbox.fault("trello", method="GET", path="/lists$", drop=True)
    with pytest.raises(TransientError):
        list(connector.list_changed(board["id"], "issue", None))


def test_timeout_is_transient(board: dict[str, str], sandbox: SandboxClient) -> None:
    slow = make_connector(sandbox.base("trello"), timeout=0.2)
    sandbox.fault("trello", method="GET", path="/lists$", delay=1.0)
    with pytest.raises(TransientError, match="did not answer"):
        list(slow.list_changed(board["id"], "issue", None))


def test_unreachable_service_is_transient() -> None:
    dead = make_connector("http://127.0.0.1:9", timeout=1)
    with pytest.raises(TransientError, match="cannot reach"):
        dead.whoami()


def test_wrong_token_is_an_auth_error() -> None:
    with SandboxServer(SandboxApp([TrelloSandbox()], token="right")) as server:
        assert make_connector(server.url + "/trello", token="right").whoami() == "pmhubbot"
        with pytest.raises(AuthError) as refused:
            make_connector(server.url + "/trello", token="wrong").whoami()
    assert refused.value.status == 401 and "invalid token" in str(refused.value)
    assert "wrong" not in str(refused.value).replace("invalid token", ""), "the token never shows"


def test_registered_as_a_plugin() -> None:
    from hub.plugins import build_plugin_manager

    assert build_plugin_manager().connector("trello") is TrelloConnector


# -- the contract kit ----------------------------------------------------------------------------
_FAULT_PATHS = {
    "list": ("GET", r"^/1/boards/[^/]+/lists$"),
    "get": ("GET", r"^/1/cards/[0-9a-f]{24}$"),
    "create": ("POST", r"^/1/cards$"),
    "update": ("PUT", r"^/1/cards/[0-9a-f]{24}$"),
}


class TestTrelloContract(ConnectorContract):
    page_size = 5  # the board's lists with their cards: one unpaged request; a few cards are enough
    connector_class = TrelloConnector

    @pytest.fixture
    def connector(self, sandbox: SandboxClient) -> Iterator[TrelloConnector]:
        self.sandbox = sandbox
        connector = make_connector(sandbox.base("trello"))
        yield connector
        connector.close()

    @pytest.fixture
    def scope(self, sandbox: SandboxClient) -> str:
        return TrelloHttp(sandbox.base("trello")).board("Contract")["id"]

    def inject_error(self, status: int, operation: str) -> float | None:
        method, path = _FAULT_PATHS[operation]
        self.sandbox.fault("trello", method=method, path=path, status=status)
        return None  # Trello sends no Retry-After


_COMMENT_FAULT_PATHS = {
    "list": ("GET", r"^/1/boards/[^/]+/actions$"),
    "get": ("GET", r"^/1/actions/[0-9a-f]{24}$"),
    "create": ("POST", r"^/1/cards/[0-9a-f]{24}/actions/comments$"),
    "update": ("PUT", r"^/1/actions/[0-9a-f]{24}$"),
}


class TestTrelloCommentContract(TestTrelloContract):
    """The same checks for card comments (Trello's ``commentCard`` actions)."""

    record_type = "comment"

    @pytest.fixture
    def scope(self, sandbox: SandboxClient) -> str:
        trello = TrelloHttp(sandbox.base("trello"))
        board = trello.board("Comment contract")
        self.card_id = trello.card(trello.lists(board["id"])["To Do"], "Talked about")["id"]
        return board["id"]

    def make_item(self, n: int) -> Comment:
        return Comment(body=f"contract comment {n}", issue=self.card_id)

    def inject_error(self, status: int, operation: str) -> float | None:
        method, path = _COMMENT_FAULT_PATHS[operation]
        self.sandbox.fault("trello", method=method, path=path, status=status)
        return None
