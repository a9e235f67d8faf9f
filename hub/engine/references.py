"""References from one record to another of a different type that is named rather than owned: an
issue's milestone, which each tool holds by the milestone's name (GitHub shows its title, Jira its
``fixVersions``), while the milestones themselves are synced as records of their own.

When the flow syncs the referenced type, a reference crosses through that type's links: the name
on the source side is the name of a linked record there, and the twin's name is what the target
gets. A reference whose record is not linked yet (a milestone parked, or created after the issue
was read) parks its holder with a reason saying what it waits for; each run replays those holders
once the record they wait for is linked, so the reference arrives without anyone asking. A child
whose parent has no twin yet (a comment whose issue's create is still pending) waits the same way.
"""

from __future__ import annotations

import json
from typing import Any

from hub.state.store import StateStore

#: How a holder's parked reason starts; ``waiting_reason`` writes it, ``ready`` reads it.
WAITING = "waiting for its "


#: After ``WAITING``: the holder waits for its parent, named by id (a comment for its issue).
PARENT = "parent "


def waiting_reason(record_type: str, name: str) -> str:
    return f"{WAITING}{record_type} {json.dumps(name)} to be linked (it syncs once that one has a twin)"


def parent_waiting_reason(record_type: str, external_id: str) -> str:
    """Why a child whose parent has no twin yet is parked; the run that links the parent replays it.
    ``record_type``: the parent's type, or its possible types joined by " or "."""
    return (f"{WAITING}{PARENT}{record_type} {json.dumps(external_id)} to be linked "
            "(it syncs once that one has a twin)")


class References:
    """Names of linked records across the two sides, read from the link ledger once per run and
    again after a commit of that type."""

    def __init__(self, store: StateStore, flow: str, records: tuple[str, ...] | list[str]) -> None:
        self.store = store
        self.flow = flow
        self.records = tuple(records)
        #: record type -> side -> name there -> the twin's name on the other side.
        self._names: dict[str, dict[str, dict[str, str]]] = {}

    def forget(self, record_type: str) -> None:
        """Links of ``record_type`` were committed: read them again when next asked."""
        self._names.pop(record_type, None)

    def twin_name(self, record_type: str, side: str, name: str) -> str | None:
        """The name, on the other side, of the twin of ``side``'s record called ``name``; ``name``
        itself when the flow does not sync ``record_type``; None when that record is not linked."""
        if record_type not in self.records:
            return name
        names = self._names.get(record_type)
        if names is None:
            names = self._names[record_type] = self._read(record_type)
        return names[side].get(name)

    def _read(self, record_type: str) -> dict[str, dict[str, str]]:
        names: dict[str, dict[str, str]] = {"a": {}, "b": {}}
        for link in self.store.links_of(self.flow, record_type):
            a, b = ((link.snapshot_on(side) or {}).get("name") for side in ("a", "b"))
            if isinstance(a, str) and isinstance(b, str):
                names["a"][a], names["b"][b] = b, a
        return names

    def ready(self, rows: list[dict[str, Any]], record_type: str) -> list[dict[str, Any]]:
        """The parked holders of ``record_type`` whose referenced record is linked now."""
        out = []
        for row in rows:
            reason = str(row.get("reason") or "")
            if row["record_type"] != record_type or not reason.startswith(WAITING):
                continue
            what = reason[len(WAITING):]
            if what.startswith(PARENT):
                if self._parent_linked(row["side"], what[len(PARENT):]):
                    out.append(row)
                continue
            wanted, _, rest = what.partition(" ")
            name = _quoted(rest)
            if name is not None and self.twin_name(wanted, row["side"], name) is not None:
                out.append(row)
        return out

    def _parent_linked(self, side: str, what: str) -> bool:
        # "issue \"7\" ..." or, where the parent may be of several types, "issue or project \"7\" ..."
        types, quote, rest = what.partition('"')
        parent_id = _quoted(quote + rest)
        return parent_id is not None and any(
            self.store.links_by_ids(self.flow, parent_type, side, [parent_id])
            for parent_type in types.strip().split(" or ") if parent_type in self.records)


def _quoted(text: str) -> str | None:
    """The JSON string at the start of ``text`` (as ``waiting_reason`` wrote it), else None."""
    try:
        value, _ = json.JSONDecoder().raw_decode(text)
    except ValueError:
        return None
    return value if isinstance(value, str) else None
