"""The GitHub stand-in through the real PyGithub client: what pmhub's GitHub plugin relies on."""

from __future__ import annotations

import datetime as dt

import pytest
import requests
from github import GithubException

from hub.testing.sandbox_client import SandboxClient
from tests.sandbox.github_support import github_client, new_repo


def test_repositories_are_created_for_the_viewer_and_for_an_organisation(sandbox: SandboxClient) -> None:
    gh = github_client(sandbox.base("github"))
    mine = gh.get_user().create_repo("notes", description="scratch")
    theirs = gh.get_organization("acme").create_repo("portal", private=True)

    assert gh.get_user().login == "octocat"
    assert mine.full_name == "octocat/notes" and mine.description == "scratch"
    assert theirs.full_name == "acme/portal" and theirs.private and theirs.organization.login == "acme"
    assert gh.get_repo("acme/portal").id == theirs.id
    with pytest.raises(GithubException) as taken:
        gh.get_user().create_repo("notes")
    assert taken.value.status == 422 and taken.value.data["errors"][0]["field"] == "name"
    with pytest.raises(GithubException) as missing:
        gh.get_repo("acme/nothing")
    assert missing.value.status == 404 and missing.value.data["message"] == "Not Found"


def test_created_issues_list_since_a_time_across_pages(sandbox: SandboxClient) -> None:
    sandbox.reset("demo")
    repo = github_client(sandbox.base("github"), per_page=2).get_repo("acme/portal")
    before = dt.datetime.now(dt.UTC).replace(microsecond=0)
    created = [repo.create_issue(f"Task {n}", body="from a test") for n in range(5)]

    sandbox.clear_requests()
    listed = list(repo.get_issues(state="all", sort="updated", direction="asc", since=before))

    assert [i.number for i in listed] == [i.number for i in created]
    pages = [r["query"] for r in sandbox.requests("github") if r["path"].endswith("/issues")]
    assert len(pages) == 3 and "page=3" in pages[-1]
    assert all(i.pull_request is None for i in listed)
    everything = list(repo.get_issues(state="all"))
    assert len(everything) == 6 + 5
    assert sum(1 for i in everything if i.pull_request is not None) == 1


def test_listing_filters_and_orders_like_github(sandbox: SandboxClient) -> None:
    sandbox.reset("demo")
    repo = github_client(sandbox.base("github"), per_page=100).get_repo("acme/portal")

    open_numbers = [i.number for i in repo.get_issues()]
    closed = list(repo.get_issues(state="closed"))
    customer_high = list(repo.get_issues(labels=[repo.get_label("customer"), "priority: high"]))
    oldest_first = [i.number for i in repo.get_issues(state="all", sort="created", direction="asc")]

    assert open_numbers == [6, 5, 2, 1]  # newest first by default
    assert {(i.number, i.state_reason) for i in closed} == {(3, "completed"), (4, "not_planned")}
    assert [i.number for i in customer_high] == [1]
    assert oldest_first == [1, 2, 3, 4, 5, 6]
    assert [i.number for i in repo.get_issues(assignee="hubot")] == [6]
    assert [i.number for i in repo.get_issues(milestone=repo.get_milestone(1))] == [5, 2, 1]


def test_edit_close_and_reopen_with_state_reason(sandbox: SandboxClient) -> None:
    repo = new_repo(sandbox)
    issue = repo.create_issue("Broken export", body="CSV is empty", labels=["bug"], assignees=["hubot"])
    created = issue.updated_at

    issue.edit(title="Broken CSV export", state="closed", state_reason="not_planned")
    closed_at = issue.updated_at
    issue.edit(state="open")

    assert created < closed_at < issue.updated_at  # second precision, yet strictly increasing
    again = repo.get_issue(issue.number)
    assert again.title == "Broken CSV export" and again.state == "open"
    assert again.state_reason == "reopened" and again.closed_at is None
    issue.edit(state="closed")
    assert issue.state_reason == "completed" and issue.closed_by.login == "octocat"
    assert issue.closed_at == issue.updated_at
    with pytest.raises(GithubException) as bad:
        issue.edit(state_reason="because")
    assert bad.value.status == 422 and bad.value.data["errors"][0]["field"] == "state_reason"


def test_labels_milestones_and_assignees(sandbox: SandboxClient) -> None:
    repo = new_repo(sandbox)
    customer = repo.create_label("customer", "0e8a16", description="From a customer")
    release = repo.create_milestone("v1.0", description="First cut")
    issue = repo.create_issue("Onboarding flow", milestone=release, labels=[customer])

    issue.add_to_labels("priority: high")
    issue.remove_from_labels("customer")
    issue.add_to_assignees("monalisa")
    customer.edit("customer-request", "00ff00")

    again = repo.get_issue(issue.number)
    assert [lb.name for lb in again.labels] == ["priority: high"]
    assert again.milestone.title == "v1.0" and again.milestone.open_issues == 1
    assert [a.login for a in again.assignees] == ["monalisa"]
    assert {lb.name for lb in repo.get_labels()} == {"customer-request", "priority: high"}
    assert repo.has_in_assignees("hubot") and not repo.has_in_assignees("stranger")
    with pytest.raises(GithubException) as unknown:
        issue.edit(assignees=["stranger"])
    assert unknown.value.status == 422
    issue.edit(milestone=None)
    assert repo.get_issue(issue.number).milestone is None


def test_comments_per_issue_and_repo_wide_since(sandbox: SandboxClient) -> None:
    repo = new_repo(sandbox)
    issue = repo.create_issue("Needs discussion")
    start = dt.datetime.now(dt.UTC).replace(microsecond=0)
    first = issue.create_comment("First thought")
    second = issue.create_comment("Second thought")

    first.edit("First thought, revised")

    assert [c.body for c in issue.get_comments()] == ["First thought, revised", "Second thought"]
    recent = list(repo.get_issues_comments(sort="updated", direction="asc", since=start))
    assert [c.id for c in recent] == [second.id, first.id]
    assert repo.get_issue(issue.number).comments == 2
    second.delete()
    with pytest.raises(GithubException) as gone:
        repo.get_comment(second.id)
    assert gone.value.status == 404


def test_conditional_requests_answer_304_without_spending_rate_limit(sandbox: SandboxClient) -> None:
    sandbox.reset("demo")
    url = f"{sandbox.base('github')}/repos/acme/portal/issues?state=all&per_page=100"
    auth = {"Authorization": "token sandbox-token"}
    first = requests.get(url, headers=auth, timeout=10)
    etag = first.headers["ETag"]

    again = requests.get(url, headers={**auth, "If-None-Match": etag}, timeout=10)

    assert again.status_code == 304 and again.content == b""
    assert again.headers["ETag"] == etag
    assert again.headers["X-RateLimit-Remaining"] == first.headers["X-RateLimit-Remaining"]
    issue = github_client(sandbox.base("github")).get_repo("acme/portal").get_issue(1)
    assert issue.update() is False  # PyGithub's own conditional request
    issue.edit(body="changed")
    changed = requests.get(url, headers={**auth, "If-None-Match": etag}, timeout=10)
    assert changed.status_code == 200 and changed.headers["ETag"] != etag


def test_rate_limit_headers_and_endpoint(sandbox: SandboxClient) -> None:
    gh = github_client(sandbox.base("github"))
    assert gh.get_user().login == "octocat"
    remaining, limit = gh.rate_limiting

    overview = gh.get_rate_limit()

    assert limit == 5000 and remaining == 4999
    assert overview.resources.core.remaining == 4999  # /rate_limit itself is free, as on GitHub
    assert overview.resources.core.reset > dt.datetime.now(dt.UTC)


def test_a_deleted_issue_answers_410(sandbox: SandboxClient) -> None:
    repo = new_repo(sandbox)
    issue = repo.create_issue("Spam")

    deleted = requests.delete(f"{sandbox.base('github')}/repos/octocat/portal/issues/{issue.number}",
                              timeout=10)

    assert deleted.status_code == 204
    with pytest.raises(GithubException) as gone:
        repo.get_issue(issue.number)
    assert gone.value.status == 410 and gone.value.data["message"] == "This issue was deleted"
    assert list(repo.get_issues(state="all")) == []


def test_demo_seed_has_a_customer_project(sandbox: SandboxClient) -> None:
    sandbox.reset("demo")
    repo = github_client(sandbox.base("github")).get_repo("acme/portal")

    labels = {lb.name for lb in repo.get_labels()}
    first = repo.get_issue(1)

    assert {"customer", "bug", "priority: high"} <= labels
    assert first.milestone.title == "v1.0" and first.comments == 2
    assert len(list(first.get_comments())) == 2
    assert repo.get_issue(5).pull_request is not None
