"""A record deleted on one side: its link ends, and its twin follows the flow's ``on_delete``
(ignore; delete; close, which the record type's policy defines and otherwise means delete)."""

from __future__ import annotations

from hub.connector import Capability
from hub.engine.batch import Batch
from hub.engine.context import OTHER, RunContext, Seen
from hub.engine.write import Writer


class Deleter:
    def __init__(self, ctx: RunContext, writer: Writer) -> None:
        self.ctx = ctx
        self.writer = writer

    def delete_twin(self, seen: Seen, record_type: str, batch: Batch) -> None:
        assert seen.link is not None and seen.link.id is not None
        run = self.ctx
        side, other = seen.side, OTHER[seen.side]
        batch.link_states.append((seen.link.id, f"deleted-{side}"))
        on_delete = run.flow.on_delete
        if on_delete == "ignore" or not run.flow.writes(other):
            run.plan("unlink", record_type, other, seen, None, (), "deleted; on_delete = ignore")
            return
        ctx = run.sides[other]
        twin_id = seen.link.id_on(other)
        closed = run.policies[record_type].closed
        can_delete = Capability.DELETE in ctx.connector.capabilities(record_type)
        if on_delete == "delete" or (closed is None and can_delete):
            run.plan("delete", record_type, other, seen, f"{other}:{twin_id}")
            if not run.dry_run:
                ctx.retrier.call(ctx.connector.delete, ctx.scope, record_type, twin_id)
        else:
            run.plan("close", record_type, other, seen, f"{other}:{twin_id}")
            if not run.dry_run and closed is not None:
                self.writer.update(other, record_type, seen.link, dict(closed), source=seen)
        run.stats(other).deleted += 1
