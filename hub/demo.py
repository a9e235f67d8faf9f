"""``pmhub demo``: the runner, the ``Demo`` the steps share, and the summary; the tools' steps come
from the plugins.

The demo is a list of small steps run over one ``Demo`` object in ascending ``position``. The core
contributes the steps that need no tool (start the sandbox, write the config, the syncs); each plugin
contributes its tool's steps through the ``register_demo_steps`` hook: add connections and flows
(before ``Phase.WRITE_CONFIG``), edit the tool through its real client library between the syncs,
check what arrived, or note what a user should look at. Adding a tool to the demo means registering
steps at free positions, not editing the others.

The core imports no tool client library; plugins import theirs inside their steps, so ``pmhub --help``
does not pay for them.
"""

from __future__ import annotations

import secrets
import shutil
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import IntEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from hub.errors import PmhubError

if TYPE_CHECKING:
    from hub.engine.flow import FlowResult
    from hub.plugins import PluginHost
    from hub.sandbox.server import SandboxServer

Echo = Callable[[str], None]

CONFIG_NAME = "pmhub-demo.toml"
STATE_NAME = "pmhub-demo.db"
#: The file, next to the config, that holds the sandbox's token: connections name it as
#: ``{"file": TOKEN_NAME}`` so the token is never inline in the config.
TOKEN_NAME = "sandbox-token"


class DemoFailed(PmhubError):
    """A step of the demo did not do what it should (the message says which)."""


class Phase(IntEnum):
    """Where the core's steps sit; a plugin places its steps between them (e.g. ``Phase.EDIT + 10``)."""

    #: The core starts the sandbox, seeded with "demo".
    SANDBOX = 100
    #: Plugins add their connections and flows to ``demo.connections`` and ``demo.flows``.
    CONNECT = 200
    #: The core writes the config from what the connect steps added.
    WRITE_CONFIG = 300
    FIRST_SYNC = 400
    #: Plugins edit their tool through its client library, as a user would.
    EDIT = 500
    SECOND_SYNC = 600
    #: Plugins check through their clients that the edits arrived; they add ``demo.outcomes`` lines.
    CHECK = 700
    #: The core syncs once more and expects nothing written, and every ``demo.quiet_checks`` to pass.
    QUIET_SYNC = 800


class QuietCheck(NamedTuple):
    """What a run with nothing new must also not have done, beyond writing no record."""

    #: Shown in the outcome line after "wrote nothing", e.g. "added no note".
    claim: str
    #: Returns what went wrong (for the error), or None when the claim holds.
    problem: Callable[[Demo], str | None]


@dataclass
class Demo:
    """What the steps share: the sandbox, the config being built, and what happened so far."""

    echo: Echo
    workdir: Path
    #: True when the user asked to keep the state (--keep-state): nothing is deleted afterwards.
    kept: bool
    token: str = field(default_factory=lambda: secrets.token_hex(12))
    server: SandboxServer | None = None
    #: ``[connections.NAME]`` tables and ``[[flows]]`` entries; steps add theirs before write_config.
    connections: dict[str, dict[str, Any]] = field(default_factory=dict)
    flows: list[dict[str, Any]] = field(default_factory=list)
    config: Path | None = None
    #: Per connection: records created and updated over all syncs of the demo.
    created: Counter[str] = field(default_factory=Counter)
    updated: Counter[str] = field(default_factory=Counter)
    #: Per service and HTTP method: requests pmhub made (from the sandbox log, syncs only).
    api_calls: dict[str, Counter[str]] = field(default_factory=dict)
    #: Lines for the summary: what the edits did on the other side.
    outcomes: list[str] = field(default_factory=list)
    #: Named values steps hand to later steps (e.g. which Jira issue the GitHub edit should reach).
    facts: dict[str, Any] = field(default_factory=dict)
    #: Checks the quiet (third) sync runs after writing nothing; connect steps add theirs.
    quiet_checks: list[QuietCheck] = field(default_factory=list)

    @property
    def url(self) -> str:
        if self.server is None:
            raise DemoFailed("the sandbox is not running (start_sandbox must come first)")
        return self.server.url

    def base(self, service: str) -> str:
        """The URL of one stand-in (``demo.base("github")``), to point a connection or client at."""
        return f"{self.url}/{service}"

    @property
    def token_ref(self) -> dict[str, str]:
        """How a connection setting names the sandbox's token: the file ``write_config`` writes."""
        return {"file": TOKEN_NAME}

    @property
    def state_file(self) -> Path:
        return self.workdir / STATE_NAME

    def sync(self, label: str) -> list[FlowResult]:
        """Run every flow like ``pmhub sync``, with progress lines; count what it did."""
        from hub.engine.runner import open_hub, sync

        if self.config is None:
            raise DemoFailed("no config yet (write_config must come before a sync)")
        assert self.server is not None
        log = self.server.app.log
        first_request = len(log)

        sides = {(f["name"], side): f[side]["connection"] for f in self.flows for side in ("a", "b")}

        def progress(flow: str, side: str, record_type: str, n: int) -> None:
            where = sides.get((flow, side), f"side {side}")
            self.echo(f"    {flow}: read {n} {record_type}{'s' if n != 1 else ''} from {where}")

        started = time.perf_counter()
        with open_hub(self.config) as hub:
            results = sync(hub, progress=progress)
        for entry in log[first_request:]:
            self.api_calls.setdefault(entry["service"], Counter())[entry["method"]] += 1
        for result in results:
            for stats in result.stats.values():
                self.created[stats.connection] += stats.created
                self.updated[stats.connection] += stats.updated
            parts = "; ".join(f"{s.connection}: {s.created} created, {s.updated} updated, "
                              f"{s.unchanged} unchanged" for s in result.stats.values())
            self.echo(f"    flow {result.flow}: {result.status} ({parts})")
            if result.status != "ok":
                # Attention: what was parked or put in conflict says why.
                why = result.error or "; ".join(f"{e.action} {e.record_type} {e.source}: {e.detail}"
                                                for e in result.plan if e.action in ("park", "conflict"))
                raise DemoFailed(f"{label}: flow {result.flow} ended {result.status}: {why}")
        self.echo(f"    {label} took {time.perf_counter() - started:.1f} s")
        return results


class DemoStep(NamedTuple):
    """One step of ``pmhub demo``, run in ascending ``position`` (see ``Phase``) over the ``Demo``.

    A step with a ``title`` is announced as ``[n/N] title``; one whose title is None continues the
    step before it (its lines appear under that step's heading).
    """

    position: int
    title: str | None
    run: Callable[[Demo], None]


# -- steps ---------------------------------------------------------------------------------------
def start_sandbox(demo: Demo) -> None:
    from hub.sandbox.server import SandboxServer, build_sandbox

    # Port 0: the OS picks a free port, so the demo never collides with a running `pmhub sandbox`.
    demo.server = SandboxServer(build_sandbox(token=demo.token, seed="demo"), port=0).start()
    demo.echo(f"    stand-ins for {', '.join(sorted(demo.server.app.services))} on {demo.url}")


def write_config(demo: Demo) -> None:
    from hub.config import render_config

    (demo.workdir / TOKEN_NAME).write_text(demo.token, encoding="utf-8")
    demo.config = demo.workdir / CONFIG_NAME
    demo.config.write_text(render_config(
        header="Written by `pmhub demo`: a working config against the sandbox it started.",
        state_url=f"sqlite:///{demo.state_file}", connections=demo.connections, flows=demo.flows,
    ), encoding="utf-8")
    demo.echo(f"    {demo.config}")


def first_sync(demo: Demo) -> None:
    demo.sync("first sync")


def second_sync(demo: Demo) -> None:
    demo.sync("second sync")


def rerun(demo: Demo) -> None:
    """A run with nothing new writes nothing (and passes every quiet check: no second note, ...)."""
    results = demo.sync("third sync")
    writes = sum(s.created + s.updated for r in results for s in r.stats.values())
    problems = [problem for check in demo.quiet_checks if (problem := check.problem(demo)) is not None]
    if writes or problems:
        raise DemoFailed("a run with nothing new " + "; ".join([f"wrote {writes} records", *problems]))
    claims = "".join(f" and {check.claim}" for check in demo.quiet_checks)
    demo.outcomes.append(f"A third run with nothing new wrote nothing{claims}")


def write_report(demo: Demo) -> None:
    """The busiest customer's progress report, from the state the syncs left (no tool is called)."""
    import tempfile

    from hub.cli.report import default_out
    from hub.engine.runner import open_hub
    from hub.report.build import ReportRequest, build_report, busiest_customer
    from hub.report.i18n import language
    from hub.report.render import render_html

    demo.echo("    Writing the customer's progress report (pmhub report)")
    with open_hub(demo.config, dry_run=True) as hub:
        customer = busiest_customer(hub.store, hub.config)
        if customer is None:
            return
        report = build_report(hub.store, hub.config, ReportRequest(customer=customer))
    # Next to a kept state; else in the temp dir, so it outlives the demo's removed workdir.
    where = demo.workdir if demo.kept else Path(tempfile.gettempdir())
    path = where / f"pmhub-{default_out(customer, report.figures.as_of, 'html').name}"
    path.write_text(render_html(report, language("en")), encoding="utf-8")
    f = report.figures
    demo.echo(f"    {path}")
    health = f.health.replace("_", " ")
    demo.outcomes.append(f"Progress report for {customer}: {f.done}/{f.total} done, {f.opened} opened and "
                         f"{f.closed} closed in the last 14 days, health {health}: {path}")


#: The steps that need no tool; the plugins' steps (``register_demo_steps``) fall between them.
CORE_STEPS: tuple[DemoStep, ...] = (
    DemoStep(Phase.SANDBOX, "Starting the sandbox (in this process, seeded with a customer project)",
             start_sandbox),
    DemoStep(Phase.WRITE_CONFIG, "Writing the config", write_config),
    DemoStep(Phase.FIRST_SYNC, "First sync: every flow, both ways", first_sync),
    DemoStep(Phase.SECOND_SYNC, "Second sync: only the edits travel", second_sync),
    DemoStep(Phase.QUIET_SYNC, "Third sync: nothing new, nothing written", rerun),
    DemoStep(Phase.QUIET_SYNC + 50, None, write_report),
)


def default_steps(host: PluginHost | None = None) -> list[DemoStep]:
    """The core's steps and every plugin's (of ``host``, default: the installed ones), in running order."""
    if host is None:
        from hub.plugins import build_plugin_manager

        host = build_plugin_manager()
    contributed: list[DemoStep] = []
    host.call_each("register_demo_steps", register=contributed.append)
    broken = [f for f in host.failures if "register_demo_steps" in f.error]
    if broken:
        raise DemoFailed("; ".join(f"plugin {f.plugin!r} could not add its demo steps: {f.error}"
                                   for f in broken))
    return order_steps([*CORE_STEPS, *contributed])


def order_steps(steps: Sequence[DemoStep]) -> list[DemoStep]:
    """``steps`` by position (equal positions keep their order); the first must have a title."""
    ordered = sorted(steps, key=lambda step: step.position)
    if ordered and ordered[0].title is None:
        raise DemoFailed(f"the first demo step ({ordered[0].run.__qualname__}) needs a title")
    return ordered


# -- running -------------------------------------------------------------------------------------
def run_demo(echo: Echo, *, keep_state: Path | None = None, steps: Sequence[DemoStep] | None = None) -> Demo:
    """Run ``steps`` (default: ``default_steps()``) in order of position against a fresh sandbox; print
    the summary. Raises DemoFailed when a step fails."""
    ordered = default_steps() if steps is None else order_steps(steps)
    titled = sum(1 for step in ordered if step.title is not None)
    if keep_state is not None:
        keep_state.mkdir(parents=True, exist_ok=True)
        if (keep_state / STATE_NAME).exists():
            # A state from an earlier demo links records of a sandbox that no longer exists.
            raise DemoFailed(f"{keep_state / STATE_NAME} exists from an earlier demo; remove it or "
                             "pass another --keep-state directory")
        workdir = keep_state.resolve()
    else:
        workdir = Path(tempfile.mkdtemp(prefix="pmhub-demo-"))
    demo = Demo(echo=echo, workdir=workdir, kept=keep_state is not None)
    started = time.perf_counter()
    try:
        number = 0
        for step in ordered:
            if step.title is not None:
                number += 1
                echo(f"[{number}/{titled}] {step.title}")
            step.run(demo)
        summary(demo, time.perf_counter() - started)
    finally:
        if demo.server is not None:
            demo.server.stop()
        if not demo.kept:
            shutil.rmtree(workdir, ignore_errors=True)
    return demo


def summary(demo: Demo, seconds: float) -> None:
    echo = demo.echo
    echo("")
    echo(f"Summary ({seconds:.1f} s)")
    echo("  Records written by pmhub, per connection (all syncs):")
    for name in demo.connections:
        echo(f"    {name:8} {demo.created[name]:3} created  {demo.updated[name]:3} updated")
    echo("  API calls pmhub made, per service (from the sandbox's request log):")
    for service, methods in sorted(demo.api_calls.items()):
        detail = ", ".join(f"{n} {method}" for method, n in sorted(methods.items()))
        echo(f"    {service:8} {sum(methods.values()):3}  ({detail})")
    if demo.outcomes:
        echo("  What the edits did:")
        for line in demo.outcomes:
            echo(f"    {line}")
    if demo.kept:
        echo(f"  State file: {demo.state_file} (kept; the config next to it names the sandbox's "
             "port, which is gone once the demo ends)")
    else:
        echo(f"  State file: {demo.state_file} (temporary, removed now; keep it with --keep-state DIR)")
    echo("")
    echo("Next steps, with your own tools:")
    echo("  1. Copy config.example.toml (in the pmhub source) to pmhub.toml and fill in your")
    echo("     connections; tokens go in as { env = \"NAME\" } or { file = \"path\" }, never inline.")
    echo("  2. pmhub check            # validates the config and reaches every connection")
    echo("  3. pmhub sync --dry-run   # prints what would be created and updated; writes nothing")
    echo("  4. pmhub sync             # then from cron, or `pmhub daemon` with a schedule")
    echo("  Try things first against `pmhub sandbox` (the stand-ins this demo used, on a fixed port).")
