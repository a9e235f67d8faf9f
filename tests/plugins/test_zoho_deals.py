"""Deals as projects and a Case's Deal as its parent, through the real zohocrmsdk8-0 SDK against
the Zoho stand-in (issue 11: the customer's Deal becomes a Jira Epic with its Cases under it)."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from pmhub_plugins.zoho_crm.connector import ZohoCrmConnector
from pmhub_plugins.zoho_crm.demo import CUSTOMER, CUSTOMER_CASE, CUSTOMER_DEAL, DEAL_CASES

from hub.errors import PermanentError
from hub.model import Customer, Issue, Project, StatusCategory
from hub.testing.sandbox_client import SandboxClient
from tests.plugins.test_zoho_connector import make_connector

pytest.importorskip("zohocrmsdk")

MISSING_DEAL = "6403584000000999001"


@pytest.fixture
def connector(sandbox: SandboxClient, tmp_path: Path) -> Iterator[ZohoCrmConnector]:
    connector = make_connector(sandbox.base("zoho"), tmp_path)
    connector.open()
    yield connector
    connector.close()


def _raw(sandbox: SandboxClient, module: str, record_id: str, fields: str) -> dict[str, Any]:
    """A record as Zoho prints it (what a person in Zoho sees), past the connector."""
    reply = requests.get(f"{sandbox.base('zoho')}/crm/v8/{module}/{record_id}", params={"fields": fields},
                         headers={"Authorization": "Zoho-oauthtoken x"}, timeout=10)
    reply.raise_for_status()
    return dict(reply.json()["data"][0])


def _edit_in_zoho(sandbox: SandboxClient, module: str, record_id: str, **values: Any) -> None:
    requests.put(f"{sandbox.base('zoho')}/crm/v8/{module}/{record_id}", json={"data": [values]},
                 headers={"Authorization": "Zoho-oauthtoken x"}, timeout=10).raise_for_status()


def _parent(connector: ZohoCrmConnector, case_id: str) -> str | None:
    got = connector.get("Cases", "issue", case_id)
    assert got is not None and isinstance(got.item, Issue)
    return got.item.parent


def _deal(connector: ZohoCrmConnector, deal_id: str) -> Project:
    got = connector.get("Deals", "project", deal_id)
    assert got is not None and isinstance(got.item, Project)
    return got.item


# -- a Case's Deal is its parent ---------------------------------------------------------------------
def test_the_connector_declares_a_cases_parent_is_a_deal() -> None:
    assert ZohoCrmConnector.parent_types == {"issue": "project"}


def test_a_case_read_carries_its_deal_as_parent(sandbox: SandboxClient, tmp_path: Path) -> None:
    # The demo seed: the customer's one open deal with two cases under it, the followed case in none.
    sandbox.reset("demo")
    connector = make_connector(sandbox.base("zoho"), tmp_path)
    connector.open()
    customers = {r.item.name: r.id for r in connector.list_changed("Accounts", "customer", None)
                 if isinstance(r.item, Customer)}
    deals = {r.id: r.item for r in connector.list_changed("Deals", "project", None)
             if isinstance(r.item, Project)}
    [portal] = [i for i, d in deals.items() if d.customer == customers[CUSTOMER] and d.status not in (
        StatusCategory.DONE, StatusCategory.CANCELLED)]
    assert deals[portal].name == CUSTOMER_DEAL and deals[portal].due_date is not None
    cases = {r.item.title: r for r in connector.list_changed("Cases", "issue", None)
             if isinstance(r.item, Issue)}
    under = sorted(title for title, r in cases.items()
                   if isinstance(r.item, Issue) and r.item.parent == portal)
    assert under == sorted(DEAL_CASES)
    followed = cases[CUSTOMER_CASE].item
    assert isinstance(followed, Issue) and followed.parent is None  # a case with no deal has no parent
    one = connector.get("Cases", "issue", cases[DEAL_CASES[1]].id)
    assert one is not None and isinstance(one.item, Issue) and one.item.parent == portal


def test_a_case_created_under_a_deal_moves_to_another_and_out(sandbox: SandboxClient,
                                                              connector: ZohoCrmConnector) -> None:
    portal = connector.create("Deals", "project", Project(name="Portal"), "pmhub:deal-portal").id
    mobile = connector.create("Deals", "project", Project(name="Mobile app"), "pmhub:deal-mobile").id
    case = connector.create("Cases", "issue", Issue(title="Single sign-on", parent=portal), "pmhub:case-sso")
    assert _parent(connector, case.id) == portal
    assert _raw(sandbox, "Cases", case.id, "Deal_Name")["Deal_Name"] == {"name": "Portal", "id": portal}

    moved = Issue(title="Single sign-on", parent=mobile)
    connector.update("Cases", "issue", case.id, moved, frozenset({"parent"}))
    assert _parent(connector, case.id) == mobile
    # An edit that does not touch the parent leaves the deal as it is.
    connector.update("Cases", "issue", case.id, Issue(title="SSO with Okta"), frozenset({"title"}))
    assert _parent(connector, case.id) == mobile

    connector.update("Cases", "issue", case.id, Issue(title="SSO with Okta"), frozenset({"parent"}))
    assert _parent(connector, case.id) is None
    assert _raw(sandbox, "Cases", case.id, "Deal_Name")["Deal_Name"] is None


def test_a_deal_that_does_not_exist_is_a_permanent_error_naming_it(connector: ZohoCrmConnector) -> None:
    with pytest.raises(PermanentError) as created:
        connector.create("Cases", "issue", Issue(title="Orphan", parent=MISSING_DEAL), "pmhub:orphan")
    assert MISSING_DEAL in str(created.value) and "Deal_Name" in str(created.value)
    assert "Deals" in str(created.value)

    case = connector.create("Cases", "issue", Issue(title="Orphan"), "pmhub:orphan-2").id
    with pytest.raises(PermanentError) as updated:
        connector.update("Cases", "issue", case, Issue(title="Orphan", parent=MISSING_DEAL),
                         frozenset({"parent"}))
    assert MISSING_DEAL in str(updated.value)
    assert _parent(connector, case) is None


def test_a_parent_that_is_no_zoho_id_is_refused_before_anything_is_sent(
        sandbox: SandboxClient, connector: ZohoCrmConnector) -> None:
    sandbox.clear_requests()
    with pytest.raises(PermanentError, match="'PORT-7' is not a Zoho Deal id"):
        connector.create("Cases", "issue", Issue(title="Wrong side", parent="PORT-7"), "pmhub:wrong")
    assert [r for r in sandbox.requests("zoho") if r["method"] != "GET"] == []


def test_a_case_with_a_wrong_deal_fails_alone_in_a_batch(connector: ZohoCrmConnector) -> None:
    portal = connector.create("Deals", "project", Project(name="Portal"), "pmhub:batch-deal").id
    results = connector.create_many("Cases", "issue", [
        (Issue(title="Under the portal", parent=portal), "pmhub:batch-1"),
        (Issue(title="Jira key as parent", parent="PORT-7"), "pmhub:batch-2"),
        (Issue(title="Deal gone", parent=MISSING_DEAL), "pmhub:batch-3"),
        (Issue(title="No deal"), "pmhub:batch-4")])
    first, wrong, gone, last = results
    assert isinstance(wrong, PermanentError) and "PORT-7" in str(wrong)
    assert isinstance(gone, PermanentError) and MISSING_DEAL in str(gone)
    assert not isinstance(first, Exception) and not isinstance(last, Exception)
    assert (_parent(connector, first.id), _parent(connector, last.id)) == (portal, None)
    titles = {r.item.title for r in connector.list_changed("Cases", "issue", None)
              if isinstance(r.item, Issue)}
    assert titles == {"Under the portal", "No deal"}


# -- Deals: dates and stage ---------------------------------------------------------------------------
def test_a_deal_carries_its_dates_customer_and_stage_both_ways(sandbox: SandboxClient,
                                                             connector: ZohoCrmConnector) -> None:
    acme = connector.create("Accounts", "customer", Customer(name="Acme"), "pmhub:acme").id
    deal = Project(name="Portal", description="Self-service portal", due_date=dt.date(2026, 9, 30),
                   customer=acme, status=StatusCategory.IN_PROGRESS)
    created = connector.create("Deals", "project", deal, "pmhub:portal")
    read = _deal(connector, created.id)
    assert (read.name, read.description, read.due_date, read.customer, read.status) == (
        "Portal", "Self-service portal", dt.date(2026, 9, 30), acme, StatusCategory.IN_PROGRESS)
    assert read.owner is not None and read.owner.email
    raw = _raw(sandbox, "Deals", created.id, "Stage,Closing_Date")
    assert (raw["Stage"], raw["Closing_Date"]) == ("Needs Analysis", "2026-09-30")

    redated = read.model_copy(update={"due_date": dt.date(2026, 12, 15)})
    connector.update("Deals", "project", created.id, redated, frozenset({"due_date"}))
    assert _deal(connector, created.id).due_date == dt.date(2026, 12, 15)

    for status, stage in ((StatusCategory.DONE, "Closed Won"), (StatusCategory.CANCELLED, "Closed Lost"),
                          (StatusCategory.TODO, "Qualification")):
        connector.update("Deals", "project", created.id, read.model_copy(update={"status": status}),
                         frozenset({"status"}))
        assert _raw(sandbox, "Deals", created.id, "Stage")["Stage"] == stage
        assert _deal(connector, created.id).status == status


def test_a_stage_that_already_means_the_status_is_kept(sandbox: SandboxClient,
                                                       connector: ZohoCrmConnector) -> None:
    deal = connector.create("Deals", "project", Project(name="Portal"), "pmhub:kept").id
    _edit_in_zoho(sandbox, "Deals", deal, Stage="Proposal/Price Quote")
    assert _deal(connector, deal).status == StatusCategory.IN_PROGRESS
    for status in (StatusCategory.IN_PROGRESS, StatusCategory.BLOCKED):  # Zoho has no blocked stage
        connector.update("Deals", "project", deal, Project(name="Portal", status=status),
                         frozenset({"status"}))
        assert _raw(sandbox, "Deals", deal, "Stage")["Stage"] == "Proposal/Price Quote"

    _edit_in_zoho(sandbox, "Deals", deal, Stage="Closed-Lost to Competition")
    assert _deal(connector, deal).status == StatusCategory.CANCELLED
    connector.update("Deals", "project", deal, Project(name="Portal", status=StatusCategory.CANCELLED),
                     frozenset({"status"}))
    assert _raw(sandbox, "Deals", deal, "Stage")["Stage"] == "Closed-Lost to Competition"
    # A blocked project whose deal was closed reopens it at an open stage.
    connector.update("Deals", "project", deal, Project(name="Portal", status=StatusCategory.BLOCKED),
                     frozenset({"status"}))
    assert _raw(sandbox, "Deals", deal, "Stage")["Stage"] == "Needs Analysis"


def test_an_edited_deal_is_seen_by_the_next_incremental_listing(connector: ZohoCrmConnector) -> None:
    deal = connector.create("Deals", "project", Project(name="Portal"), "pmhub:seen")
    time.sleep(1.1)  # Modified_Time has whole seconds
    cursor = dt.datetime.now(dt.UTC)
    assert [r.id for r in connector.list_changed("Deals", "project", cursor)] == []
    won = Project(name="Portal", status=StatusCategory.DONE)
    written = connector.update("Deals", "project", deal.id, won, frozenset({"status"}))
    assert written.updated is not None and deal.updated is not None and written.updated > deal.updated
    listed = list(connector.list_changed("Deals", "project", cursor - connector.cursor_overlap))
    assert [r.id for r in listed] == [deal.id]
    assert isinstance(listed[0].item, Project) and listed[0].item.status == StatusCategory.DONE


# -- an org's own pipeline -----------------------------------------------------------------------------
def _add_stages(sandbox: SandboxClient, *stages: tuple[str, str]) -> None:
    """Add Deal stages as an org's admin does (Setup > Pipelines), each with its forecast type."""
    base, auth = sandbox.base("zoho"), {"Authorization": "Zoho-oauthtoken x"}
    fields = requests.get(f"{base}/crm/v8/settings/fields", params={"module": "Deals"}, headers=auth,
                          timeout=10).json()["fields"]
    stage_id = next(f["id"] for f in fields if f["api_name"] == "Stage")
    requests.patch(f"{base}/crm/v8/settings/fields/{stage_id}", params={"module": "Deals"}, headers=auth,
                   json={"fields": [{"pick_list_values": [
                       {"display_value": name, "forecast_type": forecast} for name, forecast in stages]}]},
                   timeout=10).raise_for_status()


def _deals_field_reads(sandbox: SandboxClient) -> int:
    return sum(1 for r in sandbox.requests("zoho")
               if r["path"] == "/crm/v8/settings/fields" and "module=Deals" in r["query"])


def test_an_orgs_own_stages_are_read_by_their_forecast_type(sandbox: SandboxClient,
                                                            connector: ZohoCrmConnector) -> None:
    _add_stages(sandbox, ("Kick-off", "Open"), ("Delivered", "Closed Won"), ("Shelved", "Closed Lost"))
    ids = {stage: connector.create("Deals", "project", Project(name=stage), f"pmhub:org-{stage}").id
           for stage in ("Kick-off", "Delivered", "Shelved", "Negotiation/Review")}
    for stage, deal in ids.items():
        _edit_in_zoho(sandbox, "Deals", deal, Stage=stage)
    sandbox.clear_requests()
    read = {r.item.name: r.item.status for r in connector.list_changed("Deals", "project", None)
            if isinstance(r.item, Project)}
    assert read == {"Kick-off": StatusCategory.IN_PROGRESS, "Delivered": StatusCategory.DONE,
                    "Shelved": StatusCategory.CANCELLED, "Negotiation/Review": StatusCategory.IN_PROGRESS}
    # A won stage of the org's own already means done: it is kept, not relabelled Closed Won.
    won = Project(name="Delivered", status=StatusCategory.DONE)
    connector.update("Deals", "project", ids["Delivered"], won, frozenset({"status"}))
    assert _raw(sandbox, "Deals", ids["Delivered"], "Stage")["Stage"] == "Delivered"
    list(connector.list_changed("Deals", "project", None))
    assert _deals_field_reads(sandbox) == 1  # the pipeline is read once per connection


def test_a_new_orgs_stages_need_no_metadata_read(sandbox: SandboxClient, tmp_path: Path) -> None:
    sandbox.reset("demo")
    connector = make_connector(sandbox.base("zoho"), tmp_path)
    connector.open()
    sandbox.clear_requests()
    assert all(isinstance(r.item, Project) and r.item.status is not None
               for r in connector.list_changed("Deals", "project", None))
    # Only the SDK's own download of the field metadata (which it then caches) reaches Zoho.
    assert _deals_field_reads(sandbox) <= 1
    sandbox.clear_requests()
    list(connector.list_changed("Deals", "project", None))
    assert _deals_field_reads(sandbox) == 0


def test_a_pipeline_without_the_standard_stages_is_written_with_its_own() -> None:
    from pmhub_plugins.zoho_crm import stages

    pipeline = stages.org_stage_categories([
        {"actual_value": "Lead in", "forecast_type": "Open", "sequence_number": 1},
        {"actual_value": "Build", "forecast_type": "Open", "sequence_number": 2},
        {"actual_value": "Live", "forecast_type": "Closed Won", "sequence_number": 3},
        {"actual_value": "Dropped", "forecast_type": "Closed Lost", "sequence_number": 4}])
    assert pipeline == {"Lead in": StatusCategory.TODO, "Build": StatusCategory.IN_PROGRESS,
                        "Live": StatusCategory.DONE, "Dropped": StatusCategory.CANCELLED}
    written = {status: stages.deal_stage(status, "Lead in", pipeline) for status in StatusCategory}
    assert written == {StatusCategory.TODO: None, StatusCategory.IN_PROGRESS: "Build",
                       StatusCategory.BLOCKED: "Build", StatusCategory.DONE: "Live",
                       StatusCategory.CANCELLED: "Dropped"}
    assert stages.new_deal_stage(pipeline) == "Lead in"  # a new deal given no status starts the pipeline
