"""The chaos soak: the suite's chaos harness (``tests/chaos``) for many more rounds.

    python bench/soak.py --rounds 20 --seed 7 [--per-settle 4] [--faults 429,5xx,drop,delay,after_commit,kill]

Random edits on GitHub, Jira, Trello and Zoho CRM through the sandbox's stand-ins (started in this
process), random faults, ``kill -9`` of ``pmhub sync`` subprocesses, and every ``--per-settle``
rounds quiet runs until nothing is written and the invariants. Prints rounds, edits, faults
injected and hit by kind, kills, quiet runs per settle, the invariants checked and every failure;
exits 1 when an invariant failed.
"""

from __future__ import annotations

import argparse
import math
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from hub.sandbox.server import SandboxServer, build_sandbox
from hub.testing.sandbox_client import SandboxClient
from tests.chaos.faults import ALL_FAULT_KINDS, ENABLED_FAULT_KINDS, STATUS_BEFORE_TWIN
from tests.chaos.harness import Chaos, ChaosSettings


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--per-settle", type=int, default=4, help="rounds between settles (checks)")
    parser.add_argument("--kill-chance", type=float, default=ChaosSettings.kill_chance)
    parser.add_argument("--faults", default=",".join(ENABLED_FAULT_KINDS),
                        help=f"fault kinds, comma-separated, of {', '.join(ALL_FAULT_KINDS)}; none for none")
    parser.add_argument("--status-before-twin", action=argparse.BooleanOptionalAction,
                        default=STATUS_BEFORE_TWIN,
                        help="let the harness change a status before the record's twin exists")
    parser.add_argument("--workdir", type=Path, default=None,
                        help="keep config, state and logs in this (new) folder instead of a temporary one")
    parser.add_argument("--verbose", "-v", action="store_true", help="one line per round and settle")
    args = parser.parse_args()
    kinds = tuple(kind for kind in args.faults.split(",") if kind and kind != "none")
    unknown = set(kinds) - set(ALL_FAULT_KINDS)
    if unknown:
        parser.error(f"unknown fault kinds {sorted(unknown)}; known: {', '.join(ALL_FAULT_KINDS)}")
    per_settle = max(1, args.per_settle)
    settings = ChaosSettings(seed=args.seed, epochs=math.ceil(args.rounds / per_settle),
                             rounds_per_epoch=per_settle, kill_chance=args.kill_chance, fault_kinds=kinds,
                             status_before_twin=args.status_before_twin, verbose=args.verbose)
    with tempfile.TemporaryDirectory(prefix="pmhub-soak-") as tmp, SandboxServer(build_sandbox()) as server:
        workdir = args.workdir or Path(tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        sandbox = SandboxClient(server.url)
        sandbox.reset("empty")
        report = Chaos(workdir, sandbox, settings).run()
    print(report.summary())
    return 1 if report.failures else 0


if __name__ == "__main__":
    sys.exit(main())
