"""Startup benchmark (issue 9, item 10): what a cron no-op ``pmhub sync`` costs beyond its libraries.

Builds a temporary config with one reference flow (two file-backed reference stores, SQLite state),
runs ``pmhub sync`` once to settle, then alternately runs the no-op ``pmhub sync`` and
``python -c "import sqlalchemy, pydantic"`` (the libraries a sync cannot do without) as subprocesses,
so both see the same machine load. Prints the medians, their ratio, and ``pmhub --help``'s time.

Byte-code is cached (in a temporary ``PYTHONPYCACHEPREFIX``) as it is for an installed pmhub, even
when the environment sets ``PYTHONDONTWRITEBYTECODE``; ``--no-bytecode`` measures without it, which
adds pmhub's own compile time (about 40 modules) to every sync.

    python bench/startup.py [--runs 15] [--no-bytecode]
"""

from __future__ import annotations

import argparse
import os
import resource
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
#: ``import pydantic`` alone is lazy: the first model class loads most of it. Shown for context.
BASELINE_WITH_MODEL = [sys.executable, "-c",
                       "import sqlalchemy, pydantic\nclass M(pydantic.BaseModel):\n    a: int"]


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


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(command: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall and CPU seconds of one run (CPU time moves less when other work shares the machine)."""
    cpu, start = _children_cpu(), time.perf_counter()
    subprocess.run(command, check=True, env=env, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start, _children_cpu() - cpu


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=15, help="alternating runs of each command")
    parser.add_argument("--no-bytecode", action="store_true",
                        help="keep the environment's PYTHONDONTWRITEBYTECODE (compile on every run)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        config = write_reference_config(folder)
        env = {**os.environ, "PMHUB_DATA_DIR": str(folder / "data")}
        if not args.no_bytecode:
            env.pop("PYTHONDONTWRITEBYTECODE", None)
            env["PYTHONPYCACHEPREFIX"] = str(folder / "pycache")
        sync = [*pmhub_command(), "sync", "--quiet", "--config", str(config)]
        # The first run creates the schema and the twins; the second reads back its own creates.
        # Every command runs once before timing, so each finds its byte-code cached.
        for _ in range(2):
            timed(sync, env)
        timed(BASELINE, env)
        timed(BASELINE_WITH_MODEL, env)
        timed([*pmhub_command(), "--help"], env)
        noop, baseline, with_model, helps = [], [], [], []
        for _ in range(args.runs):
            noop.append(timed(sync, env))
            baseline.append(timed(BASELINE, env))
            with_model.append(timed(BASELINE_WITH_MODEL, env))
            helps.append(timed([*pmhub_command(), "--help"], env))
    (sync_s, sync_cpu), (base_s, base_cpu), (model_s, _), (help_s, _) = (
        (statistics.median(w for w, _ in runs), statistics.median(c for _, c in runs))
        for runs in (noop, baseline, with_model, helps))
    mode = "without cached byte-code" if args.no_bytecode else "byte-code cached"
    print(f"no-op pmhub sync (one reference flow, {mode}): {sync_s:.3f} s "
          f"(CPU {sync_cpu:.3f} s), median of {args.runs}")
    print(f"python -c 'import sqlalchemy, pydantic': {base_s:.3f} s (CPU {base_cpu:.3f} s)")
    print(f"ratio: {sync_s / base_s:.2f}x wall, {sync_cpu / base_cpu:.2f}x CPU (target at most 1.5x)")
    print(f"(the same plus one pydantic model class: {model_s:.3f} s; sync is {sync_s / model_s:.2f}x that)")
    print(f"pmhub --help: {help_s:.3f} s")


if __name__ == "__main__":
    main()
