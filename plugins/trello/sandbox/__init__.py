"""The Trello stand-in served by ``pmhub sandbox``, apart from the connector.

``routes`` answers requests (and loads the "demo" seed); ``state`` holds members, boards, lists,
labels, cards and actions and their JSON.
"""

from .routes import TrelloSandbox

__all__ = ["TrelloSandbox"]
