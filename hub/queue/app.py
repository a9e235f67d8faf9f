"""The Celery app of queue mode, built from ``[queue]`` (never at import: each command builds its own).

Tasks are acknowledged only when they finish and rejected when their worker dies, one at a time per
worker process (prefetch 1), so a killed worker's task is delivered again to another; the engine's
intents, markers and the flow's lease make that second run safe.
"""

from __future__ import annotations

from contextlib import ExitStack
from pathlib import Path
from typing import Any

from celery import Celery, Task

from hub.config import Config, QueueConfig
from hub.engine.runner import Hub, open_hub

RUN_FLOW = "pmhub.run_flow"
SYNC_RECORDS = "pmhub.sync_records"
#: A targeted sync whose flow is busy on another worker waits this long, this many times.
BUSY_RETRY_SECONDS = 2.0
BUSY_RETRIES = 5


def celery_settings(queue: QueueConfig) -> dict[str, Any]:
    return {
        "broker_url": queue.broker,
        "task_default_queue": queue.name,
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "worker_prefetch_multiplier": 1,
        "task_serializer": "json",
        "accept_content": ["json"],
        "result_backend": None,
        "task_ignore_result": True,
        "broker_connection_retry_on_startup": True,
        "worker_hijack_root_logger": False,
        # Redis holds an unacknowledged task this long before giving it to another worker, and
        # looks for such tasks this often (kombu's default scans only every 100 s).
        "broker_transport_options": {
            "visibility_timeout": queue.redelivery_seconds,
            "unacked_restore_interval": max(1.0, min(10.0, queue.redelivery_seconds / 4)),
            "unacked_restore_throttle": 1,
        },
    }


class HubPerProcess:
    """The hub a worker process runs its tasks with, opened on its first task (after the fork, so
    no database connection or client session is shared between processes)."""

    def __init__(self, config_path: Path) -> None:
        self.config_path = config_path
        self._stack = ExitStack()
        self._hub: Hub | None = None

    def get(self) -> Hub:
        if self._hub is None:
            self._hub = self._stack.enter_context(open_hub(self.config_path))
        return self._hub

    def close(self) -> None:
        self._stack.close()
        self._hub = None


def build_app(config: Config) -> Celery:
    """The app with its tasks; ``config.queue`` must be set."""
    if config.queue is None:
        raise ValueError("build_app needs a config with [queue]")
    app = Celery("pmhub", set_as_current=False)
    app.conf.update(celery_settings(config.queue))
    hubs = HubPerProcess(config.path)

    @app.task(name=RUN_FLOW, bind=True)
    def run_flow(task: Task, flow: str) -> str:
        from hub.engine.runner import sync
        from hub.queue.ledger import clear_waiting, count_outcome

        hub = hubs.get()
        clear_waiting(hub.store, flow)  # a run queued from now on is a new one, not a duplicate
        status = "error"
        try:
            results = sync(hub, [flow])
            status = results[0].status if results else "error"
        finally:
            count_outcome(hub.store, RUN_FLOW, status)
        return status

    @app.task(name=SYNC_RECORDS, bind=True, max_retries=BUSY_RETRIES)
    def sync_records(task: Task, flow: str, record_type: str, side: str, ids: list[str]) -> str:
        from hub.engine.runner import sync_records as sync_these
        from hub.queue.ledger import count_outcome

        hub = hubs.get()
        result = sync_these(hub, flow, record_type, side, ids)
        count_outcome(hub.store, SYNC_RECORDS, result.status)
        if result.status == "skipped" and task.request.retries < BUSY_RETRIES:
            raise task.retry(countdown=BUSY_RETRY_SECONDS)  # the flow is busy on another worker
        return result.status

    return app
