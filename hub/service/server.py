"""Serving the app with uvicorn, and stopping well.

Why uvicorn and Starlette: both are widely used and maintained, small, typed, and need no build
step; uvicorn stops gracefully on SIGTERM (no new connections, in-flight requests answered), has
keep-alive timeouts and a connection cap. After the server stops, the sync worker finishes the
sync in progress and the process exits 0.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
from collections.abc import Callable
from typing import Any

from hub.engine.runner import open_hub
from hub.errors import ConfigError
from hub.service.security import check_exposure

log = logging.getLogger("pmhub.service")


def _check_bindable(host: str, port: int) -> None:
    """A port in use or an address not on this machine is a usage error (exit 2), said before the
    sync worker starts, not a traceback from the server."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            raise ConfigError(f"cannot listen on {host}:{port}: {error.strerror}",
                              key="server.port") from None


def serve(config_path: str | os.PathLike[str] | None, *, host: str | None, port: int | None,
          echo: Callable[[str], Any] = print) -> None:
    import uvicorn

    from hub.service.app import build_app
    from hub.service.runtime import Service

    with open_hub(config_path) as hub:
        server_config = hub.config.server
        host = host or server_config.host
        port = server_config.port if port is None else port
        check_exposure(server_config, host)
        _check_bindable(host, port)
        service = Service.build(hub, host)
        server = uvicorn.Server(uvicorn.Config(
            build_app(service), host=host, port=port, log_config=None, access_log=False,
            timeout_keep_alive=server_config.keep_alive_seconds,
            limit_concurrency=server_config.max_connections, server_header=False, lifespan="off"))
        # uvicorn re-raises the signal that stopped it once it is done; answered by these, the
        # process then lets the worker finish and exits 0 instead of dying of the signal.
        previous = {sig: signal.signal(sig, lambda *_: None) for sig in (signal.SIGTERM, signal.SIGINT)}
        service.start()
        echo(f"pmhub serving on http://{host}:{port} (status page /, metrics /metrics, "
             f"webhooks /hooks/<connection>)")
        try:
            server.run()
        finally:
            echo("stopping: letting the sync in progress finish")
            service.stop()
            for sig, handler in previous.items():
                signal.signal(sig, handler)
    echo("pmhub serve stopped")
