"""``pmhub sandbox`` refuses a port it cannot listen on with a clear error, never a silent hang."""

from __future__ import annotations

import socket
import subprocess
import sys


def _sandbox(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "hub", "sandbox", *args], capture_output=True, text=True,
                          timeout=60)


def test_a_port_out_of_range_is_a_usage_error():
    result = _sandbox("--port", "99999")
    assert result.returncode == 2
    assert "--port" in result.stderr and "99999" in result.stderr


def test_a_port_already_taken_is_a_usage_error():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = _sandbox("--port", str(port))
    assert result.returncode == 2
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr
