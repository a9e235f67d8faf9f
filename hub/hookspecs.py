"""Every hook pmhub calls, in one file.

Most hooks are ``register_*(register)``: the plugin calls ``register`` with what it contributes
(``register_commands(cli)`` gets the ``pmhub`` click group instead). pmhub calls every hook through
pluggy, one plugin at a time, so one broken plugin is reported and the others still count.
pluggy passes an implementation only the arguments it names, so new arguments never break old plugins.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pluggy

from hub import PROJECT_NAME

if TYPE_CHECKING:
    import click

    from hub.connector import Connector
    from hub.demo import DemoStep
    from hub.mapping import Transform
    from hub.plugins import LazyConnector
    from hub.sandbox.service import SandboxService

hookspec = pluggy.HookspecMarker(PROJECT_NAME)


# -- connectors ------------------------------------------------------------------------------
@hookspec
def register_connectors(register: Callable[[type[Connector] | LazyConnector], None]) -> None:
    """Contribute connector classes (subclasses of ``hub.connector.Connector``).

    Called once when the plugin manager is built. ``register(cls)`` may be called several times.
    ``register(LazyConnector("name", "package.module:Class"))`` defers the import until a config
    uses the connector, so configs that do not use it never load its client library.
    Two connectors claiming one ``plugin`` name is an error naming both plugins.
    """


# -- mappings --------------------------------------------------------------------------------
@hookspec
def register_transforms(register: Callable[[str, Transform], None]) -> None:
    """Contribute named value transforms that mapping files may reference (``transform = "name"``).

    A transform is ``(value, params, direction) -> value`` where direction is ``"in"`` (tool ->
    canonical) or ``"out"``. Mappings never evaluate code; they can only name a registered transform.
    """


@hookspec
def register_mapping_dirs(register: Callable[[Path], None]) -> None:
    """Contribute directories of ``*.toml`` mapping files, found by name like the built-in ones."""


# -- sandbox ---------------------------------------------------------------------------------
@hookspec
def register_sandbox_services(register: Callable[[SandboxService], None]) -> None:
    """Contribute stateful stand-ins of a tool's API for ``pmhub sandbox``, the tests and the demo.

    Each service is mounted under ``/<service.name>`` on the shared sandbox port.
    """


# -- demo ------------------------------------------------------------------------------------
@hookspec
def register_demo_steps(register: Callable[[DemoStep], None]) -> None:
    """Contribute steps to ``pmhub demo``: ``register(DemoStep(position, title, run))``.

    ``run(demo)`` gets the core's ``hub.demo.Demo``: the sandbox (``demo.base("jira")``), the
    connections and flows being built, ``demo.sync(label)``, facts shared between steps and the
    summary's outcome lines. All steps, the core's included, run in ascending ``position``; the
    core's sit at ``hub.demo.Phase`` values (connections go between ``Phase.CONNECT`` and
    ``Phase.WRITE_CONFIG``, edits between ``Phase.EDIT`` and ``Phase.SECOND_SYNC``). A step whose
    ``title`` is None continues the step before it. Import client libraries inside ``run``.
    """


# -- command line ----------------------------------------------------------------------------
@hookspec
def register_commands(cli: click.Group) -> None:
    """Add commands to the ``pmhub`` command line: ``cli.add_command(command)`` or ``@cli.command()``.

    Called once when ``pmhub`` starts, after the built-in commands are added. A command a plugin
    adds must not clash with a built-in name; pmhub reports the clash and keeps its own command.
    """
