"""``pmhub serve`` in a real process, deliveries over real HTTP, the sandbox as GitHub and Jira.

Deliveries are built here as the tools build them (the payload, the headers, the signature) until
the stand-ins deliver their own; the schedule is a year away, so only a webhook can move a change.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from hub.testing.sandbox_client import SandboxClient
from tests.service.support import ServedHub, github_signature, wait_for

pytestmark = pytest.mark.slow


@pytest.fixture
def served(tmp_path: Path, sandbox: SandboxClient) -> Iterator[ServedHub]:
    hub = ServedHub(tmp_path, sandbox)
    yield hub.start()
    hub.close()


def _created_on_jira(served: ServedHub) -> list[dict[str, object]]:
    return [r for r in served.jira_writes() if r["method"] == "POST" and r["path"].endswith("/issue")]


def test_a_delivery_with_a_bad_or_missing_signature_gets_401_and_syncs_nothing(served: ServedHub) -> None:
    served.repo.create_issue("Checkout fails on Safari")
    payload = served.issue_event(1, "opened")
    served.sandbox.clear_requests()

    forged = served.deliver_github("issues", payload, signature=github_signature("not-the-secret", b"{}"))
    unsigned = served.deliver_github("issues", payload, signature=None)

    assert (forged.status_code, unsigned.status_code) == (401, 401)
    served.deliver_github("ping", {"zen": "wait"})  # a good delivery after: the worker had its chance
    wait_for(lambda: served.metrics().get(
        ("pmhub_webhook_deliveries_total", (("connection", "gh"), ("outcome", "ignored")))), what="the ping")
    assert served.sandbox.requests() == [], "nothing was read or written for a rejected delivery"
    assert served.metrics()[("pmhub_webhook_deliveries_total",
                             (("connection", "gh"), ("outcome", "rejected")))] == 2
    page = requests.get(served.url + "/", timeout=10).text
    row = re.search(r'<tr class="deliveries" id="deliveries-gh">(.*?)</tr>', page, re.S)
    assert row is not None and re.search(r'<td class="rejected"[^>]*>2</td>', row.group(1)), page


def test_an_issue_opened_on_github_reaches_jira_through_its_webhook(served: ServedHub) -> None:
    served.repo.create_issue("SSO login loops", body="Globex users cannot sign in.")
    reply = served.deliver_github("issues", served.issue_event(1, "opened"))
    assert reply.status_code == 202 and reply.json() == {"outcome": "accepted", "queued": 1}
    twins = wait_for(served.jira_issues, what="the Jira twin")
    assert [t.fields.summary for t in twins] == ["SSO login loops"]
    wait_for(lambda: served.webhook_runs() == 1, what="the run's end")


def test_the_same_delivery_twice_syncs_once(served: ServedHub) -> None:
    served.repo.create_issue("Export invoices as CSV")
    payload = served.issue_event(1, "opened")
    first = served.deliver_github("issues", payload, delivery="72d3162e-cc78-11e3-81ab-4c9367dc0958")
    again = served.deliver_github("issues", payload, delivery="72d3162e-cc78-11e3-81ab-4c9367dc0958")
    assert (first.status_code, again.status_code) == (202, 200)
    assert again.json()["outcome"] == "replayed"
    wait_for(served.jira_issues, what="the Jira twin")
    wait_for(lambda: served.webhook_runs() >= 1, what="the run")
    assert served.webhook_runs() == 1
    assert len(_created_on_jira(served)) == 1


def test_a_replay_is_recognised_after_a_restart(served: ServedHub) -> None:
    served.repo.create_issue("Rate limits undocumented")
    payload = served.issue_event(1, "opened")
    assert served.deliver_github("issues", payload, delivery="d-1").status_code == 202
    wait_for(served.jira_issues, what="the Jira twin")
    assert served.stop() == 0
    served.start()
    assert served.deliver_github("issues", payload, delivery="d-1").json()["outcome"] == "replayed"


def test_a_burst_of_twenty_edits_to_one_issue_costs_at_most_three_targeted_syncs(served: ServedHub) -> None:
    served.repo.create_issue("Search is slow")
    served.deliver_github("issues", served.issue_event(1, "opened"))
    [twin] = wait_for(served.jira_issues, what="the Jira twin")
    wait_for(lambda: served.webhook_runs() == 1, what="the first run")
    served.register_jira_hook()  # from now on the Jira stand-in delivers every write itself

    for n in range(20):
        twin.update(summary=f"Search is slow (take {n + 1})")

    wait_for(lambda: served.repo.get_issue(1).title == "Search is slow (take 20)",
             what="the last title on GitHub")
    wait_for(lambda: len([d for d in served.sandbox_deliveries() if d.get("service") == "jira"]) >= 20,
             what="the stand-in's 20 deliveries")
    wait_for(lambda: served.metrics().get(("pmhub_targeted_syncs_waiting", ())) == 0,
             what="the queue to drain")
    accepted = ("pmhub_webhook_deliveries_total", (("connection", "jira"), ("outcome", "accepted")))
    assert served.metrics()[accepted] >= 20
    assert 1 <= served.webhook_runs() - 1 <= 3


def test_metrics_parse_and_carry_the_counters(served: ServedHub) -> None:
    served.repo.create_issue("Dark mode")
    served.deliver_github("issues", served.issue_event(1, "opened"))
    wait_for(served.jira_issues, what="the Jira twin")
    wait_for(lambda: served.webhook_runs() == 1, what="the run")
    samples = served.metrics()
    names = {name for name, _ in samples}
    assert {"pmhub_runs_total", "pmhub_records_total", "pmhub_api_calls_total",
            "pmhub_webhook_deliveries_total", "pmhub_edit_to_twin_seconds_bucket", "pmhub_parked_records",
            "pmhub_open_conflicts", "pmhub_next_poll_timestamp_seconds", "pmhub_state_store_up"} <= names
    assert samples[("pmhub_runs_total", (("flow", "portal"), ("outcome", "ok"), ("trigger", "webhook")))] == 1
    assert samples[("pmhub_records_total", (("action", "created"), ("flow", "portal")))] == 1
    assert samples[("pmhub_edit_to_twin_seconds_count", (("flow", "portal"),))] == 1
    calls = {labels: v for (name, labels), v in samples.items() if name == "pmhub_api_calls_total"}
    assert any(("connection", "jira") in labels for labels in calls) and \
        any(("connection", "gh") in labels for labels in calls), calls
    assert samples[("pmhub_state_store_up", ())] == 1


def test_health_readiness_trello_head_and_unknown_connections(served: ServedHub) -> None:
    assert requests.get(served.url + "/healthz", timeout=5).status_code == 200
    assert requests.get(served.url + "/readyz", timeout=5).status_code == 200
    assert requests.head(served.url + "/hooks/gh", timeout=5).status_code == 200
    assert requests.post(served.url + "/hooks/nobody", data=b"{}", timeout=5).status_code == 404


def test_a_body_over_the_limit_gets_413(tmp_path: Path, sandbox: SandboxClient) -> None:
    hub = ServedHub(tmp_path, sandbox, server={"max_body_bytes": 2048})
    try:
        hub.start()
        hub.sandbox.clear_requests()  # what setting up the repository and project asked
        reply = requests.post(hub.url + "/hooks/gh", data=b"x" * 4096, timeout=10,
                              headers={"X-Hub-Signature-256": github_signature("gh", b"x")})
        assert reply.status_code == 413
        assert hub.sandbox.requests() == []
    finally:
        hub.close()
