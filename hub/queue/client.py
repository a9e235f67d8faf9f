"""Enqueueing from ``pmhub serve`` and ``pmhub daemon`` in queue mode."""

from __future__ import annotations

import datetime as dt

from celery import Celery

from hub.config import Config
from hub.queue.app import RUN_FLOW, SYNC_RECORDS, build_app
from hub.queue.ledger import clear_waiting, mark_waiting
from hub.state.store import StateStore


class QueueClient:
    """Sends flow runs (collapsed per flow while one waits) and targeted syncs to the workers."""

    def __init__(self, config: Config, store: StateStore) -> None:
        if config.queue is None:
            raise ValueError("QueueClient needs a config with [queue]")
        self.store = store
        self.queue_name = config.queue.name
        self.stale_after = dt.timedelta(seconds=config.queue.redelivery_seconds)
        self.app: Celery = build_app(config)

    def enqueue_flow(self, flow: str) -> bool:
        """Queue a run of ``flow``; False (nothing sent) when a run of it is waiting already."""
        if not mark_waiting(self.store, flow, self.stale_after):
            return False
        try:
            self.app.send_task(RUN_FLOW, args=[flow], queue=self.queue_name)
        except BaseException:
            clear_waiting(self.store, flow)  # not sent: the next schedule must be able to send it
            raise
        return True

    def enqueue_records(self, flow: str, record_type: str, side: str, ids: list[str]) -> None:
        self.app.send_task(SYNC_RECORDS, args=[flow, record_type, side, ids], queue=self.queue_name)

    def close(self) -> None:
        self.app.close()
