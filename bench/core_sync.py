"""Benchmark of the sync engine (issue 2): two in-memory reference connectors, SQLite state.

Backfill 100,000 issues, then a no-op incremental run (a fresh hub in this process, the hub kept
open as the daemon and queue workers run it, and a whole `pmhub sync` process as cron runs it),
then a run with 1% changed.
Prints records/s, each run's time, peak RSS, and how long `pmhub --help` takes (and that it
imports no client library).

Then the memory a run needs as the work grows: a backfill of 100,000 and of 300,000 issues, each in a
fresh process (so the peaks are separate) over the reference connector's file store (so the tool's
records live on disk, not in the measured process), followed there by a run in which every record
changed on side b. Prints each peak RSS and the slope in KB per record.

``--state postgres`` runs the throughput part on PostgreSQL (a fresh schema on 127.0.0.1:5432,
dropped afterwards) and ``--state both`` on each backend in turn, then prints them side by side with
the ratio PostgreSQL / SQLite of each run (``--repeat N`` runs each N times and takes the medians).

    python bench/core_sync.py [--records 100000] [--state sqlite|postgres|both] [--repeat 1]
                              [--memory-sizes 100000,300000] [--skip-memory]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from hub.engine.runner import open_hub, sync
from hub.model import Issue
from hub.testing.postgres import fresh_schema
from hub.testing.reference import ReferenceStore


def peak_rss_mb() -> float:
    """This process's peak RSS. VmHWM starts afresh at exec; ru_maxrss would begin at the parent's
    peak, since Linux carries it over fork and exec."""
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


#: The server the PostgreSQL runs use (trust auth, as on the development machine and in CI).
POSTGRES_DSN = os.environ.get("PMHUB_BENCH_POSTGRES", "host=127.0.0.1 port=5432 dbname=test user=postgres")
POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def postgres_schema() -> AbstractContextManager[str]:
    """A state URL on a fresh schema of the local server; the schema is dropped afterwards."""
    return fresh_schema("bench", dsn=POSTGRES_DSN, url=POSTGRES_URL)


def write_config(path: Path, state_db: Path | str, left: str, right: str) -> Path:
    url = state_db if isinstance(state_db, str) else f"sqlite:///{state_db}"
    path.write_text(f"""
[state]
url = "{url}"
[connections.left]
plugin = "reference"
path = "{left}"
[connections.right]
plugin = "reference"
path = "{right}"
[[flows]]
name = "bench"
a = {{ connection = "left", scope = "p" }}
b = {{ connection = "right", scope = "p" }}
records = ["issue"]
""")
    return path


def seed(store: ReferenceStore, n: int) -> None:
    for start in range(0, n, 10_000):
        store.insert("p", "issue", [(Issue(title=f"issue {i}", description="body " * 10,
                                           labels=["bench"]), None)
                                    for i in range(start, min(n, start + 10_000))])


def timed_run(config: Path) -> tuple[float, dict]:
    start = time.perf_counter()
    with open_hub(config) as hub:
        [result] = sync(hub)
    elapsed = time.perf_counter() - start
    assert result.status == "ok", (result.status, result.error)
    return elapsed, {s.connection: (s.created, s.updated, s.unchanged, s.api_calls)
                     for s in result.stats.values()}


def measure_memory(home: Path, n: int) -> None:
    """In this fresh process: backfill the ``n`` issues seeded in ``home``'s file stores, then a run in
    which every record changed on side b; print one JSON line with the peak RSS and the rates."""
    left, right = str(home / "a.sqlite"), str(home / "b.sqlite")
    config = write_config(home / "bench.toml", home / "state.db", left, right)
    started_mb = peak_rss_mb()
    backfill, _ = timed_run(config)
    backfill_mb = peak_rss_mb()
    # Every twin changes on b (one SQL statement on the store's file rather than n edits): the run
    # holds b's changes while it lists a, then writes them all to a.
    with sqlite3.connect(right) as db:
        db.execute("UPDATE records SET data = json_set(data, '$.title', 'edited ' || seq), "
                   "updated = updated + 1000000000")
        db.execute("UPDATE clock SET last = (SELECT max(updated) FROM records)")
    db.close()
    changed_b, stats = timed_run(config)
    assert stats["left"][1] == n, stats
    print(json.dumps({"records": n, "started_mb": started_mb, "backfill_mb": backfill_mb,
                      "peak_mb": peak_rss_mb(), "backfill_rate": n / backfill, "changed_b_s": changed_b}))


def memory_report(sizes: list[int]) -> None:
    rows = []
    for n in sizes:
        with tempfile.TemporaryDirectory() as tmp:
            with ReferenceStore(str(Path(tmp) / "a.sqlite")) as a:
                seed(a, n)
            out = subprocess.run([sys.executable, __file__, "--measure-memory", str(n), tmp], check=True,
                                 capture_output=True, text=True).stdout
        row = json.loads(out.strip().splitlines()[-1])
        rows.append(row)
        print(f"memory, {n} records (fresh process, file stores): peak RSS {row['peak_mb']:.0f} MB "
              f"(at start {row['started_mb']:.0f} MB, after the backfill {row['backfill_mb']:.0f} MB); "
              f"backfill {row['backfill_rate']:.0f} records/s; every record changed on b: "
              f"{row['changed_b_s']:.1f} s")
    if len(rows) >= 2:
        first, last = rows[0], rows[-1]
        grown = last["peak_mb"] - first["peak_mb"]
        slope = grown * 1024 / (last["records"] - first["records"])
        print(f"peak RSS growth {first['records']} -> {last['records']} records: {grown:.0f} MB, "
              f"{slope:.3f} KB per record")


RUNS = ("backfill", "settle", "no-op", "no-op, kept open", "no-op, process", "1% changed")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--state", choices=("sqlite", "postgres", "both"), default="sqlite")
    parser.add_argument("--repeat", type=int, default=1, help="runs per backend; medians are compared")
    parser.add_argument("--memory-sizes", default="100000,300000")
    parser.add_argument("--skip-memory", action="store_true")
    parser.add_argument("--skip-throughput", action="store_true")
    parser.add_argument("--measure-memory", nargs=2, metavar=("N", "DIR"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure_memory:
        count, home = args.measure_memory
        measure_memory(Path(home), int(count))
        return
    if not args.skip_throughput:
        backends = ("sqlite", "postgres") if args.state == "both" else (args.state,)
        # Alternated, so that both backends run under the same conditions of a shared machine.
        trials: dict[str, list[dict[str, float]]] = {backend: [] for backend in backends}
        for _ in range(args.repeat):
            for backend in backends:
                trials[backend].append(throughput(args.records, backend))
        medians = {backend: {run: statistics.median(t[run] for t in trials[backend]) for run in RUNS}
                   for backend in backends}
        if len(backends) == 2:
            side_by_side(args.records, args.repeat, medians["sqlite"], medians["postgres"])
        startup_report()
    if not args.skip_memory:
        memory_report([int(n) for n in args.memory_sizes.split(",")])


def side_by_side(n: int, repeat: int, sqlite: dict[str, float], postgres: dict[str, float]) -> None:
    print(f"\nstate backends, {n} records (median of {repeat}):")
    print(f"  {'run':<18}{'SQLite':>10}{'PostgreSQL':>12}{'ratio':>8}")
    for run in RUNS:
        print(f"  {run:<18}{sqlite[run]:>9.4f}s{postgres[run]:>11.4f}s{postgres[run] / sqlite[run]:>7.2f}x")


def throughput(n: int, backend: str = "sqlite") -> dict[str, float]:
    """Backfill, settle, no-op and 1%-changed runs of ``n`` issues on one state backend; their times."""
    tag = uuid.uuid4().hex[:8]
    with tempfile.TemporaryDirectory() as tmp, \
            (postgres_schema() if backend == "postgres" else _sqlite_file(Path(tmp))) as state:
        a, b = ReferenceStore(f"memory:a-{tag}"), ReferenceStore(f"memory:b-{tag}")
        config = write_config(Path(tmp) / "bench.toml", state, f"memory:a-{tag}", f"memory:b-{tag}")
        seed(a, n)
        print(f"[{backend}] seeded {n} issues on side a; RSS {peak_rss_mb():.0f} MB")
        times: dict[str, float] = {}

        cpu = time.process_time()
        times["backfill"], stats = timed_run(config)
        cpu = time.process_time() - cpu
        assert b.count("p", "issue") == n
        # Per CPU second too: on a shared machine the wall time also counts other processes' turns.
        print(f"backfill:        {times['backfill']:7.2f} s  {n / times['backfill']:9.0f} records/s  "
              f"({n / cpu:.0f} per CPU second)  {stats}")
        times["settle"], stats = timed_run(config)
        print(f"settle (reads back our own {n} creates on b once): {times['settle']:.2f} s  {stats}")
        # A no-op takes tens of milliseconds, where one sample is mostly noise: the median of five.
        noops = [timed_run(config) for _ in range(5)]
        times["no-op"], stats = statistics.median(t for t, _ in noops), noops[-1][1]
        print(f"no-op incremental over {n} links: {times['no-op']:.3f} s (median of 5)  {stats}")
        # As `pmhub daemon` and a queue worker run it: the hub (its store connection) stays open.
        times["no-op, kept open"] = kept_open_noop(config)
        print(f"no-op with the hub kept open (daemon, worker): {times['no-op, kept open']:.4f} s "
              "(median of 9)")
        # As cron runs it: a whole `pmhub sync` process (its tools' listings are empty there, the
        # reference stores being this process's memory; so nothing changed, as in the no-op).
        times["no-op, process"] = process_noop(config)
        print(f"no-op as a `pmhub sync` process (cron): {times['no-op, process']:.3f} s (median of 5)")
        changed = max(1, n // 100)
        for i in range(1, changed + 1):
            a.edit("p", "issue", str(i * 97 % n + 1), title=f"edited {i}")
        times["1% changed"], stats = timed_run(config)
        print(f"1% changed ({changed} records): {times['1% changed']:.2f} s  {stats}")
        print(f"peak RSS: {peak_rss_mb():.0f} MB")
    return times


def process_noop(config: Path) -> float:
    command = [sys.executable, "-m", "hub", "sync", "--quiet", "--config", str(config)]
    times = []
    for _ in range(5):
        start = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def kept_open_noop(config: Path) -> float:
    with open_hub(config) as hub:
        sync(hub)  # the connection opened, the statements compiled: as after a daemon's first run
        times = []
        for _ in range(9):
            start = time.perf_counter()
            [result] = sync(hub)
            times.append(time.perf_counter() - start)
            assert result.status == "ok", (result.status, result.error)
    return statistics.median(times)


@contextmanager
def _sqlite_file(tmp: Path) -> Iterator[Path]:
    yield tmp / "state.db"


def startup_report() -> None:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "hub", "--help"], check=True, capture_output=True)
    help_time = time.perf_counter() - start
    code = ("import sys; from hub.cli import main\ntry: main(['--help'])\nexcept SystemExit: pass\n"
            "print(','.join(m for m in ('jira','github','zohocrmsdk') if m in sys.modules) or 'none')")
    loaded = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    print(f"pmhub --help: {help_time:.3f} s; client libraries imported: {loaded.strip().splitlines()[-1]}")


if __name__ == "__main__":
    main()
