"""The per-flow lease: one process at a time writes a flow's records (sync, retry, resolutions)."""

from __future__ import annotations

import datetime as dt
import os
import socket
import time
from collections.abc import Callable

from hub.state.starting import StartedRun
from hub.state.store import StateStore

#: A lease outlives its holder by at most this long; a running sync renews it as it commits.
LEASE_TTL = dt.timedelta(minutes=10)
#: A running sync renews its lease at the first commit once this long has passed since it last
#: did: a backfill commits a page every second or so, and each renewal is a statement of its own.
RENEW_AFTER = LEASE_TTL / 10


class Renewal:
    """Called at each commit of a run holding ``flow``'s lease; renews it every ``RENEW_AFTER``."""

    def __init__(self, store: StateStore, flow: str, holder: str, *,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.store, self.flow, self.holder, self.clock = store, flow, holder, clock
        self._renewed = clock()

    def __call__(self) -> None:
        if self.clock() - self._renewed >= RENEW_AFTER.total_seconds():
            self.store.renew_lease(self.flow, self.holder, LEASE_TTL)
            self._renewed = self.clock()


def this_process() -> str:
    """Who holds a lease: this host and process (a holder on this host that is gone is taken over)."""
    return f"{socket.gethostname()}:{os.getpid()}"


def start_leased_run(store: StateStore, flow: str, holder: str) -> StartedRun | None:
    """Take the flow's lease, record a run in progress and read what it starts from, or None
    when another live holder has the lease; one round trip when the lease is free, as it nearly
    always is."""
    started = store.start_leased_run(flow, holder, LEASE_TTL)
    if started is None and take_lease(store, flow, holder):  # a holder on this machine is gone
        started = StartedRun(store.start_run(flow, False), store.run_start(flow))
    return started


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
    return not _exited(pid)


def _exited(pid: int) -> bool:
    """Has ``pid`` exited without being reaped yet? Such a zombie still answers ``kill(pid, 0)``,
    and a killed worker is one from its death until its parent waits for it: the moment a broker
    hands its task to another worker (Linux: state Z or X in ``/proc/PID/stat``)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as stat:
            fields = stat.read().rpartition(")")[2].split()  # the name in parentheses may hold spaces
    except OSError:
        return False  # no /proc (not Linux): kill(pid, 0) is all there is
    return bool(fields) and fields[0] in ("Z", "X")
