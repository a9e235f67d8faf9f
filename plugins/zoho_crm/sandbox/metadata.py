"""Field and module metadata of the Zoho CRM stand-in: what a freshly created real org has.

The zohocrmsdk8-0 SDK downloads ``/settings/fields?module=X`` before its first record call and
converts every record value by the field's ``data_type`` (``datetime`` values become
``datetime`` objects, ``lookup`` values become ``Record`` objects, picklist values are checked
against ``pick_list_values``), so these definitions decide what the SDK will accept.

Two deliberate additions to a new org, which a real org must be given by its admin too (the
README says so):

* ``Pmhub_Id``, a custom single-line text field marked *unique* ("Do not allow duplicate
  values") on Accounts, Contacts, Deals and Cases: pmhub writes its create marker there and
  upserts with ``duplicate_check_fields=["Pmhub_Id"]``, which is what makes creates idempotent.
* ``Change Request`` in the Cases ``Type`` picklist. A new org offers ``-None-``, ``Question``,
  ``Problem`` and ``Feature Request`` only; pmhub maps ``Change Request`` to the canonical
  ``change_request`` kind, so the value has to exist before a case can carry it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

#: Stable fake ids, Zoho style (19 digits). Fields and modules never change, so these are constants.
ORG_ID = "10084763155"
ZGID = "10084763212"
USER_ID = "6403584000000401001"
PROFILE_ID = "6403584000000026011"
ROLE_ID = "6403584000000026005"
USER_NAME = "Pat Sandbox"
USER_EMAIL = "pat@sandbox.pmhub.example"

MODULE_IDS = MappingProxyType({
    "Accounts": "6403584000000002177",
    "Contacts": "6403584000000002179",
    "Deals": "6403584000000002181",
    "Cases": "6403584000000002199",
    "Notes": "6403584000000002185",
})
#: ``generated_type`` and labels of the modules the stand-in serves.
MODULE_LABELS = MappingProxyType({
    "Accounts": ("Account", "Accounts"),
    "Contacts": ("Contact", "Contacts"),
    "Deals": ("Deal", "Deals"),
    "Cases": ("Case", "Cases"),
    "Notes": ("Note", "Notes"),
})


def owner_ref() -> dict[str, str]:
    """How Zoho prints a user in ``Owner``, ``Created_By`` and ``Modified_By``."""
    return {"name": USER_NAME, "id": USER_ID, "email": USER_EMAIL}


@dataclass(frozen=True)
class FieldDef:
    """One field of a module, as compact as the sandbox needs it."""

    api_name: str
    label: str
    data_type: str
    mandatory: bool = False
    length: int = 255
    picklist: tuple[str, ...] = ()
    lookup: str | None = None
    unique: bool = False
    custom: bool = False
    read_only: bool = False
    default: str | None = None

    @property
    def json_type(self) -> str:
        return _JSON_TYPES.get(self.data_type, "string")


_JSON_TYPES = MappingProxyType({
    "lookup": "jsonobject", "ownerlookup": "jsonobject", "currency": "double", "double": "double",
    "integer": "integer", "boolean": "boolean", "bigint": "string",
})


def _system_fields() -> list[FieldDef]:
    return [
        FieldDef("Owner", "Owner", "ownerlookup", lookup="users"),
        FieldDef("Created_By", "Created By", "ownerlookup", read_only=True),
        FieldDef("Modified_By", "Modified By", "ownerlookup", read_only=True),
        FieldDef("Created_Time", "Created Time", "datetime", read_only=True),
        FieldDef("Modified_Time", "Modified Time", "datetime", read_only=True),
    ]


def _pmhub_id() -> FieldDef:
    return FieldDef("Pmhub_Id", "Pmhub Id", "text", length=255, unique=True, custom=True)


CASE_TYPES = ("-None-", "Question", "Problem", "Feature Request", "Change Request")
CASE_STATUSES = ("New", "Escalated", "On Hold", "Closed")
CASE_PRIORITIES = ("-None-", "High", "Medium", "Low")
DEAL_STAGES = ("Qualification", "Needs Analysis", "Value Proposition", "Identify Decision Makers",
               "Proposal/Price Quote", "Negotiation/Review", "Closed Won", "Closed Lost",
               "Closed-Lost to Competition")
#: What a Stage value carries besides its name in a new org's field metadata: the probability (%)
#: and the forecast type (Open, Closed Won, Closed Lost), which sets the forecast category.
FORECAST_CATEGORIES = MappingProxyType({"Open": "Pipeline", "Closed Won": "Closed", "Closed Lost": "Omitted"})
STAGE_FORECASTS: Mapping[str, tuple[int, str]] = MappingProxyType({
    "Qualification": (10, "Open"), "Needs Analysis": (20, "Open"), "Value Proposition": (40, "Open"),
    "Identify Decision Makers": (60, "Open"), "Proposal/Price Quote": (75, "Open"),
    "Negotiation/Review": (90, "Open"), "Closed Won": (100, "Closed Won"), "Closed Lost": (0, "Closed Lost"),
    "Closed-Lost to Competition": (0, "Closed Lost"),
})
FORECAST_CATEGORY_IDS = MappingProxyType({"Pipeline": "6403584000000003001", "Closed": "6403584000000003003",
                                          "Omitted": "6403584000000003005"})

FIELDS: Mapping[str, tuple[FieldDef, ...]] = MappingProxyType({
    "Accounts": (
        FieldDef("Account_Name", "Account Name", "text", mandatory=True, length=200),
        FieldDef("Website", "Website", "website"),
        FieldDef("Phone", "Phone", "phone", length=30),
        FieldDef("Industry", "Industry", "picklist", picklist=(
            "-None-", "ASP (Application Service Provider)", "Data/Telecom OEM",
            "ERP (Enterprise Resource Planning)",
            "Government/Military", "Large Enterprise", "ManagementISV", "MSP (Management Service Provider)",
            "Network Equipment Enterprise", "Non-management ISV", "Optical Networking", "Service Provider",
            "Small/Medium Enterprise", "Storage Equipment", "Storage Service Provider", "Systems Integrator",
            "Wireless Industry")),
        FieldDef("Account_Type", "Account Type", "picklist", picklist=(
            "-None-", "Analyst", "Competitor", "Customer", "Distributor", "Integrator", "Investor",
            "Other", "Partner", "Press", "Prospect", "Reseller", "Supplier", "Vendor")),
        FieldDef("Rating", "Rating", "picklist", picklist=(
            "-None-", "Acquired", "Active", "Market Failed", "Project Cancelled", "Shut Down")),
        FieldDef("Description", "Description", "textarea", length=32000),
        *_system_fields(),
        _pmhub_id(),
    ),
    "Contacts": (
        FieldDef("First_Name", "First Name", "text", length=40),
        FieldDef("Last_Name", "Last Name", "text", mandatory=True, length=80),
        FieldDef("Full_Name", "Contact Name", "text", read_only=True),
        FieldDef("Email", "Email", "email", length=100),
        FieldDef("Phone", "Phone", "phone", length=30),
        FieldDef("Mobile", "Mobile", "phone", length=30),
        FieldDef("Title", "Title", "text", length=100),
        FieldDef("Department", "Department", "text", length=30),
        FieldDef("Account_Name", "Account Name", "lookup", lookup="Accounts"),
        FieldDef("Description", "Description", "textarea", length=32000),
        *_system_fields(),
        _pmhub_id(),
    ),
    "Deals": (
        FieldDef("Deal_Name", "Deal Name", "text", mandatory=True, length=120),
        FieldDef("Stage", "Stage", "picklist", mandatory=True, picklist=DEAL_STAGES),
        FieldDef("Closing_Date", "Closing Date", "date"),
        FieldDef("Amount", "Amount", "currency"),
        FieldDef("Account_Name", "Account Name", "lookup", lookup="Accounts"),
        FieldDef("Contact_Name", "Contact Name", "lookup", lookup="Contacts"),
        FieldDef("Description", "Description", "textarea", length=32000),
        *_system_fields(),
        _pmhub_id(),
    ),
    "Cases": (
        FieldDef("Subject", "Subject", "text", mandatory=True, length=255),
        FieldDef("Status", "Status", "picklist", picklist=CASE_STATUSES, default="New"),
        FieldDef("Priority", "Priority", "picklist", picklist=CASE_PRIORITIES),
        FieldDef("Type", "Type", "picklist", picklist=CASE_TYPES),
        FieldDef("Case_Origin", "Case Origin", "picklist", picklist=("-None-", "Email", "Phone", "Web")),
        FieldDef("Case_Reason", "Case Reason", "picklist", picklist=(
            "-None-", "User did not attend any training", "Complex functionality",
            "Existing problem", "Instructions not clear", "New problem")),
        FieldDef("Description", "Description", "textarea", length=32000),
        FieldDef("Account_Name", "Account Name", "lookup", lookup="Accounts"),
        FieldDef("Deal_Name", "Deal Name", "lookup", lookup="Deals"),
        FieldDef("Related_To", "Contact Name", "lookup", lookup="Contacts"),
        FieldDef("Email", "Email", "email", length=100),
        FieldDef("Phone", "Phone", "phone", length=50),
        FieldDef("Case_Number", "Case Number", "autonumber", read_only=True),
        *_system_fields(),
        _pmhub_id(),
        # Custom fields an org adds for planning (issue 11): what pmhub's custom fields map to.
        FieldDef("Story_Points", "Story Points", "double", custom=True, length=16),
        FieldDef("Customer_Tier", "Customer Tier", "picklist", custom=True,
                 picklist=("-None-", "Gold", "Silver", "Bronze")),
        FieldDef("Target_Launch", "Target Launch", "date", custom=True),
        FieldDef("Start_Date", "Start Date", "date", custom=True),
    ),
    "Notes": (
        FieldDef("Note_Title", "Note Title", "text", length=120),
        FieldDef("Note_Content", "Note Content", "textarea", mandatory=True, length=32000),
        # Notes hang off a record of any module; the SDK must not try to fetch "se_module" fields.
        FieldDef("Parent_Id", "Parent ID", "lookup", mandatory=True),
        *_system_fields(),
    ),
})

#: The name of a record as lookups print it (``{"name": ..., "id": ...}``).
DISPLAY_FIELD = MappingProxyType({
    "Accounts": "Account_Name", "Contacts": "Full_Name", "Deals": "Deal_Name", "Cases": "Subject",
    "Notes": "Note_Title",
})
#: What an upsert checks when the request names no ``duplicate_check_fields`` (system defined).
DEFAULT_DUPLICATE_CHECK = MappingProxyType({
    "Accounts": ("Account_Name", "Pmhub_Id"), "Contacts": ("Email", "Pmhub_Id"),
    "Deals": ("Deal_Name", "Pmhub_Id"), "Cases": ("Pmhub_Id",), "Notes": (),
})
MODULES = tuple(FIELDS)


def field_map(module: str) -> dict[str, FieldDef]:
    return {f.api_name: f for f in FIELDS[module]}


def _field_id(module: str, index: int) -> str:
    return str(int(MODULE_IDS[module]) + 1000 * (index + 1))


def _ui_type(f: FieldDef) -> int:
    return {"text": 1, "textarea": 3, "email": 25, "phone": 33, "website": 21, "picklist": 2,
            "date": 24, "datetime": 333, "currency": 36, "double": 38, "lookup": 4, "ownerlookup": 8,
            "autonumber": 1}.get(f.data_type, 1)


def field_json(module: str, index: int, f: FieldDef,
               added: Sequence[Mapping[str, Any]] = ()) -> dict[str, Any]:
    """One entry of ``GET /settings/fields``, with every key a real reply carries. ``added``: the
    picklist values an admin added to the field (``PATCH /settings/fields/{id}``, see field_edits)."""
    field_id = _field_id(module, index)
    picklist: list[dict[str, Any]] = [
        {"display_value": value, "sequence_number": n + 1, "reference_value": value,
         "colour_code": None, "actual_value": value, "id": str(int(field_id) + n + 1),
         "type": "used", "_delete": None}
        for n, value in enumerate([*f.picklist, *(str(a["actual_value"]) for a in added)])
    ]
    if module == "Deals" and f.api_name == "Stage":
        forecasts: dict[str, Mapping[str, Any]] = {
            name: {"probability": chance, "forecast_type": kind}
            for name, (chance, kind) in STAGE_FORECASTS.items()}
        forecasts.update({str(a["actual_value"]): a for a in added})
        for entry in picklist:
            forecast = forecasts[str(entry["actual_value"])]
            category = FORECAST_CATEGORIES[str(forecast["forecast_type"])]
            entry.update({"probability": forecast["probability"], "forecast_type": forecast["forecast_type"],
                          "forecast_category": {"name": category, "id": FORECAST_CATEGORY_IDS[category]}})
    lookup: dict[str, Any] | None = None
    if f.data_type == "lookup" and f.lookup:
        lookup = {
            "display_label": MODULE_LABELS[f.lookup][0], "api_name": None,
            "module": {"api_name": f.lookup, "id": MODULE_IDS[f.lookup]},
            "id": None, "revalidate_filter_during_edit": False, "query_details": {},
            "show_fields": [],
        }
    editable = not f.read_only
    return {
        "associated_module": None, "data_type": f.data_type, "operation_type": {
            "web_update": editable, "api_create": editable, "web_create": editable,
            "api_update": editable},
        "system_mandatory": f.mandatory, "webhook": True, "sequence_number": index + 1,
        "default_value": f.default, "blueprint_supported": f.data_type == "picklist",
        "virtual_field": False, "field_read_only": f.read_only, "customizable_properties": [],
        "read_only": f.read_only, "custom_field": f.custom, "businesscard_supported": True,
        "filterable": True, "visible": True, "available_in_user_layout": True,
        "display_field": DISPLAY_FIELD.get(module) == f.api_name,
        "pick_list_values_sorted_lexically": False, "sortable": True,
        "layout_associations": [{"id": str(int(MODULE_IDS[module]) + 167), "name": "Standard",
                                 "api_name": "Standard"}],
        "separator": False, "searchable": f.data_type in ("text", "email", "phone", "picklist"),
        "enable_colour_code": False, "mass_update": editable, "json_type": f.json_type,
        "created_source": "custom" if f.custom else "default", "type": "used",
        "display_label": f.label, "column_name": None if f.custom else f.api_name.upper(),
        "api_name": f.api_name, "display_type": -1, "ui_type": _ui_type(f),
        "colour_code_enabled_by_system": False, "length": f.length,
        "decimal_place": 2 if f.data_type == "currency" else None, "quick_sequence_number": str(index + 1),
        "email_parser": {"fields_update_supported": False, "record_operations_supported": False},
        "rollup_summary": None, "refer_from_field": None,
        "created_time": "2025-01-06T10:00:00+00:00" if f.custom else None,
        "modified_time": "2025-01-06T10:00:00+00:00" if f.custom else None,
        "show_type": 15, "category": 0, "id": field_id, "multi_module_lookup": None,
        "sharing_properties": None, "currency": {"rounding_option": "normal", "precision": 2}
        if f.data_type == "currency" else None, "file_upolad_optionlist": [],
        "lookup": lookup, "profiles": [{"permission_type": "read_write", "name": "Administrator",
                                        "id": PROFILE_ID}],
        "view_type": {"view": True, "edit": editable, "quick_create": f.mandatory, "create": editable},
        "unique": {"casesensitive": "0"} if f.unique else None, "sub_module": None, "subform": None,
        "external": None, "formula": None, "private": None, "convert_mapping": None,
        "multiselectlookup": None, "multiuserlookup": None, "autonumber": None,
        "auto_number": {"prefix": "", "suffix": "", "start_number": 1}
        if f.data_type == "autonumber" else None,
        "pick_list_values": picklist, "crypt": None, "tooltip": None, "history_tracking": None,
        "association_details": None, "allowed_modules": [], "additional_column": None,
        "field_label": f.label, "common.picklist": None, "hipaa_compliance_enabled": False,
        "hipaa_compliance": None, "_update_existing_records": False, "number_separator": False,
        "textarea": {"type": "large"} if f.data_type == "textarea" else None, "static_field": False,
    }


def fields_json(module: str, added: Mapping[str, Sequence[Mapping[str, Any]]] | None = None
                ) -> list[dict[str, Any]]:
    """The module's fields; ``added`` maps a field's API name to picklist values added to it."""
    return [field_json(module, n, f, (added or {}).get(f.api_name, ())) for n, f in enumerate(FIELDS[module])]


def module_json(module: str, sequence: int) -> dict[str, Any]:
    """One entry of ``GET /settings/modules`` with the keys a real reply carries."""
    singular, plural = MODULE_LABELS[module]
    return {
        "has_more_profiles": False, "sub_menu_available": False, "common.search_supported": True,
        "deletable": False, "description": None, "creatable": True, "recycle_bin_on_delete": True,
        "inventory_template_supported": False, "modified_time": None, "plural_label": plural,
        "presence_sub_menu": False, "triggers_supported": True, "id": MODULE_IDS[module],
        "chart_view": False, "isBlueprintSupported": module in ("Deals", "Cases"), "visibility": 1,
        "visible": True, "convertable": False, "editable": True, "emailTemplate_support": True,
        "email_parser_supported": False, "filter_supported": True, "show_as_tab": module != "Notes",
        "web_link": None, "sequence_number": sequence, "singular_label": singular, "viewable": True,
        "api_supported": True, "api_name": module, "quick_create": True, "generated_type": "default",
        "feeds_required": False, "scoring_supported": module != "Notes", "webform_supported": True,
        "arguments": [], "module_name": plural, "chart_view_supported": True, "profile_count": 1,
        "business_card_field_limit": 5, "track_current_data": False,
        "modified_by": None, "profiles": [{"name": "Administrator", "id": PROFILE_ID}],
        "parent_module": None, "activity_badge": None, "$field_states": [], "business_card_fields": [],
        "per_page": 200, "$properties": [], "$on_demand_properties": [], "search_layout_fields": [],
        "kanban_view_supported": True, "lookup_field_properties": {"fields": []}, "kanban_view": False,
        "related_lists": [], "filter_status": True,
        "related_list_properties": {"sort_by": None, "fields": [], "sort_order": None},
        "display_field": {"api_name": DISPLAY_FIELD[module], "id": _field_id(module, 0)},
        "layouts": [], "fields": [], "custom_view": None, "zia_view": False,
        "default_mapping_fields": [], "layout_associations": [], "status": "visible",
    }


@dataclass(frozen=True)
class RelatedList:
    api_name: str
    module: str
    name: str
    sequence: int = field(default=0)


RELATED_LISTS: Mapping[str, tuple[RelatedList, ...]] = MappingProxyType({
    "Accounts": (RelatedList("Notes", "Notes", "Notes", 1),
                 RelatedList("Contacts", "Contacts", "Contacts", 2),
                 RelatedList("Deals", "Deals", "Deals", 3), RelatedList("Cases", "Cases", "Cases", 4)),
    "Contacts": (RelatedList("Notes", "Notes", "Notes", 1), RelatedList("Deals", "Deals", "Deals", 2),
                 RelatedList("Cases", "Cases", "Cases", 3)),
    "Deals": (RelatedList("Notes", "Notes", "Notes", 1),),
    "Cases": (RelatedList("Notes", "Notes", "Notes", 1),),
    "Notes": (),
})


def related_lists_json(module: str) -> list[dict[str, Any]]:
    return [
        {"id": str(int(MODULE_IDS[module]) + 500 + r.sequence), "sequence_number": str(r.sequence),
         "display_label": r.name, "api_name": r.api_name, "name": r.name, "type": "default",
         "module": {"api_name": r.module, "id": MODULE_IDS[r.module]},
         "href": f"{module}/{{ENTITYID}}/{r.api_name}", "action": None, "visible": True,
         "connectedmodule": None, "linkingmodule": None, "customize_sort": False,
         "customize_fields": False, "customize_display_label": False, "sort_by": None,
         "sort_order": None, "fields": None, "status": "visible"}
        for r in RELATED_LISTS[module]
    ]


def current_user_json(created: str) -> dict[str, Any]:
    return {
        "country": "US", "language": "en_US", "microsoft": False, "$shift_effective_from": None,
        "id": USER_ID, "state": None, "fax": None, "country_locale": "en_US", "zip": None,
        "created_time": created, "time_format": "HH:mm", "offset": 0,
        "profile": {"name": "Administrator", "id": PROFILE_ID}, "role": {"name": "CEO", "id": ROLE_ID},
        "created_by": {"name": USER_NAME, "id": USER_ID}, "full_name": USER_NAME,
        "zuid": "784512331", "phone": None, "dob": None, "status": "active",
        "customize_info": {"notes_desc": None, "show_right_panel": None, "bc_view": None,
                           "show_home": False, "show_detail_view": True, "unpin_recent_item": None},
        "city": None, "signature": None, "sort_order_preference__s": "First Name,Last Name",
        "category": "regular_user", "date_format": "MMM d, yyyy", "confirm": True,
        "decimal_separator": "Period", "number_separator": "Space", "time_zone": "UTC",
        "last_name": "Sandbox", "mobile": None, "$current_shift": None, "Reporting_To": None,
        "Currency": "USD", "$next_shift": None, "Modified_Time": created, "website": None,
        "status_reason__s": None, "email": USER_EMAIL, "first_name": "Pat",
        "sandboxDeveloper": False, "alias": None, "street": None,
        "Modified_By": {"name": USER_NAME, "id": USER_ID, "first_name": "Pat", "last_name": "Sandbox",
                        "email": USER_EMAIL},
        "Isonline": True, "locale": "en_US",
        "name_format__s": "Salutation,First Name,Last Name", "personal_account": False,
        "default_tab_group": "0",
        "theme": {"normal_tab": {"font_color": "#FFFFFF", "background": "#222222"},
                  "selected_tab": {"font_color": "#FFFFFF", "background": "#222222"},
                  "new_background": None, "background": "#F3F0EB", "screen": "fixed", "type": "default"},
        "sort_order_preference": "First Name,Last Name",
    }


def org_json(created: str) -> dict[str, Any]:
    return {
        "country": "United States", "photo_id": None, "city": None, "description": None,
        "mc_status": False, "gapps_enabled": False, "translation_enabled": False, "street": None,
        "domain_name": "org" + ORG_ID, "alias": None, "currency": "US Dollar - USD",
        "id": "6403584000000361001",
        "state": None, "fax": None, "zip": None, "employee_count": "10", "website": "sandbox.pmhub.example",
        "currency_symbol": "$", "mobile": None, "currency_locale": "en_US", "primary_zuid": "784512331",
        "zia_portal_id": None, "time_zone": "UTC", "zgid": ZGID, "country_code": "US",
        "deletable_org_account": False,
        "license_details": {"paid_expiry": "2030-01-01T00:00:00+00:00", "users_license_purchased": 10,
                            "trial_type": None, "trial_expiry": None, "paid": True,
                            "paid_type": "enterprise", "trial_action": ""},
        "hierarchy_preferences": {"type": "Role_Hierarchy", "strictly_reporting": False},
        "phone": "", "company_name": "pmhub sandbox", "privacy_settings": False,
        "primary_email": USER_EMAIL, "iso_code": "USD", "hipaa_compliance_enabled": False,
        "lite_users_enabled": False, "max_per_page": 200, "ezgid": "ez" + ZGID, "call_icon": "",
        "oauth_presence": True, "zia_zgid": 0,
        "checkin_preferences": {"location_radius": 500, "enabled": False},
        "type": "Production", "created_time": created,
    }
