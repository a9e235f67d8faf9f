"""Queue mode (``[queue]``): flow runs and targeted syncs as Celery tasks on ``pmhub worker``
processes, with the state, the per-flow lease, the waiting markers and the write pacing shared in
PostgreSQL. Without ``[queue]`` none of this is imported."""
