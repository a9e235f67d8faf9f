"""What a run reports: counts per side, its plan, and a status.

The plan lists every action in a dry run (that is what a dry run is for). A real run keeps only the
actions that need a person's look (parked, retried, in conflict), and at most ``ATTENTION_KEPT`` of
them: a run over 300,000 records does not hold 300,000 plan entries, and the counts in ``SideStats``
cover what is left out.
"""

from __future__ import annotations

from dataclasses import dataclass, field

#: Actions a real run still reports one by one (``pmhub sync`` prints them).
ATTENTION = frozenset({"park", "retry", "conflict"})
ATTENTION_KEPT = 1000


@dataclass
class SideStats:
    connection: str
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0
    conflicts: int = 0
    parked: int = 0
    failed: int = 0
    #: Records left without a twin on purpose (e.g. a comment on an issue the filter leaves out).
    skipped: int = 0
    notes: int = 0
    api_calls: int = 0


@dataclass
class PlanEntry:
    action: str
    record_type: str
    side: str
    source: str
    target: str | None = None
    fields: tuple[str, ...] = ()
    detail: str = ""

    def describe(self) -> str:
        what = f"{self.action:8} {self.record_type:8} {self.source}"
        if self.target:
            what += f" -> {self.target}"
        if self.fields:
            what += f" [{', '.join(self.fields)}]"
        return what + (f"  ({self.detail})" if self.detail else "")


@dataclass
class FlowResult:
    flow: str
    status: str = "ok"
    error: str | None = None
    stats: dict[str, SideStats] = field(default_factory=dict)
    plan: list[PlanEntry] = field(default_factory=list)
    #: Entries a real run counted but did not keep (beyond ``ATTENTION_KEPT``).
    plan_omitted: int = 0

    @property
    def needs_attention(self) -> bool:
        return self.status != "ok"


def keeps(action: str, *, dry_run: bool) -> bool:
    """Whether a run records this action in its plan at all."""
    return dry_run or action in ATTENTION
