"""Registering GitHub repository webhooks through PyGithub (``pmhub webhooks``).

One hook per repository (``POST /repos/{o}/{r}/hooks``): JSON payloads, the connection's
``webhook_secret`` as the hook secret (GitHub signs ``X-Hub-Signature-256`` with it), the
``issues``, ``issue_comment`` and ``sub_issues`` events (the last is what tells a parent moved in
GitHub, whose ``updated_at`` stays put). A hook already delivering to the URL is edited in place
(``PATCH .../hooks/{id}``); duplicates left by hand are deleted. ``list`` shows each hook's
``last_response`` (GitHub's account of the latest delivery).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from hub.connector import WebhookRegistration
from hub.errors import ConnectorError, TransientError, error_for_status

if TYPE_CHECKING:
    from .connector import GitHubConnector

EVENTS = ["issues", "issue_comment", "sub_issues"]


def install(connector: GitHubConnector, scopes: Sequence[str], url: str,
            secret: str) -> list[WebhookRegistration]:
    config = {"url": url, "content_type": "json", "secret": secret, "insecure_ssl": "0"}
    done = []
    for scope in scopes:
        with _errors(connector, scope, "install webhook"):
            repo = _repo(connector, scope)
            ours = [hook for hook in repo.get_hooks() if hook.config.get("url") == url]
            if ours:
                hook = ours[0]
                hook.edit("web", config, events=EVENTS, active=True)
                action = "updated"
                for extra in ours[1:]:
                    extra.delete()
            else:
                hook = repo.create_hook("web", config, EVENTS, True)
                action = "created"
        done.append(_registration(scope, hook, action))
    return done


def listed(connector: GitHubConnector, scopes: Sequence[str], url: str | None) -> list[WebhookRegistration]:
    found = []
    for scope in scopes:
        with _errors(connector, scope, "list webhooks"):
            hooks = list(_repo(connector, scope).get_hooks())
        found += [_registration(scope, hook, "") for hook in hooks
                  if url is None or hook.config.get("url") == url]
    return found


def remove(connector: GitHubConnector, scopes: Sequence[str], url: str) -> list[WebhookRegistration]:
    removed = []
    for scope in scopes:
        with _errors(connector, scope, "remove webhook"):
            for hook in _repo(connector, scope).get_hooks():
                if hook.config.get("url") == url:
                    gone = _registration(scope, hook, "removed")  # read before the hook is gone
                    hook.delete()
                    removed.append(gone)
    return removed


def _repo(connector: GitHubConnector, scope: str) -> Any:
    if connector._gh is None:
        raise ConnectorError(f"{connector.name}: the connector is not open")
    connector._repo_path(scope)  # the scope's shape, checked before any call
    return connector._gh.get_repo(scope)  # the client is lazy: no call until the hooks are asked for


def _registration(scope: str, hook: Any, action: str) -> WebhookRegistration:
    last = hook.last_response
    code = getattr(last, "code", None)
    status = getattr(last, "status", None)
    told = None if last is None else (f"{code} {getattr(last, 'message', '') or status}".strip()
                                      if code is not None else status)
    return WebhookRegistration(scope=scope, url=str(hook.config.get("url")), id=str(hook.id),
                               action=action, active=bool(hook.active), last_delivery=told)


@contextmanager
def _errors(connector: GitHubConnector, scope: str, what: str) -> Iterator[None]:
    """PyGithub's failures in pmhub's terms, naming the connection and repository."""
    import requests
    from github import GithubException

    try:
        yield
    except GithubException as error:
        message = error.data.get("message") if isinstance(error.data, dict) else None
        hint = " (hooks need a token with admin rights on the repository)" if error.status in (
            403, 404) else ""
        raise error_for_status(error.status, f"{connector.name}: {what} in {scope}: HTTP {error.status} "
                               f"{message or ''}".rstrip() + hint, error.headers or {}) from None
    except (requests.exceptions.ConnectionError, requests.exceptions.Timeout) as error:
        raise TransientError(f"{connector.name}: {what} in {scope}: {type(error).__name__}") from None
