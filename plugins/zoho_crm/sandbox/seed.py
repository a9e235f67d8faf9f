"""The "demo" seed of the Zoho CRM stand-in: accounts, contacts, deals, cases and a note."""

from __future__ import annotations

from typing import Any

from .state import CrmStore


def load_demo(store: CrmStore) -> None:
    """Two customer accounts with contacts, deals, cases and a note; the demo follows Acme Corp."""

    def add(module: str, **values: Any) -> str:
        result = store.insert(module, values, 0)
        if result["status"] != "success":
            raise RuntimeError(f"demo seed rejected: {result}")
        return str(result["details"]["id"])

    acme = add("Accounts", Account_Name="Acme Corp", Website="https://acme.example",
               Industry="Large Enterprise", Phone="+1 555 0100", Account_Type="Customer")
    globex = add("Accounts", Account_Name="Globex", Website="https://globex.example",
                 Industry="Small/Medium Enterprise", Account_Type="Customer")
    add("Contacts", First_Name="Ada", Last_Name="Lovelace", Email="ada@acme.example",
        Title="CTO", Account_Name={"id": acme})
    add("Contacts", First_Name="Grace", Last_Name="Hopper", Email="grace@acme.example",
        Title="Head of Delivery", Account_Name={"id": acme})
    add("Contacts", First_Name="Hank", Last_Name="Scorpio", Email="hank@globex.example",
        Account_Name={"id": globex})
    # Acme's one open deal, with two cases under it (Deal_Name): the demo's customer project
    # (demo.CUSTOMER_DEAL, demo.DEAL_CASES). Login page times out belongs to no deal.
    portal = add("Deals", Deal_Name="Acme customer portal", Stage="Needs Analysis",
                 Closing_Date="2026-03-31", Amount=48000.0, Account_Name={"id": acme},
                 Description="New store-service portal for Acme's customers.")
    add("Deals", Deal_Name="Globex data migration", Stage="Qualification",
        Closing_Date="2026-06-30", Amount=12000.0, Account_Name={"id": globex})
    add("Cases", Subject="Export invoices as CSV", Status="New", Priority="High",
        Type="Feature Request", Case_Origin="Email", Account_Name={"id": acme},
        Deal_Name={"id": portal}, Description="Finance wants a monthly CSV export.")
    add("Cases", Subject="Login page times out", Status="Escalated", Priority="High",
        Type="Problem", Case_Origin="Phone", Account_Name={"id": acme},
        Description="Users see a timeout after 30 s on the login page.")
    add("Cases", Subject="Add SSO with Okta", Status="On Hold", Priority="Medium",
        Type="Change Request", Case_Origin="Web", Account_Name={"id": acme}, Deal_Name={"id": portal})
    add("Cases", Subject="How do I reset my password?", Status="Closed", Priority="Low",
        Type="Question", Case_Origin="Web", Account_Name={"id": globex})
    add("Notes", Note_Title="Kick-off", Note_Content="Kick-off meeting held; scope agreed.",
        Parent_Id={"module": {"api_name": "Deals"}, "id": portal})
