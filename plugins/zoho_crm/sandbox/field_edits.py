"""Adding picklist values to a field, as an org's admin does (``PATCH /crm/v8/settings/fields/{id}``).

What it is for: an org's own pipeline. Real orgs rename and add Deal stages, each with a forecast
type (``Open``, ``Closed Won``, ``Closed Lost``) saying whether a deal at that stage is open, won
or lost; a client that maps stages must read those from the field metadata rather than assume
the stages of a new org.

Checked against ``zoho-crm/fields.json`` (operation "Update Field"): the body is
``{"fields": [{"pick_list_values": [...]}]}`` and the reply ``{"fields": [{"code": "SUCCESS",
"details": {"id": ...}, "message": ..., "status": "success"}]}``. The stand-in only adds values
(a value without an ``id``); a Stage value takes ``forecast_type`` (default ``Open``) and
``probability`` (default 0). Changing or deleting existing values is not served.
"""

from __future__ import annotations

from typing import Any

from werkzeug.wrappers import Response

from hub.sandbox.service import Call, json_response, route

from . import metadata


class ZohoFieldEdits:
    """Mixed into the Zoho CRM stand-in; its ``reset`` calls ``reset_field_edits``."""

    # What the stand-in provides (declared only: the annotations make no attributes).
    _module: Any

    def reset_field_edits(self) -> None:
        #: module -> field API name -> the picklist values added to it, in order.
        self.picklist_added: dict[str, dict[str, list[dict[str, Any]]]] = {}

    def added_picklist_values(self, module: str) -> dict[str, list[dict[str, Any]]]:
        return self.picklist_added.get(module, {})

    @route("/crm/v8/settings/fields/<field_id>", methods=("PATCH",))
    def update_field(self, call: Call, field_id: str) -> Response:
        from .routes import ZohoError

        module = self._module(call.args.get("module"), param=True)
        listed = metadata.fields_json(module, self.added_picklist_values(module))
        field = next((f for f in listed if f["id"] == field_id), None)
        if field is None:
            raise ZohoError(400, "INVALID_DATA", "the id given seems to be invalid",
                            {"resource_path_index": 2})
        body = call.json()
        entries = body.get("fields") if isinstance(body, dict) else None
        if not isinstance(entries, list) or len(entries) != 1 or not isinstance(entries[0], dict):
            raise ZohoError(400, "INVALID_DATA", "invalid data",
                            {"api_name": "fields", "json_path": "$.fields"})
        values = entries[0].get("pick_list_values")
        if field["data_type"] != "picklist" or not isinstance(values, list):
            raise ZohoError(400, "INVALID_DATA", "invalid data", {
                "api_name": "pick_list_values", "json_path": "$.fields[0].pick_list_values"})
        have = {v["actual_value"] for v in field["pick_list_values"]}
        added = self.picklist_added.setdefault(module, {}).setdefault(field["api_name"], [])
        for n, value in enumerate(values):
            path = f"$.fields[0].pick_list_values[{n}]"
            if not isinstance(value, dict):
                value = {}
            name = value.get("actual_value") or value.get("display_value")
            if not isinstance(name, str) or not name.strip():
                raise ZohoError(400, "MANDATORY_NOT_FOUND", "required field not found",
                                {"api_name": "display_value", "json_path": f"{path}.display_value"})
            forecast = value.get("forecast_type", "Open")
            if forecast not in metadata.FORECAST_CATEGORIES:
                raise ZohoError(400, "INVALID_DATA", "invalid data",
                                {"api_name": "forecast_type", "json_path": f"{path}.forecast_type"})
            if name in have:
                continue  # already a value of the field: nothing to add
            have.add(name)
            added.append({"actual_value": name, "forecast_type": forecast,
                          "probability": int(value.get("probability") or 0)})
        return json_response({"fields": [{"code": "SUCCESS", "details": {"id": field_id},
                                          "message": "field updated successfully", "status": "success"}]})
