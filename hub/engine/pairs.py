"""Pairs across record types: one side holds the flow's records of one type as records of
another type of its own (``pairs = { project = "issue" }``: the customer's project is a Deal in
Zoho CRM and an Epic in Jira).

The engine stays unaware of it: the side's connector is wrapped in ``HeldAs``, which answers for
the flow's type by asking the tool for its own type and converting the records both ways. The
tool's listing of its own type is shared out by kind: issues of the pair's kind (epics) are the
flow's projects, and the flow's issues are the others, so an Epic never also becomes a Case.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import replace
from typing import Any

from hub.config import FlowConfig
from hub.connector import Capability, Connector, Remote
from hub.model import CanonicalRecord, Issue, Kind, Project, StatusCategory

#: A project's fields as an issue calls them; the rest have the same name or no counterpart
#: (an issue names its customer, a project holds its customer's id).
PROJECT_AS_ISSUE = {"name": "title", "description": "description", "status": "status",
                    "start_date": "start_date", "due_date": "due_date", "owner": "assignees"}


def issue_to_project(issue: Issue) -> Project:
    return Project(name=issue.title, description=issue.description or None, status=issue.status,
                   start_date=issue.start_date, due_date=issue.due_date,
                   owner=issue.assignees[0] if issue.assignees else None,
                   created=issue.created, updated=issue.updated, url=issue.url)


def project_to_issue(project: Project, kind: Kind) -> Issue:
    return Issue(title=project.name or "(no name)", description=project.description or "", kind=kind,
                 status=project.status or StatusCategory.TODO, start_date=project.start_date,
                 due_date=project.due_date, assignees=[project.owner] if project.owner else [],
                 created=project.created, updated=project.updated, url=project.url)


def wrap_paired(connector: Connector, flow: FlowConfig, side: str) -> Connector:
    """``connector`` as the flow's ``side`` sees it: wrapped when that side holds a paired type."""
    held = {rt: (pair.held_as, pair.kind) for rt, pair in flow.pairs.items() if pair.side == side}
    return HeldAs(connector, held) if held else connector  # type: ignore[return-value]


class HeldAs:
    """A connector whose tool keeps some of the flow's record types as records of its own other
    types, each of a kind (``held``: flow record type -> (the tool's type, the kind)). Everything
    else passes through."""

    def __init__(self, inner: Connector, held: dict[str, tuple[str, Kind]]) -> None:
        self.inner = inner
        self.held = held
        #: The tool's types shared out, with the kinds that make a record one of a paired type.
        self.taken: dict[str, frozenset[Kind]] = {}
        for tool_type, kind in held.values():
            self.taken[tool_type] = self.taken.get(tool_type, frozenset()) | {kind}
        self.record_types = {**inner.record_types, **{
            rt: inner.record_types.get(tool, frozenset()) for rt, (tool, _) in held.items()}}

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def capabilities(self, record_type: str) -> frozenset[Capability]:
        return self.inner.capabilities(self._tool_type(record_type))

    def _tool_type(self, record_type: str) -> str:
        return self.held[record_type][0] if record_type in self.held else record_type

    def _belongs(self, record_type: str, remote: Remote) -> bool:
        """Whether the tool's record is one of the flow's ``record_type`` (by its kind)."""
        item = remote.item
        if not isinstance(item, Issue):
            return True  # a deletion names no kind: each type checks its own links
        if record_type in self.held:
            return item.kind == self.held[record_type][1]
        return item.kind not in self.taken.get(record_type, frozenset())

    def _out(self, record_type: str, remote: Remote) -> Remote:
        if record_type in self.held and isinstance(remote.item, Issue):
            return replace(remote, item=issue_to_project(remote.item))
        return remote

    def _in(self, record_type: str, item: CanonicalRecord) -> CanonicalRecord:
        if record_type in self.held and isinstance(item, Project):
            return project_to_issue(item, self.held[record_type][1])
        return item

    def _changed(self, record_type: str, changed: frozenset[str]) -> frozenset[str]:
        if record_type not in self.held:
            return changed
        return frozenset(PROJECT_AS_ISSUE[name] for name in changed if name in PROJECT_AS_ISSUE)

    # -- the connector's record methods, for the flow's types ---------------------------------
    def list_changed(self, scope: str, record_type: str, since: Any) -> Iterator[Remote]:
        for remote in self.inner.list_changed(scope, self._tool_type(record_type), since):
            if self._belongs(record_type, remote):
                yield self._out(record_type, remote)

    def get(self, scope: str, record_type: str, external_id: str) -> Remote | None:
        remote = self.inner.get(scope, self._tool_type(record_type), external_id)
        if remote is None or not self._belongs(record_type, remote):
            return None  # not one of this type's records (an epic asked for as an issue)
        return self._out(record_type, remote)

    def find_by_marker(self, scope: str, record_type: str, marker: str) -> Remote | None:
        remote = self.inner.find_by_marker(scope, self._tool_type(record_type), marker)
        return None if remote is None else self._out(record_type, remote)

    def create(self, scope: str, record_type: str, item: CanonicalRecord, marker: str) -> Remote:
        created = self.inner.create(scope, self._tool_type(record_type), self._in(record_type, item), marker)
        return self._out(record_type, created)

    def create_many(self, scope: str, record_type: str,
                    items: Sequence[tuple[CanonicalRecord, str]]) -> list[Remote | Exception]:
        results = self.inner.create_many(scope, self._tool_type(record_type),
                                         [(self._in(record_type, item), marker) for item, marker in items])
        return [r if isinstance(r, Exception) else self._out(record_type, r) for r in results]

    def update(self, scope: str, record_type: str, external_id: str, item: CanonicalRecord,
               changed: frozenset[str]) -> Remote:
        updated = self.inner.update(scope, self._tool_type(record_type), external_id,
                                    self._in(record_type, item), self._changed(record_type, changed))
        return self._out(record_type, updated)

    def delete(self, scope: str, record_type: str, external_id: str) -> None:
        self.inner.delete(scope, self._tool_type(record_type), external_id)
