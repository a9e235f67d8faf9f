"""The state store: links, cursors, snapshots, intents, parked records, conflicts, runs, leases."""

from hub.state.store import LinkRow, StateStore, default_state_url

__all__ = ["LinkRow", "StateStore", "default_state_url"]
