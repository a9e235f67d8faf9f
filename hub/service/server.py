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
from collections.abc import Callable
from typing import Any

from hub.engine.runner import open_hub
from hub.service.security import check_exposure

log = logging.getLogger("pmhub.service")


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
