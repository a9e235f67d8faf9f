"""The Zoho CRM v8 stand-in, mounted at ``/zoho``.

Point the real SDK at it with
``DataCenter.Environment(BASE, BASE + "/oauth/v2/token", BASE)`` where ``BASE`` is
``http://HOST:PORT/zoho``. It serves the accounts server's token endpoint and the CRM REST API
(``/crm/v8/...``) for Accounts, Contacts, Deals, Cases and Notes, and records' Attachments
(``attachments``); see ``metadata`` for the fields, and ``field_edits`` for adding picklist values
(an org's own Deal stages).

Authentication, as the real service does it: ``POST /oauth/v2/token`` (form-encoded,
``grant_type=refresh_token``) issues access tokens; requests carry
``Authorization: Zoho-oauthtoken <token>``. Without ``--token`` any refresh token is accepted and
any access token too, except one this sandbox issued that has since expired. With ``--token T``
only the refresh token ``T`` is accepted and only access tokens issued here.

Sandbox-only control (not part of Zoho's API), for testing a client's refresh-on-401:
``POST /zoho/_expire_tokens`` expires every access token issued so far (the next call with one
gets Zoho's ``401 INVALID_TOKEN``); its optional JSON body ``{"expires_in": seconds}`` sets the
lifetime of tokens issued from then on (default 3600, as Zoho's).
"""

from __future__ import annotations

import base64
import json
import secrets
import time
from collections.abc import Mapping
from functools import partial
from types import MappingProxyType
from typing import Any, ClassVar

from werkzeug.wrappers import Request, Response

from hub.sandbox.service import Call, json_response, route

from . import coql, metadata
from .attachments import ZohoAttachments
from .field_edits import ZohoFieldEdits
from .seed import load_demo
from .state import CrmStore, Stored, parse_time, record_error, stamp
from .webhooks import ZohoWebhooks

MAX_PER_PAGE = 200
#: Records reachable with ``page``; beyond it Zoho insists on ``page_token``.
PAGE_LIMIT = 2000
MAX_WRITE = 100
MAX_FIELDS = 50
COQL_MAX_LIMIT = 2000
DEFAULT_TOKEN_LIFETIME = 3600
SORTABLE = ("id", "Created_Time", "Modified_Time")

_CANONICAL: Mapping[int, tuple[str, str]] = MappingProxyType({
    400: ("INVALID_DATA", "invalid data"),
    403: ("NO_PERMISSION", "permission denied"),
    404: ("INVALID_URL_PATTERN", "Please check if the URL trying to access is a correct one"),
    405: ("INVALID_REQUEST_METHOD", "The http request method type is not a valid one"),
    429: ("TOO_MANY_REQUESTS", "The API request limit has been exceeded"),
    500: ("INTERNAL_ERROR", "Internal server error occurred."),
})


class ZohoError(Exception):
    """A reply in Zoho's ``API_Exception`` shape: ``{"code", "details", "message", "status"}``."""

    def __init__(self, status: int, code: str, message: str, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.details = status, code, message, details or {}

    def response(self) -> Response:
        return json_response(
            {"code": self.code, "details": self.details, "message": self.message, "status": "error"},
            self.status)


class ZohoCrmSandbox(ZohoAttachments, ZohoFieldEdits, ZohoWebhooks):
    name: ClassVar[str] = "zoho"

    def __init__(self) -> None:
        #: access token -> expiry (epoch seconds). Kept across resets so a test's client stays valid.
        self.tokens: dict[str, float] = {}
        self.token_lifetime = DEFAULT_TOKEN_LIFETIME
        self._required: str | None = None
        self.created_at = int(time.time())
        super().__init__()

    # -- SandboxService hooks ------------------------------------------------------------------
    def reset(self, seed: str) -> None:
        self.store = CrmStore()
        self.token_lifetime = DEFAULT_TOKEN_LIFETIME
        self.reset_webhooks()
        self.reset_attachments()
        self.reset_field_edits()
        if seed == "demo":
            load_demo(self.store)
            self.store.changes.clear()

    def error(self, status: int, message: str, call: Call | None = None) -> Response:
        if status == 401:
            return self._auth_error(call).response()
        code, canonical = _CANONICAL.get(status, ("INTERNAL_ERROR", "Internal server error occurred."))
        details: dict[str, Any] = {}
        if status == 400 and message and message != canonical:
            details["reason"] = message
        return ZohoError(status, code, canonical, details).response()

    def authorized(self, call: Call, token: str) -> bool:
        if self._is_open_path(call.request.path):
            return True
        presented = self._presented_token(call.request)
        return presented is not None and presented in self.tokens and self.tokens[presented] > time.time()

    def handle(self, request: Request, subpath: str, base: str, token: str | None) -> Response:
        # Remember the configured token for the token endpoint, which checks refresh tokens itself.
        self._required = token
        if not self._is_open_path(subpath):
            # An access token this sandbox issued and then expired is refused even when no token is
            # configured: that is how a client's refresh-on-401 gets tested.
            presented = self._presented_token(request)
            if presented is not None and presented in self.tokens and self.tokens[presented] <= time.time():
                return self._auth_error(Call(request, base)).response()
        try:
            return super().handle(request, subpath, base, token)
        except ZohoError as error:
            return error.response()

    @staticmethod
    def _is_open_path(path: str) -> bool:
        return path.endswith("/oauth/v2/token") or path.endswith("/_expire_tokens")

    @staticmethod
    def _presented_token(request: Request) -> str | None:
        header = request.headers.get("Authorization", "")
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "zoho-oauthtoken" or not value.strip():
            return None
        return value.strip()

    def _auth_error(self, call: Call | None) -> ZohoError:
        if call is None or not call.request.headers.get("Authorization"):
            return ZohoError(401, "AUTHENTICATION_FAILURE", "Authentication failed")
        return ZohoError(401, "INVALID_TOKEN", "invalid oauth token")

    # -- accounts server -------------------------------------------------------------------------
    @route("/oauth/v2/token", methods=("POST",))
    def token(self, call: Call) -> Response:
        # Zoho's accounts server answers a bad grant with 200 and an ``error`` key, not a 4xx.
        form = call.request.form
        if form.get("grant_type") != "refresh_token":
            return json_response({"error": "unsupported_grant_type"})
        refresh = form.get("refresh_token", "")
        if not refresh or (self._required is not None and refresh != self._required):
            return json_response({"error": "invalid_code"})
        if not form.get("client_id"):
            return json_response({"error": "invalid_client"})
        access = f"1000.{secrets.token_hex(16)}.{secrets.token_hex(16)}"
        self.tokens[access] = time.time() + self.token_lifetime
        return json_response({
            "access_token": access, "scope": "ZohoCRM.modules.ALL ZohoCRM.settings.ALL ZohoCRM.users.READ "
            "ZohoCRM.org.READ ZohoCRM.coql.READ", "api_domain": call.base, "token_type": "Bearer",
            "expires_in": self.token_lifetime,
        })

    @route("/_expire_tokens", methods=("POST",))
    def expire_tokens(self, call: Call) -> Response:
        body = call.request.get_json(silent=True) or {}
        lifetime = body.get("expires_in")
        if lifetime is not None:
            if not isinstance(lifetime, int) or lifetime < 1:
                raise ZohoError(400, "INVALID_DATA", "invalid data", {"param_name": "expires_in"})
            self.token_lifetime = lifetime
        now = time.time()
        expired = 0
        for token, expiry in self.tokens.items():
            if expiry > now:
                self.tokens[token] = now - 1
                expired += 1
        return json_response({"expired": expired, "expires_in": self.token_lifetime})

    # -- users, org, metadata --------------------------------------------------------------------
    @route("/crm/v8/users")
    def users(self, call: Call) -> Response:
        kind = call.args.get("type", "AllUsers")
        if kind not in ("AllUsers", "ActiveUsers", "AdminUsers", "CurrentUser", "ActiveConfirmedUsers",
                        "ActiveConfirmedAdmins", "ConfirmedUsers", "NotConfirmedUsers", "DeletedUsers",
                        "DeactiveUsers", "ParentRoleUsers", "ChildRoleUsers"):
            raise ZohoError(400, "INVALID_DATA", "invalid data", {"param_name": "type"})
        if kind in ("NotConfirmedUsers", "DeletedUsers", "DeactiveUsers", "ParentRoleUsers",
                    "ChildRoleUsers"):
            return _empty(204)
        return json_response({"users": [metadata.current_user_json(stamp(self.created_at))],
                              "info": {"per_page": 200, "count": 1, "page": 1, "more_records": False}})

    @route("/crm/v8/org")
    def org(self, call: Call) -> Response:
        return json_response({"org": [metadata.org_json(stamp(self.created_at))]})

    @route("/crm/v8/settings/modules")
    def modules(self, call: Call) -> Response:
        since = call.request.headers.get("If-Modified-Since")
        if since and (parse_time(since) or 0) >= self.created_at:
            return _empty(304)
        return json_response({"modules": [metadata.module_json(m, n + 1)
                                          for n, m in enumerate(metadata.MODULES)]})

    @route("/crm/v8/settings/fields")
    def fields(self, call: Call) -> Response:
        module = self._module(call.args.get("module"), param=True)
        return json_response({"fields": metadata.fields_json(module, self.added_picklist_values(module))})

    @route("/crm/v8/settings/related_lists")
    def related_lists(self, call: Call) -> Response:
        module = self._module(call.args.get("module"), param=True)
        return json_response({"related_lists": metadata.related_lists_json(module)})

    # -- records -------------------------------------------------------------------------------
    @route("/crm/v8/<module>")
    def list_records(self, call: Call, module: str) -> Response:
        module = self._module(module)
        names = self._field_names(call, module)
        per_page = self._int_param(call, "per_page", MAX_PER_PAGE, 1, MAX_PER_PAGE)
        sort_by = call.args.get("sort_by", "id")
        if sort_by not in SORTABLE:
            raise ZohoError(400, "INVALID_DATA", "invalid data",
                            {"param_name": "sort_by", "supported_values": list(SORTABLE)})
        sort_order = call.args.get("sort_order", "desc")
        if sort_order not in ("asc", "desc"):
            raise ZohoError(400, "INVALID_DATA", "invalid data",
                            {"param_name": "sort_order", "supported_values": ["asc", "desc"]})
        since = self._if_modified_since(call)
        ids = call.args.get("ids")
        page_token = call.args.get("page_token")
        if page_token:
            offset = self._read_page_token(page_token, module, sort_by, sort_order, since)
            page = offset // per_page + 1
        else:
            page = self._int_param(call, "page", 1, 1, None)
            offset = (page - 1) * per_page
            if offset + per_page > PAGE_LIMIT:
                raise ZohoError(400, "DISCRETE_PAGINATION_LIMIT_EXCEEDED",
                                "you can fetch only 2000 records with page; use page_token to fetch more",
                                {"limit": PAGE_LIMIT})
        rows = self.store.in_order(module, sort_by, descending=sort_order == "desc")
        if ids:
            wanted = set(ids.split(","))
            rows = [r for r in rows if r.id in wanted]
        if since is not None:
            rows = [r for r in rows if r.modified > since]
            if not rows:
                return _empty(304)
        chunk = rows[offset:offset + per_page]
        if not chunk:
            return _empty(204)
        more = offset + per_page < len(rows)
        token = self._page_token(module, offset + per_page, sort_by, sort_order, since) if more else None
        return json_response({
            "data": [self.store.project(r, names) for r in chunk],
            "info": {"per_page": per_page, "count": len(chunk), "page": page, "sort_by": sort_by,
                     "sort_order": sort_order, "more_records": more, "next_page_token": token,
                     "previous_page_token": None,
                     "page_token_expiry": stamp(int(time.time()) + 86400) if token else None,
                     "email": False, "call": False},
        })

    @route("/crm/v8/<module>/<record_id>")
    def get_record(self, call: Call, module: str, record_id: str) -> Response:
        module = self._module(module)
        stored = self.store.find(module, record_id)
        if stored is None:
            return _empty(204)
        since = self._if_modified_since(call)
        if since is not None and stored.modified <= since:
            return _empty(304)
        names = self._field_names(call, module, required=False)
        return json_response({"data": [self.store.project(stored, names)]})

    @route("/crm/v8/<module>", methods=("POST",))
    def insert(self, call: Call, module: str) -> Response:
        module = self._module(module)
        entries = self._data(call)
        results = [self.store.insert(module, entry, n) for n, entry in enumerate(entries)]
        return self._statuses(results, 201)

    @route("/crm/v8/<module>", methods=("PUT",))
    def update_many(self, call: Call, module: str) -> Response:
        module = self._module(module)
        entries = self._data(call)
        results = []
        for n, entry in enumerate(entries):
            record_id = entry.get("id") if isinstance(entry, dict) else None
            if not record_id:
                results.append(record_error("MANDATORY_NOT_FOUND", "required field not found",
                                             {"api_name": "id", "json_path": f"$.data[{n}].id"}))
                continue
            results.append(self.store.update(module, str(record_id), entry, n))
        return self._statuses(results, 200)

    @route("/crm/v8/<module>/<record_id>", methods=("PUT",))
    def update_one(self, call: Call, module: str, record_id: str) -> Response:
        module = self._module(module)
        entries = self._data(call)
        results = [self.store.update(module, record_id, entry, n) for n, entry in enumerate(entries[:1])]
        return self._statuses(results, 200)

    @route("/crm/v8/<module>/upsert", methods=("POST",))
    def upsert(self, call: Call, module: str) -> Response:
        module = self._module(module)
        body = call.json()
        entries = self._data(call)
        check = body.get("duplicate_check_fields") if isinstance(body, dict) else None
        if check is None:
            check = list(metadata.DEFAULT_DUPLICATE_CHECK[module])
        fields = metadata.field_map(module)
        if not isinstance(check, list) or any(not isinstance(c, str) or c not in fields for c in check):
            raise ZohoError(400, "INVALID_DATA", "invalid data",
                            {"api_name": "duplicate_check_fields", "json_path": "$.duplicate_check_fields"})
        results = []
        for n, entry in enumerate(entries):
            match, matched_on = self.store.duplicate(module, entry, check)
            if match is None:
                result = self.store.insert(module, entry, n)
                if result["status"] == "success":
                    result = {**result, "action": "insert", "duplicate_field": None}
            else:
                result = self.store.update(module, match.id, entry, n)
                if result["status"] == "success":
                    result = {**result, "action": "update", "duplicate_field": matched_on}
            results.append(result)
        inserted_only = all(r.get("action") == "insert" for r in results)
        return self._statuses(results, 201 if inserted_only else 200)

    @route("/crm/v8/<module>", methods=("DELETE",))
    def delete_many(self, call: Call, module: str) -> Response:
        module = self._module(module)
        ids = [i for i in call.args.get("ids", "").split(",") if i]
        if not ids:
            raise ZohoError(400, "REQUIRED_PARAM_MISSING", "One of the expected parameter is missing",
                            {"param_name": "ids"})
        if len(ids) > MAX_WRITE:
            raise ZohoError(400, "LIMIT_EXCEEDED", "Record count exceeded", {"limit": MAX_WRITE})
        return self._statuses([self.store.delete(module, i) for i in ids], 200)

    @route("/crm/v8/<module>/<record_id>", methods=("DELETE",))
    def delete_one(self, call: Call, module: str, record_id: str) -> Response:
        module = self._module(module)
        return self._statuses([self.store.delete(module, record_id)], 200)

    @route("/crm/v8/<module>/deleted")
    def deleted(self, call: Call, module: str) -> Response:
        module = self._module(module)
        kind = call.args.get("type", "all")
        if kind not in ("all", "recycle", "permanent"):
            raise ZohoError(400, "INVALID_DATA", "invalid data", {"param_name": "type"})
        per_page = self._int_param(call, "per_page", MAX_PER_PAGE, 1, MAX_PER_PAGE)
        page = self._int_param(call, "page", 1, 1, None)
        since = self._if_modified_since(call)
        # Deleting here always goes through the recycle bin, so "permanent" is empty.
        stones = [] if kind == "permanent" else list(self.store.deleted[module])
        if since is not None:
            stones = [s for s in stones if s.deleted > since]
            if not stones:
                return _empty(304)
        stones.sort(key=lambda s: (s.deleted, s.id), reverse=True)
        chunk = stones[(page - 1) * per_page: page * per_page]
        if not chunk:
            return _empty(204)
        user = {"name": metadata.USER_NAME, "id": metadata.USER_ID}
        return json_response({
            "data": [{"deleted_by": user, "id": s.id, "display_name": s.display_name, "type": "recycle",
                      "created_by": user, "deleted_time": stamp(s.deleted)} for s in chunk],
            "info": {"per_page": per_page, "count": len(chunk), "page": page,
                     "more_records": page * per_page < len(stones)},
        })

    # -- related notes -------------------------------------------------------------------------
    @route("/crm/v8/<module>/<record_id>/Notes")
    def related_notes(self, call: Call, module: str, record_id: str) -> Response:
        module = self._module(module)
        parent = self.store.find(module, record_id)
        if parent is None:
            raise ZohoError(400, "INVALID_DATA", "the id given seems to be invalid",
                            {"resource_path_index": 1})
        names = self._field_names(call, "Notes")
        per_page = self._int_param(call, "per_page", MAX_PER_PAGE, 1, MAX_PER_PAGE)
        page = self._int_param(call, "page", 1, 1, None)
        notes = [n for n in self.store.records["Notes"].values()
                 if (n.values.get("Parent_Id") or {}).get("id") == parent.id]
        notes.sort(key=lambda n: (n.modified, n.id), reverse=True)
        chunk = notes[(page - 1) * per_page: page * per_page]
        if not chunk:
            return _empty(204)
        return json_response({
            "data": [self.store.project(n, names) for n in chunk],
            "info": {"per_page": per_page, "count": len(chunk), "page": page,
                     "more_records": page * per_page < len(notes)},
        })

    @route("/crm/v8/<module>/<record_id>/Notes", methods=("POST",))
    def add_related_notes(self, call: Call, module: str, record_id: str) -> Response:
        module = self._module(module)
        parent = self.store.find(module, record_id)
        if parent is None:
            raise ZohoError(400, "INVALID_DATA", "the id given seems to be invalid",
                            {"resource_path_index": 1})
        entries = self._data(call)
        results = []
        for n, entry in enumerate(entries):
            entry = {**entry, "Parent_Id": {"module": {"api_name": module}, "id": parent.id}}
            results.append(self.store.insert("Notes", entry, n))
        return self._statuses(results, 201)

    # -- COQL ------------------------------------------------------------------------------------
    @route("/crm/v8/coql", methods=("POST",))
    def coql(self, call: Call) -> Response:
        body = call.json()
        text = body.get("select_query") if isinstance(body, dict) else None
        if not isinstance(text, str):
            raise ZohoError(400, "REQUIRED_PARAM_MISSING", "One of the expected parameter is missing",
                            {"param_name": "select_query"})
        try:
            query = coql.parse(text)
        except coql.CoqlError as error:
            raise ZohoError(400, "SYNTAX_ERROR", "error occurred while parsing the query",
                            {"clause": error.clause, "reason": str(error)}) from None
        module = next((m for m in metadata.MODULES if m.lower() == query.module.lower()), None)
        if module is None:
            raise ZohoError(400, "INVALID_QUERY", "invalid query formed",
                            {"clause": "from", "reason": f"invalid module {query.module}"})
        if query.limit > COQL_MAX_LIMIT or query.limit < 1:
            raise ZohoError(400, "LIMIT_EXCEEDED", "limit exceeded",
                            {"clause": "limit", "limit": COQL_MAX_LIMIT})
        if len(query.fields) > MAX_FIELDS:
            raise ZohoError(400, "LIMIT_EXCEEDED", "Max field limit exceeded",
                            {"clause": "select", "limit": MAX_FIELDS})
        fields = metadata.field_map(module)
        for name in query.fields:
            head = name.split(".", 1)[0]
            if head != "id" and head not in fields:
                raise ZohoError(400, "INVALID_QUERY", "invalid query formed",
                                {"column_name": name, "clause": "select", "reason": "invalid column"})
        rows = list(self.store.records[module].values())
        if query.where is not None:
            where = query.where
            rows = [r for r in rows if where(self.store.getter(r))]
        for name, descending in reversed(query.order_by or [("id", False)]):
            rows.sort(key=partial(self._coql_sort_key, name), reverse=descending)
        chunk = rows[query.offset:query.offset + query.limit]
        if not chunk:
            return _empty(204)
        data = []
        for record in chunk:
            get = self.store.getter(record)
            row: dict[str, Any] = {}
            for name in query.fields:
                value = get(name)
                row[name] = {"id": value["id"]} if isinstance(value, dict) and "id" in value else value
            row["id"] = record.id
            data.append(row)
        return json_response({"data": data, "info": {
            "count": len(chunk), "more_records": query.offset + query.limit < len(rows)}})

    # -- helpers: requests ---------------------------------------------------------------------
    def _module(self, name: str | None, *, param: bool = False) -> str:
        if not name:
            raise ZohoError(400, "REQUIRED_PARAM_MISSING", "One of the expected parameter is missing",
                            {"param_name": "module"})
        module = next((m for m in metadata.MODULES if m.lower() == name.lower()), None)
        if module is None:
            details = {"param_name": "module"} if param else {"resource_path_index": 0}
            raise ZohoError(400, "INVALID_MODULE", "The module name given seems to be invalid", details)
        return module

    def _field_names(self, call: Call, module: str, *, required: bool = True) -> list[str] | None:
        raw = call.args.get("fields")
        if not raw:
            if required:
                raise ZohoError(400, "REQUIRED_PARAM_MISSING", "One of the expected parameter is missing",
                                {"param_name": "fields"})
            return None
        names = [n.strip() for n in raw.split(",") if n.strip()]
        if len(names) > MAX_FIELDS:
            raise ZohoError(400, "LIMIT_EXCEEDED", "Max field limit exceeded",
                            {"param_name": "fields", "limit": MAX_FIELDS})
        return names

    @staticmethod
    def _int_param(call: Call, name: str, default: int, low: int, high: int | None) -> int:
        raw = call.args.get(name)
        if raw is None:
            return default
        try:
            value = int(raw)
        except ValueError:
            raise ZohoError(400, "INVALID_DATA", "invalid data",
                            {"param_name": name, "expected_data_type": "integer"}) from None
        if value < low or (high is not None and value > high):
            details: dict[str, Any] = {"param_name": name}
            if high is not None:
                details["maximum_length"] = str(high)
            raise ZohoError(400, "INVALID_DATA", "invalid data", details)
        return value

    @staticmethod
    def _if_modified_since(call: Call) -> int | None:
        raw = call.request.headers.get("If-Modified-Since")
        if not raw:
            return None
        parsed = parse_time(raw)
        if parsed is None:
            raise ZohoError(400, "INVALID_DATA", "invalid data", {"param_name": "If-Modified-Since"})
        return parsed

    def _data(self, call: Call) -> list[dict[str, Any]]:
        body = call.json()
        data = body.get("data") if isinstance(body, dict) else None
        if not isinstance(data, list) or not data:
            raise ZohoError(400, "MANDATORY_NOT_FOUND", "required field not found",
                            {"api_name": "data", "json_path": "$.data"})
        if len(data) > MAX_WRITE:
            raise ZohoError(400, "LIMIT_EXCEEDED", "Record insertion limit has been exceeded.",
                            {"limit": MAX_WRITE})
        if any(not isinstance(entry, dict) for entry in data):
            raise ZohoError(400, "INVALID_DATA", "invalid data", {"json_path": "$.data"})
        return data

    def _page_token(self, module: str, offset: int, sort_by: str, sort_order: str, since: int | None) -> str:
        raw = json.dumps([module, offset, sort_by, sort_order, since], separators=(",", ":"))
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    def _read_page_token(self, token: str, module: str, sort_by: str, sort_order: str,
                         since: int | None) -> int:
        try:
            padded = token + "=" * (-len(token) % 4)
            t_module, offset, t_sort, t_order, t_since = json.loads(base64.urlsafe_b64decode(padded))
        except (ValueError, TypeError):
            raise ZohoError(400, "INVALID_DATA", "invalid data", {"param_name": "page_token"}) from None
        same_listing = (t_module, t_sort, t_order, t_since) == (module, sort_by, sort_order, since)
        if not same_listing or not isinstance(offset, int):
            # A token only continues the listing it came from, as with the real service.
            raise ZohoError(400, "INVALID_DATA", "invalid data", {"param_name": "page_token"})
        return offset

    @staticmethod
    def _statuses(results: list[dict[str, Any]], ok_status: int) -> Response:
        failed = sum(1 for r in results if r["status"] == "error")
        status = ok_status if failed == 0 else 400 if failed == len(results) else 207
        return json_response({"data": results}, status)

    def _coql_sort_key(self, field: str, record: Stored) -> tuple[int, Any]:
        return _coql_sort_key(self.store.getter(record)(field))


def _empty(status: int) -> Response:
    """204/304 as Zoho sends them: no body and no Content-Type (the SDK picks its parser by it)."""
    response = Response(status=status)
    response.headers.remove("Content-Type")
    return response


def _coql_sort_key(value: Any) -> tuple[int, Any]:
    if isinstance(value, dict):
        value = value.get("id")
    if value is None:
        return (1, "")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return (0, f"{value:020.4f}")
    return (0, str(value).lower())
