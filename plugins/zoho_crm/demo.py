"""The Zoho CRM part of ``pmhub demo``: a customer's CRM cases become Jira work, the team finishes one
in Jira, and the case closes in the CRM with one progress note on the customer's account; the
customer's Deal becomes a Jira Epic with the Deal's Cases under it.

The CRM is read over plain HTTP (``requests``), authorised the way Zoho's OAuth works.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hub.demo import Demo, DemoFailed, DemoStep, Phase, QuietCheck

from ..jira.demo import JIRA_PROJECT, jira_client, transition_to_done

ZOHO_CLIENT_ID = "1000.PMHUBDEMO"
#: The account and the case of the sandbox's "demo" seed that the story follows.
CUSTOMER = "Acme Corp"
CUSTOMER_CASE = "Login page times out"
#: The customer's one open Deal (its project) and the two Cases linked to it through Deal_Name:
#: what becomes a Jira Epic with its requests under it. The followed case is not one of them.
CUSTOMER_DEAL = "Acme customer portal"
DEAL_CASES = ("Export invoices as CSV", "Add SSO with Okta")


def connect_crm(demo: Demo) -> None:
    """Zoho CRM cases become Jira work; progress goes back to the customer's account as notes."""
    demo.connections["crm"] = {"plugin": "zoho_crm", "base_url": demo.base("zoho"),
                               "client_id": ZOHO_CLIENT_ID, "client_secret": demo.token_ref,
                               "refresh_token": demo.token_ref,
                               # The SDK's metadata cache stays with the demo's other files.
                               "data_dir": str(demo.workdir / "zoho")}
    demo.flows.append({
        # The customer's project is a Deal in the CRM and an Epic in Jira; its Cases sit under it.
        "name": "customer-requests", "a": {"connection": "crm", "scope": "*"},
        "b": {"connection": "jira", "scope": JIRA_PROJECT}, "records": ["project", "issue"],
        "pairs": {"project": "issue"},
        "direction": "both", "mapping": "zoho-jira", "conflict": "newest",
        "match": ["marker", "link", "title"], "progress_notes": {"side": "a"},
        # Only work for a customer becomes a CRM case; internal Jira issues stay out of the CRM.
        "filter": {"present": ["customer"]},
    })
    demo.quiet_checks.append(QuietCheck("added no note", _no_second_note))


def finish_customer_work(demo: Demo) -> None:
    """The team finishes the customer's case in Jira (its twin was created by the first sync)."""
    jira = jira_client(demo)
    try:
        found = jira.search_issues(f"project = {JIRA_PROJECT}", fields="summary", maxResults=False)
        twin = next((i for i in found if i.fields.summary == CUSTOMER_CASE), None)
        if twin is None:
            raise DemoFailed(f"the CRM case {CUSTOMER_CASE!r} did not become a Jira issue")
        transition_to_done(jira, twin.key)
    finally:
        jira.close()
    demo.facts["customer_case"] = twin.key
    demo.echo(f"    Jira {twin.key} ({CUSTOMER_CASE!r}, from {CUSTOMER}'s CRM case) moved to Done")


def check_customer(demo: Demo) -> None:
    """The case is closed in the CRM and one progress note is on the customer's account."""
    crm = _crm_session(demo)
    cases = crm.get(f"{demo.base('zoho')}/crm/v8/Cases", params={"fields": "Subject,Status"}, timeout=10)
    case = next((c for c in cases.json().get("data", []) if c.get("Subject") == CUSTOMER_CASE), None)
    if case is None or case.get("Status") != "Closed":
        status = case.get("Status") if case else None
        raise DemoFailed(f"the CRM case {CUSTOMER_CASE!r} was not closed (status {status})")
    notes = _account_notes(demo, crm)
    if len(notes) != 1:
        raise DemoFailed(f"expected one progress note on {CUSTOMER}, found {len(notes)}")
    first_line = (notes[0].get("Note_Content") or "").strip().splitlines()[0]
    demo.outcomes.append(f"Jira {demo.facts.get('customer_case')} -> Done -> CRM case {CUSTOMER_CASE!r} "
                         f"closed; note on {CUSTOMER}: \"{first_line}\"")
    demo.echo(f"    case closed; {len(notes)} progress note on {CUSTOMER}")


def check_customer_project(demo: Demo) -> None:
    """The customer's Deal is a Jira Epic, and the Deal's Cases are the issues under it."""
    jira = jira_client(demo)
    try:
        found = jira.search_issues(f"project = {JIRA_PROJECT}", fields="summary,issuetype,parent",
                                   maxResults=False)
    finally:
        jira.close()
    epic = next((i for i in found if i.fields.summary == CUSTOMER_DEAL), None)
    if epic is None or epic.fields.issuetype.name != "Epic":
        raise DemoFailed(f"the Deal {CUSTOMER_DEAL!r} did not become a Jira Epic")
    under = sorted(i.fields.summary for i in found
                   if getattr(getattr(i.fields, "parent", None), "id", None) == epic.id)
    if under != sorted(DEAL_CASES):
        raise DemoFailed(f"the Epic {epic.key} holds {under}, not the Deal's Cases {sorted(DEAL_CASES)}")
    demo.outcomes.append(f"CRM Deal {CUSTOMER_DEAL!r} -> Jira Epic {epic.key} with its {len(under)} "
                         "requests under it")
    demo.echo(f"    Deal {CUSTOMER_DEAL!r} is Epic {epic.key}, {len(under)} requests under it")


def _no_second_note(demo: Demo) -> str | None:
    notes = _account_notes(demo, _crm_session(demo))
    return None if len(notes) == 1 else f"left {len(notes)} notes on {CUSTOMER}"


def _crm_session(demo: Demo) -> Any:
    """A plain HTTP session on the CRM stand-in, authorised the way Zoho's OAuth works."""
    import requests

    session = requests.Session()
    reply = session.post(f"{demo.base('zoho')}/oauth/v2/token", timeout=10, data={
        "grant_type": "refresh_token", "refresh_token": demo.token, "client_id": ZOHO_CLIENT_ID,
        "client_secret": demo.token})
    session.headers["Authorization"] = f"Zoho-oauthtoken {reply.json()['access_token']}"
    return session


def _account_notes(demo: Demo, crm: Any) -> list[dict[str, Any]]:
    accounts = crm.get(f"{demo.base('zoho')}/crm/v8/Accounts", params={"fields": "Account_Name"}, timeout=10)
    account = next(a for a in accounts.json()["data"] if a["Account_Name"] == CUSTOMER)
    reply = crm.get(f"{demo.base('zoho')}/crm/v8/Accounts/{account['id']}/Notes",
                    params={"fields": "Note_Title,Note_Content"}, timeout=10)
    return list(reply.json().get("data", [])) if reply.status_code == 200 else []


def register(add: Callable[[DemoStep], None]) -> None:
    add(DemoStep(Phase.CONNECT + 10, "Connecting Zoho CRM cases to Jira (flow customer-requests, "
                 "mapping zoho-jira)", connect_crm))
    add(DemoStep(Phase.EDIT + 20, "Finishing a customer's request in Jira", finish_customer_work))
    add(DemoStep(Phase.CHECK + 10, "Checking the customer side: case closed, one progress note",
                 check_customer))
    add(DemoStep(Phase.CHECK + 15, "Checking the customer's Deal became a Jira Epic with its requests",
                 check_customer_project))
