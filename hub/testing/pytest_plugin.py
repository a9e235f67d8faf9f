"""pytest fixtures for the sandbox, registered through the ``pytest11`` entry point.

``sandbox``: a running sandbox with every installed stand-in, reset to empty for each test, as a
``SandboxClient`` (``sandbox.base("github")`` is the URL to point a client at).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from hub.testing.sandbox_client import SandboxClient


@pytest.fixture(scope="session")
def sandbox_server() -> Iterator[str]:
    from hub.sandbox.server import SandboxServer, build_sandbox

    with SandboxServer(build_sandbox()) as server:
        yield server.url


@pytest.fixture
def sandbox(sandbox_server: str) -> SandboxClient:
    client = SandboxClient(sandbox_server)
    client.reset("empty")
    return client
