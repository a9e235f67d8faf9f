"""Parents of GitHub issues: reading ``parent_issue_url`` and the REST sub-issues endpoints.

``Issue.parent`` is the parent's issue *number* (what this connector's ``Remote.id`` is), read from
the ``parent_issue_url`` every issue payload carries, so a listing costs no extra call. A parent in
another repository of the same owner (GitHub allows it) is outside the connection's scope and reads
as no parent: the flow syncs one repository, and a number from another one would name the wrong
issue here.

Writes go through ``POST /repos/{o}/{r}/issues/{parent}/sub_issues`` (``sub_issue_id`` is the
child's global ``id``, not its number; ``replace_parent: true`` moves a child that has a parent)
and ``DELETE /repos/{o}/{r}/issues/{parent}/sub_issue``. PyGithub 2.10 has ``Issue.add_sub_issue``
and ``remove_sub_issue``, but the first cannot send ``replace_parent`` and both need an ``Issue``
object; the connector's own requester path keeps counting, pacing and the error taxonomy in one
place instead.

Both calls answer with the *parent* issue, so the child's new state is not read back: the
connector returns it with an unknown version. Recordings of real GitHub show that adding a
sub-issue leaves the child's ``updated_at`` (and the parent's) as they were, so a re-parent made in
GitHub itself may not reach an incremental listing until the child is next edited; the stand-in
stamps the child (see ``sandbox/sub_issues.py``).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from hub.errors import PermanentError

if TYPE_CHECKING:
    from .connector import GitHubConnector

_ISSUE_URL = re.compile(r"/repos/(?P<repo>[^/]+/[^/]+)/issues/(?P<number>\d+)$")


def key_of(data: dict[str, Any]) -> tuple[str, str] | None:
    """An issue payload's repository (``owner/name``, lower-cased) and number."""
    own = _ISSUE_URL.search(data.get("url") or "")
    return (own.group("repo").lower(), own.group("number")) if own is not None else None


def parent_of(data: dict[str, Any]) -> str | None:
    """The number of the issue's parent when it is in the issue's own repository, else None."""
    parent = _ISSUE_URL.search(data.get("parent_issue_url") or "")
    own = _ISSUE_URL.search(data.get("url") or "")
    if parent is None or own is None or parent.group("repo").lower() != own.group("repo").lower():
        return None
    return parent.group("number")


def checked(conn: GitHubConnector, parent: str | None) -> str | None:
    """``Issue.parent`` as this connector takes it: an issue number of the scope, or None."""
    if parent is not None and not parent.isdigit():
        raise PermanentError(f"{conn.name}: parent {parent!r} is not a GitHub issue number")
    return parent


def place(conn: GitHubConnector, scope: str, operation: str, number: str, child_id: int,
          current: str | None, wanted: str | None, *, moving: bool) -> bool:
    """Put issue ``number`` (global id ``child_id``) under ``wanted`` (None: under none).

    ``current`` is its parent as last read. One call when the parent changes, none otherwise.
    ``moving``: the issue may already have a parent (an update), so the add replaces it; a new
    issue has none. Returns whether a call was made.
    """
    if wanted == current:
        return False
    repo = conn._repo_path(scope)
    if wanted is None:
        assert current is not None
        try:
            conn._request(operation, "DELETE", f"{repo}/issues/{current}/sub_issue",
                          {"sub_issue_id": child_id})
        except PermanentError as error:
            if error.status != 404:
                raise
            # The parent read earlier is not the parent now (moved meanwhile): ask which one is.
            data = conn._request(operation, "GET", f"{repo}/issues/{number}")
            now = parent_of(data)
            if now is None:
                return True
            conn._request(operation, "DELETE", f"{repo}/issues/{now}/sub_issue",
                          {"sub_issue_id": child_id})
        return True
    body: dict[str, Any] = {"sub_issue_id": child_id}
    if moving:
        # Always replace on an update: a parent added since the last read would otherwise be a 422.
        body["replace_parent"] = True
    try:
        conn._request(operation, "POST", f"{repo}/issues/{wanted}/sub_issues", body)
    except PermanentError as error:
        if error.status == 422 and _already_under(conn, operation, repo, number, wanted):
            return True  # a retry after a lost reply: the first add went through
        if error.status in (404, 410):
            raise PermanentError(f"{conn.name}: parent issue #{wanted} of #{number} does not exist "
                                 f"in {scope} (HTTP {error.status})", status=error.status) from None
        raise PermanentError(f"{conn.name}: GitHub refused to put #{number} under #{wanted}: "
                             f"{error}{_reasons(error)}", status=error.status) from None
    return True


def _already_under(conn: GitHubConnector, operation: str, repo: str, number: str, wanted: str) -> bool:
    """Whether issue ``number`` sits under ``wanted`` now (one GET, only after a refusal)."""
    try:
        return parent_of(conn._request(operation, "GET", f"{repo}/issues/{number}")) == wanted
    except PermanentError:
        return False


def _reasons(error: PermanentError) -> str:
    """The ``errors[].message`` of GitHub's 422 (why it refused: one parent only, a cycle, ...)."""
    data = getattr(error.__cause__, "data", None)
    entries = data.get("errors") if isinstance(data, dict) else None
    reasons = [str(e["message"]) for e in entries or [] if isinstance(e, dict) and e.get("message")]
    return f" ({'; '.join(reasons)})" if reasons else ""
