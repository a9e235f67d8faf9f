"""Building the plugin manager: entry points, ``PMHUB_LOAD_PLUGINS``, isolation of broken plugins.

There is no global manager: callers build one with ``build_plugin_manager()`` and pass it on.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from pathlib import Path
from typing import TYPE_CHECKING

import pluggy

from hub import PROJECT_NAME, hookspecs
from hub.errors import ConfigError

if TYPE_CHECKING:
    from hub.connector import Connector
    from hub.mapping import Transform
    from hub.sandbox.service import SandboxService

LOAD_PLUGINS_ENV = "PMHUB_LOAD_PLUGINS"
TRACE_PLUGINS_ENV = "PMHUB_TRACE_PLUGINS"


@dataclass
class PluginFailure:
    plugin: str
    error: str


@dataclass
class PluginHost:
    """The plugin manager plus what the plugins registered, collected once."""

    manager: pluggy.PluginManager
    failures: list[PluginFailure] = field(default_factory=list)
    connectors: dict[str, type[Connector]] = field(default_factory=dict)
    connector_origin: dict[str, str] = field(default_factory=dict)
    transforms: dict[str, Transform] = field(default_factory=dict)
    mapping_dirs: list[Path] = field(default_factory=list)
    #: Plugin name -> "distribution version" for plugins loaded from entry points.
    versions: dict[str, str] = field(default_factory=dict)

    def connector(self, plugin: str) -> type[Connector]:
        try:
            return self.connectors[plugin]
        except KeyError:
            known = ", ".join(sorted(self.connectors)) or "none"
            raise ConfigError(f"unknown plugin {plugin!r} (installed: {known})") from None

    def sandbox_services(self) -> list[SandboxService]:
        services: list[SandboxService] = []
        self._collect("register_sandbox_services", services.append)
        return services

    def _collect(self, hook_name: str, register: Callable[..., None]) -> None:
        """Call one hook plugin by plugin, so one broken plugin is reported, not fatal."""
        hook = getattr(self.manager.hook, hook_name)
        for impl in hook.get_hookimpls():
            try:
                impl.function(register=register)
            except Exception as error:  # a plugin's bug must not take the others down
                self.failures.append(PluginFailure(impl.plugin_name, f"{hook_name}: {error!r}"))


def build_plugin_manager(*, load_entry_points: bool = True, extra: tuple[object, ...] = ()) -> PluginHost:
    """Create a plugin manager with the hookspecs, load plugins, and collect their registrations.

    ``PMHUB_LOAD_PLUGINS=a,b`` loads only those entry points (empty string: none).
    """
    manager = pluggy.PluginManager(PROJECT_NAME)
    manager.add_hookspecs(hookspecs)
    host = PluginHost(manager)
    if os.environ.get(TRACE_PLUGINS_ENV):
        manager.trace.root.setwriter(print)
        manager.enable_tracing()
    if load_entry_points:
        _load_entry_points(host)
    from hub import transforms

    # The core's own transforms register through the same hook as any plugin's.
    manager.register(transforms, name="pmhub.core")
    for plugin in extra:
        manager.register(plugin)
    try:
        manager.check_pending()
    except pluggy.PluginValidationError as error:
        host.failures.append(PluginFailure(getattr(error.plugin, "__name__", "?"), str(error)))
    host._collect("register_connectors", lambda cls: _add_connector(host, cls))
    host._collect("register_transforms", lambda name, fn: host.transforms.__setitem__(name, fn))
    host._collect("register_mapping_dirs", lambda path: host.mapping_dirs.append(Path(path)))
    return host


def _load_entry_points(host: PluginHost) -> None:
    wanted_env = os.environ.get(LOAD_PLUGINS_ENV)
    wanted = None if wanted_env is None else {n.strip() for n in wanted_env.split(",") if n.strip()}
    for ep in entry_points(group=PROJECT_NAME):
        if wanted is not None and ep.name not in wanted:
            continue
        if host.manager.get_plugin(ep.name) is not None:
            continue
        try:
            module = ep.load()
            host.manager.register(module, name=ep.name)
            if ep.dist is not None:
                host.versions[ep.name] = f"{ep.dist.name} {ep.dist.version}"
        except Exception as error:  # one broken plugin is reported, the others still load
            host.failures.append(PluginFailure(ep.name, f"failed to load: {error!r}"))


def _add_connector(host: PluginHost, cls: type[Connector]) -> None:
    origin = getattr(cls, "__module__", "?")
    if cls.plugin in host.connectors and host.connectors[cls.plugin] is not cls:
        raise ValueError(
            f"connector name {cls.plugin!r} registered by both {host.connector_origin[cls.plugin]} "
            f"and {origin}"
        )
    host.connectors[cls.plugin] = cls
    host.connector_origin[cls.plugin] = origin
