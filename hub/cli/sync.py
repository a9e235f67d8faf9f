"""``pmhub sync``, ``pmhub retry`` and ``pmhub daemon``."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

import click

from hub.cli import EXIT_ATTENTION, EXIT_OK, config_option, reports_errors

if TYPE_CHECKING:
    from rich.progress import Progress as ProgressBar
    from rich.progress import TaskID

    from hub.engine.flow import FlowResult


@click.command()
@click.argument("flows", nargs=-1)
@click.option("--dry-run", is_flag=True, help="Print the plan; write nothing, remote or local.")
@click.option("--full", is_flag=True, help="Ignore cursors and re-read everything (still no duplicates).")
@click.option("--quiet", "-q", is_flag=True, help="No progress output.")
@config_option
@reports_errors
def sync(flows: tuple[str, ...], dry_run: bool, full: bool, quiet: bool, config_path: str | None) -> None:
    """Sync FLOWS (all flows when none are named). Safe to interrupt and re-run.

    Exit code 0 when everything was applied (a flow another pmhub process is syncing at the moment
    is skipped with a note), 1 when something was parked, is in conflict or failed, 2 for a config
    or usage error or a state store that cannot be used.
    """
    from hub.engine.runner import open_hub
    from hub.engine.runner import sync as run_sync

    with open_hub(config_path, dry_run=dry_run) as hub, _progress(quiet) as progress:
        results = run_sync(hub, flows, dry_run=dry_run, full=full, progress=progress)
    sys.exit(report(results, dry_run=dry_run))


@click.command()
@click.argument("flows", nargs=-1)
@config_option
@reports_errors
def retry(flows: tuple[str, ...], config_path: str | None) -> None:
    """Replay parked records of FLOWS (all when none named), e.g. after fixing a mapping."""
    from hub.engine.runner import open_hub, retry_parked

    with open_hub(config_path) as hub:
        before = len(hub.store.parked_records())
        results = retry_parked(hub, flows)
        after = len(hub.store.parked_records())
    click.echo(f"parked records: {before} before, {after} after")
    sys.exit(report(results, dry_run=False))


@click.command()
@click.option("--once", is_flag=True, help="Run every due flow once and exit (for testing a schedule).")
@config_option
@reports_errors
def daemon(once: bool, config_path: str | None) -> None:
    """Run flows on their `schedule` (cron syntax) until stopped with Ctrl-C or SIGTERM."""
    from hub.engine.runner import check_mappings, open_hub
    from hub.scheduling import Scheduler

    with open_hub(config_path) as hub:
        check_mappings(hub, hub.config.flows)  # a bad mapping stops the daemon at start (exit 2)
        ok = Scheduler(hub, echo=click.echo).run(once=once)
    if not ok:
        sys.exit(EXIT_ATTENTION)


def report(results: list[FlowResult], *, dry_run: bool) -> int:
    """Print what each flow did; return the exit code."""
    code = EXIT_OK
    for result in results:
        if dry_run:
            click.echo(f"plan for flow {result.flow} ({len(result.plan)} actions):")
            for entry in result.plan:
                click.echo(f"  {entry.describe()}")
        if result.status == "skipped":
            # Another process is syncing the flow right now (an overlapping cron run, a daemon):
            # nothing is wrong and that run does the work, so a note and no failing exit code.
            click.echo(f"flow {result.flow} skipped: {result.error}")
            continue
        counts = "; ".join(
            f"{s.connection}: {s.created} created, {s.updated} updated, {s.unchanged} unchanged, "
            f"{s.deleted} deleted, {s.conflicts} conflicts, {s.parked} parked, {s.api_calls} API calls"
            for s in result.stats.values())
        click.echo(f"flow {result.flow}: {result.status}" + (f" ({counts})" if counts else ""))
        if result.error:
            click.echo(f"  {result.error}", err=True)
        for entry in result.plan:
            if entry.action in ("park", "retry", "conflict") and not dry_run:
                click.echo(f"  {entry.describe()}", err=True)
        if result.plan_omitted:
            click.echo(f"  ... and {result.plan_omitted} more not listed (pmhub parked, pmhub conflicts "
                       "list them all)", err=True)
        if result.status != "ok":
            code = EXIT_ATTENTION
    return code


class _progress:
    """A rich progress display on stderr while flows run (silent when not a terminal or --quiet)."""

    def __init__(self, quiet: bool) -> None:
        self.quiet = quiet
        self.bar: ProgressBar | None = None
        self.tasks: dict[tuple[str, str, str], TaskID] = {}

    def __enter__(self) -> Callable[[str, str, str, int], None] | None:
        if self.quiet or not sys.stderr.isatty():
            return None
        from rich.console import Console
        from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        bar = Progress(SpinnerColumn(), TextColumn("{task.description}"),
                       TextColumn("{task.completed} records read"), TimeElapsedColumn(),
                       console=Console(stderr=True), transient=False)
        bar.__enter__()
        self.bar = bar
        return self.update

    def update(self, flow: str, side: str, record_type: str, n: int) -> None:
        assert self.bar is not None
        key = (flow, side, record_type)
        if key not in self.tasks:
            self.tasks[key] = self.bar.add_task(f"{flow} {side} {record_type}s", total=None)
        self.bar.advance(self.tasks[key], n)

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)


COMMANDS = (sync, retry, daemon)
