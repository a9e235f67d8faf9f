"""Receiving one webhook delivery: verify it, drop a replay, queue the records it names.

The order is the point. Nothing looks at a delivery before its signature (or Zoho's token) is
checked, in constant time; a delivery that fails gets 401 and changes nothing. A verified delivery
is remembered by its id in the state store (so a replay after a restart is still one), then its
records are queued for a targeted sync on every flow side they belong to. The sync fetches them
fresh, so the payload's content is never trusted, and the schedule keeps polling as the safety net.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from dataclasses import dataclass

from hub.config import Config
from hub.connector import Connector, WebhookEvent
from hub.plugins import PluginHost
from hub.service.activity import Activity
from hub.service.metrics import ServiceMetrics
from hub.service.queue import CoalescingQueue, Target
from hub.state.store import StateStore

log = logging.getLogger("pmhub.service")


@dataclass(frozen=True, slots=True)
class Reply:
    status: int
    outcome: str
    queued: int = 0


@dataclass(frozen=True, slots=True)
class FlowSide:
    flow: str
    side: str
    scope: str
    #: The tool's record type -> the flow's types it holds (an Epic may stand for a project).
    records: dict[str, tuple[str, ...]]


class WebhookReceiver:
    def __init__(self, config: Config, host: PluginHost, store: StateStore, queue: CoalescingQueue,
                 activity: Activity, metrics: ServiceMetrics) -> None:
        self.store, self.queue, self.activity, self.metrics = store, queue, activity, metrics
        self.keep = dt.timedelta(hours=config.server.replay_window_hours)
        #: Connections whose connector takes webhooks; never opened (verifying needs no I/O).
        self.connectors: dict[str, Connector] = {}
        for name, settings in config.connections.items():
            cls = host.connector(settings.plugin)
            if cls.takes_webhooks():
                self.connectors[name] = cls(name, settings)
        #: connection -> the flow sides it is on, and which record types they sync from it.
        self.sides: dict[str, list[FlowSide]] = {}
        for flow in config.flows:
            for side in ("a", "b"):
                ref = getattr(flow, side)
                if flow.reads(side):
                    self.sides.setdefault(ref.connection, []).append(
                        FlowSide(flow.name, side, ref.scope, {
                            flow.held_as(side, rt): flow.flow_types(side, flow.held_as(side, rt))
                            for rt in flow.records}))

    def takes(self, connection: str) -> bool:
        return connection in self.connectors

    def receive(self, connection: str, headers: Mapping[str, str], body: bytes, url: str) -> Reply:
        connector = self.connectors[connection]
        try:
            genuine = connector.verify_webhook(headers, body, url)
        except Exception:  # a malformed delivery is an unverified one
            genuine = False
        if not genuine:
            log.warning("webhook for %s rejected: signature or token missing or wrong", connection)
            return self._count(connection, Reply(401, "rejected"))
        delivery = connector.webhook_delivery_id(headers, body)
        if not self.store.remember_delivery(connection, delivery, self.keep):
            return self._count(connection, Reply(200, "replayed"))
        try:
            events = connector.webhook_events(headers, body)
        except (ValueError, KeyError, TypeError, AttributeError) as error:
            log.warning("webhook for %s: verified but not understood (%s)", connection, type(error).__name__)
            events = []
        queued = 0
        for event in events:
            for target in self.targets(connection, connector, event):
                self.queue.add(target, event.updated)
                queued += 1
        return self._count(connection, Reply(202, "accepted", queued) if queued else Reply(200, "ignored"))

    def targets(self, connection: str, connector: Connector, event: WebhookEvent) -> list[Target]:
        """The flow sides ``event`` belongs to, as targets of a targeted sync."""
        return [Target(side.flow, record_type, side.side, event.external_id)
                for side in self.sides.get(connection, [])
                if connector.webhook_in_scope(side.scope, event)
                for record_type in side.records.get(event.record_type, ())]

    def too_large(self, connection: str) -> Reply:
        return self._count(connection, Reply(413, "too_large"))

    def _count(self, connection: str, reply: Reply) -> Reply:
        self.activity.delivery(connection, reply.outcome)
        self.metrics.deliveries.labels(connection, reply.outcome).inc()
        if reply.outcome != "rejected":
            log.info("webhook for %s: %s%s", connection, reply.outcome,
                     f" ({reply.queued} record(s) queued)" if reply.queued else "")
        return reply
