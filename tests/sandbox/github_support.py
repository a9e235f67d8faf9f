"""Helpers shared by the GitHub sandbox tests: a PyGithub client pointed at the stand-in."""

from __future__ import annotations

from typing import Any

from hub.testing.sandbox_client import SandboxClient


def github_client(base: str, *, token: str = "sandbox-token", per_page: int = 30, **options: Any) -> Any:
    """PyGithub as pmhub configures it: no throttling and no hidden retries (tests see every reply)."""
    from github import Auth, Github

    return Github(auth=Auth.Token(token), base_url=base, per_page=per_page,
                  seconds_between_requests=None, seconds_between_writes=None, retry=None,
                  timeout=10, **options)


def new_repo(sandbox: SandboxClient, name: str = "portal", *, per_page: int = 30) -> Any:
    """A fresh repository of the viewer, through the real ``POST /user/repos``."""
    return github_client(sandbox.base("github"), per_page=per_page).get_user().create_repo(name)
