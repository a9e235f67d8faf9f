"""One running service: the hub, the queue, the worker, the receiver and the metrics, wired."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text

from hub.engine.runner import Hub
from hub.service.activity import Activity, Redactor
from hub.service.metrics import ServiceMetrics
from hub.service.queue import CoalescingQueue
from hub.service.receiver import WebhookReceiver
from hub.service.security import BearerGate
from hub.service.status import render_status
from hub.service.worker import SyncWorker


@dataclass
class Service:
    hub: Hub
    host: str
    queue: CoalescingQueue
    metrics: ServiceMetrics
    activity: Activity
    redact: Redactor
    receiver: WebhookReceiver
    worker: SyncWorker
    gate: BearerGate

    @classmethod
    def build(cls, hub: Hub, host: str) -> Service:
        server = hub.config.server
        queue = CoalescingQueue(quiet=server.debounce_seconds, max_delay=server.max_delay_seconds)
        metrics, activity, redact = ServiceMetrics(), Activity(), Redactor(hub.config)
        receiver = WebhookReceiver(hub.config, hub.host, hub.store, queue, activity, metrics)
        worker = SyncWorker(hub, queue, metrics, activity, redact)
        metrics.watch(hub.store, [f.name for f in hub.config.flows], lambda: len(queue), worker.next_polls)
        if worker.scheduler.queue is not None:  # queue mode: the workers' queue too
            from hub.queue.observe import QueueGauges

            client = worker.scheduler.queue
            metrics.watch_queue(QueueGauges(hub.store, [f.name for f in hub.config.flows], client.app,
                                            client.queue_name))
        return cls(hub, host, queue, metrics, activity, redact, receiver, worker, BearerGate(server, host))

    def start(self) -> None:
        self.worker.start()

    def stop(self) -> None:
        """Let the sync in progress finish, then return."""
        self.worker.stop()
        self.worker.join()

    def ready(self) -> bool:
        """The state store answers and the worker runs."""
        try:
            with self.hub.store.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except Exception:
            return False
        return self.worker.alive

    def status_page(self) -> str:
        return render_status(self.hub.config, self.hub.store, self.activity, self.redact,
                             self.worker.next_polls(), len(self.queue), sorted(self.receiver.connectors))

    def callback_url(self, path: str, query: str, own_url: str) -> str:
        """The URL a tool sent the delivery to (Trello signs it): ``[server] public_url`` + path."""
        public = self.hub.config.server.public_url
        if not public:
            return own_url
        return public.rstrip("/") + path + (f"?{query}" if query else "")
