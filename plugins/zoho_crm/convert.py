"""Zoho CRM records (as the REST API prints them) to canonical records and back.

Pure functions over plain JSON values: no SDK, no I/O. The connector turns the values written
here into SDK objects. Zoho's own words travel in ``Issue.raw`` (``status``, ``priority``,
``kind``), so a flow's mapping can translate them; the categories set here are defaults.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import Any

from hub.model import (
    CanonicalRecord,
    Contact,
    Customer,
    Issue,
    Kind,
    Person,
    Priority,
    Project,
    StatusCategory,
)

from .stages import DEAL_STAGE_CATEGORY, deal_stage, new_deal_stage, picked, stage_category

RECORD_MODULES: Mapping[str, str] = MappingProxyType(
    {"customer": "Accounts", "project": "Deals", "issue": "Cases"})
MARKER_FIELD = "Pmhub_Id"

ACCOUNT_FIELDS = ("Account_Name", "Website", "Industry", "Owner", "Created_Time", "Modified_Time",
                  MARKER_FIELD)
CONTACT_FIELDS = ("First_Name", "Last_Name", "Email", "Phone", "Mobile", "Title", "Account_Name",
                  "Modified_Time", MARKER_FIELD)
DEAL_FIELDS = ("Deal_Name", "Stage", "Closing_Date", "Account_Name", "Description", "Owner",
               "Created_Time", "Modified_Time", MARKER_FIELD)
CASE_FIELDS = ("Subject", "Description", "Status", "Priority", "Type", "Account_Name", "Deal_Name",
               "Owner", "Created_By", "Created_Time", "Modified_Time", MARKER_FIELD)
MODULE_FIELDS: Mapping[str, tuple[str, ...]] = MappingProxyType({
    "Accounts": ACCOUNT_FIELDS, "Contacts": CONTACT_FIELDS, "Deals": DEAL_FIELDS, "Cases": CASE_FIELDS,
})
#: Lookup fields pmhub writes, by module: the module each points at (for errors naming the target).
LOOKUPS: Mapping[str, Mapping[str, str]] = MappingProxyType({
    "Cases": MappingProxyType({"Deal_Name": "Deals", "Account_Name": "Accounts"}),
    "Deals": MappingProxyType({"Account_Name": "Accounts"}),
    "Contacts": MappingProxyType({"Account_Name": "Accounts"}),
})
#: Fields the SDK types as picklists: it wants them as ``Choice`` objects on writes.
PICKLISTS = frozenset({"Status", "Priority", "Type", "Stage", "Industry", "Case_Origin", "Account_Type"})

CASE_STATUS_CATEGORY: Mapping[str, StatusCategory] = MappingProxyType({
    "New": StatusCategory.TODO, "Escalated": StatusCategory.IN_PROGRESS,
    "On Hold": StatusCategory.BLOCKED, "Closed": StatusCategory.DONE,
})
CATEGORY_CASE_STATUS: Mapping[StatusCategory, str] = MappingProxyType({
    StatusCategory.TODO: "New", StatusCategory.IN_PROGRESS: "Escalated",
    StatusCategory.BLOCKED: "On Hold", StatusCategory.DONE: "Closed", StatusCategory.CANCELLED: "Closed",
})
#: "Change Request" is not in a new org's Type picklist: the admin adds it (see the README).
CASE_TYPE_KIND: Mapping[str, Kind] = MappingProxyType({
    "Question": Kind.FEEDBACK, "Problem": Kind.BUG, "Feature Request": Kind.REQUIREMENT,
    "Change Request": Kind.CHANGE_REQUEST,
})
KIND_CASE_TYPE: Mapping[Kind, str] = MappingProxyType({kind: name for name, kind in CASE_TYPE_KIND.items()})
CASE_PRIORITY: Mapping[str, Priority] = MappingProxyType(
    {"High": Priority.HIGH, "Medium": Priority.MEDIUM, "Low": Priority.LOW})
PRIORITY_CASE: Mapping[Priority, str] = MappingProxyType({
    Priority.HIGHEST: "High", Priority.HIGH: "High", Priority.MEDIUM: "Medium", Priority.LOW: "Low",
    Priority.LOWEST: "Low",
})
def parse_time(value: Any) -> dt.datetime | None:
    """Zoho prints ``2025-01-02T03:04:05+05:30``: aware, whole seconds. Returned in UTC."""
    if not isinstance(value, str) or not value:
        return None
    parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed.astimezone(dt.UTC)


def version(item: CanonicalRecord) -> str | None:
    """A record's version: its Modified_Time and a digest of what pmhub reads of it.

    Modified_Time has whole seconds, so two edits within one second (pmhub's write and a person's
    right after it) share it; as the version alone it would make the person's edit look like
    pmhub's own write coming back, and drop it. The digest tells them apart.
    """
    if item.updated is None:
        return None
    digest = hashlib.sha256(item.model_dump_json().encode()).hexdigest()[:16]
    return f"{item.updated.strftime('%Y-%m-%dT%H:%M:%SZ')}~{digest}"


def parse_date(value: Any) -> dt.date | None:
    if not isinstance(value, str) or not value:
        return None
    return dt.date.fromisoformat(value[:10])


def lookup_id(value: Any) -> str | None:
    return str(value["id"]) if isinstance(value, dict) and value.get("id") else None


def lookup_name(value: Any) -> str | None:
    return value.get("name") if isinstance(value, dict) and isinstance(value.get("name"), str) else None


def person(value: Any, connection: str) -> Person | None:
    if not isinstance(value, dict) or not value.get("id"):
        return None
    return Person(display_name=value.get("name"), email=value.get("email"),
                  handles={connection: str(value["id"])})


def contact(row: dict[str, Any]) -> Contact:
    name = " ".join(p for p in (row.get("First_Name"), row.get("Last_Name")) if p) or "(no name)"
    return Contact(name=name, email=row.get("Email"), phone=row.get("Phone") or row.get("Mobile"),
                   role=row.get("Title"))


def customer(row: dict[str, Any], contacts: Iterable[dict[str, Any]], connection: str) -> Customer:
    people = sorted(contacts, key=lambda c: (c.get("Last_Name") or "", c.get("First_Name") or "",
                                             str(c.get("id"))))
    stamps = [t for t in (parse_time(row.get("Modified_Time")),
                          *(parse_time(c.get("Modified_Time")) for c in people)) if t is not None]
    return Customer(
        name=row.get("Account_Name") or "", website=row.get("Website"), industry=picked(row.get("Industry")),
        owner=person(row.get("Owner"), connection), contacts=[contact(c) for c in people],
        created=parse_time(row.get("Created_Time")), updated=max(stamps) if stamps else None,
    )


def project(row: dict[str, Any], connection: str,
            stages: Mapping[str, StatusCategory] = DEAL_STAGE_CATEGORY) -> Project:
    stage = picked(row.get("Stage"))
    status = stage_category(stage, stages) if stage else None
    return Project(
        name=row.get("Deal_Name") or "", description=row.get("Description"), status=status,
        customer=lookup_id(row.get("Account_Name")), due_date=parse_date(row.get("Closing_Date")),
        owner=person(row.get("Owner"), connection), created=parse_time(row.get("Created_Time")),
        updated=parse_time(row.get("Modified_Time")),
    )


def issue(row: dict[str, Any], connection: str) -> Issue:
    status = picked(row.get("Status"))
    kind_name = picked(row.get("Type"))
    priority_name = picked(row.get("Priority"))
    raw = {"status": status, "priority": priority_name, "kind": kind_name,
           # Where progress notes go: the case's deal, else its account.
           "deal_id": lookup_id(row.get("Deal_Name")), "account_id": lookup_id(row.get("Account_Name"))}
    return Issue(
        title=row.get("Subject") or "(no subject)", description=row.get("Description") or "",
        # A case is customer feedback unless its type says more.
        kind=CASE_TYPE_KIND.get(kind_name or "", Kind.FEEDBACK),
        status=CASE_STATUS_CATEGORY.get(status or "", StatusCategory.TODO),
        priority=CASE_PRIORITY.get(priority_name or ""),
        reporter=person(row.get("Created_By"), connection),
        # A case's parent is its Deal (the customer's project), by the id it is listed under.
        parent=lookup_id(row.get("Deal_Name")),
        customer=lookup_name(row.get("Account_Name")),
        raw={k: v for k, v in raw.items() if v is not None},
        created=parse_time(row.get("Created_Time")), updated=parse_time(row.get("Modified_Time")),
    )


def case_values(item: Issue, changed: frozenset[str] | None) -> dict[str, Any]:
    """Zoho field values for ``changed`` canonical fields (all when None). ``customer`` (an account
    name) is left to the connector, which must look the account up."""
    def wanted(name: str) -> bool:
        return changed is None or name in changed

    values: dict[str, Any] = {}
    if wanted("title"):
        values["Subject"] = item.title
    if wanted("description"):
        values["Description"] = item.description or None
    if wanted("status"):
        raw_status = item.raw.get("status")
        agrees = isinstance(raw_status, str) and raw_status in CASE_STATUS_CATEGORY and (
            CASE_STATUS_CATEGORY[raw_status] == item.status
            or (item.status == StatusCategory.CANCELLED and raw_status == "Closed"))
        # A raw status from another tool, or one the category has since moved away from, is not
        # a Zoho status to write back.
        values["Status"] = raw_status if agrees else CATEGORY_CASE_STATUS[item.status]
    if wanted("priority"):
        values["Priority"] = PRIORITY_CASE.get(item.priority) if item.priority else None
    if wanted("kind"):
        raw_kind = item.raw.get("kind")
        if isinstance(raw_kind, str) and raw_kind in CASE_TYPE_KIND and CASE_TYPE_KIND[raw_kind] == item.kind:
            values["Type"] = raw_kind
        elif item.kind in KIND_CASE_TYPE:
            values["Type"] = KIND_CASE_TYPE[item.kind]
        # Kinds with no case type (task, story, epic, risk) leave Type as it is.
    if wanted("parent") and (item.parent or changed is not None):
        # A new case without a deal sends nothing; an update without one unlinks it.
        values["Deal_Name"] = {"id": item.parent} if item.parent else None
    return values


def deal_values(item: Project, changed: frozenset[str] | None, *, creating: bool,
                current_stage: str | None = None,
                stages: Mapping[str, StatusCategory] = DEAL_STAGE_CATEGORY) -> dict[str, Any]:
    """Zoho Deal values for ``changed`` fields (all when None). ``current_stage`` is the Deal's
    stage now, so a status it already means leaves the stage alone; ``stages`` the org's pipeline."""
    def wanted(name: str) -> bool:
        return changed is None or name in changed

    values: dict[str, Any] = {}
    if wanted("name"):
        values["Deal_Name"] = item.name
    if wanted("description"):
        values["Description"] = item.description
    if wanted("due_date"):
        values["Closing_Date"] = item.due_date
    if wanted("customer"):
        values["Account_Name"] = {"id": item.customer} if item.customer else None
    if wanted("status") and item.status is not None:
        # No status says nothing about the stage (which Zoho requires): leave it as it is.
        stage = deal_stage(item.status, current_stage, stages)
        if stage is not None:
            values["Stage"] = stage
    if creating and "Stage" not in values:
        values["Stage"] = new_deal_stage(stages)
    return values


def account_values(item: Customer, changed: frozenset[str] | None) -> dict[str, Any]:
    def wanted(name: str) -> bool:
        return changed is None or name in changed

    values: dict[str, Any] = {}
    if wanted("name"):
        values["Account_Name"] = item.name
    if wanted("website"):
        values["Website"] = item.website
    if wanted("industry"):
        values["Industry"] = item.industry
    return values


def contact_values(person_: Contact) -> dict[str, Any]:
    first, _, last = person_.name.rpartition(" ")
    return {"First_Name": first or None, "Last_Name": last or person_.name, "Email": person_.email,
            "Phone": person_.phone, "Title": person_.role}


def coql_literal(value: str) -> str:
    """A COQL string literal (quotes escaped with a backslash, as Zoho documents)."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
