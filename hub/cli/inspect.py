"""``pmhub plugins``, ``pmhub check``, ``pmhub status`` and ``pmhub conflicts``."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from hub.cli import EXIT_ATTENTION, EXIT_OK, EXIT_USAGE, config_option, reports_errors

if TYPE_CHECKING:
    from hub.connector import Connector
    from hub.engine.runner import Hub


def _table(title: str, columns: list[str], rows: list[list[Any]]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title)
    for column in columns:
        table.add_column(column)
    for row in rows:
        table.add_row(*("" if v is None else str(v) for v in row))
    Console(width=160).print(table)


#: Connectors defined here are pmhub's own test doubles (the reference connector): installed, usable
#: from a config, but no tool a user syncs, so ``pmhub plugins`` lists them only with ``--all``.
TESTING_PACKAGE = "hub.testing."


@click.command()
@click.option("--all", "show_all", is_flag=True,
              help="Also list pmhub's testing connectors (the reference connector).")
@reports_errors
def plugins(show_all: bool) -> None:
    """List installed plugins, their connectors, record types and capabilities."""
    from hub.errors import ConfigError
    from hub.plugins import build_plugin_manager

    host = build_plugin_manager()
    rows = []
    hidden = []
    broken = []
    for name in sorted(host.connectors):
        if not show_all and host.connector_origin[name].startswith(TESTING_PACKAGE):
            hidden.append(name)
            continue
        try:
            cls = host.connectors[name]  # a lazily registered connector is imported here
        except ConfigError as error:  # one plugin that cannot load hides none of the others
            broken.append(error.problem)
            continue
        origin = host.connector_origin[name].split(".")
        plugin = next((p for p in host.versions if p == name or p in origin), name)
        for record_type, caps in sorted(cls.record_types.items()):
            rows.append([name, host.versions.get(plugin, "builtin"), record_type, ", ".join(sorted(caps)),
                         cls.scope_help])
    _table("connectors", ["plugin", "version", "record type", "capabilities", "scope"], rows)
    if hidden:
        click.echo(f"testing connectors not shown: {', '.join(hidden)} (list them with --all)")
    if host.transforms:
        click.echo("transforms: " + ", ".join(sorted(host.transforms)))
    for failure in host.failures:
        click.echo(f"plugin {failure.plugin!r} failed: {failure.error}", err=True)
    for problem in broken:
        click.echo(problem, err=True)
    sys.exit(EXIT_ATTENTION if host.failures or broken else EXIT_OK)


@click.command()
@click.option("--offline", is_flag=True, help="Validate config and mappings only; do not connect.")
@config_option
@reports_errors
def check(offline: bool, config_path: str | None) -> None:
    """Validate the config and mappings, then check each connection's credentials and read one
    page of each flow's scopes.

    One line per problem. Exit 2 for a config problem (no flows, a state directory that does not
    exist), 1 when a connection or a scope fails, 0 when all is well.
    """
    from hub.engine.runner import open_hub
    from hub.state.location import described

    with open_hub(config_path, dry_run=True) as hub:
        for flow in hub.config.flows:
            hub.mapping(flow)
        problems = _config_problems(hub)
        if problems:
            for line in problems:
                click.echo(line, err=True)
        else:
            click.echo(f"config {hub.config.path}: ok ({len(hub.config.connections)} connections, "
                       f"{len(hub.config.flows)} flows)")
        click.echo(described(hub.config.state.url))
        missing: list[str] = []
        failed = False if offline else not _connections_ok(hub, missing)
        for line in missing:
            click.echo(line, err=True)
    sys.exit(EXIT_USAGE if problems or missing else EXIT_ATTENTION if failed else EXIT_OK)


def _config_problems(hub: Hub) -> list[str]:
    """What makes the config unusable although it parses: nothing to sync, nowhere to keep state."""
    problems = []
    if not hub.config.flows:
        problems.append(f"config {hub.config.path}: FAILED: no flows ([[flows]]), so a sync would "
                        "do nothing; add a flow")
    url = hub.config.state.url
    missing = _missing_state_directory(url) if url else None
    if url and missing is not None:
        problems.append(f"state {_masked(url)}: FAILED: the directory {missing} does not exist; "
                        "create it, or point [state] url at one that does")
    return problems


def _missing_state_directory(url: str) -> Path | None:
    """The directory a SQLite state file would live in, when it does not exist (else None).

    The path is the one the state store opens; this never creates anything (``check`` must not).
    """
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        parsed = make_url(url)
    except ArgumentError:
        return None  # the state store reports a bad URL itself
    database = parsed.database
    if parsed.get_backend_name() != "sqlite" or not database or database == ":memory:" \
            or database.startswith("file:"):
        return None
    folder = Path(database).parent
    return None if folder.is_dir() else folder


def _masked(url: str) -> str:
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "(unreadable url)"


def _connections_ok(hub: Hub, missing: list[str]) -> bool:
    """Check every connection's credentials, then one page of each flow side's scope per record
    type; one line each. A connection that failed is not asked for its scopes. Custom fields a
    mapping names that the tool lacks go to ``missing`` (a config problem: exit 2)."""
    from hub.errors import DATA_ERRORS, PmhubError, unreadable

    working: dict[str, Connector] = {}
    ok = True
    for name in hub.config.connections:
        try:
            connector = hub.connector(name)
            who = connector.whoami()
        except PmhubError as error:
            ok = False
            click.echo(f"connection {name}: FAILED: {error}", err=True)
            continue
        except DATA_ERRORS as error:  # a plugin that let a parsing error through
            ok = False
            click.echo(f"connection {name}: FAILED: {unreadable(name, error)}", err=True)
            continue
        working[name] = connector
        click.echo(f"connection {name}: ok ({who})")
    for flow in hub.config.flows:
        for side_name in ("a", "b"):
            side = getattr(flow, side_name)
            reader = working.get(side.connection)
            if reader is None:
                continue
            where = f"flow {flow.name} side {side_name}: connection {side.connection} scope {side.scope!r}"
            current = flow.records[0]
            try:
                for current in flow.records:  # a paired type is the tool's own (an Epic: an issue)
                    reader.check_scope(side.scope, flow.held_as(side_name, current))
            except PmhubError as error:
                ok = False
                click.echo(f"{where} ({current}s): FAILED: {error}", err=True)
                continue
            except DATA_ERRORS as error:
                ok = False
                click.echo(f"{where} ({current}s): FAILED: {unreadable(side.connection, error)}", err=True)
                continue
            click.echo(f"{where}: ok ({', '.join(flow.records)} readable)")
            missing.extend(_missing_custom_fields(hub, flow, side_name, reader))
    return ok


def _missing_custom_fields(hub: Hub, flow: Any, side_name: str, reader: Connector) -> list[str]:
    """One line per custom field the flow's mapping names on this side that the tool lacks."""
    from hub.custom_fields import declared_on
    from hub.errors import PmhubError

    mapping = hub.mapping(flow)
    side = getattr(flow, side_name)
    lines = []
    for record_type in flow.records:
        wanted = declared_on(mapping.custom_fields(record_type), side_name)
        if not wanted:
            continue
        try:
            found = reader.check_fields(side.scope, flow.held_as(side_name, record_type), wanted)
        except PmhubError as error:
            found = [f"could not read its custom fields: {error}"]
        lines += [f"mapping {mapping.name} side {side_name} (flow {flow.name}, connection "
                  f"{side.connection}): FAILED: {problem}" for problem in found]
    return lines


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@config_option
@reports_errors
def status(as_json: bool, config_path: str | None) -> None:
    """Show each flow's last run, links, parked records (duplicates among them) and open conflicts."""
    from hub.engine.marked import DUPLICATE
    from hub.engine.runner import open_hub
    from hub.state.location import described

    with open_hub(config_path) as hub:
        location = described(hub.store.engine.url)
        runs = {r["flow"]: r for r in hub.store.last_runs()}
        parked = hub.store.parked_records()
        conflicts = hub.store.open_conflicts()
        data = []
        for flow in hub.config.flows:
            run = runs.get(flow.name)
            data.append({
                "flow": flow.name, "links": hub.store.count_links(flow.name),
                "last_run": run["started_at"].isoformat() if run else None,
                "status": run["status"] if run else "never run",
                "duration_s": round((run["finished_at"] - run["started_at"]).total_seconds(), 2)
                if run and run["finished_at"] else None,
                "stats": run["stats"] if run else {}, "error": run["error"] if run else None,
                "parked": sum(1 for p in parked if p["flow"] == flow.name),
                # Further copies of a linked record (issue 10): parked, and counted on their own.
                "duplicates": sum(1 for p in parked if p["flow"] == flow.name
                                  and p["reason"].startswith(DUPLICATE)),
                "conflicts": sum(1 for c in conflicts if c["flow"] == flow.name),
            })
        queue = _queue_status(hub)
    if as_json:
        click.echo(json.dumps(data if queue is None else {"flows": data, "queue": queue}, indent=2))
        return
    click.echo(location)
    if queue is not None:
        click.echo(f"queue: {queue['depth'] if queue['depth'] is not None else '?'} task(s) in the broker; "
                   f"{len(queue['waiting'])} flow run(s) waiting, {len(queue['running'])} running")
        for flow, holder in queue["running"].items():
            click.echo(f"  {flow}: running on {holder}")
        for flow, since in queue["waiting"].items():
            click.echo(f"  {flow}: waiting since {since}")
    rows = []
    for item in data:
        stats = item["stats"]
        calls = ", ".join(f"{s['connection']} {s['api_calls']}" for s in stats.values())
        changes = ", ".join(f"{s['connection']} +{s['created']}/~{s['updated']}" for s in stats.values())
        rows.append([item["flow"], item["status"], item["last_run"], item["duration_s"], item["links"],
                     changes, calls, item["parked"], item["duplicates"], item["conflicts"]])
    _table("flows", ["flow", "last status", "last run (UTC)", "seconds", "links", "created/updated",
                     "API calls", "parked", "duplicates", "conflicts"], rows)
    for item in data:
        if item["error"]:
            click.echo(f"{item['flow']}: {item['error']}")


def _queue_status(hub: Hub) -> dict[str, Any] | None:
    """Queue mode: what waits and what runs, by flow (None without ``[queue]``)."""
    if hub.config.queue is None:
        return None
    from hub.queue.client import QueueClient
    from hub.queue.observe import snapshot

    client = QueueClient(hub.config, hub.store)
    try:
        now = snapshot(hub.store, [f.name for f in hub.config.flows], client.app, client.queue_name)
    finally:
        client.close()
    return {"depth": now.depth, "running": now.running,
            "waiting": {flow: since.isoformat() for flow, since in now.waiting.items()},
            "outcomes": {f"{task} {outcome}": count for (task, outcome), count in now.outcomes.items()}}


@click.group(invoke_without_command=True)
@config_option
@click.pass_context
@reports_errors
def conflicts(ctx: click.Context, config_path: str | None) -> None:
    """List open conflicts (same field changed differently on both sides)."""
    ctx.obj = config_path
    if ctx.invoked_subcommand is not None:
        return
    from hub.engine.runner import open_hub

    with open_hub(config_path) as hub:
        rows = [[c["id"], c["flow"], c["record_type"], f"a:{c['a_id']} b:{c['b_id']}", c["field"],
                 json.loads(c["base_value"]), json.loads(c["a_value"]), json.loads(c["b_value"])]
                for c in hub.store.open_conflicts()]
    if not rows:
        click.echo("no open conflicts")
        return
    _table("open conflicts", ["id", "flow", "type", "records", "field", "was", "side a", "side b"], rows)
    click.echo("resolve with: pmhub conflicts resolve ID --take a|b")


@conflicts.command()
@click.argument("conflict_id", type=int)
@click.option("--take", type=click.Choice(["a", "b"]), required=True, help="Which side's value wins.")
@click.option("--config", "-c", "own_config", type=click.Path(dir_okay=False), default=None,
              help="Config file (may also be given before `resolve`).")
@click.pass_obj
@reports_errors
def resolve(config_path: str | None, conflict_id: int, take: str, own_config: str | None) -> None:
    """Resolve conflict CONFLICT_ID by taking side a's or b's value, and write it now.

    The write happens under the flow's lease and is recorded as a run; while another pmhub process
    holds the lease, the choice is kept and that process's run (or the next sync) writes it.
    """
    from hub.engine.runner import apply_resolutions, open_hub
    from hub.errors import ConfigError

    with open_hub(own_config or config_path) as hub:
        conflict = hub.store.conflict(conflict_id)
        if conflict is None or conflict["status"] != "open":
            raise ConfigError(f"no open conflict with id {conflict_id} (see `pmhub conflicts`)")
        hub.config.flow(conflict["flow"])  # a flow no longer configured is a usage error, before any write
        hub.store.resolve_conflict(conflict_id, take)
        result = apply_resolutions(hub, conflict["flow"])
    if result.status == "skipped":
        click.echo(f"conflict {conflict_id}: side {take}'s {conflict['field']} chosen; not written now: "
                   f"{result.error}; its next sync writes it")
        return
    if result.status == "failed":
        click.echo(f"conflict {conflict_id}: side {take}'s {conflict['field']} chosen; writing it failed: "
                   f"{result.error}; the next sync tries again", err=True)
        sys.exit(EXIT_ATTENTION)
    click.echo(f"conflict {conflict_id}: took side {take}'s {conflict['field']} and wrote it")


COMMANDS = (plugins, check, status, conflicts)
