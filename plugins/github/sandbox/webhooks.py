"""Repository webhooks of the GitHub stand-in: the hooks API and the deliveries after each write.

Routes, as GitHub has them (``repos/create-webhook`` in the oracle's description):
``GET|POST /repos/{o}/{r}/hooks``, ``GET|PATCH|DELETE /repos/{o}/{r}/hooks/{id}`` and
``POST /repos/{o}/{r}/hooks/{id}/pings``. A new hook gets a ``ping`` delivery; each issue or comment
write a delivery of ``issues`` (opened, edited, closed, reopened, deleted) or ``issue_comment``
(created, edited, deleted), and each sub-issue link or unlink a ``sub_issues`` delivery to both
repositories (see ``sub_issue_event``), to every active hook subscribed to that event (or ``*``),
with ``X-GitHub-Event``, ``X-GitHub-Delivery`` (a GUID) and, when the hook has a secret,
``X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the body>`` (and the older SHA-1 one).
``last_response`` tells how the receiver answered the latest delivery.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from werkzeug.wrappers import Response

from hub.sandbox.deliveries import Delivery
from hub.sandbox.service import BadPayload, Call, json_response, route

from .base import VIEWER, GitHubSandboxBase, Reply
from .state import Comment, Issue, Repo, iso

HOOKS = "/repos/<owner>/<name>/hooks"
ZEN = "Keep it logically awesome."


@dataclass
class Hook:
    id: int
    url: str
    content_type: str
    secret: str | None
    insecure_ssl: str
    events: list[str]
    active: bool
    created_at: dt.datetime
    updated_at: dt.datetime
    last_response: dict[str, Any] = field(
        default_factory=lambda: {"code": None, "status": "unused", "message": None})

    def wants(self, event: str) -> bool:
        return self.active and (event in self.events or "*" in self.events)


class HookRoutes(GitHubSandboxBase):
    """Adds repository hooks to the GitHub stand-in."""

    def reset(self, seed: str) -> None:
        #: Hooks by repository (owner and name lower-cased), then by id.
        self.hooks: dict[tuple[str, str], dict[int, Hook]] = {}
        super().reset(seed)

    # -- routes ----------------------------------------------------------------------------
    @route(HOOKS)
    def list_hooks(self, call: Call, owner: str, name: str) -> Response:
        repo = self.repo(owner, name)
        hooks = sorted(self._hooks(repo).values(), key=lambda h: h.id)
        return self.page(call, hooks, lambda h: self._hook_json(call, repo, h))

    @route(HOOKS, methods=("POST",))
    def create_hook(self, call: Call, owner: str, name: str) -> Response:
        repo = self.repo(owner, name)
        data = self.body(call) if call.request.get_data(cache=True) else {}
        if data.get("name", "web") != "web":
            self.invalid("Hook", "name", value=data.get("name"))
        config = self._config(data.get("config"), required=True)
        events = self._events(data.get("events", ["push"]))
        for hook in self._hooks(repo).values():
            if hook.url == config["url"] and set(hook.events) & set(events):
                self._hook_exists()
        now = self.stamp()
        hook = Hook(self.next_id("hook"), config["url"], config.get("content_type", "form"),
                    config.get("secret") or None, str(config.get("insecure_ssl", "0")), events,
                    bool(data.get("active", True)), now, now)
        self._hooks(repo)[hook.id] = hook
        self._ping(call, repo, hook)
        body = self._hook_json(call, repo, hook)
        return json_response(body, 201, {"Location": body["url"]})

    @route(f"{HOOKS}/<int:hook_id>", methods=("GET", "PATCH", "DELETE"))
    def one_hook(self, call: Call, owner: str, name: str, hook_id: int) -> Response:
        repo = self.repo(owner, name)
        hook = self._hooks(repo).get(hook_id)
        if hook is None:
            raise BadPayload(404, "Not Found")
        if call.request.method == "DELETE":
            del self._hooks(repo)[hook_id]
            return Response(status=204)
        if call.request.method == "PATCH":
            data = self.body(call)
            if "config" in data:
                config = self._config(data["config"], required=False)
                hook.url = config.get("url", hook.url)
                hook.content_type = config.get("content_type", hook.content_type)
                if "secret" in config:
                    hook.secret = config["secret"] or None
                hook.insecure_ssl = str(config.get("insecure_ssl", hook.insecure_ssl))
            if "events" in data:
                hook.events = self._events(data["events"])
            hook.events += [e for e in self._events(data.get("add_events", [])) if e not in hook.events]
            removed = set(self._events(data.get("remove_events", [])))
            hook.events = [e for e in hook.events if e not in removed]
            if "active" in data:
                hook.active = bool(data["active"])
            hook.updated_at = self.stamp()
        return json_response(self._hook_json(call, repo, hook))

    @route(f"{HOOKS}/<int:hook_id>/pings", methods=("POST",))
    def ping_hook(self, call: Call, owner: str, name: str, hook_id: int) -> Response:
        repo = self.repo(owner, name)
        hook = self._hooks(repo).get(hook_id)
        if hook is None:
            raise BadPayload(404, "Not Found")
        self._ping(call, repo, hook)
        return Response(status=204)

    # -- events the issue routes raise -------------------------------------------------------
    def issue_event(self, call: Call, repo: Repo, issue: Issue, action: str,
                    changes: dict[str, Any] | None = None, **extra: Any) -> None:
        """Tell the repository's hooks about an issue write (``action`` as GitHub names it;
        ``extra`` the keys that action adds, e.g. ``label`` or ``assignee``)."""
        if not self._hooks(repo):
            return
        render = self.render(call)
        payload: dict[str, Any] = {"action": action, "issue": render.issue(repo, issue), **extra}
        if changes:
            payload["changes"] = changes
        self._emit(call, repo, "issues", payload)

    def sub_issue_event(self, call: Call, parent: tuple[Repo, Issue], child: tuple[Repo, Issue],
                        added: bool) -> None:
        """GitHub's ``sub_issues`` event, twice: ``sub_issue_added``/``_removed`` to the parent's
        repository (with ``sub_issue_repo``), ``parent_issue_added``/``_removed`` to the child's
        (with ``parent_issue_repo``). Each names both issues and their global ids."""
        render = self.render(call)
        done = "added" if added else "removed"
        both = {"parent_issue_id": parent[1].id, "parent_issue": render.issue(*parent),
                "sub_issue_id": child[1].id, "sub_issue": render.issue(*child)}
        if self._hooks(parent[0]):
            self._emit(call, parent[0], "sub_issues", {"action": f"sub_issue_{done}", **both,
                                                       "sub_issue_repo": render.repo(child[0])})
        if self._hooks(child[0]):
            self._emit(call, child[0], "sub_issues", {"action": f"parent_issue_{done}", **both,
                                                      "parent_issue_repo": render.repo(parent[0])})

    def comment_event(self, call: Call, repo: Repo, issue: Issue | None, comment: Comment,
                      action: str, changes: dict[str, Any] | None = None) -> None:
        if not self._hooks(repo) or issue is None:
            return
        render = self.render(call)
        payload: dict[str, Any] = {"action": action, "issue": render.issue(repo, issue),
                                   "comment": render.comment(repo, comment)}
        if changes:
            payload["changes"] = changes
        self._emit(call, repo, "issue_comment", payload)

    # -- plumbing ----------------------------------------------------------------------------
    def _hooks(self, repo: Repo) -> dict[int, Hook]:
        return self.hooks.setdefault((repo.owner.lower(), repo.name.lower()), {})

    def _emit(self, call: Call, repo: Repo, event: str, payload: dict[str, Any],
              only: Hook | None = None) -> None:
        render = self.render(call)
        payload = {**payload, "repository": render.repo(repo), "sender": render.user(VIEWER)}
        for hook in [only] if only is not None else list(self._hooks(repo).values()):
            if only is None and not hook.wants(event):
                continue
            self.deliver(self._delivery(repo, hook, event, payload))

    def _ping(self, call: Call, repo: Repo, hook: Hook) -> None:
        self._emit(call, repo, "ping", {"zen": ZEN, "hook_id": hook.id,
                                        "hook": self._hook_json(call, repo, hook)}, only=hook)

    def _delivery(self, repo: Repo, hook: Hook, event: str, payload: dict[str, Any]) -> Delivery:
        text = json.dumps(payload, separators=(",", ":"))
        if hook.content_type == "json":
            body, content_type = text.encode(), "application/json"
        else:
            body, content_type = urlencode({"payload": text}).encode(), "application/x-www-form-urlencoded"
        headers = {
            "Content-Type": content_type, "User-Agent": "GitHub-Hookshot/sandbox",
            "X-GitHub-Event": event, "X-GitHub-Delivery": str(uuid.uuid4()),
            "X-GitHub-Hook-ID": str(hook.id),
            "X-GitHub-Hook-Installation-Target-Type": "repository",
            "X-GitHub-Hook-Installation-Target-ID": str(repo.id),
        }
        forged = dict(headers)
        if hook.secret:
            headers.update(_signatures(hook.secret, body))
            forged.update(_signatures(hook.secret + "-forged", body))
        else:
            forged.update(_signatures("forged", body))
        action = payload.get("action")

        def note(status: int | None, reason: str) -> None:
            hook.last_response = {"code": status, "status": "active" if status and status < 300 else
                                  "failed", "message": "OK" if status and status < 300 else reason}

        return Delivery(self.name, f"{event}.{action}" if action else event, hook.url, body, headers,
                        forged_headers=forged, on_result=note)

    def _hook_json(self, call: Call, repo: Repo, hook: Hook) -> dict[str, Any]:
        url = f"{call.base}/repos/{repo.owner}/{repo.name}/hooks/{hook.id}"
        config: dict[str, Any] = {"content_type": hook.content_type, "insecure_ssl": hook.insecure_ssl,
                                  "url": hook.url}
        if hook.secret:
            config["secret"] = "********"  # GitHub never shows a hook's secret again
        return {
            "type": "Repository", "id": hook.id, "name": "web", "active": hook.active,
            "events": list(hook.events), "config": config,
            "updated_at": iso(hook.updated_at), "created_at": iso(hook.created_at), "url": url,
            "test_url": f"{url}/test", "ping_url": f"{url}/pings", "deliveries_url": f"{url}/deliveries",
            "last_response": dict(hook.last_response),
        }

    def _config(self, config: Any, *, required: bool) -> dict[str, Any]:
        if config is None and not required:
            return {}
        if not isinstance(config, dict):
            self.invalid("Hook", "config", value=config)
        url = config.get("url")
        if (required or "url" in config) and (not isinstance(url, str) or not url.startswith(
                ("http://", "https://"))):
            self.invalid("Hook", "url", "custom", message="url is not a valid URL" if url else
                         "url cannot be blank")
        if config.get("content_type", "form") not in ("json", "form"):
            self.invalid("Hook", "content_type", value=config.get("content_type"))
        return config

    def _events(self, events: Any) -> list[str]:
        if not isinstance(events, list) or not all(isinstance(e, str) for e in events):
            self.invalid("Hook", "events", value=events)
        return list(dict.fromkeys(events))

    @staticmethod
    def _hook_exists() -> None:
        raise Reply(json_response({
            "message": "Validation Failed",
            "errors": [{"resource": "Hook", "code": "custom",
                        "message": "Hook already exists on this repository"}],
            "documentation_url": "https://docs.github.com/rest/repos/webhooks#create-a-repository-webhook",
            "status": "422"}, 422))


def _signatures(secret: str, body: bytes) -> dict[str, str]:
    key = secret.encode()
    return {"X-Hub-Signature": "sha1=" + hmac.new(key, body, hashlib.sha1).hexdigest(),
            "X-Hub-Signature-256": "sha256=" + hmac.new(key, body, hashlib.sha256).hexdigest()}
