"""Zoho CRM custom fields on Cases, by their API names (``Story_Points``, ``Customer_Tier``).

Zoho only returns the fields a listing names, so the connector must know its org's custom fields:
``GET /crm/v8/settings/fields?module=Cases`` (through the SDK's FieldsOperations) lists them with
their data types and picklist values. It is read at most once per connection's life (one call
per run, for the module that holds issues), and the custom fields it names join every listing
and read of that module, so their values come in the same requests as the rest.

Writes go by data type (a double as a number, a date as a date, a picklist as a Choice), and a
picklist value the field does not list is refused before anything is sent: Zoho would store it
as a stray value no one can pick, so the record is parked with the field's values instead.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from hub.custom_fields import touches_custom
from hub.errors import PermanentError
from hub.model import Issue

if TYPE_CHECKING:
    from .connector import ZohoCrmConnector

#: Fields pmhub itself keeps (the create marker): never a team's custom field.
_OWN = frozenset({"Pmhub_Id"})
#: Which Zoho data types can hold a value of each declared type.
_COMPATIBLE: Mapping[str, set[str]] = {
    "string": {"text", "textarea", "picklist", "email", "phone", "website"},
    "number": {"double", "integer", "currency", "bigint", "decimal", "percent"},
    "date": {"date", "datetime"},
    "option": {"picklist"},
    "options": {"multiselectpicklist"},
    # Zoho user fields are not mapped yet (a user lookup is read by name only): check says so.
}


class ZohoCustomFields:
    def __init__(self, connector: ZohoCrmConnector) -> None:
        self.connector = connector
        self._meta: dict[str, list[dict[str, Any]]] = {}

    def metadata(self, module: str) -> list[dict[str, Any]]:
        if module not in self._meta:
            from zohocrmsdk.src.com.zoho.crm.api import ParameterMap
            from zohocrmsdk.src.com.zoho.crm.api.fields import FieldsOperations, GetFieldsParam

            params = ParameterMap()
            params.add(GetFieldsParam.module, module)
            response = self.connector._call(f"fields of {module}", lambda p: FieldsOperations().get_fields(p),
                                            params)
            self._meta[module] = list(self.connector._json(response).get("fields") or [])
        return self._meta[module]

    def _field(self, module: str, name: str) -> dict[str, Any] | None:
        return next((f for f in self.metadata(module) if f.get("api_name") == name), None)

    def custom_names(self, module: str) -> tuple[str, ...]:
        """The module's custom fields, to name in its listings."""
        return tuple(str(f["api_name"]) for f in self.metadata(module)
                     if f.get("custom_field") and f.get("api_name") not in _OWN)

    # -- reading -------------------------------------------------------------------------------
    def read(self, module: str, row: Mapping[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name in self.custom_names(module):
            value = row.get(name)
            if isinstance(value, dict):  # a lookup or user: its name stands for it
                value = value.get("name")
            out[name] = value
        return out

    # -- writing -------------------------------------------------------------------------------
    def values(self, module: str, issue: Issue, changed: frozenset[str] | None) -> dict[str, Any]:
        """The Zoho values of the issue's custom fields (all on create, else when any may have
        changed), typed for the SDK; PermanentError for an unknown field or picklist value."""
        if not issue.custom or (changed is not None and not touches_custom(changed)):
            return {}
        from zohocrmsdk.src.com.zoho.crm.api.util import Choice

        out: dict[str, Any] = {}
        for name, value in issue.custom.items():
            found = self._field(module, name)
            if found is None:
                raise PermanentError(f"Zoho {module} has no field {name!r} (see pmhub check)", status=None)
            kind = found.get("data_type")
            if value is None:
                out[name] = None
            elif kind in ("picklist", "multiselectpicklist"):
                listed = [str(v.get("actual_value")) for v in found.get("pick_list_values") or []]
                chosen = value if isinstance(value, list) else [value]
                missing = [v for v in chosen if str(v) not in listed]
                if missing:
                    raise PermanentError(f"Zoho's {module} field {name!r} has no value {missing[0]!r} "
                                         f"(values: {', '.join(repr(v) for v in listed)})", status=None)
                out[name] = [Choice(str(v)) for v in chosen] if kind == "multiselectpicklist" \
                    else Choice(str(value))
            elif kind in ("double", "currency", "decimal", "percent"):
                out[name] = float(value)
            elif kind in ("integer", "bigint"):
                out[name] = int(float(value))
            elif kind == "date":
                out[name] = dt.date.fromisoformat(str(value)[:10])
            else:
                out[name] = str(value)
        return out

    def check(self, module: str, wanted: Mapping[str, str]) -> list[str]:
        problems = []
        for name, kind in wanted.items():
            found = self._field(module, name)
            if found is None:
                problems.append(f"Zoho {module} has no field with the API name {name!r} "
                                "(Setup > Developer Hub > APIs > API names)")
            elif found.get("data_type") not in _COMPATIBLE.get(kind, set()):
                problems.append(f"Zoho's {module} field {name!r} is a {found.get('data_type')} field, "
                                f"which cannot hold a {kind}")
        return problems
