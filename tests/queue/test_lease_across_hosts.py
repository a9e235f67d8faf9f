"""Issue 14 item 2: a flow's lease held by a worker on another machine that died blocks the flow only
until it expires (a live holder renews it at each commit); one on this machine is taken over at once."""

from __future__ import annotations

import datetime as dt

import pytest

from hub.engine.leases import take_lease, this_process
from hub.state.store import StateStore
from tests.queue.cluster import pg_schema_url

__all__ = ["pg_schema_url"]

pytestmark = pytest.mark.postgres


def test_a_dead_remote_holder_blocks_until_its_lease_expires(pg_schema_url: str) -> None:
    store = StateStore.open(pg_schema_url)
    try:
        assert store.acquire_lease("flow0", "worker-b.example:4242", dt.timedelta(seconds=1))
        assert not take_lease(store, "flow0", this_process()), "a remote holder's pid says nothing here"
        store.renew_lease("flow0", "worker-b.example:4242", dt.timedelta(seconds=1))  # alive: renewed
        assert not take_lease(store, "flow0", this_process())
        deadline = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=5)
        while not take_lease(store, "flow0", this_process()):  # dead: nobody renews, it expires
            assert dt.datetime.now(dt.UTC) < deadline, "the dead holder's lease never expired"
        assert store.lease_holder("flow0") == this_process()
    finally:
        store.close()


def test_a_dead_holder_on_this_machine_is_taken_over_at_once(pg_schema_url: str) -> None:
    import socket
    import subprocess
    import sys

    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True, check=True).stdout.strip()
    store = StateStore.open(pg_schema_url)
    try:
        assert store.acquire_lease("flow0", f"{socket.gethostname()}:{dead}", dt.timedelta(minutes=10))
        assert take_lease(store, "flow0", this_process())
    finally:
        store.close()


def test_a_killed_holder_its_parent_has_not_reaped_yet_is_taken_over_at_once(pg_schema_url: str) -> None:
    """A worker killed with -9 is a zombie until its parent waits for it, and RabbitMQ hands its
    task to another worker at once, inside that window: the lease must not look held by it."""
    import os
    import socket
    import subprocess
    import sys

    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    store = StateStore.open(pg_schema_url)
    try:
        assert store.acquire_lease("flow0", f"{socket.gethostname()}:{child.pid}", dt.timedelta(minutes=10))
        assert not take_lease(store, "flow0", this_process()), "alive: its lease holds"
        child.kill()
        os.waitid(os.P_PID, child.pid, os.WEXITED | os.WNOWAIT)  # dead, and not reaped
        assert take_lease(store, "flow0", this_process())
    finally:
        child.wait()
        store.close()
