"""Loading ``config.toml``: state, connections, flows. One place resolves secrets.

Every problem becomes a ``ConfigError`` naming the file, the key and what is wrong.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)

from hub.errors import ConfigError
from hub.model import RECORD_MODELS, Kind

if TYPE_CHECKING:
    from hub.connector import ConnectionSettings
    from hub.plugins import PluginHost

CONFIG_ENV = "PMHUB_CONFIG"
DEFAULT_CONFIG = "pmhub.toml"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class StateConfig(_Strict):
    #: SQLAlchemy URL; None means a SQLite file in the user's data dir. A relative SQLite path is
    #: relative to the config file's folder (``Config.state.url`` holds it made absolute).
    url: str | None = None


class FlowSide(_Strict):
    connection: str
    scope: str = Field(min_length=1)


class FlowFilter(_Strict):
    """Which records a flow creates twins for. Records already linked keep syncing regardless,
    and records left out can still be recognised as twins on a first run."""

    #: Only records carrying at least one of these labels take part.
    labels: list[str] = Field(default_factory=list)
    #: Only records with all of these canonical fields set take part (e.g. ["customer"]).
    present: list[str] = Field(default_factory=list)

    @field_validator("present")
    @classmethod
    def _canonical(cls, names: list[str]) -> list[str]:
        known = {name for model in RECORD_MODELS.values() for name in model.model_fields}
        unknown = [n for n in names if n not in known]
        if unknown:
            raise ValueError(f"not canonical field(s) {unknown}")
        return names


class ProgressNotes(_Strict):
    """Write a progress summary back to the customer's record (see the Zoho plugin)."""

    enabled: bool = True
    #: Which side receives the notes ("a" or "b").
    side: Literal["a", "b"] = "a"


MatchRule = Literal["marker", "link", "title"]

#: The pairs of record types the engine can translate between: a flow's record type (the key)
#: held by one side as records of another type (the value). A Zoho Deal is the customer's
#: project; Jira has no such record, so an Epic stands for it.
PAIRABLE = {"project": "issue"}


class Pair(_Strict):
    """``pairs = { project = { b = "issue", kind = "epic" } }``: side b holds the flow's projects
    as its issues of that kind. The short form ``{ project = "issue" }`` means side b, kind epic."""

    a: str | None = None
    b: str | None = None
    #: The kind of issue that stands for the record (its Jira issue type through the mapping).
    kind: Kind = Kind.EPIC

    @model_validator(mode="after")
    def _one_side(self) -> Pair:
        if (self.a is None) == (self.b is None):
            raise ValueError("name the one side that holds these records as another type: "
                             "{ b = \"issue\" } (or { a = \"issue\" })")
        return self

    @property
    def side(self) -> str:
        return "a" if self.a is not None else "b"

    @property
    def held_as(self) -> str:
        return self.a or self.b or ""


def _default_match() -> list[MatchRule]:
    # Title too: a first run between two sides that already hold the same work must link it, not
    # copy it (issue 10); only a title unique on both sides links, a shared one is parked.
    return ["marker", "link", "title"]


class FlowConfig(_Strict):
    name: str = Field(pattern=r"^[A-Za-z0-9_.-]+$")
    a: FlowSide
    b: FlowSide
    records: list[str] = Field(default_factory=lambda: ["issue", "comment"], min_length=1)
    direction: Literal["a->b", "b->a", "both"] = "both"
    mapping: str | None = None
    conflict: Literal["newest", "prefer-a", "prefer-b", "manual"] = "newest"
    on_delete: Literal["close", "delete", "ignore"] = "close"
    filter: FlowFilter | None = None
    schedule: str | None = None
    #: How a first run recognises records that already exist on both sides.
    match: list[MatchRule] = Field(default_factory=_default_match)
    progress_notes: ProgressNotes | None = None
    #: Record types one side holds as another type of its own (``Pair``).
    pairs: dict[str, Pair] = Field(default_factory=dict)

    @field_validator("pairs", mode="before")
    @classmethod
    def _short_pairs(cls, pairs: Any) -> Any:
        if not isinstance(pairs, dict):
            return pairs
        return {name: {"b": spec} if isinstance(spec, str) else spec for name, spec in pairs.items()}

    @model_validator(mode="after")
    def _pairs_known(self) -> FlowConfig:
        for record_type, pair in self.pairs.items():
            if PAIRABLE.get(record_type) != pair.held_as:
                known = ", ".join(f"{k} = \"{v}\"" for k, v in PAIRABLE.items())
                raise ValueError(f"pairs.{record_type}: pmhub pairs {known}, not {record_type} with "
                                 f"{pair.held_as!r}")
            if record_type not in self.records:
                raise ValueError(f"pairs.{record_type}: the flow does not sync {record_type}s "
                                 f"(records = {self.records})")
        return self

    def held_as(self, side: str, record_type: str) -> str:
        """The record type of ``side``'s tool that holds the flow's ``record_type`` records."""
        pair = self.pairs.get(record_type)
        return pair.held_as if pair is not None and pair.side == side else record_type

    def flow_types(self, side: str, tool_type: str) -> tuple[str, ...]:
        """The flow's record types that ``side`` holds as its ``tool_type`` records (its own type
        first, then those paired with it)."""
        own = (tool_type,) if tool_type in self.records and self.held_as(side, tool_type) == tool_type else ()
        return own + tuple(t for t in self.records if t != tool_type and self.held_as(side, t) == tool_type)

    @field_validator("records")
    @classmethod
    def _known_records(cls, records: list[str]) -> list[str]:
        unknown = [r for r in records if r not in RECORD_MODELS]
        if unknown:
            raise ValueError(f"unknown record type(s) {unknown}; known: {sorted(RECORD_MODELS)}")
        # Parents first: comments need their issue's link to exist.
        order = list(RECORD_MODELS)
        return sorted(set(records), key=order.index)

    @field_validator("schedule")
    @classmethod
    def _cron(cls, schedule: str | None) -> str | None:
        if schedule is not None:
            from croniter import croniter

            if not croniter.is_valid(schedule):
                raise ValueError(f"{schedule!r} is not a cron expression (e.g. '*/5 * * * *')")
        return schedule

    def reads(self, side: str) -> bool:
        """Does this flow take changes from ``side``?"""
        return self.direction == "both" or self.direction.startswith(side)

    def writes(self, side: str) -> bool:
        return self.direction == "both" or self.direction.endswith(side)


class RetryConfig(_Strict):
    """How hard to retry transient failures (429, 5xx, timeouts), per connection and run."""

    attempts: int = Field(default=5, ge=1, le=20)
    initial_delay: float = Field(default=0.5, gt=0)
    max_delay: float = Field(default=30.0, gt=0)
    #: Total seconds a connection may spend waiting in one run before the rest waits for the next.
    budget_seconds: float = Field(default=300.0, gt=0)
    max_retries: int = Field(default=50, ge=0)


class DaemonConfig(_Strict):
    #: Seconds between schedule checks.
    tick: float = Field(default=30.0, gt=0)


class ServerConfig(_Strict):
    """``pmhub serve``: webhooks, the schedules, the status page and metrics in one process."""

    #: Address to bind; anything but loopback needs ``token`` (the page and metrics ask for it).
    host: str = "127.0.0.1"
    port: int = Field(default=8470, ge=0, le=65535)
    #: Bearer token for ``/`` and ``/metrics`` (``{ env }`` / ``{ file }``, like every secret).
    token: SecretStr | None = None
    #: The address the tools call, e.g. "https://hub.example.com" behind a reverse proxy: Trello
    #: signs the callback URL, so it must be the one registered. None: the request's own URL.
    public_url: str | None = None
    #: Largest request body accepted (bytes); a bigger delivery gets 413.
    max_body_bytes: int = Field(default=5 * 1024 * 1024, gt=0)
    #: A record's sync waits until its deliveries pause this long (seconds), so a burst of edits
    #: costs one sync...
    debounce_seconds: float = Field(default=0.25, ge=0)
    #: ...but never longer than this after its first delivery, however busy the record is.
    max_delay_seconds: float = Field(default=2.0, gt=0)
    #: How long delivery ids are remembered to recognise a replay (hours).
    replay_window_hours: float = Field(default=72.0, gt=0)
    #: Seconds an idle keep-alive connection stays open.
    keep_alive_seconds: int = Field(default=5, ge=1)
    #: Connections served at once; more get 503 rather than piling up.
    max_connections: int = Field(default=100, ge=1)


class QueueConfig(_Strict):
    """``[queue]``: queue mode. ``pmhub serve`` and ``pmhub daemon`` enqueue flow runs and targeted
    syncs as Celery tasks and ``pmhub worker`` processes run them (state must be PostgreSQL)."""

    #: Celery broker URL: "redis://127.0.0.1:6379/0" or "amqp://guest:guest@127.0.0.1:5672//".
    broker: str
    #: Celery queue the tasks go to (several hubs can share one broker with different names).
    name: str = "pmhub"
    #: Redis only: an unacknowledged task (its worker died) goes back to the queue after this long
    #: (seconds). Longer than the longest flow run; RabbitMQ redelivers when the connection drops.
    redelivery_seconds: float = Field(default=3600.0, gt=0)


class _RawConfig(_Strict):
    state: StateConfig = Field(default_factory=StateConfig)
    connections: dict[str, dict[str, Any]] = Field(default_factory=dict)
    flows: list[FlowConfig] = Field(default_factory=list)
    daemon: DaemonConfig = Field(default_factory=DaemonConfig)
    retry: RetryConfig = Field(default_factory=RetryConfig)
    server: ServerConfig = Field(default_factory=ServerConfig)
    queue: QueueConfig | None = None

    @model_validator(mode="after")
    def _flows_reference_connections(self) -> _RawConfig:
        names = [flow.name for flow in self.flows]
        for flow in self.flows:
            if names.count(flow.name) > 1:
                raise ValueError(f"flow name {flow.name!r} is used twice")
        return self


@dataclass
class Config:
    """A loaded, validated configuration. ``connections`` hold each plugin's own settings model."""

    path: Path
    state: StateConfig
    connections: dict[str, ConnectionSettings]
    flows: list[FlowConfig]
    daemon: DaemonConfig
    retry: RetryConfig
    server: ServerConfig = field(default_factory=ServerConfig)
    #: Queue mode (``[queue]``); None: everything runs in process.
    queue: QueueConfig | None = None

    def flow(self, name: str) -> FlowConfig:
        for flow in self.flows:
            if flow.name == name:
                return flow
        known = ", ".join(f.name for f in self.flows) or "none"
        raise ConfigError(f"no flow named {name!r} (flows: {known})", file=str(self.path))


def find_config(path: str | os.PathLike[str] | None) -> Path:
    """The config to use: the given path, ``$PMHUB_CONFIG``, or ``./pmhub.toml``."""
    chosen = Path(path or os.environ.get(CONFIG_ENV) or DEFAULT_CONFIG)
    if not chosen.is_file():
        raise ConfigError(
            f"config file not found (pass --config, set {CONFIG_ENV}, or copy config.example.toml "
            f"to {DEFAULT_CONFIG})", file=str(chosen))
    return chosen


def load_config(path: str | os.PathLike[str] | None, host: PluginHost) -> Config:
    file = find_config(path)
    where = str(file)
    try:
        data = tomllib.loads(file.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"not valid TOML: {error}", file=where) from None
    except OSError as error:
        raise ConfigError(f"cannot read: {error.strerror}", file=where) from None
    except UnicodeDecodeError as error:
        raise ConfigError(f"not UTF-8 text (the byte at offset {error.start} cannot be decoded); "
                          "save it as UTF-8", file=where) from None
    if isinstance(data.get("server"), dict):  # its token is a secret like a connection's
        data["server"] = resolve_secrets(data["server"], file=where, key="server", base=file.parent)
    try:
        raw = _RawConfig.model_validate(data)
    except ValidationError as error:
        raise _config_error(error, where) from None

    connections: dict[str, ConnectionSettings] = {}
    for name, table in raw.connections.items():
        key = f"connections.{name}"
        plugin = table.get("plugin")
        if not isinstance(plugin, str):
            raise ConfigError("missing 'plugin' (e.g. plugin = \"github\")", file=where, key=key)
        try:
            connector = host.connector(plugin)
        except ConfigError as error:
            raise ConfigError(error.problem, file=where, key=f"{key}.plugin") from None
        resolved = resolve_secrets(table, file=where, key=key, base=file.parent)
        try:
            connections[name] = connector.settings_model.model_validate(resolved)
        except ValidationError as error:
            raise _config_error(error, where, prefix=key) from None

    for index, flow in enumerate(raw.flows):
        for side in ("a", "b"):
            ref = getattr(flow, side).connection
            if ref not in connections:
                known = ", ".join(connections) or "none defined"
                raise ConfigError(f"unknown connection {ref!r} (connections: {known})", file=where,
                                  key=f"flows[{index}].{side}.connection")
        for record_type in flow.records:
            for side in ("a", "b"):
                conn = connections[getattr(flow, side).connection]
                held_as = flow.held_as(side, record_type)
                if held_as not in host.connector(conn.plugin).record_types:
                    raise ConfigError(
                        f"plugin {conn.plugin!r} does not handle {held_as!r} records",
                        file=where, key=f"flows[{index}].{'pairs' if held_as != record_type else 'records'}")
        if flow.progress_notes is not None:
            from hub.connector import Capability

            conn = connections[getattr(flow, flow.progress_notes.side).connection]
            if Capability.NOTES not in host.connector(conn.plugin).capabilities("customer"):
                raise ConfigError(f"plugin {conn.plugin!r} cannot keep progress notes",
                                  file=where, key=f"flows[{index}].progress_notes.side")
    if raw.queue is not None and not (raw.state.url or "").startswith("postgresql"):
        raise ConfigError("queue mode needs a PostgreSQL state store shared by every worker: set "
                          "[state] url = \"postgresql+psycopg://user@host:5432/pmhub\" (SQLite is one "
                          "machine's file)", file=where, key="queue")
    return Config(path=file, state=_anchored_state(raw.state, file.parent), connections=connections,
                  flows=raw.flows, daemon=raw.daemon, retry=raw.retry, server=raw.server,
                  queue=raw.queue)


def _anchored_state(state: StateConfig, base: Path) -> StateConfig:
    """A relative SQLite path is the config folder's, like a ``{ file = ... }`` secret: a run from
    another directory (cron starts in ``$HOME``) must not open a fresh, empty state there."""
    if state.url is None:
        return state
    from hub.state.location import anchored

    return state.model_copy(update={"url": anchored(state.url, base)})


def resolve_secrets(table: dict[str, Any], *, file: str, key: str, base: Path) -> dict[str, Any]:
    """Replace ``{ env = "X" }`` and ``{ file = "path" }`` values by what they point at."""
    out: dict[str, Any] = {}
    for name, value in table.items():
        here = f"{key}.{name}"
        if isinstance(value, dict) and set(value) in ({"env"}, {"file"}):
            if "env" in value:
                resolved = os.environ.get(value["env"])
                if resolved is None:
                    raise ConfigError(f"environment variable {value['env']} is not set", file=file,
                                      key=here)
            else:
                secret_path = base / Path(value["file"]).expanduser()
                try:
                    # utf-8-sig: a byte-order mark (Windows editors) is not part of the secret.
                    resolved = secret_path.read_text(encoding="utf-8-sig").strip()
                except OSError as error:
                    raise ConfigError(f"cannot read secret file {secret_path}: {error.strerror}",
                                      file=file, key=here) from None
                except UnicodeDecodeError as error:
                    # Never the offending bytes: they are part of the secret.
                    raise ConfigError(
                        f"secret file {secret_path} is not UTF-8 text (the byte at offset "
                        f"{error.start} cannot be decoded); save it as UTF-8", file=file,
                        key=here) from None
            out[name] = resolved
        elif isinstance(value, dict) and ("env" in value or "file" in value):
            raise ConfigError("a secret is { env = \"NAME\" } or { file = \"path\" }, nothing else",
                              file=file, key=here)
        else:
            out[name] = value
    return out


def _config_error(error: ValidationError, file: str, prefix: str = "") -> ConfigError:
    first = error.errors()[0]
    parts = [prefix] if prefix else []
    for loc in first["loc"]:
        if isinstance(loc, int):
            parts[-1:] = [f"{parts[-1]}[{loc}]"] if parts else [f"[{loc}]"]
        else:
            parts.append(str(loc))
    message = first["msg"]
    if first["type"] == "extra_forbidden":
        message = "unknown key (not part of the config contract; see config.example.toml)"
    elif first["type"] == "missing":
        message = "required key is missing"
    more = len(error.errors()) - 1
    if more:
        message += f" (and {more} more problem{'s' if more > 1 else ''})"
    # Pydantic may echo the input; secrets are resolved by now, so never include the input value.
    return ConfigError(message, file=file, key=".".join(parts))


def render_config(*, state_url: str | None = None, connections: dict[str, dict[str, Any]],
                  flows: list[dict[str, Any]], tables: dict[str, dict[str, Any]] | None = None,
                  header: str = "") -> str:
    """A config file's text from plain values (used by `pmhub demo` and by tests that write configs).

    Secrets should be given as ``{"env": ...}`` / ``{"file": ...}`` tables, never as values.
    tomli-w does the quoting, so any string and any key round-trips through ``tomllib``.
    """
    import tomli_w

    document: dict[str, Any] = {}
    if state_url:
        document["state"] = {"url": state_url}
    document.update(tables or {})
    document["connections"] = connections
    document["flows"] = flows
    lines = [f"# {line}" for line in header.splitlines()]
    return "\n".join([*lines, tomli_w.dumps(document)])
