"""The Zoho CRM connector against the Zoho sandbox, through the real zohocrmsdk8-0 SDK."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from pmhub_plugins.zoho_crm.connector import ZohoApiError, ZohoCrmConnector, ZohoCrmSettings
from pmhub_plugins.zoho_crm.token_store import TOKEN_KEY, MemorySecretStorage

from hub.connector import Capability, Connector, Remote
from hub.errors import AuthError, PermanentError, TransientError
from hub.model import Contact, Customer, Issue, Kind, Priority, Project, StatusCategory
from hub.sandbox.server import SandboxServer, build_sandbox
from hub.testing.contract import ConnectorContract
from hub.testing.sandbox_client import SandboxClient

pytest.importorskip("zohocrmsdk")

REFRESH = "1000.pmhub-test-refresh"


def make_connector(base: str, data_dir: Path, *, refresh: str = REFRESH, page_size: int = 200,
                   secrets: MemorySecretStorage | None = None, name: str = "crm") -> ZohoCrmConnector:
    settings = ZohoCrmSettings(plugin="zoho_crm", base_url=base, client_id="1000.CLIENT",
                               client_secret="client-secret", refresh_token=refresh, timeout=10,
                               page_size=page_size)
    return ZohoCrmConnector(name, settings, secrets=secrets or MemorySecretStorage(), data_dir=data_dir)


@pytest.fixture
def connector(sandbox: SandboxClient, tmp_path: Path) -> Iterator[ZohoCrmConnector]:
    connector = make_connector(sandbox.base("zoho"), tmp_path)
    connector.open()
    yield connector
    connector.close()


def _expire_tokens(sandbox: SandboxClient) -> None:
    requests.post(f"{sandbox.base('zoho')}/_expire_tokens", json={}, timeout=10).raise_for_status()


# -- settings and lifecycle --------------------------------------------------------------------------
def test_secrets_never_print_and_the_sdk_is_imported_lazily() -> None:
    import subprocess
    import sys

    settings = ZohoCrmSettings(plugin="zoho_crm", client_id="c", client_secret="s3cret",
                               refresh_token="r3fresh")
    assert "s3cret" not in repr(settings) and "r3fresh" not in str(settings.model_dump())
    code = ("import sys, pmhub_plugins.zoho_crm, pmhub_plugins.zoho_crm.connector; "
            "print(any(m.startswith('zohocrmsdk') for m in sys.modules))")
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True).stdout.strip() == "False"


def test_unknown_settings_are_rejected() -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError):
        ZohoCrmSettings(plugin="zoho_crm", client_id="c", client_secret="s", refresh_token="r", colour="red")


def test_token_is_kept_encrypted_and_reused_by_the_next_run(sandbox: SandboxClient, tmp_path: Path) -> None:
    secrets = MemorySecretStorage()
    first = make_connector(sandbox.base("zoho"), tmp_path, secrets=secrets)
    first.open()
    assert first.whoami().endswith("@sandbox.pmhub.example")
    first.close()
    stored = secrets.get(TOKEN_KEY)
    assert stored is not None and "1000." not in stored  # encrypted, not the token itself
    sandbox.clear_requests()
    second = make_connector(sandbox.base("zoho"), tmp_path, secrets=secrets)
    second.open()
    second.whoami()
    second.close()
    assert [r["path"] for r in sandbox.requests("zoho")] == ["/crm/v8/users"]  # no token refresh


def test_a_hub_keeps_the_token_encrypted_in_its_state_store_for_the_next_process(
        sandbox: SandboxClient, tmp_path: Path) -> None:
    from hub.engine.runner import open_hub
    from tests.conftest import write_config

    config = write_config(tmp_path / "pmhub.toml", state_url=f"sqlite:///{tmp_path / 'state.db'}",
                          connections={"crm": {"plugin": "zoho_crm", "base_url": sandbox.base("zoho"),
                                               "client_id": "1000.CLIENT", "client_secret": "client-secret",
                                               "refresh_token": REFRESH, "timeout": 10}}, flows=[])
    with open_hub(config) as hub:
        hub.connector("crm").whoami()
        stored = hub.store.get_secret("crm", TOKEN_KEY)
    sandbox.clear_requests()
    with open_hub(config) as hub:  # a new process: the token comes from the state store
        hub.connector("crm").whoami()

    assert stored is not None and "1000." not in stored
    assert [r["path"] for r in sandbox.requests("zoho")] == ["/crm/v8/users"]  # no token refresh
    assert (tmp_path / "data" / "zoho" / "crm").is_dir(), "the SDK's cache lives in pmhub's data dir"


def test_token_store_is_read_once_not_per_request(sandbox: SandboxClient, tmp_path: Path) -> None:
    class CountingStorage(MemorySecretStorage):
        reads = 0

        def get(self, key: str) -> str | None:
            CountingStorage.reads += 1
            return super().get(key)

    connector = make_connector(sandbox.base("zoho"), tmp_path, secrets=CountingStorage())
    connector.open()
    for n in range(3):
        connector.create("Cases", "issue", Issue(title=f"case {n}"), f"pmhub:read-{n}")
    assert CountingStorage.reads <= 1


def test_every_request_is_counted(sandbox: SandboxClient, connector: ZohoCrmConnector) -> None:
    sandbox.clear_requests()
    connector.calls.counts.clear()
    connector.create("Cases", "issue", Issue(title="Counted"), "pmhub:count")
    list(connector.list_changed("Cases", "issue", None))
    assert connector.calls.total == len(sandbox.requests("zoho"))


# -- reading -----------------------------------------------------------------------------------------
def test_cases_become_issues_with_raw_zoho_words(sandbox: SandboxClient, tmp_path: Path) -> None:
    sandbox.reset("demo")
    connector = make_connector(sandbox.base("zoho"), tmp_path)
    connector.open()
    issues = {r.item.title: r for r in connector.list_changed("Cases", "issue", None)
              if isinstance(r.item, Issue)}
    sso = issues["Add SSO with Okta"].item
    assert isinstance(sso, Issue)
    assert (sso.kind, sso.status, sso.priority, sso.customer) == (
        Kind.CHANGE_REQUEST, StatusCategory.BLOCKED, Priority.MEDIUM, "Acme Corp")
    assert sso.raw["status"] == "On Hold" and sso.raw["kind"] == "Change Request"
    assert sso.raw["deal_id"] and sso.raw["account_id"]
    kinds = {title: (r.item.kind, r.item.status) for title, r in issues.items() if isinstance(r.item, Issue)}
    assert kinds["Login page times out"] == (Kind.BUG, StatusCategory.IN_PROGRESS)
    assert kinds["Export invoices as CSV"] == (Kind.REQUIREMENT, StatusCategory.TODO)
    assert kinds["How do I reset my password?"] == (Kind.FEEDBACK, StatusCategory.DONE)
    assert all(r.updated is not None and r.updated.tzinfo is not None for r in issues.values())


def test_accounts_with_contacts_become_customers_and_deals_projects(sandbox: SandboxClient,
                                                                    tmp_path: Path) -> None:
    sandbox.reset("demo")
    connector = make_connector(sandbox.base("zoho"), tmp_path)
    connector.open()
    customers = {r.item.name: r for r in connector.list_changed("Accounts", "customer", None)
                 if isinstance(r.item, Customer)}
    acme = customers["Acme Corp"].item
    assert isinstance(acme, Customer)
    assert acme.website == "https://acme.example" and acme.industry == "Large Enterprise"
    assert [(c.name, c.email, c.role) for c in acme.contacts] == [
        ("Grace Hopper", "grace@acme.example", "Head of Delivery"),
        ("Ada Lovelace", "ada@acme.example", "CTO")]
    projects = [r.item for r in connector.list_changed("Deals", "project", None)]
    portal = next(p for p in projects if isinstance(p, Project) and p.name == "Acme customer portal")
    assert isinstance(portal, Project)
    assert portal.customer == customers["Acme Corp"].id
    assert portal.due_date == dt.date(2026, 3, 31) and portal.status == StatusCategory.IN_PROGRESS


def test_list_changed_since_uses_if_modified_since_and_304(sandbox: SandboxClient,
                                                           connector: ZohoCrmConnector) -> None:
    first = connector.create("Cases", "issue", Issue(title="One"), "pmhub:one")
    connector.create("Cases", "issue", Issue(title="Two"), "pmhub:two")
    assert first.updated is not None
    cursor = max(r.updated for r in connector.list_changed("Cases", "issue", None) if r.updated)
    sandbox.clear_requests()
    assert list(connector.list_changed("Cases", "issue", cursor)) == []
    log = sandbox.requests("zoho")
    assert [(r["method"], r["path"], r["status"]) for r in log] == [
        ("GET", "/crm/v8/Cases", 304), ("GET", "/crm/v8/Cases/deleted", 304)]
    assert "sort_by=Modified_Time" in log[0]["query"]

    # Modified_Time has whole seconds and If-Modified-Since means "after": an edit in the cursor's
    # own second is not listed from it (the engine re-reads that second: cursor_overlap).
    time.sleep(1.05 - time.time() % 1)
    changed = Issue(title="One, edited")
    connector.update("Cases", "issue", first.id, changed, frozenset({"title"}))
    again = list(connector.list_changed("Cases", "issue", cursor))
    assert [(r.id, r.item.title if r.item else None) for r in again] == [(first.id, "One, edited")]


def test_paging_past_one_page(sandbox: SandboxClient, tmp_path: Path) -> None:
    connector = make_connector(sandbox.base("zoho"), tmp_path, page_size=3)
    connector.open()
    items = [(Issue(title=f"c{n}"), f"pmhub:p{n}") for n in range(7)]
    results = connector.create_many("Cases", "issue", items)
    assert all(isinstance(r, Remote) for r in results)
    listed = list(connector.list_changed("Cases", "issue", None))
    assert sorted(r.item.title for r in listed if r.item) == sorted(f"c{n}" for n in range(7))
    pages = [r for r in sandbox.requests("zoho") if r["path"] == "/crm/v8/Cases" and r["method"] == "GET"]
    assert len(pages) == 3


def test_deletions_since_the_cursor_are_reported(connector: ZohoCrmConnector) -> None:
    gone = connector.create("Deals", "project", Project(name="Cancelled deal"), "pmhub:gone")
    since = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=5)
    connector.delete("Deals", "project", gone.id)
    listed = list(connector.list_changed("Deals", "project", since))
    assert [(r.id, r.deleted, r.item) for r in listed] == [(gone.id, True, None)]
    assert connector.get("Deals", "project", gone.id) is None
    connector.delete("Deals", "project", gone.id)  # already gone: nothing to do


def test_edited_contact_brings_its_customer_back(connector: ZohoCrmConnector, sandbox: SandboxClient) -> None:
    initech = Customer(name="Initech", contacts=[Contact(name="Bill Lumbergh", email="bill@initech.example")])
    created = connector.create("Accounts", "customer", initech, "pmhub:initech")
    assert created.updated is not None
    time.sleep(1.1)  # Modified_Time has whole seconds
    cursor = dt.datetime.now(dt.UTC)
    assert list(connector.list_changed("Accounts", "customer", cursor)) == []
    contact_id = next(r["id"] for r in requests.get(
        f"{sandbox.base('zoho')}/crm/v8/Contacts", params={"fields": "Email"},
        headers={"Authorization": "Zoho-oauthtoken x"}, timeout=10).json()["data"])
    requests.put(f"{sandbox.base('zoho')}/crm/v8/Contacts/{contact_id}", json={"data": [{"Title": "VP"}]},
                 headers={"Authorization": "Zoho-oauthtoken x"}, timeout=10).raise_for_status()
    [remote] = list(connector.list_changed("Accounts", "customer", cursor - dt.timedelta(seconds=1)))
    assert remote.id == created.id and isinstance(remote.item, Customer)
    assert remote.item.contacts[0].role == "VP"


# -- writing -----------------------------------------------------------------------------------------
def test_create_twice_with_one_marker_leaves_one_record(connector: ZohoCrmConnector) -> None:
    item = Issue(title="Dark mode", kind=Kind.CHANGE_REQUEST, priority=Priority.HIGH)
    first = connector.create("Cases", "issue", item, "pmhub:dark-mode")
    edited = item.model_copy(update={"title": "Dark mode!"})
    second = connector.create("Cases", "issue", edited, "pmhub:dark-mode")
    assert first.id == second.id
    listed = list(connector.list_changed("Cases", "issue", None))
    assert [(r.id, r.item.title if r.item else None, r.marker) for r in listed] == [
        (first.id, "Dark mode!", "pmhub:dark-mode")]
    stored = connector.get("Cases", "issue", first.id)
    assert stored is not None and isinstance(stored.item, Issue)
    assert (stored.item.kind, stored.item.raw["kind"], stored.item.raw["priority"]) == (
        Kind.CHANGE_REQUEST, "Change Request", "High")


def test_lost_create_reply_is_recovered_by_marker(sandbox: SandboxClient,
                                                  connector: ZohoCrmConnector) -> None:
    sandbox.fault("zoho", method="POST", path="/Cases/upsert$", status=502, after_commit=True)
    with pytest.raises(TransientError):
        connector.create("Cases", "issue", Issue(title="Lost reply"), "pmhub:lost")
    found = connector.find_by_marker("Cases", "issue", "pmhub:lost")
    assert found is not None and found.marker == "pmhub:lost"
    again = connector.create("Cases", "issue", Issue(title="Lost reply"), "pmhub:lost")
    assert again.id == found.id
    assert len(list(connector.list_changed("Cases", "issue", None))) == 1
    assert connector.find_by_marker("Cases", "issue", "pmhub:never-made") is None


def test_case_customer_links_the_account_by_name(connector: ZohoCrmConnector) -> None:
    account = connector.create("Accounts", "customer", Customer(name="Umbrella"), "pmhub:umbrella")
    case = connector.create("Cases", "issue", Issue(title="Needs SSO", customer="Umbrella"), "pmhub:sso")
    got = connector.get("Cases", "issue", case.id)
    assert got is not None and isinstance(got.item, Issue)
    assert got.item.customer == "Umbrella" and got.item.raw["account_id"] == account.id
    unknown = Issue(title="Needs SSO", customer="Not In Zoho")
    connector.update("Cases", "issue", case.id, unknown, frozenset({"customer"}))
    kept = connector.get("Cases", "issue", case.id)
    assert kept is not None and isinstance(kept.item, Issue) and kept.item.customer == "Umbrella"
    connector.update("Cases", "issue", case.id, Issue(title="Needs SSO"), frozenset({"customer"}))
    cleared = connector.get("Cases", "issue", case.id)
    assert cleared is not None and isinstance(cleared.item, Issue) and cleared.item.customer is None


def test_closing_an_issue_closes_the_case(connector: ZohoCrmConnector) -> None:
    case = connector.create("Cases", "issue", Issue(title="Export CSV"), "pmhub:csv")
    assert case.item is not None
    done = Issue(title="Export CSV", status=StatusCategory.DONE, raw={"status": "In Progress"})
    connector.update("Cases", "issue", case.id, done, frozenset({"status"}))
    got = connector.get("Cases", "issue", case.id)
    assert got is not None and isinstance(got.item, Issue)
    assert got.item.status == StatusCategory.DONE and got.item.raw["status"] == "Closed"


def test_progress_notes(connector: ZohoCrmConnector) -> None:
    deal = connector.create("Deals", "project", Project(name="Portal"), "pmhub:portal")
    note_id = connector.add_note("Deals", deal.id, "Progress", "3 of 5 done; next: beta on 2026-04-01")
    notes = connector.list_notes("Deals", deal.id)
    assert [(n.id, n.title, n.content) for n in notes] == [
        (note_id, "Progress", "3 of 5 done; next: beta on 2026-04-01")]
    assert connector.list_notes("Deals", connector.create("Deals", "project", Project(name="Empty"),
                                                          "pmhub:empty").id) == []


def test_progress_notes_go_on_the_customer_account_once(connector: ZohoCrmConnector) -> None:
    account = connector.create("Accounts", "customer", Customer(name="Acme Corp"), "pmhub:acme")
    assert Capability.NOTES in connector.capabilities("customer")
    assert connector.has_progress("Cases", "Acme Corp", "pmhub-note-1") is False
    connector.post_progress("Cases", "Acme Corp", "Progress 2026-01-05: 1/2 done", "**1/2 done**",
                            "pmhub-note-1")
    assert connector.has_progress("Cases", "Acme Corp", "pmhub-note-1") is True
    assert connector.has_progress("Cases", "Acme Corp", "pmhub-note-2") is False
    [note] = connector.list_notes("Accounts", account.id)
    assert note.title == "Progress 2026-01-05: 1/2 done" and note.content.startswith("**1/2 done**")
    with pytest.raises(PermanentError):
        connector.post_progress("Cases", "Nobody Inc", "t", "b", "pmhub-note-3")


def test_customer_contacts_are_created_and_updated(connector: ZohoCrmConnector) -> None:
    customer = Customer(name="Hooli", website="https://hooli.example",
                        contacts=[Contact(name="Gavin Belson", email="gavin@hooli.example", role="CEO")])
    created = connector.create("Accounts", "customer", customer, "pmhub:hooli")
    again = connector.create("Accounts", "customer", customer, "pmhub:hooli")
    assert again.id == created.id
    changed = customer.model_copy(update={"contacts": [
        Contact(name="Gavin Belson", email="gavin@hooli.example", role="Chairman"),
        Contact(name="Jared Dunn", email="jared@hooli.example")]})
    updated = connector.update("Accounts", "customer", created.id, changed, frozenset({"contacts"}))
    assert isinstance(updated.item, Customer)
    assert sorted((c.name, c.role) for c in updated.item.contacts) == [
        ("Gavin Belson", "Chairman"), ("Jared Dunn", None)]


def test_contacts_someone_made_in_zoho_are_updated_not_duplicated(sandbox: SandboxClient,
                                                                   connector: ZohoCrmConnector) -> None:
    account = connector.create("Accounts", "customer", Customer(name="Pied Piper"), "pmhub:piper")
    base, auth = sandbox.base("zoho"), {"Authorization": "Zoho-oauthtoken x"}
    requests.post(f"{base}/crm/v8/Contacts", headers=auth, timeout=10, json={"data": [
        {"First_Name": "Richard", "Last_Name": "Hendricks", "Email": "richard@piper.example",
         "Account_Name": {"id": account.id}}]}).raise_for_status()
    wanted = Customer(name="Pied Piper", contacts=[
        Contact(name="Richard Hendricks", email="richard@piper.example", role="CEO"),
        Contact(name="Monica Hall", email="monica@piper.example")])
    for _ in range(2):  # a retried update adds nobody
        connector.update("Accounts", "customer", account.id, wanted, frozenset({"contacts"}))
    contacts = requests.get(f"{base}/crm/v8/Contacts", params={"fields": "Email,Title,Pmhub_Id"},
                            headers=auth, timeout=10).json()["data"]
    assert sorted((c["Email"], c["Title"]) for c in contacts) == [
        ("monica@piper.example", None), ("richard@piper.example", "CEO")]
    assert next(c for c in contacts if c["Email"] == "richard@piper.example")["Pmhub_Id"] is None


# -- errors ------------------------------------------------------------------------------------------
def test_expired_token_is_refreshed_once_and_the_call_retried(sandbox: SandboxClient,
                                                              connector: ZohoCrmConnector) -> None:
    connector.create("Cases", "issue", Issue(title="Before"), "pmhub:before")
    _expire_tokens(sandbox)
    sandbox.clear_requests()
    assert [r.item.title for r in connector.list_changed("Cases", "issue", None) if r.item] == ["Before"]
    log = [(r["method"], r["path"], r["status"]) for r in sandbox.requests("zoho")]
    # The connection's first read of Cases starts with their field metadata (for custom fields).
    assert log == [("GET", "/crm/v8/settings/fields", 401), ("POST", "/oauth/v2/token", 200),
                   ("GET", "/crm/v8/settings/fields", 200), ("GET", "/crm/v8/Cases", 200)]


def test_expired_token_during_an_incremental_listing_is_refreshed(sandbox: SandboxClient,
                                                                   connector: ZohoCrmConnector) -> None:
    # The SDK writes the Authorization header into the If-Modified-Since HeaderMap it is given; a
    # map reused for the retry would send the expired token again.
    since = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    connector.create("Cases", "issue", Issue(title="Recent"), "pmhub:recent")
    _expire_tokens(sandbox)
    assert [r.item.title for r in connector.list_changed("Cases", "issue", since) if r.item] == ["Recent"]


def test_failed_refresh_of_a_locally_expired_token_is_classified(sandbox: SandboxClient,
                                                                 tmp_path: Path) -> None:
    # Tokens living 1 s are refreshed by the SDK itself before each call (it renews 5 s early).
    requests.post(f"{sandbox.base('zoho')}/_expire_tokens", json={"expires_in": 1}, timeout=10)
    connector = make_connector(sandbox.base("zoho"), tmp_path)
    connector.open()
    sandbox.fault("zoho", method="POST", path="/oauth/v2/token$", status=503)
    with pytest.raises(TransientError):
        list(connector.list_changed("Cases", "issue", None))
    assert list(connector.list_changed("Cases", "issue", None)) == []


def test_401_after_a_refresh_is_an_auth_error(sandbox: SandboxClient, connector: ZohoCrmConnector) -> None:
    sandbox.fault("zoho", method="GET", path="/crm/v8/Cases$", status=401, times=2)
    with pytest.raises(AuthError):
        list(connector.list_changed("Cases", "issue", None))


def test_429_is_transient_with_retry_after(sandbox: SandboxClient, connector: ZohoCrmConnector) -> None:
    sandbox.fault("zoho", method="GET", path="/crm/v8/Cases$", status=429, retry_after=9)
    with pytest.raises(TransientError) as raised:
        list(connector.list_changed("Cases", "issue", None))
    assert raised.value.status == 429 and raised.value.retry_after == 9
    assert "TOO_MANY_REQUESTS" in str(raised.value)


@pytest.mark.parametrize("status,expected", [(500, TransientError), (503, TransientError),
                                             (400, PermanentError), (404, PermanentError)])
def test_statuses_are_classified(sandbox: SandboxClient, connector: ZohoCrmConnector, status: int,
                                 expected: type[Exception]) -> None:
    sandbox.fault("zoho", method="POST", path="/Cases/upsert$", status=status)
    with pytest.raises(expected) as raised:
        connector.create("Cases", "issue", Issue(title="x"), "pmhub:x")
    assert getattr(raised.value, "status", None) == status


def test_dropped_connection_is_transient(sandbox: SandboxClient, connector: ZohoCrmConnector) -> None:
    sandbox.fault("zoho", method="GET", path="/crm/v8/Deals$", drop=True)
    with pytest.raises(TransientError):
        list(connector.list_changed("Deals", "project", None))


def test_write_timeouts_apply_to_posts(sandbox: SandboxClient, tmp_path: Path) -> None:
    settings = ZohoCrmSettings(plugin="zoho_crm", base_url=sandbox.base("zoho"), client_id="c",
                               client_secret="s", refresh_token=REFRESH, timeout=0.3)
    connector = ZohoCrmConnector("slow", settings, secrets=MemorySecretStorage(), data_dir=tmp_path)
    connector.open()
    connector.get("Cases", "issue", "1")  # field metadata fetched before the fault
    sandbox.fault("zoho", method="POST", path="/Cases/upsert$", delay=1.0)
    started = time.monotonic()
    with pytest.raises(TransientError):
        connector.create("Cases", "issue", Issue(title="slow"), "pmhub:slow")
    assert time.monotonic() - started < 0.9  # the SDK itself would have waited the full second
    # The sandbox still applies the delayed write; let it land before the next test resets state.
    time.sleep(max(0.0, 1.2 - (time.monotonic() - started)))


def test_record_level_errors_are_permanent(connector: ZohoCrmConnector) -> None:
    connector.create("Accounts", "customer", Customer(name="Twin"), "pmhub:twin-a")
    with pytest.raises(ZohoApiError) as raised:
        # Account names are not unique in Zoho, but the marker is: a second record may not take it.
        connector.update("Accounts", "customer", connector.create(
            "Accounts", "customer", Customer(name="Twin 2"), "pmhub:twin-b").id,
            Customer(name=""), frozenset({"name"}))
    assert raised.value.code == "MANDATORY_NOT_FOUND"
    with pytest.raises(PermanentError):
        connector.list_changed("Contacts", "issue", None).__next__()


def test_wrong_refresh_token_is_an_auth_error_at_open(tmp_path: Path) -> None:
    app = build_sandbox(token=REFRESH, services=[_zoho_service()])
    with SandboxServer(app) as server:
        connector = make_connector(server.url + "/zoho", tmp_path, refresh="1000.wrong")
        with pytest.raises(AuthError):
            connector.open()
        good = make_connector(server.url + "/zoho", tmp_path / "good")
        good.open()
        assert good.whoami()


def test_two_connections_in_one_process_keep_their_own_tokens(tmp_path: Path) -> None:
    apps = [build_sandbox(token=f"{REFRESH}-{n}", services=[_zoho_service()]) for n in range(2)]
    with SandboxServer(apps[0]) as one, SandboxServer(apps[1]) as two:
        first = make_connector(one.url + "/zoho", tmp_path / "1", refresh=f"{REFRESH}-0", name="one")
        second = make_connector(two.url + "/zoho", tmp_path / "2", refresh=f"{REFRESH}-1", name="two")
        first.open()
        second.open()
        a = first.create("Cases", "issue", Issue(title="in one"), "pmhub:1")
        b = second.create("Cases", "issue", Issue(title="in two"), "pmhub:2")
        assert [r.item.title for r in first.list_changed("Cases", "issue", None) if r.item] == ["in one"]
        assert [r.item.title for r in second.list_changed("Cases", "issue", None) if r.item] == ["in two"]
        assert a.id and b.id

        # Both at once on two threads: each call runs with its own connection's SDK state.
        def titles(connector: ZohoCrmConnector) -> set[str]:
            seen: set[str] = set()
            for _ in range(15):
                seen |= {r.item.title for r in connector.list_changed("Cases", "issue", None) if r.item}
            return seen

        with ThreadPoolExecutor(max_workers=2) as pool:
            results = list(pool.map(titles, [first, second]))
        assert results == [{"in one"}, {"in two"}]


def _zoho_service() -> object:
    from pmhub_plugins.zoho_crm.sandbox import ZohoCrmSandbox

    return ZohoCrmSandbox()


# -- the contract kit ----------------------------------------------------------------------------------
class TestZohoContract(ConnectorContract):
    record_type = "issue"
    page_size = 5
    connector_class = ZohoCrmConnector

    @pytest.fixture
    def connector(self, sandbox: SandboxClient, tmp_path: Path) -> Iterator[Connector]:
        self.sandbox = sandbox
        connector = make_connector(sandbox.base("zoho"), tmp_path, page_size=self.page_size)
        connector.open()
        yield connector
        connector.close()

    @pytest.fixture
    def scope(self) -> str:
        return "Cases"

    def inject_error(self, status: int, operation: str) -> float | None:
        method, path = {"list": ("GET", "/crm/v8/Cases$"), "get": ("GET", r"/crm/v8/Cases/\d+$"),
                        "create": ("POST", "/crm/v8/Cases/upsert$"),
                        "update": ("PUT", r"/crm/v8/Cases/\d+$")}[operation]
        # A 401 is answered by one refresh and a retry, so it must fail twice to reach the caller.
        self.sandbox.fault("zoho", method=method, path=path, status=status, retry_after=2,
                           times=2 if status == 401 else 1)
        return 2.0 if status == 429 else None
