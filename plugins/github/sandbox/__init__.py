"""The GitHub stand-in served by ``pmhub sandbox``, apart from the connector.

``routes`` (repositories, issues, comments), ``labels`` (labels, milestones) and ``sub_issues``
(parents and sub-issues) answer requests;
``base`` holds the plumbing every route shares (clock, ETags, rate limit, errors, pagination);
``state`` the records and their JSON; ``seed`` the "demo" data.
"""

from .routes import GitHubSandbox

__all__ = ["GitHubSandbox"]
