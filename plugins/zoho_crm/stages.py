"""Zoho CRM Deal stages <-> a project's status (``Project.status``).

A new org's pipeline has fixed stage names (the table below). An org may rename or add stages:
each carries a forecast type in the Stage field's metadata (``Open``, ``Closed Won``, ``Closed
Lost``), which is how a stage pmhub has never heard of is read (``org_stage_categories``). Writing a
status keeps a stage that already means it, the way Cases keep their own status word.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import Any

from hub.model import StatusCategory

#: A new org's Deal stages as a project's status. The first stage is work not begun; the rest of the
#: open pipeline is under way; a won deal is delivered (done); a lost one will not be (cancelled).
DEAL_STAGE_CATEGORY: Mapping[str, StatusCategory] = MappingProxyType({
    "Qualification": StatusCategory.TODO,
    "Needs Analysis": StatusCategory.IN_PROGRESS, "Value Proposition": StatusCategory.IN_PROGRESS,
    "Identify Decision Makers": StatusCategory.IN_PROGRESS,
    "Proposal/Price Quote": StatusCategory.IN_PROGRESS, "Negotiation/Review": StatusCategory.IN_PROGRESS,
    "Closed Won": StatusCategory.DONE, "Closed Lost": StatusCategory.CANCELLED,
    "Closed-Lost to Competition": StatusCategory.CANCELLED,
})
#: The stage written for a status the Deal's current stage does not already mean. Zoho has no
#: blocked stage: a blocked project is an open deal, so it keeps (or reopens to) an open stage.
CATEGORY_DEAL_STAGE: Mapping[StatusCategory, str] = MappingProxyType({
    StatusCategory.TODO: "Qualification", StatusCategory.IN_PROGRESS: "Needs Analysis",
    StatusCategory.BLOCKED: "Needs Analysis", StatusCategory.DONE: "Closed Won",
    StatusCategory.CANCELLED: "Closed Lost",
})
#: A new deal needs a Stage; the first stage of the default pipeline.
DEFAULT_DEAL_STAGE = "Qualification"


#: A stage outside the standard table is read by its forecast type in the field metadata.
FORECAST_CATEGORY: Mapping[str, StatusCategory] = MappingProxyType(
    {"Closed Won": StatusCategory.DONE, "Closed Lost": StatusCategory.CANCELLED})


def org_stage_categories(values: Iterable[Mapping[str, Any]]) -> dict[str, StatusCategory]:
    """An org's own pipeline (the Stage field's ``pick_list_values``) as statuses, in pipeline order:
    a standard stage as the table says, another by its forecast type (won: done, lost: cancelled),
    the pipeline's first open stage as work not begun and the later open ones as under way."""
    out: dict[str, StatusCategory] = {}
    for value in sorted(values, key=lambda v: v.get("sequence_number") or 0):
        name = picked(value.get("actual_value"))
        if name is None:
            continue
        category = DEAL_STAGE_CATEGORY.get(name) or FORECAST_CATEGORY.get(str(value.get("forecast_type")))
        if category is None:
            opened = any(c not in (StatusCategory.DONE, StatusCategory.CANCELLED) for c in out.values())
            category = StatusCategory.IN_PROGRESS if opened else StatusCategory.TODO
        out[name] = category
    return out


def stage_category(stage: str, stages: Mapping[str, StatusCategory] = DEAL_STAGE_CATEGORY) -> StatusCategory:
    """A Deal stage as a status; ``stages``: the org's pipeline when it has its own."""
    return stages.get(stage) or DEAL_STAGE_CATEGORY.get(stage, StatusCategory.IN_PROGRESS)


def deal_stage(status: StatusCategory, current: str | None,
               stages: Mapping[str, StatusCategory] = DEAL_STAGE_CATEGORY) -> str | None:
    """The Stage to write for ``status``; None when the current stage already means it (a Deal at
    Proposal/Price Quote stays there while its project is under way, one lost to a competitor is
    not relabelled Closed Lost). A blocked project keeps any open stage. In an org's own pipeline
    without the standard stage, the first of its stages that means the status."""
    if current is not None:
        have = stage_category(current, stages)
        if have == status or (status == StatusCategory.BLOCKED and have == StatusCategory.IN_PROGRESS):
            return None
    preferred = CATEGORY_DEAL_STAGE[status]
    if preferred in stages:
        return preferred
    wanted = StatusCategory.IN_PROGRESS if status == StatusCategory.BLOCKED else status
    return next((name for name, category in stages.items() if category == wanted), preferred)


def new_deal_stage(stages: Mapping[str, StatusCategory] = DEAL_STAGE_CATEGORY) -> str:
    """The stage of a new deal given no status: the pipeline's first (Zoho requires one)."""
    return DEFAULT_DEAL_STAGE if DEFAULT_DEAL_STAGE in stages else next(iter(stages), DEFAULT_DEAL_STAGE)


def picked(value: Any) -> str | None:
    """A picklist value, with Zoho's ``-None-`` placeholder read as no value."""
    return value if isinstance(value, str) and value and value != "-None-" else None
