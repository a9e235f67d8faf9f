"""What is particular to one record type, consulted by the generic engine.

The engine moves records of every type the same way; a ``RecordPolicy`` answers the few questions
whose answer depends on the type: which unsynced fields a target still needs to place a record, how
a copied record is attributed, whether the flow's label filter applies, and what "closing" a twin
whose source was deleted means. A new record type with needs of its own gets a subclass here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from hub.engine.records import attribute, strip_attribution
from hub.engine.references import parent_waiting_reason, waiting_reason
from hub.errors import PermanentError
from hub.model import RECORD_MODELS, Person

#: Finds the twin, on the target side, of a record of the given type on the source side.
TwinLookup = Callable[[str, str], "str | None"]
#: The name, on the target side, of the twin of the source side's record of the given type called
#: so; the name itself when the flow does not sync that type; None when that record is not linked.
NameLookup = Callable[[str, str], "str | None"]


def _same_name(record_type: str, name: str) -> str | None:
    return name


class RecordPolicy:
    """The defaults: a record that stands on its own, deleted (when the tool can) with its source."""

    #: Fields not synced but that a target needs to place the record, copied from the source as read.
    structural: ClassVar[tuple[str, ...]] = ()
    #: Whether ``filter.labels`` decides which records of this type get a twin.
    filtered_by_labels: ClassVar[bool] = False
    #: The values that close a twin whose source was deleted (on_delete = "close"); None: this type
    #: cannot be closed, so its twin is deleted when the tool can delete it.
    closed: ClassVar[dict[str, Any] | None] = None
    #: The synced field naming the record this one sits under (its id on the same side), which
    #: crosses through the links of the parent's type; None: this type has no such field.
    parent_field: ClassVar[str | None] = None

    def inbound(self, values: dict[str, Any]) -> dict[str, Any]:
        """A record's values as its tool gave them, before the mapping reads them."""
        return values

    def synced_fields(self, fields: tuple[str, ...], records: tuple[str, ...],
                      mapped: frozenset[str]) -> tuple[str, ...]:
        """The fields the flow syncs of the mapping's ``fields``, given the record types the flow
        syncs (``records``) and those its mapping has a section for (``mapped``)."""
        return fields

    def parent(self, source: dict[str, Any]) -> tuple[str, str] | None:
        """The record this one belongs to, as (record type, id on the same side); None: none."""
        return None

    def place(self, carry: dict[str, Any], source: dict[str, Any], *, flow: str, via: str,
              twin_of: TwinLookup, twin_name: NameLookup = _same_name,
              parents: tuple[str, ...] = (), written: frozenset[str] | None = None) -> dict[str, Any]:
        """Values for the target, before the mapping writes them: references to other records
        translated to the target's ids (or names). ``source``: the record's values as read;
        ``via``: the connection it was read from; ``parents``: the flow's record types the
        source's parent may be (``parent_field``); ``written``: the fields being written (None:
        all, a create)."""
        return carry


class IssuePolicy(RecordPolicy):
    """An issue may sit in a milestone, which both tools hold by name: when the flow syncs
    milestones, the name crosses through the milestone links, and an issue whose milestone has no
    twin yet waits for it (parked, replayed once it has one: ``references``)."""

    filtered_by_labels = True
    closed = {"status": "cancelled"}
    parent_field = "parent"

    def synced_fields(self, fields: tuple[str, ...], records: tuple[str, ...],
                      mapped: frozenset[str]) -> tuple[str, ...]:
        # A mapping that maps milestones as records (a GitHub milestone is a Jira version) says a
        # milestone's name means something only through their links: a flow that leaves the
        # milestones out leaves the issues' milestone alone. Elsewhere the name travels as it is.
        if "milestone" in mapped and "milestone" not in records:
            return tuple(f for f in fields if f != "milestone")
        return fields

    def place(self, carry: dict[str, Any], source: dict[str, Any], *, flow: str, via: str,
              twin_of: TwinLookup, twin_name: NameLookup = _same_name,
              parents: tuple[str, ...] = (), written: frozenset[str] | None = None) -> dict[str, Any]:
        name = carry.get("milestone")
        if isinstance(name, str) and name:
            twin = twin_name("milestone", name)
            if twin is None:
                raise PermanentError(waiting_reason("milestone", name))
            carry["milestone"] = twin
        field = self.parent_field
        if field in carry and (written is None or field in written):
            carry[field] = self._parent_twin(source.get(field), parents, twin_of)
        return carry

    @staticmethod
    def _parent_twin(parent: Any, parents: tuple[str, ...], twin_of: TwinLookup) -> str | None:
        """The twin of the source's parent, looked for among the links of each type it may be (a
        Jira issue's parent is an issue, or an Epic standing for a project). A parent with no twin
        yet makes its child wait (parked, replayed once the parent has one)."""
        if parent is None or parent == "":
            return None
        for parent_type in parents:
            twin = twin_of(parent_type, str(parent))
            if twin is not None:
                return twin
        raise PermanentError(parent_waiting_reason(" or ".join(parents) or "issue", str(parent)))


class MilestonePolicy(RecordPolicy):
    """A milestone (a Jira version) stands on its own; one whose source was deleted is closed
    (released, in Jira) rather than deleted, so the issues in it keep it."""

    closed = {"state": "closed"}


class CommentPolicy(RecordPolicy):
    """A comment belongs to an issue (its twin's parent is the issue's twin) and is written by the
    hub's account, so its body names the person who wrote it and where."""

    structural = ("issue", "author")

    def inbound(self, values: dict[str, Any]) -> dict[str, Any]:
        values["body"], who = strip_attribution(values.get("body") or "")
        if who:
            values["author"] = Person(display_name=who).model_dump(mode="json")
        return values

    def parent(self, source: dict[str, Any]) -> tuple[str, str] | None:
        return ("issue", str(source["issue"])) if source.get("issue") is not None else None

    def place(self, carry: dict[str, Any], source: dict[str, Any], *, flow: str, via: str,
              twin_of: TwinLookup, twin_name: NameLookup = _same_name,
              parents: tuple[str, ...] = (), written: frozenset[str] | None = None) -> dict[str, Any]:
        parent = twin_of("issue", str(source.get("issue")))
        if parent is None:
            raise PermanentError(parent_waiting_reason("issue", str(source.get("issue"))))
        carry["issue"] = parent
        author = source.get("author") or {}
        name = author.get("display_name") or author.get("email") or next(
            iter((author.get("handles") or {}).values()), None)
        carry["body"] = attribute(carry.get("body") or "", name, via)
        return carry


_SPECIAL: dict[str, type[RecordPolicy]] = {"issue": IssuePolicy, "comment": CommentPolicy,
                                           "milestone": MilestonePolicy}


def policies() -> dict[str, RecordPolicy]:
    """One policy per record type the engine knows."""
    return {record_type: _SPECIAL.get(record_type, RecordPolicy)() for record_type in RECORD_MODELS}
