"""The Jira Cloud stand-in served by ``pmhub sandbox``, apart from the connector.

``routes`` answers REST v2 and v3 requests, ``views`` renders issues and comments as Jira's JSON,
``state`` holds the records and request parsing, ``jql`` the JQL subset the stand-in understands,
``seed`` the fixed catalogues and the "demo" data.
"""

from .routes import JiraSandbox

__all__ = ["JiraSandbox"]
