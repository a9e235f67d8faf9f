"""``pmhub parked``: the records a run could not apply and set aside, and dropping one by hand."""

from __future__ import annotations

import datetime as dt

import click

from hub.cli import config_option, reports_errors


def age(since: dt.datetime, now: dt.datetime) -> str:
    """How long ago, in the two largest units (``3d 4h``, ``12m``, ``40s``)."""
    if since.tzinfo is None:
        since = since.replace(tzinfo=dt.UTC)
    seconds = max(0, int((now - since).total_seconds()))
    parts: list[str] = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if seconds >= size or (unit == "s" and not parts):
            parts.append(f"{seconds // size}{unit}")
            seconds %= size
        if len(parts) == 2:
            break
    return " ".join(parts)


@click.group(invoke_without_command=True)
@config_option
@click.pass_context
@reports_errors
def parked(ctx: click.Context, config_path: str | None) -> None:
    """List parked records (ones a run could not apply) with their reasons and age.

    A parked record is tried again by `pmhub retry` (e.g. after fixing a mapping); one that can
    never be applied is discarded with `pmhub parked drop ID`.
    """
    ctx.obj = config_path
    if ctx.invoked_subcommand is not None:
        return
    from hub.cli.inspect import _table
    from hub.engine.runner import open_hub

    with open_hub(config_path) as hub:
        rows = hub.store.parked_records()
    if not rows:
        click.echo("no parked records")
        return
    now = dt.datetime.now(dt.UTC)
    _table("parked records", ["id", "flow", "type", "record", "age", "attempts", "reason"],
           [[r["id"], r["flow"], r["record_type"], f"{r['side']}:{r['source_id']}", age(r["created_at"], now),
             r["attempts"], r["reason"]] for r in rows])
    click.echo("retry them with: pmhub retry; discard one with: pmhub parked drop ID")


@parked.command()
@click.argument("parked_id", type=int)
@click.option("--config", "-c", "own_config", type=click.Path(dir_okay=False), default=None,
              help="Config file (may also be given before `drop`).")
@click.pass_obj
@reports_errors
def drop(config_path: str | None, parked_id: int, own_config: str | None) -> None:
    """Discard parked record PARKED_ID: no run tries it again. Recorded in the run history."""
    from hub.engine.runner import open_hub
    from hub.errors import ConfigError

    with open_hub(own_config or config_path) as hub:
        row = hub.store.parked_record(parked_id)
        if row is None or not hub.store.drop_parked(parked_id):
            raise ConfigError(f"no parked record with id {parked_id} (see `pmhub parked`)")
        what = f"parked {row['record_type']} {row['side']}:{row['source_id']}"
        run_id = hub.store.start_run(row["flow"], False)
        hub.store.finish_run(run_id, "dropped", {}, f"{what} dropped by hand (it was: {row['reason']})")
    click.echo(f"{what} of flow {row['flow']} dropped; no run will try it again")


COMMANDS = (parked,)
