"""``[connections.*]`` tables for the built-in tools' stand-ins, as the integration tests configure
them: one place for the settings a test against the sandbox needs (no write spacing, short waits)."""

from __future__ import annotations

from typing import Any

from hub.testing.sandbox_client import SandboxClient

EMAIL = "bot@acme.example"
TOKEN = "sandbox-token"


def github(sandbox: SandboxClient, *, token: Any = TOKEN, timeout: float = 10) -> dict[str, Any]:
    # GitHub's content-creation spacing does not apply to the stand-in.
    return {"plugin": "github", "base_url": sandbox.base("github"), "token": token,
            "seconds_between_writes": 0, "timeout": timeout}


def jira(sandbox: SandboxClient, *, token: Any = TOKEN, timeout: float = 10) -> dict[str, Any]:
    return {"plugin": "jira", "base_url": sandbox.base("jira"), "email": EMAIL, "token": token,
            "timeout": timeout}


def zoho(sandbox: SandboxClient, *, timeout: float = 10) -> dict[str, Any]:
    # Any access token goes with a stand-in started without --token, as long as it never expired.
    return {"plugin": "zoho_crm", "base_url": sandbox.base("zoho"), "client_id": "1000.PMHUBTEST",
            "client_secret": "client-secret", "refresh_token": "1000.integration-refresh",
            "timeout": timeout}
