"""The canonical model: the one vocabulary every connector maps into and out of.

Timestamps are timezone-aware UTC; bodies are Markdown. Each record type names the fields
the engine compares and syncs (``SYNC_FIELDS``); everything else is context (ids, urls, times).
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from types import MappingProxyType
from typing import Annotated, Any, ClassVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator


def _as_utc(value: dt.datetime | None) -> dt.datetime | None:
    if value is None:
        return None
    if value.tzinfo is None:
        raise ValueError("timestamp must carry a time zone")
    return value.astimezone(dt.UTC)


UtcDatetime = Annotated[dt.datetime, AfterValidator(_as_utc)]


class Kind(StrEnum):
    TASK = "task"
    BUG = "bug"
    STORY = "story"
    EPIC = "epic"
    REQUIREMENT = "requirement"
    CHANGE_REQUEST = "change_request"
    RISK = "risk"
    FEEDBACK = "feedback"


class StatusCategory(StrEnum):
    TODO = "todo"
    IN_PROGRESS = "in_progress"
    BLOCKED = "blocked"
    DONE = "done"
    CANCELLED = "cancelled"

    @property
    def is_closed(self) -> bool:
        return self in (StatusCategory.DONE, StatusCategory.CANCELLED)


class Priority(StrEnum):
    LOWEST = "lowest"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    HIGHEST = "highest"


class MilestoneState(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class _Record(BaseModel):
    # defer_build: a run that validates no record (a cron no-op) never pays for building validators.
    model_config = ConfigDict(defer_build=True, extra="forbid", validate_assignment=False,
                              use_enum_values=False)

    #: Fields the engine compares, merges and writes. The rest is context.
    SYNC_FIELDS: ClassVar[tuple[str, ...]] = ()

    def synced(self, fields: tuple[str, ...] | None = None) -> dict[str, Any]:
        """The JSON-ready values of the synced fields (the unit of merge and fingerprint)."""
        names = fields if fields is not None else self.SYNC_FIELDS
        return self.model_dump(mode="json", include=set(names))


class Person(BaseModel):
    """Someone in any tool. ``handles`` maps a connection name to that tool's user handle."""

    model_config = ConfigDict(defer_build=True, extra="forbid", frozen=True)

    display_name: str | None = None
    email: str | None = None
    handles: dict[str, str] = Field(default_factory=dict)

    def label(self) -> str:
        return self.display_name or self.email or next(iter(self.handles.values()), "someone")


class ExternalRef(BaseModel):
    """Where a record lives in one tool."""

    model_config = ConfigDict(defer_build=True, extra="forbid", frozen=True)

    connection: str
    external_id: str
    url: str | None = None
    version: str | None = None
    updated: UtcDatetime | None = None


class Contact(BaseModel):
    model_config = ConfigDict(defer_build=True, extra="forbid")

    name: str
    email: str | None = None
    phone: str | None = None
    role: str | None = None


class Customer(_Record):
    SYNC_FIELDS = ("name", "website", "industry", "tier", "owner", "contacts")

    name: str
    website: str | None = None
    industry: str | None = None
    tier: str | None = None
    owner: Person | None = None
    contacts: list[Contact] = Field(default_factory=list)
    created: UtcDatetime | None = None
    updated: UtcDatetime | None = None
    url: str | None = None


class Milestone(_Record):
    """A GitHub milestone, a Jira version (release): a name unique in its scope, a due (release)
    date, and open or closed (released). Jira versions also have a start date; GitHub's do not."""

    SYNC_FIELDS = ("name", "due_date", "start_date", "state", "description")

    name: str
    description: str | None = None
    due_date: dt.date | None = None
    start_date: dt.date | None = None
    state: MilestoneState = MilestoneState.OPEN
    updated: UtcDatetime | None = None
    url: str | None = None


class Project(_Record):
    SYNC_FIELDS = ("key", "name", "description", "status", "health", "customer", "start_date", "due_date",
                   "owner")

    key: str | None = None
    name: str
    description: str | None = None
    status: StatusCategory | None = None
    health: str | None = None
    #: External id (on the same side) of the customer this project is for.
    customer: str | None = None
    start_date: dt.date | None = None
    due_date: dt.date | None = None
    owner: Person | None = None
    created: UtcDatetime | None = None
    updated: UtcDatetime | None = None
    url: str | None = None


class Issue(_Record):
    """A work item. ``raw`` keeps the tool's own words for status, priority and kind,
    which the flow's mapping turns into the canonical categories."""

    SYNC_FIELDS = ("title", "description", "kind", "status", "priority", "assignees", "labels",
                   "milestone", "start_date", "due_date", "estimate", "customer", "parent")

    title: str = Field(min_length=1)
    description: str = ""
    kind: Kind = Kind.TASK
    status: StatusCategory = StatusCategory.TODO
    priority: Priority | None = None
    assignees: list[Person] = Field(default_factory=list)
    reporter: Person | None = None
    labels: list[str] = Field(default_factory=list)
    milestone: str | None = None
    #: When work is planned to start and to be done (a plan's bar).
    start_date: dt.date | None = None
    due_date: dt.date | None = None
    #: The planned effort in hours (Jira's original estimate). Story points are a team's own
    #: measure, not hours: carry them as a custom field (``[issue.custom.story_points]``).
    estimate: float | None = Field(default=None, ge=0)
    #: External id (on the same side) of the record this one sits under: a parent issue (a Jira
    #: epic or parent task, a GitHub parent issue) or, where the tool says so (the connector's
    #: ``parent_types``), a record of another type (a Zoho Case's Deal). It crosses to the other
    #: side through the links of the parent's type, like a comment's issue.
    parent: str | None = None
    #: Name of the customer the work is for (stable across tools, unlike ids).
    customer: str | None = None
    raw: dict[str, str] = Field(default_factory=dict)
    #: The tool's own custom fields, by the tool's name for them (a Jira field's display name or
    #: ``customfield_NNNNN``, a Trello custom field's name, a Zoho API name). Values are plain JSON:
    #: a number, a string (text, an option's value, an ISO date), a list of strings (options). The
    #: flow's mapping turns the ones it declares into synced fields (``custom.NAME``) and back.
    custom: dict[str, Any] = Field(default_factory=dict)
    created: UtcDatetime | None = None
    updated: UtcDatetime | None = None
    url: str | None = None

    @field_validator("labels")
    @classmethod
    def _labels_sorted_unique(cls, labels: list[str]) -> list[str]:
        # Order carries no meaning in any tool; normalising it keeps fingerprints stable.
        return sorted(set(labels))


class Comment(_Record):
    SYNC_FIELDS = ("body",)

    body: str
    author: Person | None = None
    #: External id (on the same side) of the issue the comment belongs to.
    issue: str
    created: UtcDatetime | None = None
    updated: UtcDatetime | None = None
    url: str | None = None


RECORD_MODELS: MappingProxyType[str, type[_Record]] = MappingProxyType({
    "project": Project,
    "milestone": Milestone,
    "issue": Issue,
    "comment": Comment,
    "customer": Customer,
})
"""Canonical record types by the name used in config (``records = [...]``) and by connectors, in
the order a flow syncs them: what others name comes first (an issue names its milestone, a comment
its issue)."""

CanonicalRecord = Project | Issue | Comment | Milestone | Customer
