"""The Jira connector counts each request as it goes out, not when its reply is back: the
connection's request ceiling (``requests_per_minute``) waits before a request, so the first one of
a process is spaced like the rest (it went out unspaced while counting happened on the reply)."""

from __future__ import annotations

import uuid

from hub.model import Issue
from hub.testing.sandbox_client import SandboxClient
from tests.plugins.test_jira_connector import SCOPE, make_connector
from tests.sandbox.jira_support import new_project


def test_each_request_is_counted_before_the_stand_in_sees_it(sandbox: SandboxClient) -> None:
    new_project(sandbox, SCOPE)
    connector = make_connector(sandbox.base("jira"))
    seen_before: list[int] = []
    sandbox.clear_requests()
    connector.calls.before_each = lambda n: seen_before.append(len(sandbox.requests("jira")))
    connector.open()
    try:
        connector.create(SCOPE, "issue", Issue(title="Counted first"), uuid.uuid4().hex)
        list(connector.list_changed(SCOPE, "issue", None))
    finally:
        connector.close()
    assert len(seen_before) == connector.calls.total >= 3
    # The k-th count happens while the stand-in has seen k - 1 requests: before the request left.
    assert seen_before == list(range(len(seen_before)))
    assert connector.calls.counts.get("create") == 1 and connector.calls.counts.get("list", 0) >= 1
