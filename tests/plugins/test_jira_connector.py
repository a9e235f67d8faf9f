"""The Jira connector against the Jira stand-in, through the real ``jira`` client."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from typing import ClassVar
from urllib.parse import parse_qs
from zoneinfo import ZoneInfo

import pytest
from pmhub_plugins.jira.connector import JiraConnector, JiraSettings, marker_label
from pmhub_plugins.jira.markup import markdown_to_wiki, wiki_to_markdown
from pmhub_plugins.jira.sandbox import JiraSandbox

from hub.errors import AuthError, PermanentError, TransientError
from hub.model import Comment, Issue, Kind, Person, Priority, StatusCategory
from hub.sandbox.server import SandboxApp, SandboxServer
from hub.testing.contract import ConnectorContract
from hub.testing.sandbox_client import SandboxClient
from tests.sandbox.jira_support import http, new_issue, new_project

SCOPE = "PORT"
#: Where the sandbox fault matcher finds each contract operation's request.
OPERATION_REQUESTS = {
    "list": ("GET", r"/search/jql$"),
    "get": ("GET", r"/issue/[^/]+$"),
    "create": ("POST", r"/issue$"),
    "update": ("PUT", r"/issue/[^/]+$"),
}


def make_connector(base: str, *, token: str = "t", page_size: int = 100,
                   api_version: int = 2) -> JiraConnector:
    settings = JiraSettings(plugin="jira", base_url=base, email="bot@acme.example", token=token,
                            page_size=page_size, api_version=api_version, timeout=10)
    return JiraConnector("jira", settings)


@pytest.fixture
def jira(sandbox: SandboxClient) -> Iterator[JiraConnector]:
    new_project(sandbox, SCOPE)
    connector = make_connector(sandbox.base("jira"), page_size=3)
    connector.open()
    yield connector
    connector.close()


def marker() -> str:
    return uuid.uuid4().hex


# -- reading -----------------------------------------------------------------------------------
def test_cursor_becomes_jql_digits_in_the_users_zone(jira: JiraConnector) -> None:
    assert jira.user_time_zone() == ZoneInfo("Europe/Berlin")
    summer = dt.datetime(2025, 7, 1, 10, 15, 42, 500_000, tzinfo=dt.UTC)
    assert jira.jql_time(summer) == "2025/07/01 12:15", "CEST, floored to the minute"
    winter = dt.datetime(2025, 1, 10, 23, 59, 59, tzinfo=dt.UTC)
    assert jira.jql_time(winter) == "2025/01/11 00:59", "CET, across midnight"
    # 00:30 and 01:30 UTC on 2025-10-26 are both 02:30 on Berlin clocks; either reading of the digits
    # sent must lie at or before the cursor.
    for moment in (dt.datetime(2025, 10, 26, 0, 30, tzinfo=dt.UTC),
                   dt.datetime(2025, 10, 26, 1, 30, tzinfo=dt.UTC)):
        digits = jira.jql_time(moment)
        local = dt.datetime.strptime(digits, "%Y/%m/%d %H:%M")
        for fold in (0, 1):
            assert local.replace(tzinfo=ZoneInfo("Europe/Berlin"), fold=fold) <= moment


def test_list_changed_pages_and_resumes_from_a_cursor(sandbox: SandboxClient, jira: JiraConnector) -> None:
    first = [new_issue(sandbox, f"early {n}")["key"] for n in range(4)]
    everything = list(jira.list_changed(SCOPE, "issue", None))
    assert [r.item.url.rsplit("/", 1)[1] for r in everything] == first  # type: ignore[union-attr]
    assert [r.updated for r in everything] == sorted(r.updated for r in everything)  # type: ignore[type-var]
    cursor = max(r.updated for r in everything if r.updated)
    later = [new_issue(sandbox, f"later {n}")["key"] for n in range(2)]
    jira.user_time_zone()  # one GET /myself per connector, cached
    jira.calls.counts.clear()

    resumed = list(jira.list_changed(SCOPE, "issue", cursor + dt.timedelta(microseconds=1)))
    # The JQL asked for the whole floored minute in Berlin time; the connector drops what is older.
    assert [r.item.url.rsplit("/", 1)[1] for r in resumed] == later  # type: ignore[union-attr]
    searches = [parse_qs(r["query"])["jql"][0] for r in sandbox.requests("jira")
                if r["path"].endswith("/search/jql")]
    berlin = cursor.astimezone(ZoneInfo("Europe/Berlin"))
    assert f'updated >= "{berlin:%Y/%m/%d %H:%M}"' in searches[-1]
    # All six share the cursor's minute, so both pages of three come back and four are dropped.
    assert jira.calls.counts == {"list": 2}


def test_an_edit_while_paging_skips_nothing(sandbox: SandboxClient, jira: JiraConnector) -> None:
    keys = [new_issue(sandbox, f"issue {n}")["key"] for n in range(7)]
    listing = jira.list_changed(SCOPE, "issue", None)
    first_page = [next(listing) for _ in range(3)]
    # Edited between pages: it moves to the end of "ORDER BY updated", pulling the rest forward.
    assert http(sandbox, "PUT", f"/issue/{keys[0]}", json={"fields": {"summary": "edited"}}).ok
    rest = list(listing)
    seen = [r.item.url.rsplit("/", 1)[1] for r in first_page + rest]  # type: ignore[union-attr]
    assert sorted(seen) == sorted(keys), "every issue once, none skipped"


def test_issue_maps_to_the_canonical_model(sandbox: SandboxClient, jira: JiraConnector) -> None:
    sandbox.reset("demo")
    jira = make_connector(sandbox.base("jira"))
    jira.open()
    by_title = {r.item.title: r for r in jira.list_changed("PORT", "issue", None)}  # type: ignore[union-attr]
    login = by_title["Login page times out behind the customer's proxy"]
    issue = login.item
    assert isinstance(issue, Issue)
    assert (issue.kind, issue.status, issue.priority) == (Kind.BUG, StatusCategory.IN_PROGRESS, Priority.HIGH)
    assert issue.raw == {"status": "In Progress", "priority": "High", "kind": "Bug"}
    assert issue.labels == ["auth", "customer"]
    assert issue.assignees[0].display_name == "Alice Nguyen"
    assert issue.assignees[0].handles == {"jira": "712020:1a2b3c4d-alice"}
    assert issue.description.startswith("Users at Acme report a **timeout**")
    assert issue.updated is not None and issue.updated.tzinfo == dt.UTC
    assert login.version and login.version.endswith("+0000")
    epic = by_title["Customer portal v2"].item
    assert isinstance(epic, Issue) and epic.kind == Kind.EPIC and epic.priority == Priority.HIGHEST


# -- writing -----------------------------------------------------------------------------------
def test_create_with_marker_then_find_it(jira: JiraConnector) -> None:
    mark = marker()
    created = jira.create(SCOPE, "issue", Issue(title="Marked", labels=["customer"],
                                                description="Hello **world**"), mark)
    assert created.marker == mark
    assert isinstance(created.item, Issue) and created.item.labels == ["customer"]
    found = jira.find_by_marker(SCOPE, "issue", mark)
    assert found is not None and found.id == created.id
    assert jira.find_by_marker(SCOPE, "issue", marker()) is None
    raw = jira.client.issue(created.id).raw["fields"]
    assert sorted(raw["labels"]) == ["customer", marker_label(mark)]
    assert raw["description"] == "Hello *world*"


def test_create_lands_in_the_wanted_status(jira: JiraConnector) -> None:
    jira.calls.counts.clear()
    done = jira.create(SCOPE, "issue", Issue(title="Already done", status=StatusCategory.DONE,
                                             kind=Kind.STORY, priority=Priority.LOW), marker())
    assert isinstance(done.item, Issue)
    assert done.item.status == StatusCategory.DONE and done.item.raw["status"] == "Done"
    assert done.item.kind == Kind.STORY and done.item.priority == Priority.LOW
    # POST, GET with transitions, POST transition: the status after it needs no read-back, and the
    # unknown version makes the engine compare content on the next listing.
    assert jira.calls.counts == {"create": 1, "get": 1, "transition": 1}
    assert done.version is None
    stored = jira.get(SCOPE, "issue", done.id)
    assert stored is not None and stored.item == done.item.model_copy(update={"updated": stored.updated})


def test_bulk_create_transitions_only_what_needs_it(jira: JiraConnector) -> None:
    items = [(Issue(title=f"t{n}", status=StatusCategory.DONE if n % 2 else StatusCategory.TODO),
              marker()) for n in range(6)]
    jira.calls.counts.clear()
    results = jira.create_many(SCOPE, "issue", items)
    assert [r.item.status for r in results] == [item.status for item, _ in items]  # type: ignore[union-attr]
    # One bulk create, one bulk read (with transitions), one transition per finished issue.
    assert jira.calls.counts == {"bulk_create": 1, "get": 1, "transition": 3}


def test_status_only_update_is_two_calls(jira: JiraConnector) -> None:
    created = jira.create(SCOPE, "issue", Issue(title="Move me"), marker())
    assert isinstance(created.item, Issue)
    jira.calls.counts.clear()
    moved = jira.update(SCOPE, "issue", created.id,
                        created.item.model_copy(update={"status": StatusCategory.IN_PROGRESS, "raw": {}}),
                        frozenset({"status"}))
    assert isinstance(moved.item, Issue) and moved.item.status == StatusCategory.IN_PROGRESS
    assert jira.calls.counts == {"get": 1, "transition": 1}


def test_bulk_create_reports_each_element(sandbox: SandboxClient, jira: JiraConnector) -> None:
    items = [(Issue(title=f"bulk {n}"), marker()) for n in range(55)]
    items[7] = (Issue(title="bad labels", labels=["has space"]), marker())
    jira.calls.counts.clear()
    results = jira.create_many(SCOPE, "issue", items)
    assert len(results) == 55
    assert isinstance(results[7], PermanentError) and "label" in str(results[7])
    good = [r for r in results if not isinstance(r, Exception)]
    assert len(good) == 54 and all(r.marker == m for r, (_, m) in zip(
        [r for r in results if not isinstance(r, Exception)],
        [pair for n, pair in enumerate(items) if n != 7], strict=True))
    # Two bulk creates (50 + 5) and one bulk read of all 54: no call per issue.
    assert jira.calls.counts == {"bulk_create": 2, "get": 1}, jira.calls.counts
    assert len([r for r in sandbox.requests("jira") if r["path"].endswith("/issue/bulkfetch")]) == 1


def test_update_round_trip_with_transition(jira: JiraConnector) -> None:
    mark = marker()
    created = jira.create(SCOPE, "issue", Issue(title="Before", labels=["a"]), mark)
    assert isinstance(created.item, Issue)
    # raw carries the mapping's words for the target; priority has none, so the default name is used.
    changed_item = created.item.model_copy(update={
        "title": "After", "labels": ["b"], "status": StatusCategory.DONE,
        "raw": {"status": "Done", "kind": "Task"}, "priority": Priority.HIGHEST,
        "description": "Now with a [link](https://example.com)",
    })
    updated = jira.update(SCOPE, "issue", created.id, changed_item,
                          frozenset({"title", "labels", "status", "priority", "description"}))
    item = updated.item
    assert isinstance(item, Issue)
    assert (item.title, item.labels, item.status, item.priority) == (
        "After", ["b"], StatusCategory.DONE, Priority.HIGHEST)
    assert item.description == "Now with a [link](https://example.com)"
    assert updated.marker == mark, "the marker label survives a label change"
    assert updated.updated is not None and created.updated is not None
    assert updated.updated > created.updated
    again = jira.get(SCOPE, "issue", created.id)
    assert again is not None and again.item == item

    # Back to work: no raw status, so any transition into the category will do.
    reopened = item.model_copy(update={"status": StatusCategory.IN_PROGRESS, "raw": {}})
    moved = jira.update(SCOPE, "issue", created.id, reopened, frozenset({"status"}))
    assert isinstance(moved.item, Issue) and moved.item.raw["status"] == "In Progress"


def test_raw_words_from_the_mapping_win(jira: JiraConnector) -> None:
    # A mapping may send several canonical values to one Jira word: a requirement becomes a Story.
    created = jira.create(SCOPE, "issue", Issue(title="Needs SSO", kind=Kind.REQUIREMENT,
                                                raw={"kind": "Story", "priority": "High"},
                                                priority=Priority.HIGH), marker())
    assert isinstance(created.item, Issue)
    assert created.item.raw["kind"] == "Story" and created.item.priority == Priority.HIGH


def test_title_only_update_is_one_call(jira: JiraConnector) -> None:
    created = jira.create(SCOPE, "issue", Issue(title="One"), marker())
    assert isinstance(created.item, Issue)
    jira.calls.counts.clear()
    jira.update(SCOPE, "issue", created.id, created.item.model_copy(update={"title": "Two"}),
                frozenset({"title"}))
    assert jira.calls.total == 1


def test_comments_read_write_and_marker(sandbox: SandboxClient, jira: JiraConnector) -> None:
    issue = jira.create(SCOPE, "issue", Issue(title="Talk"), marker())
    before = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
    mark = marker()
    created = jira.create(SCOPE, "comment", Comment(body="Looks **good**", issue=issue.id), mark)
    assert isinstance(created.item, Comment) and created.item.body == "Looks **good**"
    assert created.item.author == Person(display_name="pmhub-bot", email="bot@acme.example",
                                         handles={"jira": created.item.author.handles["jira"]})  # type: ignore[union-attr]
    listed = list(jira.list_changed(SCOPE, "comment", before))
    assert [r.id for r in listed] == [created.id]
    found = jira.find_by_marker(SCOPE, "comment", mark)
    assert found is not None and found.id == created.id
    edited = jira.update(SCOPE, "comment", created.id, Comment(body="Edited", issue=issue.id),
                         frozenset({"body"}))
    assert isinstance(edited.item, Comment) and edited.item.body == "Edited"
    jira.delete(SCOPE, "comment", created.id)
    assert jira.get(SCOPE, "comment", created.id) is None


def test_comment_listing_reuses_the_issue_search_just_made(
    sandbox: SandboxClient, jira: JiraConnector,
) -> None:
    issue = jira.create(SCOPE, "issue", Issue(title="Talk"), marker())
    first = jira.create(SCOPE, "comment", Comment(body="one", issue=issue.id), marker())
    since = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
    assert [r.id for r in jira.list_changed(SCOPE, "issue", since)] == [issue.id]
    searches = len([r for r in sandbox.requests("jira") if "search" in r["path"]])
    # Someone comments between the two listings: not in the carried comments...
    late = jira.create(SCOPE, "comment", Comment(body="two", issue=issue.id), marker())
    assert [r.id for r in jira.list_changed(SCOPE, "comment", since)] == [first.id]
    assert len([r for r in sandbox.requests("jira") if "search" in r["path"]]) == searches
    # ...but its own `updated` is past any cursor that listing produced, so the next one has it.
    assert late.id in [r.id for r in jira.list_changed(SCOPE, "comment", since)]
    # A later cursor than the issue search's, or another scope, searches again.
    list(jira.list_changed(SCOPE, "issue", dt.datetime.now(dt.UTC)))
    list(jira.list_changed(SCOPE, "comment", since))
    assert len([r for r in sandbox.requests("jira") if "search" in r["path"]]) == searches + 3


def test_lost_comment_reply_is_recovered_by_marker(sandbox: SandboxClient, jira: JiraConnector) -> None:
    issue = jira.create(SCOPE, "issue", Issue(title="Thread"), marker())
    for n in range(3):
        jira.create(SCOPE, "issue", Issue(title=f"busy {n}"), marker())
    mark = marker()
    sandbox.fault("jira", method="POST", path=r"/comment$", status=502, after_commit=True)
    with pytest.raises(TransientError):
        jira.create(SCOPE, "comment", Comment(body="Sent once", issue=issue.id), mark)
    jira.calls.counts.clear()
    found = jira.find_by_marker(SCOPE, "comment", mark)
    assert found is not None and isinstance(found.item, Comment) and found.item.body == "Sent once"
    assert jira.calls.total == 1, "the connection remembers which issue the comment went to"

    # After a restart: the comments of recently updated issues are searched.
    fresh = make_connector(sandbox.base("jira"))
    fresh.open()
    again = fresh.find_by_marker(SCOPE, "comment", mark)
    assert again is not None and again.id == found.id
    assert fresh.find_by_marker(SCOPE, "comment", marker()) is None


def test_rest_v3_reads_and_writes_adf(sandbox: SandboxClient, jira: JiraConnector) -> None:
    v3 = make_connector(sandbox.base("jira"), api_version=3)
    v3.open()
    created = v3.create(SCOPE, "issue", Issue(title="ADF", description="First line\n\n- a\n- b"),
                        marker())
    assert isinstance(created.item, Issue) and created.item.description == "First line\n\n- a\n- b"
    v2_view = http(sandbox, "GET", f"/issue/{created.id}").json()["fields"]["description"]
    assert v2_view == "First line\n\n* a\n* b"


# -- markup ------------------------------------------------------------------------------------
@pytest.mark.parametrize("markdown", [
    "Plain text.", "snake_case_name and file-name.txt", "Line one\nline two", "**bold** and _em_",
    "- one\n- two", "1. first\n1. second", "# Heading\n\nBody", "Use `pip install x`",
    "[docs](https://example.com/a_b)", "```python\nx = 1\n```", "```\nplain\n```", "> quoted",
    "C++ and a+b, 100% {braces}", "-1 and +2 and a-b", "Nested:\n\n- a\n  - b",
])
def test_markdown_survives_a_round_trip_through_wiki_markup(markdown: str) -> None:
    wiki = markdown_to_wiki(markdown)
    assert wiki_to_markdown(wiki) == markdown
    assert markdown_to_wiki(wiki_to_markdown(wiki)) == wiki


@pytest.mark.parametrize("wiki", [
    "h2. Goals\n\n* self-service\n* SSO", "{code:java}\nint x = 1;\n{code}",
    "See [the docs|https://example.com] and _this_.", "bq. quoted", "||h1||h2||\n|a|b|",
])
def test_wiki_markup_survives_a_round_trip_through_markdown(wiki: str) -> None:
    assert markdown_to_wiki(wiki_to_markdown(wiki)) == wiki


def test_plain_paragraphs_skip_the_slow_grammar_but_convert_the_same() -> None:
    from jira2markdown import convert

    body = "Plain words (50%), dates 2025/01/02 and mail a@b.example.\n\nSecond: *bold* here."
    assert wiki_to_markdown(body) == convert(body).strip("\n")
    assert wiki_to_markdown("h3. Not plain\n\nx -- y") == convert("h3. Not plain\n\nx -- y").strip("\n")


def test_wiki_the_converter_chokes_on_is_kept_as_text() -> None:
    # jira2markdown raises on a lone table bar; the body must still sync.
    assert wiki_to_markdown("a|b\n|\nc") == "a|b\n|\nc"


# -- errors ------------------------------------------------------------------------------------
def test_errors_are_classified(sandbox: SandboxClient, jira: JiraConnector) -> None:
    assert jira.get(SCOPE, "issue", "99999") is None
    with pytest.raises(PermanentError) as missing:
        jira.update(SCOPE, "issue", "99999", Issue(title="x"), frozenset({"title"}))
    assert missing.value.status == 404
    with pytest.raises(PermanentError) as refused:
        jira.create("NOPE", "issue", Issue(title="x"), marker())
    assert refused.value.status == 400 and "project" in str(refused.value)

    sandbox.fault("jira", method="GET", path=r"/search/jql$", status=429, retry_after=7)
    with pytest.raises(TransientError) as limited:
        list(jira.list_changed(SCOPE, "issue", None))
    assert limited.value.status == 429 and limited.value.retry_after == 7
    assert jira.rate_limit.remaining == 0 and jira.rate_limit.reset_at is not None

    sandbox.fault("jira", method="POST", path=r"/issue$", drop=True)
    with pytest.raises(TransientError):
        jira.create(SCOPE, "issue", Issue(title="dropped"), marker())


def test_wrong_token_is_an_auth_error() -> None:
    with SandboxServer(SandboxApp([JiraSandbox()], token="right")) as server:
        connector = make_connector(server.url + "/jira", token="wrong")
        with pytest.raises(AuthError) as raised:
            connector.open()
        assert raised.value.status == 401 and "'jira'" in str(raised.value)


def test_lost_create_reply_is_recovered_by_marker(sandbox: SandboxClient, jira: JiraConnector) -> None:
    mark = marker()
    sandbox.fault("jira", method="POST", path=r"/issue$", status=502, after_commit=True)
    with pytest.raises(TransientError):
        jira.create(SCOPE, "issue", Issue(title="Lost reply"), mark)
    found = jira.find_by_marker(SCOPE, "issue", mark)
    assert found is not None and isinstance(found.item, Issue) and found.item.title == "Lost reply"
    assert len(list(jira.list_changed(SCOPE, "issue", None))) == 1


# -- the contract kit --------------------------------------------------------------------------
class TestJiraContract(ConnectorContract):
    page_size = 20
    connector_class = JiraConnector

    @pytest.fixture
    def connector(self, sandbox: SandboxClient) -> Iterator[JiraConnector]:
        self.sandbox = sandbox
        new_project(sandbox, SCOPE)
        connector = make_connector(sandbox.base("jira"), page_size=self.page_size)
        connector.open()
        yield connector
        connector.close()

    @pytest.fixture
    def scope(self) -> str:
        return SCOPE

    def inject_error(self, status: int, operation: str) -> float | None:
        method, path = OPERATION_REQUESTS[operation]
        retry_after = 2 if status == 429 else None
        self.sandbox.fault("jira", method=method, path=path, status=status, retry_after=retry_after)
        return float(retry_after) if retry_after is not None else None


class TestJiraCommentContract(ConnectorContract):
    """Comments: listed through their issues' search, marked by a comment property."""

    record_type = "comment"
    page_size = 5
    connector_class = JiraConnector
    operations: ClassVar[dict[str, tuple[str, str]]] = {
        "list": ("GET", r"/search/jql$"),
        "get": ("GET", r"/comment/[^/]+$"),
        "create": ("POST", r"/comment$"),
        "update": ("PUT", r"/comment/[^/]+$"),
    }

    @pytest.fixture
    def connector(self, sandbox: SandboxClient) -> Iterator[JiraConnector]:
        self.sandbox = sandbox
        new_project(sandbox, SCOPE)
        self.issue_id = new_issue(sandbox, "Comment thread")["id"]
        connector = make_connector(sandbox.base("jira"), page_size=self.page_size)
        connector.open()
        yield connector
        connector.close()

    @pytest.fixture
    def scope(self) -> str:
        return SCOPE

    def make_item(self, n: int) -> Comment:
        return Comment(body=f"contract comment {n}", issue=self.issue_id)

    def inject_error(self, status: int, operation: str) -> float | None:
        method, path = self.operations[operation]
        retry_after = 2 if status == 429 else None
        self.sandbox.fault("jira", method=method, path=path, status=status, retry_after=retry_after)
        return float(retry_after) if retry_after is not None else None
