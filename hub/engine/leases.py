"""The per-flow lease: one process at a time writes a flow's records (sync, retry, resolutions)."""

from __future__ import annotations

import datetime as dt
import os
import socket

from hub.state.store import StateStore

#: A lease outlives its holder by at most this long; a running sync renews it as it commits.
LEASE_TTL = dt.timedelta(minutes=10)


def this_process() -> str:
    """Who holds a lease: this host and process (a holder on this host that is gone is taken over)."""
    return f"{socket.gethostname()}:{os.getpid()}"


def take_lease(store: StateStore, flow: str, holder: str) -> bool:
    if store.acquire_lease(flow, holder, LEASE_TTL):
        return True
    # A holder on this machine whose process is gone (kill -9, power cut) cannot renew: take over.
    current = store.lease_holder(flow)
    host, _, pid = (current or "").rpartition(":")
    if host == socket.gethostname() and pid.isdigit() and not alive(int(pid)):
        store.release_lease(flow, current or "")
        return store.acquire_lease(flow, holder, LEASE_TTL)
    return False


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
