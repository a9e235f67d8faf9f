"""``pmhub demo``: see a two-way GitHub <-> Jira sync happen, with no account and no config."""

from __future__ import annotations

from pathlib import Path

import click

from hub.cli import reports_errors


@click.command()
@click.option("--keep-state", "keep_state", type=click.Path(file_okay=False, path_type=Path), default=None,
              metavar="DIR", help="Keep the state file and the demo's config in DIR (default: a temp dir).")
@reports_errors
def demo(keep_state: Path | None) -> None:
    """Sync a seeded GitHub repository and Jira project (in-process sandbox), edit both, sync again.

    Needs no credentials and no network beyond loopback; takes a few seconds.
    """
    from hub.demo import run_demo

    run_demo(click.echo, keep_state=keep_state)


COMMANDS = (demo,)
