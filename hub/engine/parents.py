"""Records that belong to another (a comment to its issue, an issue under its parent) and whose
parent the flow leaves out.

A comment on an issue that the flow's own filter excludes has no place on the other side, and never
will while the issue stays out: it is skipped, not parked (a parked record would be retried, and
parked again, forever). An issue under a parent the filter excludes is synced without its parent
(``placed_from``). A parent that is merely not linked yet (parked, failed this run) still
parks its children, so that they are placed once it is.
"""

from __future__ import annotations

from typing import Any

from hub.engine.context import RunContext, Seen
from hub.engine.read import inbound, passes_filter
from hub.errors import PermanentError


class Parents:
    def __init__(self, ctx: RunContext) -> None:
        self.ctx = ctx
        #: (side, record type, id) -> whether the filter leaves that parent out, learnt this run.
        self._left_out: dict[tuple[str, str, str], bool] = {}

    def left_out(self, record_type: str, seen: Seen) -> bool:
        """Whether ``seen`` belongs to a record without a twin that the flow's filter excludes."""
        run = self.ctx
        ref = run.policies[record_type].parent(seen.values)
        if ref is None or run.flow.filter is None:
            return False
        return self._unlinked_and_excluded(seen.side, (ref[0],), ref[1])

    def placed_from(self, record_type: str, seen: Seen, written: frozenset[str] | None) -> dict[str, Any]:
        """The values ``seen``'s twin is placed from: without its parent (``parent_field``) when that
        has no twin and the flow's filter excludes it, so the twin goes without one."""
        name = self.ctx.policies[record_type].parent_field
        parent = seen.values.get(name) if name is not None else None
        types = self.ctx.parent_types.get((record_type, seen.side), ())
        if (name is None or not parent or not types or self.ctx.flow.filter is None
                or (written is not None and name not in written)
                or not self._unlinked_and_excluded(seen.side, types, str(parent))):
            return seen.values
        return {**seen.values, name: None}

    def _unlinked_and_excluded(self, side: str, types: tuple[str, ...], parent_id: str) -> bool:
        run = self.ctx
        if any(run.twin_of(parent_type, side, parent_id) is not None for parent_type in types):
            return False
        parent_type = types[0]
        key = (side, parent_type, parent_id)
        if key in run.excluded:
            return True
        if key not in self._left_out:
            self._left_out[key] = self._excluded(side, parent_type, parent_id)
        return self._left_out[key]

    def _excluded(self, side: str, record_type: str, external_id: str) -> bool:
        ctx = self.ctx.sides[side]
        try:
            remote = ctx.retrier.call(ctx.connector.get, ctx.scope, record_type, external_id)
        except PermanentError:
            return False
        if remote is None or remote.item is None:
            return False  # gone: nothing says the filter left it out
        return not passes_filter(self.ctx, record_type, inbound(self.ctx, side, record_type, remote, None))
