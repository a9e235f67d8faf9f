"""``pmhub serve``: webhooks from the tools, the flows' schedules, a status page and metrics.

- ``receiver``: verify a delivery, drop a replay, queue the records it names;
- ``queue``: the coalescing queue of targeted syncs (a burst of edits is one sync);
- ``worker``: the thread that runs targeted syncs and scheduled polls, one at a time;
- ``status``, ``metrics``, ``security``: the page, Prometheus metrics, the bearer gate;
- ``activity``: deliveries seen since start, what the worker does, the secrets' redactor;
- ``runtime`` wires them to one hub; ``app`` (Starlette) serves them; ``server`` runs uvicorn and
  stops gracefully on SIGTERM.
"""
