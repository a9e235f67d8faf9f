"""How fast the reference connector lists and bulk-creates: prints rates and peak RSS for 100k issues.

    python bench/reference_store.py [COUNT] [--file PATH]
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from pathlib import Path

from hub.connector import chunks
from hub.model import Issue
from hub.testing.reference import ReferenceConnector, ReferenceSettings, ReferenceStore


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("count", type=int, nargs="?", default=100_000)
    parser.add_argument("--file", action="store_true", help="use a SQLite file instead of memory")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = str(Path(tmp) / "ref.db") if args.file else "memory:bench"
        holder = ReferenceStore(path)  # keeps a memory database alive between connectors
        connector = ReferenceConnector("bench", ReferenceSettings(plugin="reference", path=path))
        connector.open()
        # Items are made and results dropped chunk by chunk, as the engine streams a backfill;
        # holding 100k of each alive makes the garbage collector dominate the figures.
        items = ((Issue(title=f"issue {n}", description="body"), f"m{n}") for n in range(args.count))

        started = time.perf_counter()
        for chunk in chunks(items, connector.settings.page_size):
            results = connector.create_many("bench", "issue", chunk)
            assert not any(isinstance(r, Exception) for r in results)
        create_s = time.perf_counter() - started

        started = time.perf_counter()
        listed = sum(1 for _ in connector.list_changed("bench", "issue", None))
        list_s = time.perf_counter() - started
        assert listed == args.count, listed

        connector.close()
        holder.close()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"store: {'file' if args.file else 'memory'}, {args.count} issues")
    print(f"create_many (incl. building the items): {create_s:.2f} s, {args.count / create_s:,.0f} records/s")
    print(f"list_changed: {list_s:.2f} s, {args.count / list_s:,.0f} records/s")
    print(f"calls: {dict(connector.calls.counts)}")
    print(f"peak RSS: {peak_mb:.0f} MB")


if __name__ == "__main__":
    main()
