"""Startup benchmark (issue 9, item 10): what a cron no-op ``pmhub sync`` costs beyond its libraries.

Builds a temporary config with one reference flow (two file-backed reference stores, SQLite state),
runs ``pmhub sync`` once to settle, then alternately runs the no-op ``pmhub sync`` and
``python -c "import sqlalchemy, pydantic"`` (the libraries a sync cannot do without) as subprocesses,
so both see the same machine load. Prints the medians, their ratio, and ``pmhub --help``'s time.

    python bench/startup.py [--runs 15]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from hub.config import render_config
from hub.model import Issue
from hub.testing.reference import ReferenceStore

BASELINE = [sys.executable, "-c", "import sqlalchemy, pydantic"]


def pmhub_command() -> list[str]:
    """The installed console script next to this interpreter (what cron runs), else ``python -m hub``."""
    script = Path(sys.executable).with_name("pmhub")
    return [str(script)] if script.is_file() else [sys.executable, "-m", "hub"]


def write_reference_config(folder: Path) -> Path:
    """One flow between two file-backed reference stores, with a few issues on side a."""
    with ReferenceStore(str(folder / "a.sqlite")) as store:
        store.insert("proj", "issue", [(Issue(title=f"issue {i}"), None) for i in range(10)])
    config = folder / "pmhub.toml"
    config.write_text(render_config(
        state_url=f"sqlite:///{folder / 'state.db'}",
        connections={"left": {"plugin": "reference", "path": str(folder / "a.sqlite")},
                     "right": {"plugin": "reference", "path": str(folder / "b.sqlite")}},
        flows=[{"name": "main", "a": {"connection": "left", "scope": "proj"},
                "b": {"connection": "right", "scope": "proj"}, "records": ["issue"]}]),
        encoding="utf-8")
    return config


def wall_time(command: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=True, env=env, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=15, help="alternating runs of each command")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        config = write_reference_config(folder)
        env = {**os.environ, "PMHUB_DATA_DIR": str(folder / "data")}
        sync = [*pmhub_command(), "sync", "--quiet", "--config", str(config)]
        # The first run creates the schema and the twins; the second reads back its own creates.
        for _ in range(2):
            wall_time(sync, env)
        noop, baseline, helps = [], [], []
        for _ in range(args.runs):
            noop.append(wall_time(sync, env))
            baseline.append(wall_time(BASELINE, env))
            helps.append(wall_time([*pmhub_command(), "--help"], env))
    sync_s, base_s, help_s = (statistics.median(x) for x in (noop, baseline, helps))
    print(f"no-op pmhub sync (one reference flow): {sync_s:.3f} s median of {args.runs}")
    print(f"python -c 'import sqlalchemy, pydantic': {base_s:.3f} s")
    print(f"ratio: {sync_s / base_s:.2f}x (target at most 1.5x)")
    print(f"pmhub --help: {help_s:.3f} s")


if __name__ == "__main__":
    main()
