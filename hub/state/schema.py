"""Tables of the state store (SQLAlchemy Core). Changes here need an Alembic revision."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData()

ID = String(255)
NAME = String(200)

#: One row per pair of twins. Snapshots are the synced canonical fields as last read on each side:
#: the base of the three-way merge and, hashed into the fingerprints, how echoes are recognised.
links = Table(
    "links", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("flow", NAME, nullable=False),
    Column("record_type", String(40), nullable=False),
    Column("a_id", ID, nullable=False),
    Column("b_id", ID, nullable=False),
    Column("a_version", String(100)),
    Column("b_version", String(100)),
    Column("a_fp", String(40)),
    Column("b_fp", String(40)),
    Column("a_snapshot", Text),
    Column("b_snapshot", Text),
    #: "active", or the side whose record was deleted ("deleted-a", "deleted-b").
    Column("state", String(20), nullable=False, default="active"),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("flow", "record_type", "a_id", name="uq_links_a"),
    UniqueConstraint("flow", "record_type", "b_id", name="uq_links_b"),
)

cursors = Table(
    "cursors", metadata,
    Column("flow", NAME, primary_key=True),
    Column("side", String(1), primary_key=True),
    Column("record_type", String(40), primary_key=True),
    Column("value", String(64), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

#: Written (and committed) before a create request; the marker is what the created record carries.
#: Rows live from a page's start to its commit: no index on the marker, which only the rare lookup
#: of a pending create's copy asks by (it scans the flow's few pending intents).
intents = Table(
    "intents", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("flow", NAME, nullable=False),
    Column("record_type", String(40), nullable=False),
    Column("target_side", String(1), nullable=False),
    Column("source_id", ID, nullable=False),
    Column("marker", String(64), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("flow", "record_type", "target_side", "source_id", name="uq_intents_source"),
)

parked = Table(
    "parked", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("flow", NAME, nullable=False),
    Column("record_type", String(40), nullable=False),
    Column("side", String(1), nullable=False),
    Column("source_id", ID, nullable=False),
    Column("reason", Text, nullable=False),
    Column("attempts", Integer, nullable=False, default=1),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("flow", "record_type", "side", "source_id", name="uq_parked_source"),
)

conflicts = Table(
    "conflicts", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("link_id", Integer, ForeignKey("links.id", ondelete="CASCADE"), nullable=False),
    Column("flow", NAME, nullable=False),
    Column("record_type", String(40), nullable=False),
    Column("field", String(60), nullable=False),
    Column("base_value", Text),
    Column("a_value", Text),
    Column("b_value", Text),
    Column("status", String(10), nullable=False, default="open"),
    Column("resolution", String(1)),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("resolved_at", DateTime(timezone=True)),
    Index("ix_conflicts_open", "flow", "status"),
)

runs = Table(
    "runs", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("flow", NAME, nullable=False),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("finished_at", DateTime(timezone=True)),
    #: running, ok, attention (parked or conflicts), failed
    Column("status", String(12), nullable=False),
    Column("dry_run", Boolean, nullable=False, default=False),
    Column("error", Text),
    #: JSON: per side {connection, created, updated, unchanged, conflicts, parked, deleted, api_calls}
    Column("stats", Text),
    Index("ix_runs_flow", "flow", "id"),
)

#: A per-flow lease, so two workers (or an overlapping cron run) never sync one flow at once.
leases = Table(
    "leases", metadata,
    Column("flow", NAME, primary_key=True),
    Column("holder", String(120), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
)

#: Per flow and customer: the statuses reported in the last progress note (the baseline of "what moved").
progress = Table(
    "progress", metadata,
    Column("flow", NAME, primary_key=True),
    Column("customer", String(255), primary_key=True),
    Column("statuses", Text, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

#: Opaque, already-encrypted values a connector keeps between runs (e.g. OAuth tokens).
secrets = Table(
    "secrets", metadata,
    Column("connection", NAME, primary_key=True),
    Column("key", String(120), primary_key=True),
    Column("value", Text, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

#: HTTP validators (ETag, Last-Modified) a connector keeps per listing, so an unchanged listing
#: costs a 304 in the next run too; ``body`` is what the connector needs to act on that 304.
http_validators = Table(
    "http_validators", metadata,
    Column("connection", NAME, primary_key=True),
    #: The connector's choice (a URL with its query, a listing's name); SHA-256 when longer.
    Column("key", String(255), primary_key=True),
    Column("etag", String(255)),
    Column("last_modified", String(64)),
    Column("body", Text),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

#: Webhook deliveries already received, per connection: a replay (the same delivery id again) is
#: acknowledged and ignored, after a restart too. Rows expire (``[server] replay_window_hours``).
webhook_deliveries = Table(
    "webhook_deliveries", metadata,
    Column("connection", NAME, primary_key=True),
    #: The tool's delivery or event id, or a hash of the body where it sends none.
    Column("delivery_id", String(255), primary_key=True),
    Column("received_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Index("ix_webhook_deliveries_expiry", "expires_at"),
)
