"""A connection's state between runs, kept in pmhub's state store (``hub.connector.ConnectorState``)."""

from __future__ import annotations

from hub.connector import HttpValidators
from hub.state.store import StateStore


class StoredSecrets:
    """Where a connector keeps values between runs (e.g. OAuth tokens); it encrypts them itself."""

    def __init__(self, store: StateStore, connection: str) -> None:
        self.store, self.connection = store, connection

    def get(self, key: str) -> str | None:
        return self.store.get_secret(self.connection, key)

    def put(self, key: str, value: str) -> None:
        self.store.put_secret(self.connection, key, value)

    def delete(self, key: str) -> None:
        self.store.delete_secret(self.connection, key)


class StoredValidators:
    """HTTP validators of one connection in the state store (``hub.connector.ValidatorStorage``)."""

    def __init__(self, store: StateStore, connection: str) -> None:
        self.store, self.connection = store, connection

    def get(self, key: str) -> HttpValidators | None:
        stored = self.store.get_validators(self.connection, key)
        return HttpValidators(**stored) if stored is not None else None

    def put(self, key: str, validators: HttpValidators) -> None:
        self.store.put_validators(self.connection, key, etag=validators.etag,
                                  last_modified=validators.last_modified, body=validators.body)

    def delete(self, key: str) -> None:
        self.store.delete_validators(self.connection, key)
