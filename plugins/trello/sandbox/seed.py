"""The "demo" seed of the Trello stand-in: a customer-facing board as a new user of the demo finds it."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from .state import IdMaker

if TYPE_CHECKING:
    from .routes import TrelloSandbox

#: When the demo board's history starts; fixed, so the seed's ids and dates are the same on every reset.
DEMO_EPOCH = dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.UTC)


def load_demo(service: TrelloSandbox) -> None:
    """A customer-facing board as a new user of the demo would find it."""
    saved = service._ids
    service._ids = IdMaker(0)  # fixed ids: the demo's board id is the same on every reset
    try:
        at = DEMO_EPOCH
        alice = service._add_member("alicecustomer", "Alice Customer", at)
        board = service._create_board("Acme Portal (customer)",
                                      "Requests from Acme Corp and what we are doing about them.", at)
        board.members.append(alice.id)
        todo, doing, done = service._lists_of(board, "open")
        labels = {lab.color: lab for lab in service.labels.values() if lab.board == board.id}
        for color, name in (("green", "customer"), ("red", "bug"), ("blue", "feature"),
                            ("orange", "urgent")):
            labels[color].name = name
        specs = [
            (todo, "Export invoices as PDF", "Customers want to download invoices.\n\n"
             "- one PDF per invoice\n- company logo in the header", ["green", "blue"], [], "2026-02-27"),
            (todo, "Login page times out on slow networks", "Seen by two users on mobile.",
             ["red", "orange"], [service.me.id], "2026-01-16"),
            (doing, "Single sign-on with Azure AD", "Acme's IT asked for SSO before rollout.",
             ["green", "blue"], [service.me.id, alice.id], None),
            (done, "Update privacy policy link", "", ["green"], [], None),
            (done, "Dark mode", "Dropped after customer review.", ["blue"], [], None),
        ]
        cards = []
        for index, (tlist, name, desc, colors, members, due) in enumerate(specs):
            when = at + dt.timedelta(minutes=5 * (index + 1))
            cards.append(service._create_card(tlist, {
                "name": name, "desc": desc, "due": due,
                "idLabels": [labels[c].id for c in colors], "idMembers": members}, when))
        service._comment(cards[0], "Acme would like this before the February invoicing run.",
                         at + dt.timedelta(hours=1))
        service._update_card(cards[4], {"closed": True}, at + dt.timedelta(hours=2))
    finally:
        service._ids = saved
