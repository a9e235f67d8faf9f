"""The Zoho CRM connector, on the zohocrmsdk8-0 SDK: Accounts -> customers, Deals -> projects,
Cases -> issues, and progress Notes written back onto a Deal or Account.

Connection settings (``plugin = "zoho_crm"``)::

    [connections.crm]
    plugin = "zoho_crm"
    base_url = "https://www.zohoapis.com"    # or the sandbox: http://127.0.0.1:8400/zoho
    accounts_url = "https://accounts.zoho.com"  # the matching accounts server; default base_url
    client_id = "1000.XXXX"
    client_secret = { env = "ZOHO_CLIENT_SECRET" }
    refresh_token = { env = "ZOHO_REFRESH_TOKEN" }
    timeout = 30

What a real org needs (the sandbox has both): a custom single-line field ``Pmhub_Id`` marked
unique on Accounts, Contacts, Deals and Cases (pmhub writes its create marker there and upserts
with ``duplicate_check_fields=["Pmhub_Id"]``, so a create that lost its reply is never repeated),
and the value ``Change Request`` in the Cases ``Type`` picklist.

How the SDK is tamed:
- imported in ``open()`` only (it takes most of a second to import);
- ``DataCenter.Environment`` built from ``base_url``/``accounts_url``; ``update_api_domain`` off so a
  token reply cannot redirect it; its field-metadata cache (``resource_path``) in pmhub's data dir;
- its ``Initializer`` is process-global: each connector keeps its own and makes it current (per
  thread) around every SDK call, so several Zoho connections can live in one process;
- tokens live in pmhub's state store (``token_store``), encrypted, never logged;
- every HTTP request it makes (writes and token refreshes too, which the SDK leaves without a
  timeout) gets this connection's timeout, a pooled session and a count (``transport``);
- a 401 is answered once by a token refresh and a retry of that call; a second 401 is an AuthError.
The SDK never retries; neither does this connector (the engine retries in one place).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, TypeVar

from pydantic import Field, SecretStr

from hub.connector import (
    Capability,
    ConnectionSettings,
    Connector,
    ConnectorState,
    Remote,
    WebhookEvent,
    chunks,
)
from hub.errors import (
    AuthError,
    ConnectorError,
    NotJsonReply,
    PermanentError,
    TransientError,
    error_for_status,
    not_json,
    retry_after_seconds,
)
from hub.model import CanonicalRecord, Customer, Issue, Project, StatusCategory

from . import convert, stages, webhooks
from .convert import MARKER_FIELD, RECORD_MODULES
from .custom_fields import ZohoCustomFields
from .token_store import TOKEN_KEY, MemorySecretStorage, SecretStorage, make_token_store

_T = TypeVar("_T")
#: Zoho Notes are plain text with no spare field: the marker is the note's last line, in words a
#: customer can read past.
PROGRESS_MARKER_LINE = "(pmhub reference: {marker})"
PAGE_SIZE = 200
WRITE_BATCH = 100
COQL_LIMIT = 2000
#: Values per COQL ``in (...)``; Zoho caps the list.
COQL_IN = 50
#: SDKException codes of a failed token refresh (``Constants.INVALID_TOKEN_ERROR`` and the like).
_TOKEN_ERROR_CODES = ("INVALID TOKEN ERROR", "Exception in saving tokens")
#: Token-endpoint answers that mean the credentials are wrong, not that the server had a bad moment.
_AUTH_REFUSALS = ("invalid_code", "invalid_client", "invalid_client_secret", "unsupported_grant_type",
                  "access_denied", "invalid_grant")


class ZohoCrmSettings(ConnectionSettings):
    """The ``[connections.NAME]`` table of a Zoho CRM connection."""

    base_url: str = "https://www.zohoapis.com"
    #: The accounts server that issues tokens (``https://accounts.zoho.eu`` ...); default base_url.
    accounts_url: str | None = None
    client_id: str
    client_secret: SecretStr
    refresh_token: SecretStr
    timeout: float = Field(default=30.0, gt=0)
    page_size: int = Field(default=PAGE_SIZE, ge=1, le=PAGE_SIZE)
    #: Where the SDK caches field metadata; default ``<pmhub data dir>/zoho/<connection>``.
    data_dir: str | None = None


class ZohoApiError(PermanentError):
    """A 4xx Zoho answered with its own error ``code`` (``INVALID_DATA``, ``DUPLICATE_DATA`` ...)."""

    def __init__(self, message: str, *, status: int | None, code: str | None) -> None:
        super().__init__(message, status=status)
        self.code = code


@dataclass(frozen=True, slots=True)
class Note:
    """A Note on a record, as ``list_notes`` returns it."""

    id: str
    title: str | None
    content: str
    created: dt.datetime | None
    updated: dt.datetime | None


class ZohoCrmConnector(Connector):
    plugin: ClassVar[str] = "zoho_crm"
    record_types: ClassVar[dict[str, frozenset[Capability]]] = {
        record_type: frozenset({Capability.READ, Capability.INCREMENTAL, Capability.WRITE,
                                Capability.DELETE, Capability.BULK}
                               | {Capability.WEBHOOKS}
                               | ({Capability.NOTES} if record_type == "customer" else set()))
        for record_type in RECORD_MODULES
    }
    settings_model: ClassVar[type[ConnectionSettings]] = ZohoCrmSettings
    #: A Case's parent is its Deal (the ``Deal_Name`` lookup): ``Issue.parent`` is the Deal's id.
    parent_types: ClassVar[dict[str, str]] = {"issue": "project"}
    #: Modified_Time has whole seconds and If-Modified-Since means "after": re-read the cursor's second.
    cursor_overlap: ClassVar[dt.timedelta] = dt.timedelta(seconds=1)
    #: A customer's time is the newest of its account and its contacts, so customers arrive out of order.
    sorted_by_updated: ClassVar[bool] = False
    scope_help: ClassVar[str] = "Zoho module: Accounts (customer), Deals (project) or Cases (issue)"
    #: ``pmhub webhooks`` registers notification channels, renewed through this module of the plugin.
    webhook_admin: ClassVar[str | None] = ".webhook_admin"

    def __init__(self, name: str, settings: ConnectionSettings, *, secrets: SecretStorage | None = None,
                 data_dir: Path | str | None = None) -> None:
        super().__init__(name, settings)
        self.settings: ZohoCrmSettings = settings  # type: ignore[assignment]
        self._secrets: SecretStorage = secrets if secrets is not None else MemorySecretStorage()
        self._data_dir = Path(data_dir) if data_dir is not None else None
        self._initializer: Any = None
        self._shim: Any = None
        self._wire: Any = None
        #: Method and URL of the latest request, for errors about its reply.
        self._last_request: tuple[str, str] | None = None
        self._account_ids: dict[str, str | None] = {}
        self.custom_fields = ZohoCustomFields(self)
        #: The org's own Deal pipeline, once a stage outside the standard ones has shown there is one.
        self._org_stages: Mapping[str, StatusCategory] | None = None

    # -- lifecycle -------------------------------------------------------------------------------
    def bind_state(self, state: ConnectorState) -> None:
        """Tokens go to ``state.secrets`` (encrypted); the SDK's metadata cache under ``state.data_dir``
        unless the settings or the constructor named a directory."""
        self._secrets = state.secrets
        if self._data_dir is None:
            self._data_dir = state.data_dir

    def open(self) -> None:
        from . import transport

        self._shim = transport.install()
        self._wire = transport.Wire(timeout=self.settings.timeout, on_request=self._count)
        self._initialize()

    def close(self) -> None:
        if self._wire is not None:
            self._wire.session.close()
        self._initializer = None

    def whoami(self) -> str:
        from zohocrmsdk.src.com.zoho.crm.api import ParameterMap
        from zohocrmsdk.src.com.zoho.crm.api.users import GetUsersParam, UsersOperations

        params = ParameterMap()
        params.add(GetUsersParam.type, "CurrentUser")
        body = self._json(self._call("users", lambda: UsersOperations().get_users(params)))
        users = body.get("users") or [{}]
        return str(users[0].get("email") or users[0].get("full_name") or self.name)

    def _resource_dir(self) -> Path:
        if self.settings.data_dir:
            path = Path(self.settings.data_dir).expanduser()
        else:
            if self._data_dir is None:
                from hub.paths import data_dir

                self._data_dir = data_dir()
            path = self._data_dir / "zoho" / self.name
        path.mkdir(parents=True, exist_ok=True)
        return path

    def _count(self, method: str, url: str) -> None:
        self.calls.add(method)
        self._last_request = (method, url)

    def _not_json_reply(self) -> NotJsonReply | None:
        """The latest reply as the error to raise when it was a success that is not JSON (an HTML
        page from a base_url or accounts_url that is no Zoho API), else None. The SDK drops such a
        body: it says "Expecting value" at best, or hands back a reply with nothing in it."""
        wire, request = self._wire, self._last_request
        if wire is None or request is None or wire.last_status is None or wire.last_status >= 400:
            return None
        headers = {k.lower(): v for k, v in (wire.last_headers or {}).items()}
        content_type = headers.get("content-type")
        # Zoho labels every JSON reply so; a reply without a type (a 204) says nothing either way.
        if not content_type or "json" in content_type.lower():
            return None
        token_request = request[1].split("?", 1)[0].endswith("/oauth/v2/token")
        return not_json(self.name, request[0], request[1], wire.last_status, content_type,
                        setting="accounts_url" if token_request else "base_url")

    def _initialize(self) -> None:
        from zohocrmsdk.src.com.zoho.api.authenticator.oauth_token import OAuthToken
        from zohocrmsdk.src.com.zoho.api.logger import Logger
        from zohocrmsdk.src.com.zoho.crm.api.dc.data_center import DataCenter
        from zohocrmsdk.src.com.zoho.crm.api.exception import SDKException
        from zohocrmsdk.src.com.zoho.crm.api.initializer import Initializer
        from zohocrmsdk.src.com.zoho.crm.api.sdk_config import SDKConfig

        settings = self.settings
        base = settings.base_url.rstrip("/")
        accounts = (settings.accounts_url or base).rstrip("/")
        secret, refresh = settings.client_secret.get_secret_value(), settings.refresh_token.get_secret_value()
        store = make_token_store(self._secrets, client_id=settings.client_id, client_secret=secret,
                                 refresh_token=refresh)
        resource_dir = str(self._resource_dir())
        with self._shim.init_lock, self._active(initializing=True):
            try:
                Initializer.initialize(
                    environment=DataCenter.Environment(base, accounts + "/oauth/v2/token", base),
                    # find_user=False: the SDK would spend two calls per refresh naming the user.
                    token=OAuthToken(client_id=settings.client_id, client_secret=secret,
                                     refresh_token=refresh, find_user=False),
                    store=store,
                    sdk_config=SDKConfig(auto_refresh_fields=False, pick_list_validation=False,
                                         connect_timeout=settings.timeout, read_timeout=settings.timeout,
                                         update_api_domain=False),
                    resource_path=resource_dir,
                    # The SDK logs every request at INFO through the root logger; pmhub reports
                    # failures itself, so only the SDK's warnings and errors get through.
                    logger=Logger.get_instance(Logger.Levels.WARNING),
                )
            except SDKException as error:
                raise self._token_failure(error) from None
            self._initializer = Initializer.initializer

    def _token_failure(self, error: Any) -> ConnectorError:
        cause = getattr(error, "cause", None)
        if _is_transport_error(cause):
            return TransientError(f"Zoho accounts server unreachable: {type(cause).__name__}")
        page = self._not_json_reply()
        if page is not None:
            return page
        text = f"{getattr(error, 'code', '')} {getattr(error, 'error_message', '')}".strip() or str(error)
        if any(word in text for word in _AUTH_REFUSALS):
            return AuthError(f"Zoho refused the refresh token ({text.strip()}); check client_id, "
                             "client_secret, refresh_token and accounts_url", status=401)
        status = self._wire.last_status if self._wire is not None else None
        if status is not None and status >= 400:
            return error_for_status(status, f"Zoho token refresh failed with HTTP {status}")
        return TransientError(f"Zoho token refresh failed: {text[:200]}")

    def _refresh(self) -> None:
        """Forget the stored access token and get a new one with the refresh token."""
        self._secrets.delete(TOKEN_KEY)
        self._initialize()

    @contextmanager
    def _active(self, *, initializing: bool = False) -> Iterator[None]:
        """Make this connection's SDK state current for one call (per thread), then restore."""
        from zohocrmsdk.src.com.zoho.crm.api.initializer import Initializer

        if self._shim is None:
            raise RuntimeError("open() the Zoho connector before using it")
        if not initializing and self._initializer is None:
            raise RuntimeError("the Zoho connector is closed")
        local = Initializer.LOCAL
        previous = getattr(local, "init", None)
        local.init = None if initializing else self._initializer
        try:
            with self._shim.using(self._wire):
                yield
        finally:
            local.init = previous

    # -- one SDK call --------------------------------------------------------------------------
    def _call(self, what: str, operation: Callable[..., Any], *args: Any) -> Any:
        """Run ``operation(*args)``, one SDK operation; classify failures; refresh the token once on a 401.

        Arguments go through ``args`` rather than a closure: callers build them in loops."""
        from zohocrmsdk.src.com.zoho.crm.api.exception import SDKException

        refreshed = False
        while True:
            self._wire.last_status = None
            with self._active():
                try:
                    response = operation(*args)
                except SDKException as error:
                    cause = getattr(error, "cause", None)
                    if _is_transport_error(cause):
                        raise TransientError(f"Zoho {what}: {type(cause).__name__}: {cause}") from None
                    if getattr(error, "code", None) in _TOKEN_ERROR_CODES:
                        # The SDK refreshed a locally expired token before the call, and that failed.
                        raise self._token_failure(error) from None
                    # A reply of another type reads to the SDK as a file download gone wrong.
                    page = self._not_json_reply()
                    if page is not None:
                        raise page from None
                    raise PermanentError(f"Zoho {what}: the SDK refused the request: {error}") from None
            if response is None:
                # The SDK could not read the reply (not JSON); the raw status still says what happened.
                status = self._wire.last_status
                page = self._not_json_reply()
                if page is not None:
                    raise page
                if status is not None and status >= 400:
                    raise error_for_status(status, f"Zoho {what}: HTTP {status}",
                                           self._wire.last_headers or {})
                raise TransientError(f"Zoho {what}: unreadable reply (HTTP {status})", status=status)
            page = self._not_json_reply()
            if page is not None:
                raise page  # the SDK hands back an empty body for it, which would read as "nothing"
            status = response.get_status_code()
            if status == 401:
                if refreshed:
                    raise AuthError(f"Zoho {what}: access token refused after a refresh "
                                    f"({self._error_text(response)})", status=401)
                self._refresh()
                refreshed = True
                continue
            if status >= 400 and not self._has_record_statuses(response):
                raise self._failure(what, response)
            return response

    @staticmethod
    def _json(response: Any) -> dict[str, Any]:
        if response is None or response.get_status_code() in (204, 304):
            return {}
        body = response.get_response_json()
        return body if isinstance(body, dict) else {}

    def _has_record_statuses(self, response: Any) -> bool:
        body = self._json(response)
        data = body.get("data")
        return isinstance(data, list) and bool(data) and all(
            isinstance(entry, dict) and "status" in entry for entry in data) and "code" not in body

    def _error_text(self, response: Any) -> str:
        body = self._json(response)
        code, message = body.get("code"), body.get("message")
        details = body.get("details")
        text = f"{code}: {message}" if code else f"HTTP {response.get_status_code()}"
        return f"{text} {details}" if details else text

    def _failure(self, what: str, response: Any) -> ConnectorError:
        status = response.get_status_code()
        headers = {k: v for k, v in (response.get_headers() or {}).items()}
        message = f"Zoho {what}: HTTP {status} {self._error_text(response)}"
        if status == 429 or status >= 500 or status in (401, 403, 408):
            error = error_for_status(status, message, headers)
            if isinstance(error, TransientError) and error.retry_after is None:
                error.retry_after = retry_after_seconds(headers)
            return error
        code = self._json(response).get("code")
        return ZohoApiError(_with_setup_hint(message, code), status=status, code=code)

    def _record_results(self, what: str, response: Any) -> list[dict[str, Any]]:
        data = self._json(response).get("data")
        if not isinstance(data, list):
            raise TransientError(f"Zoho {what}: reply without per-record statuses")
        return data

    def _entry_error(self, what: str, entry: dict[str, Any], status: int | None, *, module: str | None = None,
                     sent: Mapping[str, Any] | None = None) -> ZohoApiError:
        text = f"{entry.get('code')}: {entry.get('message')} {entry.get('details')}"
        refused = _refused_lookup(module, entry, sent)
        if refused:
            text = f"{refused} ({text})"
        return ZohoApiError(_with_setup_hint(f"Zoho {what}: {text}", entry.get("code")),
                            status=status if status and status >= 400 else 400, code=entry.get("code"))

    # -- webhooks (`pmhub serve`; see webhooks.py; a delivery id is the body's hash, the default) --
    def verify_webhook(self, headers: Mapping[str, str], body: bytes, url: str) -> bool:
        return webhooks.verify(self.webhook_secret(), self.name, body)

    def webhook_events(self, headers: Mapping[str, str], body: bytes) -> list[WebhookEvent]:
        return webhooks.events(body)

    def webhook_in_scope(self, scope: str, event: WebhookEvent) -> bool:
        # "*" is every module a flow's records need (``_module``): any module's event is its own.
        return scope.strip() == "*" or super().webhook_in_scope(scope, event)

    # -- reading -----------------------------------------------------------------------------------
    def list_changed(self, scope: str, record_type: str, since: dt.datetime | None) -> Iterator[Remote]:
        module = self._module(scope, record_type)
        if record_type == "customer":
            yield from self._list_customers(since)
        else:
            for row in self._rows(module, since):
                yield self._remote(record_type, row)
        if since is not None:
            yield from self._deletions(module, since)

    def get(self, scope: str, record_type: str, external_id: str) -> Remote | None:
        module = self._module(scope, record_type)
        row = self._get_row(module, external_id)
        if row is None:
            return None
        if record_type == "customer":
            return self._customer_remote(row, self._contacts_of([row["id"]]).get(str(row["id"]), []))
        return self._remote(record_type, row)

    def find_by_marker(self, scope: str, record_type: str, marker: str) -> Remote | None:
        module = self._module(scope, record_type)
        rows = self._coql(f"select {MARKER_FIELD} from {module} where {MARKER_FIELD} = "
                          f"{convert.coql_literal(marker)} limit 2")
        if not rows:
            return None
        return self.get(scope, record_type, str(rows[0]["id"]))

    def _get_row(self, module: str, external_id: str) -> dict[str, Any] | None:
        from zohocrmsdk.src.com.zoho.crm.api import HeaderMap, ParameterMap
        from zohocrmsdk.src.com.zoho.crm.api.record import GetRecordParam, RecordOperations

        record_id = _numeric_id(external_id)
        if record_id is None:
            return None
        params = ParameterMap()
        params.add(GetRecordParam.fields, ",".join(self._module_fields(module)))
        try:
            response = self._call(f"get {module}/{external_id}", lambda: RecordOperations(module).get_record(
                record_id, params, HeaderMap()))
        except ZohoApiError as error:
            if error.code == "INVALID_DATA" or error.status == 404:
                return None  # Zoho's answer for an id that is gone
            raise
        rows = self._json(response).get("data") or []
        return rows[0] if rows else None

    def _rows(self, module: str, since: dt.datetime | None, fields: Sequence[str] | None = None,
              ids: Sequence[str] | None = None) -> Iterator[dict[str, Any]]:
        """Every record of ``module`` modified after ``since``, oldest first, page by page."""
        from zohocrmsdk.src.com.zoho.crm.api import ParameterMap
        from zohocrmsdk.src.com.zoho.crm.api.record import GetRecordsHeader, GetRecordsParam, RecordOperations

        page, token = 1, None
        while True:
            params = ParameterMap()
            params.add(GetRecordsParam.fields, ",".join(fields or self._module_fields(module)))
            params.add(GetRecordsParam.per_page, self.settings.page_size)
            params.add(GetRecordsParam.sort_by, "Modified_Time")
            params.add(GetRecordsParam.sort_order, "asc")
            if ids:
                params.add(GetRecordsParam.ids, ",".join(ids))
            if token:
                params.add(GetRecordsParam.page_token, token)
            else:
                params.add(GetRecordsParam.page, page)
            response = self._call(f"list {module}", lambda p: RecordOperations(module).get_records(
                p, _since_headers(GetRecordsHeader.if_modified_since, since)), params)
            if response.get_status_code() in (204, 304):
                return
            body = self._json(response)
            yield from body.get("data") or []
            info = body.get("info") or {}
            if not info.get("more_records"):
                return
            # page_token is the only way past 2000 records; take it whenever Zoho offers one.
            token = info.get("next_page_token")
            page += 1

    def _deletions(self, module: str, since: dt.datetime) -> Iterator[Remote]:
        from zohocrmsdk.src.com.zoho.crm.api import ParameterMap
        from zohocrmsdk.src.com.zoho.crm.api.record import (
            GetDeletedRecordsHeader,
            GetDeletedRecordsParam,
            RecordOperations,
        )

        page = 1
        while True:
            params = ParameterMap()
            params.add(GetDeletedRecordsParam.type, "all")
            params.add(GetDeletedRecordsParam.per_page, PAGE_SIZE)
            params.add(GetDeletedRecordsParam.page, page)
            response = self._call(f"list deleted {module}", lambda p: RecordOperations(
                module).get_deleted_records(p, _since_headers(GetDeletedRecordsHeader.if_modified_since,
                                                              since)), params)
            if response.get_status_code() in (204, 304):
                return
            body = self._json(response)
            for entry in body.get("data") or []:
                deleted = convert.parse_time(entry.get("deleted_time"))
                if deleted is not None and deleted < since:
                    continue
                yield Remote(id=str(entry["id"]), updated=deleted, item=None, deleted=True,
                             version=f"deleted:{entry.get('deleted_time')}")
            if not (body.get("info") or {}).get("more_records"):
                return
            page += 1

    def _list_customers(self, since: dt.datetime | None) -> Iterator[Remote]:
        accounts = {str(row["id"]): row for row in self._rows("Accounts", since)}
        if since is not None:
            # An edited contact changes its customer even when the account itself did not change.
            touched = {convert.lookup_id(c.get("Account_Name"))
                       for c in self._rows("Contacts", since, ("Account_Name", "Modified_Time"))}
            missing = sorted(i for i in touched if i and i not in accounts)
            for batch in chunks(missing, WRITE_BATCH):
                for row in self._rows("Accounts", None, ids=batch):
                    accounts[str(row["id"])] = row
        contacts = self._contacts_of(list(accounts))
        remotes = [self._customer_remote(row, contacts.get(account_id, []))
                   for account_id, row in accounts.items()]
        remotes.sort(key=lambda r: (r.updated or dt.datetime.min.replace(tzinfo=dt.UTC), r.id))
        yield from remotes

    def _contacts_of(self, account_ids: Sequence[str]) -> dict[str, list[dict[str, Any]]]:
        found: dict[str, list[dict[str, Any]]] = {}
        fields = ", ".join(convert.CONTACT_FIELDS)
        for batch in chunks(sorted(account_ids), COQL_IN):
            ids = ", ".join(convert.coql_literal(i) for i in batch)
            for row in self._coql_all(f"select {fields} from Contacts where Account_Name in ({ids}) "
                                      f"order by id asc"):
                account = convert.lookup_id(row.get("Account_Name"))
                if account:
                    found.setdefault(account, []).append(row)
        return found

    def _coql(self, query: str) -> list[dict[str, Any]]:
        from zohocrmsdk.src.com.zoho.crm.api.coql import BodyWrapper, CoqlOperations

        body = BodyWrapper()
        body.set_select_query(query)
        response = self._call("COQL query", lambda: CoqlOperations().get_records(body))
        return list(self._json(response).get("data") or [])

    def _coql_all(self, query: str) -> Iterator[dict[str, Any]]:
        offset = 0
        while True:
            rows = self._coql(f"{query} limit {offset}, {COQL_LIMIT}")
            yield from rows
            if len(rows) < COQL_LIMIT:
                return
            offset += COQL_LIMIT

    def _module_fields(self, module: str) -> tuple[str, ...]:
        """What a read of ``module`` asks for: the fields pmhub maps, and for the module holding
        issues its custom fields (see custom_fields.py)."""
        fields = convert.MODULE_FIELDS[module]
        if module == RECORD_MODULES["issue"]:
            fields = (*fields, *(n for n in self.custom_fields.custom_names(module) if n not in fields))
        return fields

    def _remote(self, record_type: str, row: dict[str, Any]) -> Remote:
        item: CanonicalRecord = (
            convert.project(row, self.name, self._deal_stages(convert.picked(row.get("Stage"))))
            if record_type == "project" else convert.issue(row, self.name))
        if isinstance(item, Issue):
            item.custom = self.custom_fields.read(RECORD_MODULES["issue"], row)
        return Remote(id=str(row["id"]), updated=item.updated, item=item, version=convert.version(item),
                      marker=row.get(MARKER_FIELD) or None)

    def _deal_stages(self, stage: str | None) -> Mapping[str, StatusCategory]:
        """The Deal stages to read and write by: a new org's standard ones, until a stage outside
        them shows the org has its own pipeline; from then on that pipeline, read once from the
        Stage field's metadata (its values carry each stage's forecast type: open, won or lost)."""
        if self._org_stages is None:
            if stage is None or stage in stages.DEAL_STAGE_CATEGORY:
                return stages.DEAL_STAGE_CATEGORY
            field = next((f for f in self.custom_fields.metadata(RECORD_MODULES["project"])
                          if f.get("api_name") == "Stage"), None)
            values = (field or {}).get("pick_list_values") or []
            self._org_stages = stages.org_stage_categories(values) or stages.DEAL_STAGE_CATEGORY
        return self._org_stages

    def _customer_remote(self, row: dict[str, Any], contacts: list[dict[str, Any]]) -> Remote:
        item = convert.customer(row, contacts, self.name)
        return Remote(id=str(row["id"]), updated=item.updated, item=item, version=convert.version(item),
                      marker=row.get(MARKER_FIELD) or None)

    # -- writing -----------------------------------------------------------------------------------
    def create(self, scope: str, record_type: str, item: CanonicalRecord, marker: str) -> Remote:
        [result] = self.create_many(scope, record_type, [(item, marker)])
        if isinstance(result, Exception):
            raise result
        return result

    def create_many(self, scope: str, record_type: str,
                    items: Sequence[tuple[CanonicalRecord, str]]) -> list[Remote | Exception]:
        module = self._module(scope, record_type)
        results: list[Remote | Exception] = []
        for batch in chunks(items, WRITE_BATCH):
            # A record pmhub can tell is wrong before sending (a parent that is no Zoho id, an
            # option the field lacks) fails alone; the rest of the batch is still written.
            refused: dict[int, PermanentError] = {}
            rows: list[dict[str, Any]] = []
            for n, (item, marker) in enumerate(batch):
                try:
                    row = {**self._values(record_type, item, None, creating=True), MARKER_FIELD: marker}
                    _check_lookup_ids(row)
                    rows.append(row)
                except PermanentError as error:
                    refused[n] = error
            # Upsert on the marker: re-sending a create whose reply was lost updates, never duplicates.
            sent = iter(self._upsert(module, rows) if rows else [])
            for n, (item, marker) in enumerate(batch):
                entry = refused[n] if n in refused else next(sent)
                if isinstance(entry, Exception):
                    results.append(entry)
                    continue
                remote = self._written(entry, item, marker)
                if isinstance(item, Customer) and item.contacts:
                    try:
                        self._sync_contacts(remote.id, item, marker)
                    except ConnectorError as error:
                        results.append(error)
                        continue
                results.append(remote)
        return results

    def update(self, scope: str, record_type: str, external_id: str, item: CanonicalRecord,
               changed: frozenset[str]) -> Remote:
        from zohocrmsdk.src.com.zoho.crm.api import HeaderMap
        from zohocrmsdk.src.com.zoho.crm.api.record import BodyWrapper, RecordOperations

        module = self._module(scope, record_type)
        record_id = _numeric_id(external_id)
        if record_id is None:
            raise PermanentError(f"{external_id!r} is not a Zoho record id")
        values = self._values(record_type, item, changed, creating=False, external_id=external_id)
        entry: dict[str, Any] | None = None
        if values:
            body = BodyWrapper()
            body.set_data([self._sdk_record(values)])
            response = self._call(f"update {module}/{external_id}", lambda: RecordOperations(
                module).update_record(record_id, body, HeaderMap()))
            entry = self._record_results(f"update {module}", response)[0]
            if entry.get("status") != "success":
                raise self._entry_error(f"update {module}/{external_id}", entry, response.get_status_code(),
                                        module=module, sent=values)
        if isinstance(item, Customer) and "contacts" in changed:
            self._sync_contacts(external_id, item, None)
        if entry is None or isinstance(item, Customer):
            current = self.get(scope, record_type, external_id)
            if current is None:
                raise PermanentError(f"Zoho {module} record {external_id} no longer exists", status=404)
            return current
        return self._written(entry, item, None)

    def delete(self, scope: str, record_type: str, external_id: str) -> None:
        from zohocrmsdk.src.com.zoho.crm.api import HeaderMap, ParameterMap
        from zohocrmsdk.src.com.zoho.crm.api.record import RecordOperations

        module = self._module(scope, record_type)
        record_id = _numeric_id(external_id)
        if record_id is None:
            return
        response = self._call(f"delete {module}/{external_id}", lambda: RecordOperations(
            module).delete_record(record_id, ParameterMap(), HeaderMap()))
        entry = self._record_results(f"delete {module}", response)[0]
        if entry.get("status") != "success" and entry.get("code") != "INVALID_DATA":
            # INVALID_DATA: already gone, which is what a delete wants.
            raise self._entry_error(f"delete {module}/{external_id}", entry, response.get_status_code())

    def _upsert(self, module: str, rows: list[dict[str, Any]]) -> list[dict[str, Any] | Exception]:
        from zohocrmsdk.src.com.zoho.crm.api import HeaderMap
        from zohocrmsdk.src.com.zoho.crm.api.record import BodyWrapper, RecordOperations

        body = BodyWrapper()
        body.set_data([self._sdk_record(row) for row in rows])
        body.set_duplicate_check_fields([MARKER_FIELD])
        response = self._call(f"upsert {module}", lambda: RecordOperations(module).upsert_records(
            body, HeaderMap()))
        entries = self._record_results(f"upsert {module}", response)
        if len(entries) != len(rows):
            raise TransientError(f"Zoho upsert {module}: {len(entries)} statuses for {len(rows)} records")
        return [entry if entry.get("status") == "success"
                else self._entry_error(f"upsert {module}", entry, response.get_status_code(),
                                       module=module, sent=row)
                for entry, row in zip(entries, rows, strict=True)]

    def _written(self, entry: dict[str, Any], item: CanonicalRecord, marker: str | None) -> Remote:
        details = entry.get("details") or {}
        updated = convert.parse_time(details.get("Modified_Time"))
        created = convert.parse_time(details.get("Created_Time"))
        update: dict[str, Any] = {"updated": updated}
        if created is not None and "created" in type(item).model_fields:
            update["created"] = created
        stored = item.model_copy(update=update)
        return Remote(id=str(details["id"]), updated=updated, item=stored,
                      version=convert.version(stored), marker=marker)

    def _values(self, record_type: str, item: CanonicalRecord, changed: frozenset[str] | None, *,
                creating: bool, external_id: str | None = None) -> dict[str, Any]:
        if record_type == "issue" and isinstance(item, Issue):
            if item.parent and (changed is None or "parent" in changed) and _numeric_id(item.parent) is None:
                raise PermanentError(f"the case's parent {item.parent!r} is not a Zoho Deal id")
            values = convert.case_values(item, changed)
            values.update(self.custom_fields.values(RECORD_MODULES["issue"], item, changed))
            if changed is None or "customer" in changed:
                if not item.customer:
                    if not creating:
                        values["Account_Name"] = None
                elif (account := self._account_id(item.customer)) is not None:
                    values["Account_Name"] = {"id": account}
                # A customer with no account of that name leaves the case's link as it is.
            return values
        if record_type == "project" and isinstance(item, Project):
            current = None
            if external_id is not None and changed is not None and "status" in changed \
                    and item.status is not None:
                # A status the Deal's stage already means keeps that stage: one read, on status edits only.
                row = self._get_row(RECORD_MODULES["project"], external_id)
                current = convert.picked(row.get("Stage")) if row is not None else None
            return convert.deal_values(item, changed, creating=creating, current_stage=current,
                                       stages=self._deal_stages(current))
        if record_type == "customer" and isinstance(item, Customer):
            return convert.account_values(item, changed)
        raise PermanentError(f"zoho_crm {record_type} records are not {type(item).__name__}")

    def _account_id(self, name: str) -> str | None:
        """The id of the account named ``name`` (cases name their customer; Zoho links by id)."""
        if name not in self._account_ids:
            rows = self._coql(f"select Account_Name from Accounts where Account_Name = "
                              f"{convert.coql_literal(name)} limit 2")
            if not rows:
                return None  # not remembered: the account may be created later in the run
            self._account_ids[name] = str(rows[0]["id"])
        return self._account_ids[name]

    def _sync_contacts(self, account_id: str, item: Customer, marker: str | None) -> None:
        """Write the customer's contacts under the account. A contact already there (same email,
        else same name) is updated by id, whoever created it; a new one is upserted on a marker
        made from the customer's marker and its email or name, so a retried create adds no twin.
        Contacts missing from the item are left alone, never deleted."""
        existing = self._contacts_of([account_id]).get(account_id, [])
        by_email = {(c.get("Email") or "").lower(): c for c in existing if c.get("Email")}
        by_name = {convert.contact(c).name.lower(): c for c in existing}
        updates, inserts = [], []
        for person_ in item.contacts:
            values = {**convert.contact_values(person_), "Account_Name": {"id": account_id}}
            match = by_email.get((person_.email or "").lower()) or by_name.get(person_.name.lower())
            if match is not None:
                updates.append({"id": str(match["id"]), **values})
            else:
                key = (person_.email or person_.name).lower()
                inserts.append({**values, MARKER_FIELD: f"{marker or account_id}:contact:{key}"})
        for batch in chunks(inserts, WRITE_BATCH):
            for entry in self._upsert("Contacts", batch):
                if isinstance(entry, Exception):
                    raise entry
        for batch in chunks(updates, WRITE_BATCH):
            self._update_many("Contacts", batch)

    def _update_many(self, module: str, rows: list[dict[str, Any]]) -> None:
        from zohocrmsdk.src.com.zoho.crm.api import HeaderMap
        from zohocrmsdk.src.com.zoho.crm.api.record import BodyWrapper, RecordOperations

        body = BodyWrapper()
        body.set_data([self._sdk_record(row) for row in rows])
        response = self._call(f"update {module}", lambda: RecordOperations(module).update_records(
            body, HeaderMap()))
        for entry in self._record_results(f"update {module}", response):
            if entry.get("status") != "success":
                raise self._entry_error(f"update {module}", entry, response.get_status_code())

    def _sdk_record(self, values: dict[str, Any]) -> Any:
        from zohocrmsdk.src.com.zoho.crm.api.record import Record
        from zohocrmsdk.src.com.zoho.crm.api.util import Choice

        record = Record()
        for key, value in values.items():
            if key == "id":
                record.set_id(int(value))
                continue
            if key in convert.PICKLISTS and value is not None:
                value = Choice(value)
            elif isinstance(value, dict) and "id" in value:
                _check_lookup_ids({key: value})
                lookup = Record()
                lookup.set_id(int(value["id"]))
                value = lookup
            record.add_key_value(key, value)
        return record

    # -- progress notes ----------------------------------------------------------------------------
    def has_progress(self, scope: str, customer: str, marker: str) -> bool:
        """Does the account named ``customer`` carry a Note with ``marker`` already?"""
        account = self._progress_account(customer)
        line = PROGRESS_MARKER_LINE.format(marker=marker)
        return any(line in note.content for note in self.list_notes("Accounts", account))

    def post_progress(self, scope: str, customer: str, title: str, body: str, marker: str) -> None:
        """Write a progress Note on the account named ``customer``, ending with the marker line."""
        account = self._progress_account(customer)
        self.add_note("Accounts", account, title, f"{body}\n\n{PROGRESS_MARKER_LINE.format(marker=marker)}")

    # -- report files on the customer's account (`pmhub report --publish`; see attachments.py) --
    def customer_files(self, customer: str) -> list[str]:
        """The names of the files attached to the account named ``customer``, newest first."""
        from .attachments import list_attachments

        return [a.file_name for a in list_attachments(self, "Accounts", self._progress_account(customer))]

    def attach_to_customer(self, customer: str, file_name: str, content: bytes) -> str:
        """Attach a file to the account named ``customer``; the attachment's id."""
        from .attachments import upload_attachment

        return upload_attachment(self, "Accounts", self._progress_account(customer), file_name, content)

    def _progress_account(self, customer: str) -> str:
        account = self._account_id(customer)
        if account is None:
            raise PermanentError(f"no Zoho account is named {customer!r}, so no progress note can go there",
                                 status=404)
        return account

    def add_note(self, module: str, record_id: str, title: str, content: str) -> str:
        """Write a Note on a record (e.g. a progress summary on a Deal); return the note's id."""
        from zohocrmsdk.src.com.zoho.crm.api.modules import MinifiedModule
        from zohocrmsdk.src.com.zoho.crm.api.notes import BodyWrapper, NotesOperations, ParentId
        from zohocrmsdk.src.com.zoho.crm.api.notes import Note as SdkNote

        parent_id = _numeric_id(record_id)
        if parent_id is None:
            raise PermanentError(f"{record_id!r} is not a Zoho record id")
        note = SdkNote()
        note.set_note_title(title)
        note.set_note_content(content)
        parent = ParentId()
        parent_module = MinifiedModule()
        parent_module.set_api_name(module)
        parent.set_module(parent_module)
        parent.set_id(parent_id)
        note.set_parent_id(parent)
        body = BodyWrapper()
        body.set_data([note])
        response = self._call(f"add note to {module}/{record_id}",
                              lambda: NotesOperations().create_notes(body))
        entry = self._record_results("add note", response)[0]
        if entry.get("status") != "success":
            raise self._entry_error(f"add note to {module}/{record_id}", entry, response.get_status_code())
        return str(entry["details"]["id"])

    def list_notes(self, module: str, record_id: str) -> list[Note]:
        """The Notes on a record, newest first."""
        from zohocrmsdk.src.com.zoho.crm.api import HeaderMap, ParameterMap
        from zohocrmsdk.src.com.zoho.crm.api.related_records import (
            GetRelatedRecordsParam,
            RelatedRecordsOperations,
        )

        parent_id = _numeric_id(record_id)
        if parent_id is None:
            return []
        notes: list[Note] = []
        page = 1
        while True:
            params = ParameterMap()
            params.add(GetRelatedRecordsParam.fields, "Note_Title,Note_Content,Created_Time,Modified_Time")
            params.add(GetRelatedRecordsParam.per_page, PAGE_SIZE)
            params.add(GetRelatedRecordsParam.page, page)
            response = self._call(
                f"list notes of {module}/{record_id}",
                lambda p: RelatedRecordsOperations("Notes", module).get_related_records(
                    parent_id, p, HeaderMap()), params)
            body = self._json(response)
            for row in body.get("data") or []:
                notes.append(Note(id=str(row["id"]), title=row.get("Note_Title"),
                                  content=row.get("Note_Content") or "",
                                  created=convert.parse_time(row.get("Created_Time")),
                                  updated=convert.parse_time(row.get("Modified_Time"))))
            if not (body.get("info") or {}).get("more_records"):
                return notes
            page += 1

    # -- helpers -----------------------------------------------------------------------------------
    def check_fields(self, scope: str, record_type: str, fields: Mapping[str, str]) -> list[str]:
        if record_type != "issue":
            return super().check_fields(scope, record_type, fields)
        return self.custom_fields.check(RECORD_MODULES["issue"], fields)

    def _module(self, scope: str, record_type: str) -> str:
        module = RECORD_MODULES.get(record_type)
        if module is None:
            raise PermanentError(f"zoho_crm has no {record_type!r} records ({', '.join(RECORD_MODULES)})")
        if scope and scope.strip().lower() not in (module.lower(), "*"):
            raise PermanentError(f"zoho_crm {record_type} records live in {module}, not in scope {scope!r}")
        return module


def _since_headers(header: Any, since: dt.datetime | None) -> Any:
    """A new ``If-Modified-Since`` HeaderMap for every attempt: the SDK writes the Authorization
    header into the map it is given, so a map reused after a token refresh sends the old token."""
    from zohocrmsdk.src.com.zoho.crm.api import HeaderMap

    headers = HeaderMap()
    if since is not None:
        headers.add(header, _whole_seconds(since))
    return headers


def _with_setup_hint(message: str, code: Any) -> str:
    """Zoho's complaints about the marker field mostly mean the org was never set up for pmhub."""
    if MARKER_FIELD not in message or code == "DUPLICATE_DATA":
        return message
    return (f"{message}. Is the org set up for pmhub? Each of Accounts, Contacts, Deals and Cases needs "
            f"a single-line field {MARKER_FIELD} marked 'Do not allow duplicate values' (see the README).")


def _check_lookup_ids(values: Mapping[str, Any]) -> None:
    """Zoho links records by numeric id: another tool's key in a lookup is refused before sending."""
    for key, value in values.items():
        if isinstance(value, Mapping) and "id" in value and _numeric_id(str(value["id"])) is None:
            raise PermanentError(f"{key} {value['id']!r} is not a Zoho record id")


def _refused_lookup(module: str | None, entry: Mapping[str, Any],
                    sent: Mapping[str, Any] | None) -> str | None:
    """Words for an INVALID_DATA on a lookup pmhub sent (a Case's Deal, a record's Account): which
    record it named, so the person reading the failure knows what is missing."""
    details = entry.get("details")
    if entry.get("code") != "INVALID_DATA" or not isinstance(details, Mapping) or module is None:
        return None
    field = details.get("api_name")
    target = convert.LOOKUPS.get(module, {}).get(str(field))
    value = (sent or {}).get(str(field))
    if target is None or not isinstance(value, Mapping) or not value.get("id"):
        return None
    return f"{field} names {target} record {value['id']!r}, which Zoho does not have (deleted?)"


def _whole_seconds(moment: dt.datetime) -> dt.datetime:
    """If-Modified-Since as Zoho reads it: whole seconds (rounded down, so nothing is skipped)."""
    return moment.astimezone(dt.UTC).replace(microsecond=0)


def _numeric_id(value: str) -> int | None:
    """Zoho ids are digit strings; the SDK wants them as int."""
    text = str(value).strip()
    return int(text) if text.isdigit() else None


def _is_transport_error(cause: Any) -> bool:
    import requests

    return isinstance(cause, (requests.ConnectionError, requests.Timeout))
