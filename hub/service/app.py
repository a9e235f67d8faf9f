"""The ASGI app (Starlette): routes, the body limit, the bearer gate.

Handlers stay quick: a webhook is verified, remembered and queued, and the answer goes back before
any sync runs (tools time out slow receivers: GitHub after 10 s). Work that touches the state store
runs in Starlette's thread pool, never on the event loop.
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from hub.service.runtime import Service


class BodyTooLarge(Exception):
    pass


def build_app(service: Service) -> Starlette:
    limit = service.hub.config.server.max_body_bytes

    async def hook(request: Request) -> Response:
        connection = request.path_params["connection"]
        if not service.receiver.takes(connection):
            return JSONResponse({"error": "no connection of that name takes webhooks"}, status_code=404)
        if request.method == "HEAD":
            return Response(status_code=200)  # Trello checks the callback answers before registering
        try:
            body = await _read_body(request, limit)
        except BodyTooLarge:
            reply = service.receiver.too_large(connection)
            return JSONResponse({"error": f"body over {limit} bytes"}, status_code=reply.status)
        url = service.callback_url(request.url.path, request.url.query, str(request.url))
        reply = await run_in_threadpool(service.receiver.receive, connection, request.headers, body, url)
        return JSONResponse({"outcome": reply.outcome, "queued": reply.queued}, status_code=reply.status)

    async def status(request: Request) -> Response:
        if not service.gate.allows(request.headers.get("authorization")):
            return _unauthorized()
        return HTMLResponse(await run_in_threadpool(service.status_page))

    async def metrics(request: Request) -> Response:
        if not service.gate.allows(request.headers.get("authorization")):
            return _unauthorized()
        body = await run_in_threadpool(service.metrics.render)
        return Response(body, media_type=service.metrics.CONTENT_TYPE)

    async def healthz(request: Request) -> Response:
        return PlainTextResponse("ok\n")

    async def readyz(request: Request) -> Response:
        ready = await run_in_threadpool(service.ready)
        return PlainTextResponse("ready\n" if ready else "not ready\n", status_code=200 if ready else 503)

    return Starlette(routes=[
        Route("/", status, methods=["GET"]),
        Route("/metrics", metrics, methods=["GET"]),
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
        Route("/hooks/{connection}", hook, methods=["POST", "HEAD"]),
    ])


async def _read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge
    chunks, size = [], 0
    async for chunk in request.stream():  # a body without Content-Length is counted as it comes
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge
        chunks.append(chunk)
    return b"".join(chunks)


def _unauthorized() -> Response:
    return PlainTextResponse("the [server] token is needed: Authorization: Bearer <token>, or as the "
                             "password of Basic auth\n", status_code=401,
                             headers={"WWW-Authenticate": 'Basic realm="pmhub", charset="UTF-8"'})
