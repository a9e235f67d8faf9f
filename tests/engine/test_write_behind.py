"""A backfill whose page written behind the run fails: the run stops with the store's error, and
the next run links what that page created, without a second copy."""

from __future__ import annotations

from typing import Any

import pytest

from hub.engine import context
from hub.errors import StateStoreError
from hub.model import Issue
from tests.conftest import Pair


def test_a_page_that_fails_behind_the_run_stops_it_and_the_next_run_copies_nothing_twice(
        pair: Pair, monkeypatch: pytest.MonkeyPatch) -> None:
    pair.a.insert("proj", "issue", [(Issue(title=f"issue {i}"), None) for i in range(1200)])
    real, pages = context.commit, []

    def second_page_fails(*args: Any) -> None:
        pages.append(args)
        if len(pages) == 2:  # the server went away while the second page was written
            raise StateStoreError("state", "the database server closed the connection", "start it")
        real(*args)

    monkeypatch.setattr(context, "commit", second_page_fails)
    result = pair.sync(expect=None)
    assert result.exit_code != 0 and "closed the connection" in result.output
    assert len(pages) == 2  # the run stopped there: the third page was never written
    monkeypatch.undo()
    pair.sync()
    assert pair.b.count("proj", "issue") == 1200  # the second page's creates adopted by marker
    pair.sync()
    assert pair.b.count("proj", "issue") == 1200
