"""Where the Zoho connector keeps its OAuth access token: pmhub's state store, encrypted.

The zohocrmsdk8-0 SDK asks a ``TokenStore`` for a saved token before every call and saves each
token it gets; its default store writes ``./sdk_tokens.txt`` in the working directory. Here the
token is one opaque string in a ``SecretStorage`` (the engine passes one backed by pmhub's state
store as ``ConnectorState.secrets``; ``MemorySecretStorage`` serves tests), Fernet-encrypted with a
key derived from the client secret, so a copied state database alone does not hand out a working
token.

Only the access token, its expiry and the SDK's user signature are saved; the refresh token and
client credentials come from the connection's config on every run and are never written. Nothing
here logs a token.
"""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

# The storage interface is pmhub's (``ConnectorState.secrets``); re-exported for this plugin's callers.
from hub.connector import MemorySecretStorage, SecretStorage

TOKEN_KEY = "zoho_oauth_token"

__all__ = ["TOKEN_KEY", "MemorySecretStorage", "SecretStorage", "make_token_store"]


def _fernet(client_secret: str) -> Any:
    from cryptography.fernet import Fernet

    digest = hashlib.sha256(b"pmhub zoho token store\0" + client_secret.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def make_token_store(storage: SecretStorage, *, client_id: str, client_secret: str,
                     refresh_token: str) -> Any:
    """A ``TokenStore`` for the SDK over ``storage``. Imports the SDK, so call it from ``open()``."""
    from cryptography.fernet import InvalidToken
    from zohocrmsdk.src.com.zoho.api.authenticator.oauth_token import OAuthToken
    from zohocrmsdk.src.com.zoho.api.authenticator.store.token_store import TokenStore
    from zohocrmsdk.src.com.zoho.crm.api.user_signature import UserSignature

    fernet = _fernet(client_secret)

    class StateTokenStore(TokenStore):
        """The SDK's store interface over one encrypted entry (one connection, one token).

        The SDK asks for the token before every request; after the first read it is answered from
        memory (this object lives as long as one connector's SDK setup), not from the state store.
        """

        def __init__(self) -> None:
            self._known = False
            self._token: OAuthToken | None = None

        def _load(self) -> OAuthToken | None:
            if not self._known:
                self._token, self._known = self._read(), True
            return self._token

        def _read(self) -> OAuthToken | None:
            raw = storage.get(TOKEN_KEY)
            if raw is None:
                return None
            try:
                saved = json.loads(fernet.decrypt(raw.encode()))
            except (InvalidToken, ValueError):
                # Written with another client secret, or damaged: as good as absent.
                return None
            token = OAuthToken(client_id=client_id, client_secret=client_secret,
                               refresh_token=refresh_token, find_user=False)
            token.set_id(TOKEN_KEY)
            token.set_access_token(saved.get("access_token"))
            token.set_expires_in(saved.get("expires_in"))
            token.set_api_domain(saved.get("api_domain"))
            if saved.get("user"):
                token.set_user_signature(UserSignature(saved["user"]))
            return token

        def find_token(self, token: Any) -> Any:
            return self._load()

        def find_token_by_id(self, id: str) -> Any:  # the SDK's parameter name
            return self._load() if id == TOKEN_KEY else None

        def save_token(self, token: Any) -> None:
            token.set_id(TOKEN_KEY)
            signature = token.get_user_signature()
            saved = {
                "access_token": token.get_access_token(), "expires_in": token.get_expires_in(),
                "api_domain": token.get_api_domain(),
                "user": signature.get_name() if signature is not None else None,
            }
            storage.put(TOKEN_KEY, fernet.encrypt(json.dumps(saved).encode()).decode())
            self._token, self._known = token, True

        def delete_token(self, id: str) -> None:
            storage.delete(TOKEN_KEY)
            self._token, self._known = None, True

        def get_tokens(self) -> list[Any]:
            token = self._load()
            return [] if token is None else [token]

        def delete_tokens(self) -> None:
            storage.delete(TOKEN_KEY)
            self._token, self._known = None, True

    return StateTokenStore()
