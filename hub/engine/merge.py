"""Field-level three-way merge against the last synced state of each side."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Literal

Policy = Literal["newest", "prefer-a", "prefer-b", "manual"]


@dataclass
class Merge:
    #: Field values to write to side a / side b.
    to_a: dict[str, Any] = field(default_factory=dict)
    to_b: dict[str, Any] = field(default_factory=dict)
    #: Fields changed differently on both sides and left for a person (policy "manual").
    conflicts: list[str] = field(default_factory=list)


def changed_fields(now: dict[str, Any], base: dict[str, Any] | None, fields: tuple[str, ...]) -> set[str]:
    if base is None:
        return set(fields)
    return {f for f in fields if now.get(f) != base.get(f)}


def three_way(
    fields: tuple[str, ...], *,
    a_now: dict[str, Any], a_base: dict[str, Any] | None, a_updated: dt.datetime | None,
    b_now: dict[str, Any], b_base: dict[str, Any] | None, b_updated: dt.datetime | None,
    policy: Policy, blanks_yield: bool = False,
) -> Merge:
    """Both sides changed since the last sync: decide, field by field, what goes where.

    Each side's base is what that side looked like after the last sync (mappings can be lossy, so
    the two bases need not be equal); a field changed on one side only flows to the other; a field
    changed on both to different values follows the policy.

    ``blanks_yield``: for two records that existed before they were linked (no base at all), an
    empty value means "this tool does not have it", so it gives way to the other side's value
    instead of erasing it; the policy decides only between two real values.
    """
    merge = Merge()
    a_changed = changed_fields(a_now, a_base, fields)
    b_changed = changed_fields(b_now, b_base, fields)
    for name in fields:
        in_a, in_b = name in a_changed, name in b_changed
        if in_a and not in_b:
            merge.to_b[name] = a_now.get(name)
        elif in_b and not in_a:
            merge.to_a[name] = b_now.get(name)
        elif in_a and in_b and a_now.get(name) != b_now.get(name):
            winner = _winner(policy, a_updated, b_updated)
            if blanks_yield and _blank(a_now.get(name)) != _blank(b_now.get(name)):
                winner = "b" if _blank(a_now.get(name)) else "a"
            if winner == "a":
                merge.to_b[name] = a_now.get(name)
            elif winner == "b":
                merge.to_a[name] = b_now.get(name)
            else:
                merge.conflicts.append(name)
    return merge


def _winner(policy: Policy, a_updated: dt.datetime | None, b_updated: dt.datetime | None) -> str | None:
    if policy == "prefer-a":
        return "a"
    if policy == "prefer-b":
        return "b"
    if policy == "manual":
        return None
    if a_updated is None or b_updated is None:
        return "a" if b_updated is None else "b"
    # Ties go to side a: deterministic, and a is where the flow's records usually originate.
    return "a" if a_updated >= b_updated else "b"


def _blank(value: Any) -> bool:
    return value in (None, "", [], {})
