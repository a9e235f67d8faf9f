"""The Trello stand-in served by ``pmhub sandbox``, apart from the connector.

``routes`` answers requests; ``state`` holds members, boards, lists, labels, cards and actions and
their JSON; ``seed`` the "demo" board.
"""

from .routes import TrelloSandbox

__all__ = ["TrelloSandbox"]
