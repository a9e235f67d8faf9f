"""The Trello stand-in served by ``pmhub sandbox``, apart from the connector.

``routes`` answers requests (and loads the "demo" seed); ``state`` holds members, boards, lists,
labels, cards and actions and their JSON.
"""

from pmhub_plugins.trello.sandbox.routes import TrelloSandbox

__all__ = ["TrelloSandbox"]
