"""Queue mode (``[queue]``): flow runs and targeted syncs as Celery tasks on ``pmhub worker``
processes, with the state, the per-flow lease, the waiting markers, the write pacing and each
connection's request budget (a spent quota, the ``requests_per_minute`` ceiling) shared in
PostgreSQL. Without ``[queue]`` none of this is imported."""
