"""The chaos harness: random edits on GitHub, Jira, Trello and Zoho CRM (their sandbox stand-ins),
random faults, ``kill -9`` of ``pmhub sync`` at random moments, then quiet runs until nothing is
written, and the invariants checked (``tests.chaos.invariants``).

The work comes in epochs of rounds. A round: a few random edits (creates, field edits on either
side of a flow, comments), a few random faults, one ``pmhub sync`` (in this process, or a
subprocess killed with SIGKILL when it has written a random number of times or at a random
moment), then the faults are cleared. An epoch ends with the settle: quiet runs until one writes
nothing, then every invariant is checked against what the harness itself wrote.

The same harness runs in the suite (``tests/chaos/test_chaos.py``, a fixed seed, a few rounds) and
for longer in ``bench/soak.py``.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
import traceback
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from hub.cli import main
from hub.config import render_config
from hub.testing.sandbox_client import SandboxClient
from tests.chaos.faults import (
    ENABLED_FAULT_KINDS,
    SANDBOX_FAULT_KINDS,
    STATUS_BEFORE_TWIN,
    FaultPlan,
    delay_for,
    random_fault,
)
from tests.chaos.invariants import Checker, Entity, Expectation
from tests.chaos.tools import GitHubTool, JiraTool, Tool, TrelloTool, ZohoTool
from tests.sandbox.jira_support import EMAIL

WORDS = ("alpha", "bravo", "cobalt", "delta", "ember", "fjord", "garnet", "harbor", "indigo", "juniper",
         "kelp", "lumen", "maple", "nectar", "onyx", "pepper", "quartz", "raven", "sierra", "tundra")
#: Requests that read although they are POSTs: not writes for the quiet-run check.
READ_POSTS = ("/search/jql", "/issue/bulkfetch", "/crm/v8/coql", "/oauth/v2/token")
WRITE_METHODS = ("POST", "PUT", "PATCH", "DELETE")
FIELDS = ("title", "description", "status")


@dataclass(frozen=True)
class ChaosSettings:
    seed: int = 20261201
    epochs: int = 2
    rounds_per_epoch: int = 3
    #: Random operations (create, edit, comment) per round: inclusive bounds.
    edits_per_round: tuple[int, int] = (3, 6)
    faults_per_round: tuple[int, int] = (2, 4)
    #: Chance that a round's sync is a subprocess killed with SIGKILL (when "kill" is a fault kind).
    kill_chance: float = 0.4
    #: Every connection's client timeout, seconds (GitHub's setting is a whole number). Short, so a
    #: delay fault outlasts it cheaply and an ambiguous create's settling wait (the timeout plus a
    #: margin) stays a few seconds.
    timeout: int = 2
    fault_kinds: tuple[str, ...] = ENABLED_FAULT_KINDS
    #: May a record's status change before its twin exists (see tests.chaos.faults)?
    status_before_twin: bool = STATUS_BEFORE_TWIN
    #: Quiet runs allowed at a settle before "never went quiet" is a failure.
    max_quiet_runs: int = 6
    #: Print one line per round and settle as it happens (the soak's --verbose).
    verbose: bool = False


@dataclass
class ChaosReport:
    seed: int
    rounds: int = 0
    syncs: int = 0
    kills: int = 0
    faults: Counter[str] = field(default_factory=Counter)
    faults_hit: Counter[str] = field(default_factory=Counter)
    edits: Counter[str] = field(default_factory=Counter)
    quiet_runs: list[int] = field(default_factory=list)
    checks: Counter[str] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def summary(self) -> str:
        failed = Counter(line.split(":", 1)[0] for line in self.failures)
        lines = [
            f"seed {self.seed}: {self.rounds} rounds, {self.syncs} syncs, {self.kills} kills (SIGKILL), "
            f"{self.seconds:.1f} s",
            "edits: " + _tally(self.edits),
            "faults injected: " + _tally(self.faults),
            "faults hit: " + _tally(self.faults_hit),
            f"quiet runs needed per settle: {self.quiet_runs}",
            "invariants checked: " + ", ".join(
                f"{name} x{n}" + (f" ({failed[name]} FAILED)" if failed[name] else " ok")
                for name, n in sorted(self.checks.items())),
        ]
        if self.failures:
            lines += ["failures:", *(f"  {line}" for line in self.failures)]
        else:
            lines.append("failures: none")
        return "\n".join(lines)


def _tally(counter: Counter[str]) -> str:
    return ", ".join(f"{key} {n}" for key, n in sorted(counter.items())) or "none"


@dataclass(frozen=True)
class FlowSide:
    connection: str
    tool: Tool


@dataclass(frozen=True)
class Flow:
    """One flow of the harness's config and the two tools it joins."""

    name: str
    mapping: str
    records: tuple[str, ...]
    a: FlowSide
    b: FlowSide

    def side(self, name: str) -> FlowSide:
        return self.a if name == "a" else self.b

    @property
    def statuses(self) -> tuple[str, ...]:
        """The status categories both sides hold and map back unchanged."""
        return tuple(s for s in self.a.tool.statuses if s in self.b.tool.statuses)

    def config(self) -> dict[str, Any]:
        return {"name": self.name, "a": {"connection": self.a.connection, "scope": self.a.tool.scope},
                "b": {"connection": self.b.connection, "scope": self.b.tool.scope}, "mapping": self.mapping,
                "records": list(self.records), "direction": "both", "conflict": "newest",
                "on_delete": "close"}


class Chaos:
    """The tools, pmhub's config and state, the harness's own record of what it wrote, and the rounds."""

    def __init__(self, workdir: Path, sandbox: SandboxClient, settings: ChaosSettings) -> None:
        self.workdir = workdir
        self.sandbox = sandbox
        self.settings = settings
        self.rng = random.Random(settings.seed)
        self.report = ChaosReport(settings.seed)
        self.entities: list[Entity] = []
        self.next_tag = 1
        self.next_note = 1
        jira_statuses = ("todo", "in_progress", "done")
        github = FlowSide("gh", GitHubTool(sandbox))
        self.flows = [
            Flow("portal", "github-jira", ("issue", "comment"), github,
                 FlowSide("jira", JiraTool(sandbox, "PORT", jira_statuses))),
            Flow("board", "trello-jira", ("issue", "comment"), FlowSide("board", TrelloTool(sandbox)),
                 FlowSide("jira", JiraTool(sandbox, "CUST", jira_statuses))),
            Flow("cases", "zoho-jira", ("issue",),
                 FlowSide("crm", ZohoTool(sandbox)),
                 FlowSide("jira", JiraTool(sandbox, "CASE", jira_statuses))),
        ]
        self.state_path = workdir / "state.db"
        self.config = self._write_config()
        self.checker = Checker(self.flows, self.state_path, self.report)

    # -- set-up --------------------------------------------------------------------------------
    def _write_config(self) -> Path:
        secrets = {"gh-token": "sandbox-token", "jira-token": "t", "trello-token": "sandbox-token",
                   "zoho-secret": "client-secret", "zoho-refresh": "1000.chaos-refresh"}
        for name, value in secrets.items():
            (self.workdir / name).write_text(value, encoding="utf-8")
        timeout = self.settings.timeout
        connections = {
            "gh": {"plugin": "github", "base_url": self.sandbox.base("github"), "token": {"file": "gh-token"},
                   "seconds_between_writes": 0, "timeout": timeout},
            "jira": {"plugin": "jira", "base_url": self.sandbox.base("jira"), "email": EMAIL,
                     "token": {"file": "jira-token"}, "timeout": timeout},
            "board": {"plugin": "trello", "base_url": self.sandbox.base("trello"), "key": "sandbox-key",
                      "token": {"file": "trello-token"}, "timeout": timeout},
            "crm": {"plugin": "zoho_crm", "base_url": self.sandbox.base("zoho"),
                    "client_id": "1000.PMHUBTEST",
                    "client_secret": {"file": "zoho-secret"}, "refresh_token": {"file": "zoho-refresh"},
                    "timeout": timeout, "data_dir": str(self.workdir / "zoho")},
        }
        # Short backoff, so a round costs seconds; Retry-After is honoured whatever these say.
        retry = {"initial_delay": 0.05, "max_delay": 0.5, "budget_seconds": 60.0}
        path = self.workdir / "pmhub.toml"
        path.write_text(render_config(state_url=f"sqlite:///{self.state_path}", connections=connections,
                                      flows=[flow.config() for flow in self.flows], tables={"retry": retry}),
                        encoding="utf-8")
        return path

    # -- the whole run -------------------------------------------------------------------------
    def run(self) -> ChaosReport:
        started = time.monotonic()
        for _epoch in range(self.settings.epochs):
            for _ in range(self.settings.rounds_per_epoch):
                self.round()
            self.settle()
        self.report.seconds = time.monotonic() - started
        return self.report

    def round(self) -> None:
        self.report.rounds += 1
        twins: dict[tuple[str, str], dict[str, str]] = {}
        for _ in range(self.rng.randint(*self.settings.edits_per_round)):
            self.random_edit(twins)
        kinds = tuple(kind for kind in self.settings.fault_kinds if kind in SANDBOX_FAULT_KINDS)
        plans = [random_fault(self.rng, kinds, timeout=self.settings.timeout)
                 for _ in range(self.rng.randint(*self.settings.faults_per_round)) if kinds]
        for plan in plans:
            self.sandbox.fault(**plan.spec)
            self.report.faults[plan.kind] += 1
        killed = self.rng.random() < self.settings.kill_chance and "kill" in self.settings.fault_kinds
        kills = self.report.kills
        self.sandbox.clear_requests()
        clean = self.killed_sync() if killed else self.sync() == 0
        hit = self._faults_hit(plans)
        how = "killed" if self.report.kills > kills else f"{'clean' if clean else 'unclean'} sync"
        self.say(f"round {self.report.rounds}: faults [{'; '.join(p.label for p in plans)}], "
                 f"hit {sorted(hit)}, {how}")
        self.sandbox.clear_faults()
        if "delay" in hit:
            # A delayed request is applied after its client gave up (or died): let it land before
            # anyone edits again, or the harness would race pmhub's own late write.
            time.sleep(delay_for(self.settings.timeout) + 0.3)
        if self.settings.verbose:
            for entry in self._writes():
                self.say(f"  {entry['service']} {entry['method']} {entry['path']} -> {entry['status']}"
                         + (" (fault)" if entry.get("fault") else ""))
        if clean and not hit:
            # A complete run with nothing in its way applied every edit made before it.
            for entity in self.entities:
                entity.synced(f"r{self.report.rounds}")

    def say(self, line: str) -> None:
        if self.settings.verbose:
            print(line, flush=True)

    def _faults_hit(self, plans: list[FaultPlan]) -> set[str]:
        reply = self.sandbox.http.get(f"{self.sandbox.url}/_sandbox/faults", timeout=10)
        reply.raise_for_status()
        hits = [fault["hits"] for fault in reply.json()["faults"]]
        kinds = set()
        for plan, n in zip(plans, hits, strict=True):
            if n:
                self.report.faults_hit[plan.kind] += n
                kinds.add(plan.kind)
        return kinds

    # -- edits ---------------------------------------------------------------------------------
    def random_edit(self, twins: dict[tuple[str, str], dict[str, str]]) -> None:
        roll = self.rng.random()
        if roll < 0.3 or not self.entities:
            self.create()
            return
        entity = self.rng.choice(self.entities)
        side = self.rng.choice(("a", "b"))
        if side not in entity.ids:
            found = self._twins(entity.flow, side, twins).get(entity.tag)
            if found is None:
                side = entity.origin
            else:
                entity.ids[side] = found
        tool = entity.flow.side(side).tool
        if roll < 0.75 or not tool.has_comments:
            name = self.rng.choice(FIELDS)
            early = name == "status" and not self.settings.status_before_twin
            if early and not self._has_twin(entity, twins):
                name = self.rng.choice(("title", "description"))
            value = self._value(entity, name)
            tool.edit(entity.ids[side], name, value)
            entity.edited(name, side, value, f"r{self.report.rounds}")
            self.report.edits[f"edit {tool.name}"] += 1
        elif roll < 0.9 or not entity.note_ids:
            tag = f"K{self.next_note}"
            self.next_note += 1
            text = f"{tag} {self._words(3)}"
            entity.note_ids[tag] = (side, tool.comment(entity.ids[side], text))
            entity.notes[tag] = text
            self.report.edits[f"comment {tool.name}"] += 1
        else:
            # Its author edits a comment, on the side where it was written.
            tag = self.rng.choice(sorted(entity.note_ids))
            side, note_id = entity.note_ids[tag]
            tool = entity.flow.side(side).tool
            text = f"{tag} {self._words(3)}"
            tool.edit_comment(entity.ids[side], note_id, text)
            entity.notes[tag] = text
            self.report.edits[f"comment edit {tool.name}"] += 1

    def _has_twin(self, entity: Entity, twins: dict[tuple[str, str], dict[str, str]]) -> bool:
        other = "b" if entity.origin == "a" else "a"
        if other not in entity.ids:
            found = self._twins(entity.flow, other, twins).get(entity.tag)
            if found is not None:
                entity.ids[other] = found
        return other in entity.ids

    def create(self) -> None:
        flow = self.rng.choice(self.flows)
        side = self.rng.choice(("a", "b"))
        tag = f"C{self.next_tag}"
        self.next_tag += 1
        title, description = f"{tag} {self._words(2)}", f"{self._words(4)}."
        tool = flow.side(side).tool
        record_id = tool.create(title, description)
        expect = Expectation.fresh(title=title, description=description, status="todo")
        expect.history.append(f"r{self.report.rounds} created on {side}: {title!r}, {description!r}")
        self.entities.append(Entity(tag, flow, side, {side: record_id}, expect))
        self.report.edits[f"create {tool.name}"] += 1

    def _value(self, entity: Entity, name: str) -> str:
        if name == "title":
            return f"{entity.tag} {self._words(2)}"
        if name == "description":
            return f"{self._words(4)}."
        return self.rng.choice(entity.flow.statuses)

    def _words(self, n: int) -> str:
        return " ".join(self.rng.sample(WORDS, n))

    def _twins(self, flow: Flow, side: str, cache: dict[tuple[str, str], dict[str, str]]) -> dict[str, str]:
        """tag -> record id on one side of a flow, listed once per round (twins appear as pmhub syncs)."""
        key = (flow.name, side)
        if key not in cache:
            cache[key] = {}
            for record in flow.side(side).tool.records():
                tag = record.title.split(" ", 1)[0]
                cache[key].setdefault(tag, record.id)
        return cache[key]

    # -- syncs ---------------------------------------------------------------------------------
    def sync(self) -> int:
        """``pmhub sync`` in this process; its exit code (a traceback is a failure, recorded)."""
        self.report.syncs += 1
        result = CliRunner().invoke(main, ["sync", "--quiet", "--config", str(self.config)],
                                    catch_exceptions=True)
        crashed = result.exception is not None and not isinstance(result.exception, SystemExit)
        self.report.checks["no-traceback"] += 1
        if crashed or "Traceback" in result.output:
            assert result.exc_info is not None
            shown = ("".join(traceback.format_exception(*result.exc_info))[-1500:] if crashed
                     else result.output)
            self.report.failures.append(f"no-traceback: pmhub sync crashed: {shown}")
        return int(result.exit_code)

    def killed_sync(self) -> bool:
        """``pmhub sync`` as a subprocess, killed with SIGKILL once it has written a random number of
        times or at a random moment; True when it finished on its own first with exit 0."""
        self.report.syncs += 1
        writes_before_kill = self.rng.randint(1, 4)
        # The interpreter takes about a second to start: most deadlines land in the run itself.
        deadline = time.monotonic() + self.rng.uniform(1.0, 5.0)
        self.sandbox.clear_requests()
        output = self.workdir / "killed-run.log"
        env = {**os.environ, "PMHUB_DATA_DIR": str(self.workdir / "data")}
        with output.open("wb") as sink:
            process = subprocess.Popen([sys.executable, "-m", "hub", "sync", "--quiet", "--config",
                                        str(self.config)], stdout=sink, stderr=subprocess.STDOUT, env=env,
                                       cwd=self.workdir)
            try:
                while process.poll() is None:
                    if len(self._writes()) >= writes_before_kill or time.monotonic() > deadline:
                        break
                    time.sleep(0.03)
            finally:
                if process.poll() is None:
                    os.kill(process.pid, signal.SIGKILL)
                    self.report.kills += 1
                code = process.wait()
        text = output.read_text(encoding="utf-8", errors="replace")
        self.report.checks["no-traceback"] += 1
        if "Traceback" in text:
            self.report.failures.append(f"no-traceback: pmhub sync (subprocess) printed: {text[-1500:]}")
        return code == 0

    def _writes(self) -> list[dict[str, Any]]:
        return [r for r in self.sandbox.requests() if r["method"] in WRITE_METHODS
                and not r["path"].endswith(READ_POSTS)]

    # -- settle and check ----------------------------------------------------------------------
    def settle(self) -> None:
        """Quiet runs until one writes nothing, then every invariant."""
        self.sandbox.clear_faults()
        runs, code = 0, -1
        writes: list[dict[str, Any]] = [{}]
        while runs < self.settings.max_quiet_runs and (writes or code != 0):
            self.sandbox.clear_requests()
            code = self.sync()
            writes = self._writes()
            runs += 1
        self.report.quiet_runs.append(runs)
        self.report.checks["quiet-run"] += 1
        if writes or code != 0:
            shown = sorted(Counter(f"{w['service']} {w['method']} {w['path']}" for w in writes).items())
            self.report.failures.append(
                f"quiet-run: after {runs} runs the last still exited {code} and wrote {shown}")
        failed = len(self.report.failures)
        self.checker.check(self.entities)
        self.say(f"settle after round {self.report.rounds}: {runs} quiet run(s), "
                 f"{len(self.report.failures) - failed} new failure(s)")
