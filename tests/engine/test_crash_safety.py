"""kill -9 in the middle of a backfill, then a re-run: one twin each, no update lost."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from hub.model import Issue
from tests.conftest import Pair

pytestmark = pytest.mark.slow

RECORDS = 5000


def test_kill_9_mid_backfill_then_rerun_converges_without_duplicates(tmp_path):
    pair = Pair(tmp_path, f"sqlite:///{tmp_path / 'state.db'}", file_backed=True, records=["issue"])
    pair.a.insert("proj", "issue", [(Issue(title=f"record {n}"), None) for n in range(RECORDS)])
    # Slow creates down (2 ms a record, ~10 s in all) so the kill lands mid-backfill.
    pair.b.inject("create", "delay", times=None, delay=0.002)
    env = {**os.environ, "PMHUB_DATA_DIR": str(tmp_path / "data")}
    proc = subprocess.Popen([sys.executable, "-m", "hub", "sync", "-q", "-c", str(pair.config)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while pair.b.count("proj", "issue") < 1000 and time.monotonic() < deadline:
        assert proc.poll() is None, proc.stdout.read().decode() if proc.stdout else ""
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    created = pair.b.count("proj", "issue")
    assert 1000 <= created < RECORDS, "the kill should land mid-backfill"

    # Meanwhile people keep working: edits to records synced before the crash and after it.
    pair.a.edit("proj", "issue", "1", title="record 0 (edited after the crash)")
    pair.a.edit("proj", "issue", str(RECORDS), title="last record (edited)")
    pair.b.clear_faults()
    pair.sync()
    pair.sync()

    twins = pair.b.all("proj", "issue")
    assert len(twins) == RECORDS
    titles = sorted(item.title for _, item in twins)
    assert len(set(titles)) == RECORDS, "every record has exactly one twin"
    assert "record 0 (edited after the crash)" in titles and "last record (edited)" in titles
    pair.close()
