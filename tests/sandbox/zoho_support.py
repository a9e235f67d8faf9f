"""Helpers for the Zoho CRM sandbox tests: the real zohocrmsdk8-0 SDK pointed at the sandbox.

The SDK's ``Initializer`` is process-global, so every test initialises it afresh (with its own
resource directory and token store) instead of sharing one across tests.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import requests

REFRESH_TOKEN = "1000.sandbox-refresh-token"


def make_token_store() -> Any:
    """An in-memory ``TokenStore``: the SDK's default writes ``./sdk_tokens.txt``."""
    from zohocrmsdk.src.com.zoho.api.authenticator.store.token_store import TokenStore

    class MemoryTokenStore(TokenStore):  # type: ignore[misc]
        def __init__(self) -> None:
            self.tokens: dict[str, Any] = {}

        def find_token(self, token: Any) -> Any:
            return self.tokens.get("current")

        def save_token(self, token: Any) -> None:
            token.set_id("current")
            self.tokens["current"] = token

        def delete_token(self, id: str) -> None:
            self.tokens.pop(id, None)

        def get_tokens(self) -> list[Any]:
            return list(self.tokens.values())

        def delete_tokens(self) -> None:
            self.tokens.clear()

        def find_token_by_id(self, id: str) -> Any:
            return self.tokens.get(id)

    return MemoryTokenStore()


def init_sdk(base: str, resource_dir: Path, refresh_token: str = REFRESH_TOKEN) -> Any:
    """Initialise the SDK against ``base`` (the sandbox's ``/zoho`` root) with a refresh token."""
    from zohocrmsdk.src.com.zoho.api.authenticator.oauth_token import OAuthToken
    from zohocrmsdk.src.com.zoho.crm.api.dc.data_center import DataCenter
    from zohocrmsdk.src.com.zoho.crm.api.initializer import Initializer
    from zohocrmsdk.src.com.zoho.crm.api.sdk_config import SDKConfig

    resource_dir.mkdir(parents=True, exist_ok=True)
    store = make_token_store()
    Initializer.initialize(
        environment=DataCenter.Environment(base, base + "/oauth/v2/token", base),
        token=OAuthToken(client_id="1000.SANDBOXCLIENT", client_secret="sandbox-secret",
                         refresh_token=refresh_token),
        store=store,
        # update_api_domain=False: otherwise the token reply's api_domain would redirect the SDK.
        sdk_config=SDKConfig(update_api_domain=False, connect_timeout=5.0, read_timeout=10.0),
        resource_path=str(resource_dir),
    )
    return store


def http(base: str, token: str | None = "sandbox-access-token") -> requests.Session:
    """A plain session sending Zoho's auth header, for what the SDK hides (status codes, raw JSON)."""
    session = requests.Session()
    if token is not None:
        session.headers["Authorization"] = f"Zoho-oauthtoken {token}"
    return session


def insert(session: requests.Session, base: str, module: str, **values: Any) -> str:
    reply = session.post(f"{base}/crm/v8/{module}", json={"data": [values]}, timeout=10)
    assert reply.status_code == 201, reply.text
    return str(reply.json()["data"][0]["details"]["id"])
