"""Benchmark of the sync engine (issue 2): two in-memory reference connectors, SQLite state.

Backfill 100,000 issues, then a no-op incremental run, then a run with 1% changed. Prints records/s,
each run's time, peak RSS, and how long `pmhub --help` takes (and that it imports no client library).

    python bench/core_sync.py [--records 100000]
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from hub.engine.runner import open_hub, sync
from hub.model import Issue
from hub.testing.reference import ReferenceStore


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def timed_run(config: Path) -> tuple[float, dict]:
    start = time.perf_counter()
    with open_hub(config) as hub:
        [result] = sync(hub)
    elapsed = time.perf_counter() - start
    assert result.status == "ok", (result.status, result.error)
    return elapsed, {s.connection: (s.created, s.updated, s.unchanged, s.api_calls)
                     for s in result.stats.values()}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=100_000)
    args = parser.parse_args()
    n = args.records
    tag = uuid.uuid4().hex[:8]
    with tempfile.TemporaryDirectory() as tmp:
        a, b = ReferenceStore(f"memory:a-{tag}"), ReferenceStore(f"memory:b-{tag}")
        config = Path(tmp) / "bench.toml"
        config.write_text(f"""
[state]
url = "sqlite:///{tmp}/state.db"
[connections.left]
plugin = "reference"
path = "memory:a-{tag}"
[connections.right]
plugin = "reference"
path = "memory:b-{tag}"
[[flows]]
name = "bench"
a = {{ connection = "left", scope = "p" }}
b = {{ connection = "right", scope = "p" }}
records = ["issue"]
""")
        for start in range(0, n, 10_000):
            a.insert("p", "issue", [(Issue(title=f"issue {i}", description="body " * 10,
                                           labels=["bench"]), None)
                                    for i in range(start, min(n, start + 10_000))])
        print(f"seeded {n} issues on side a; RSS {peak_rss_mb():.0f} MB")

        backfill, stats = timed_run(config)
        assert b.count("p", "issue") == n
        print(f"backfill:        {backfill:7.2f} s  {n / backfill:9.0f} records/s  {stats}")
        settle, stats = timed_run(config)
        print(f"settle (reads back our own {n} creates on b once): {settle:.2f} s  {stats}")
        noop, stats = timed_run(config)
        print(f"no-op incremental over {n} links: {noop:.3f} s  {stats}")
        changed = max(1, n // 100)
        for i in range(1, changed + 1):
            a.edit("p", "issue", str(i * 97 % n + 1), title=f"edited {i}")
        one_pct, stats = timed_run(config)
        print(f"1% changed ({changed} records): {one_pct:.2f} s  {stats}")
        print(f"peak RSS: {peak_rss_mb():.0f} MB")

    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "hub", "--help"], check=True, capture_output=True)
    help_time = time.perf_counter() - start
    code = ("import sys; from hub.cli import main\ntry: main(['--help'])\nexcept SystemExit: pass\n"
            "print(','.join(m for m in ('jira','github','zohocrmsdk') if m in sys.modules) or 'none')")
    loaded = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    print(f"pmhub --help: {help_time:.3f} s; client libraries imported: {loaded.strip().splitlines()[-1]}")


if __name__ == "__main__":
    main()
