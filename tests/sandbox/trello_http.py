"""Plain-HTTP helpers for the Trello sandbox tests: the way pmhub's Trello plugin talks to Trello."""

from __future__ import annotations

from typing import Any

import requests

TIMEOUT = 10


class TrelloHttp:
    """A ``requests.Session`` pointed at ``<base>/1`` sending ``key`` and ``token`` on every call."""

    def __init__(self, base: str, *, key: str = "sandbox-key", token: str = "sandbox-token") -> None:
        self.root = base.rstrip("/") + "/1"
        self.http = requests.Session()
        self.http.params = {"key": key, "token": token}

    def raw(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        return self.http.request(method, self.root + path, timeout=TIMEOUT, **kwargs)

    def call(self, method: str, path: str, *, expect: int = 200, **kwargs: Any) -> Any:
        reply = self.raw(method, path, **kwargs)
        assert reply.status_code == expect, f"{method} {path} -> {reply.status_code}: {reply.text[:300]}"
        return reply.json()

    def get(self, path: str, **params: Any) -> Any:
        return self.call("GET", path, params=params)

    # -- shortcuts for the common set-up --------------------------------------------------
    def board(self, name: str = "Test board", **params: Any) -> dict[str, Any]:
        return self.call("POST", "/boards", params={"name": name, **params})

    def lists(self, board_id: str) -> dict[str, str]:
        """List name -> id."""
        return {item["name"]: item["id"] for item in self.get(f"/boards/{board_id}/lists")}

    def card(self, list_id: str, name: str = "A card", **params: Any) -> dict[str, Any]:
        return self.call("POST", "/cards", params={"idList": list_id, "name": name, **params})
