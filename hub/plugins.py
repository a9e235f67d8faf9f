"""Building the plugin manager: entry points, ``PMHUB_LOAD_PLUGINS``, isolation of broken plugins.

There is no global manager: callers build one with ``build_plugin_manager()`` and pass it on.
Every hook is called through pluggy's hook callers, one plugin at a time, so tracing
(``PMHUB_TRACE_PLUGINS=1``) and argument pruning work and one broken plugin is reported, not fatal.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from importlib.metadata import Distribution, entry_points
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pluggy

from hub import PROJECT_NAME, hookspecs

# hub.errors, hub.connector and hub.transforms are imported where needed: `pmhub --help` builds a
# plugin host only to find plugin commands and should not pay for them.

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


@dataclass(frozen=True)
class LazyConnector:
    """A connector registered by plugin name and import path, imported the first time it is used.

    ``target`` is ``"package.module:ClassName"``. A sync imports only the connectors its config
    names, so a plugin's client library costs nothing to configs that do not use it.
    """

    plugin: str
    target: str

    def load(self) -> type[Connector]:
        from hub.connector import Connector
        from hub.errors import ConfigError

        module_name, _, class_name = self.target.partition(":")
        try:
            cls = getattr(importlib.import_module(module_name), class_name)
        except (ImportError, AttributeError) as error:
            raise ConfigError(f"plugin {self.plugin!r}: cannot load its connector {self.target}: "
                              f"{error!r}") from None
        if not (isinstance(cls, type) and issubclass(cls, Connector)) or cls.plugin != self.plugin:
            raise ConfigError(f"plugin {self.plugin!r}: {self.target} is not a Connector subclass "
                              f"with plugin = {self.plugin!r}")
        return cls


class ConnectorRegistry(Mapping[str, "type[Connector]"]):
    """Connector classes by plugin name. Names and origins are known without importing anything;
    a lazily registered class is imported on first look-up (``items()`` imports them all)."""

    def __init__(self) -> None:
        self._entries: dict[str, type[Connector] | LazyConnector] = {}
        #: Plugin name -> the module its connector lives in.
        self.origin: dict[str, str] = {}

    def add(self, entry: type[Connector] | LazyConnector) -> None:
        name = entry.plugin
        known = self._entries.get(name)
        if known is not None and _target(known) != _target(entry):
            raise ValueError(f"connector name {name!r} registered by both {self.origin[name]} "
                             f"and {_target(entry).partition(':')[0]}")
        if known is None or isinstance(known, LazyConnector):
            self._entries[name] = entry
        self.origin[name] = _target(entry).partition(":")[0]

    def __getitem__(self, name: str) -> type[Connector]:
        entry = self._entries[name]
        if isinstance(entry, LazyConnector):
            entry = self._entries[name] = entry.load()
        return entry

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)


def _target(entry: type[Connector] | LazyConnector) -> str:
    """``module:Class`` of a registered connector, the same for a class and its lazy entry."""
    if isinstance(entry, LazyConnector):
        return entry.target
    return f"{getattr(entry, '__module__', '?')}:{getattr(entry, '__qualname__', '?')}"


class PluginVersions(Mapping[str, str]):
    """Plugin name -> "distribution version", read from the distribution's metadata when asked:
    parsing it costs more than a no-op sync should spend on something only ``pmhub plugins`` shows."""

    def __init__(self) -> None:
        self._dists: dict[str, Distribution] = {}

    def add(self, plugin: str, dist: Distribution) -> None:
        self._dists[plugin] = dist

    def __getitem__(self, plugin: str) -> str:
        dist = self._dists[plugin]
        return f"{dist.name} {dist.version}"

    def __iter__(self) -> Iterator[str]:
        return iter(self._dists)

    def __len__(self) -> int:
        return len(self._dists)


@dataclass
class PluginHost:
    """The plugin manager plus what the plugins registered, collected once."""

    manager: pluggy.PluginManager
    failures: list[PluginFailure] = field(default_factory=list)
    connectors: ConnectorRegistry = field(default_factory=ConnectorRegistry)
    transforms: dict[str, Transform] = field(default_factory=dict)
    mapping_dirs: list[Path] = field(default_factory=list)
    #: Plugin name -> "distribution version" for plugins loaded from entry points.
    versions: PluginVersions = field(default_factory=PluginVersions)

    @property
    def connector_origin(self) -> dict[str, str]:
        return self.connectors.origin

    def connector(self, plugin: str) -> type[Connector]:
        if plugin not in self.connectors:
            from hub.errors import ConfigError

            known = ", ".join(sorted(self.connectors)) or "none"
            raise ConfigError(f"unknown plugin {plugin!r} (installed: {known})")
        return self.connectors[plugin]

    def sandbox_services(self) -> list[SandboxService]:
        services: list[SandboxService] = []
        self._collect("register_sandbox_services", services.append)
        return services

    def hook_callers(self, hook_name: str) -> Iterator[tuple[str, pluggy.HookCaller]]:
        """(plugin name, a hook caller holding only that plugin's implementation), plugin by plugin.

        Calling through pluggy's callers, not the implementation functions, keeps argument pruning
        (an implementation receives only the arguments it names) and ``PMHUB_TRACE_PLUGINS``.
        """
        hook = getattr(self.manager.hook, hook_name)
        plugins = self.manager.get_plugins()
        for impl in hook.get_hookimpls():
            others = [plugin for plugin in plugins if plugin is not impl.plugin]
            # pluggy's trace names the hook, not the plugin; say which one is called.
            self.manager.trace(f"{hook_name}: plugin {impl.plugin_name!r}")
            yield impl.plugin_name, self.manager.subset_hook_caller(hook_name, remove_plugins=others)

    def call_each(self, hook_name: str, **kwargs: Any) -> None:
        """Call a hook plugin by plugin, so one broken plugin is reported, not fatal."""
        for plugin, call in self.hook_callers(hook_name):
            try:
                call(**kwargs)
            except Exception as error:  # a plugin's bug must not take the others down
                self.failures.append(PluginFailure(plugin, f"{hook_name}: {error!r}"))

    def _collect(self, hook_name: str, register: Callable[..., None]) -> None:
        """Call a ``register_*(register)`` hook plugin by plugin."""
        self.call_each(hook_name, register=register)


def build_plugin_manager(*, load_entry_points: bool = True, extra: tuple[object, ...] = (),
                         collect: bool = True) -> PluginHost:
    """Create a plugin manager with the hookspecs, load plugins, and collect their registrations.

    ``PMHUB_LOAD_PLUGINS=a,b`` loads only those entry points (empty string: none).
    ``PMHUB_TRACE_PLUGINS=1`` prints every hook call and its result.
    ``collect=False`` only loads the plugins (what ``pmhub --help`` needs to find plugin commands):
    no ``register_*`` hook runs and the core's transforms, which import the mapping machinery,
    are not registered.
    """
    manager = pluggy.PluginManager(PROJECT_NAME)
    manager.add_hookspecs(hookspecs)
    host = PluginHost(manager)
    if os.environ.get(TRACE_PLUGINS_ENV):
        manager.trace.root.setwriter(print)
        manager.enable_tracing()
    if load_entry_points:
        _load_entry_points(host)
    if not collect:
        for plugin in extra:
            manager.register(plugin)
        return host
    from hub import transforms

    # The core's own transforms register through the same hook as any plugin's.
    manager.register(transforms, name="pmhub.core")
    for plugin in extra:
        manager.register(plugin)
    try:
        manager.check_pending()
    except pluggy.PluginValidationError as error:
        host.failures.append(PluginFailure(getattr(error.plugin, "__name__", "?"), str(error)))
    host._collect("register_connectors", host.connectors.add)
    host._collect("register_transforms", host.transforms.__setitem__)
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
                host.versions.add(ep.name, ep.dist)
        except Exception as error:  # one broken plugin is reported, the others still load
            host.failures.append(PluginFailure(ep.name, f"failed to load: {error!r}"))
