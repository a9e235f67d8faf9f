"""The state store: links, cursors, snapshots, intents, parked records, conflicts, runs, leases."""

from hub.state.store import Link, StateStore, default_state_url

__all__ = ["Link", "StateStore", "default_state_url"]
