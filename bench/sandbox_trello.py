"""Throughput of the Trello stand-in on loopback, one client with a keep-alive ``requests.Session``.

    python bench/sandbox_trello.py [--cards N] [--requests R]

Seeds a board with N cards through the API, then times R list requests (``cards/all``, the call
pmhub's incremental sync makes) and R single-card gets. Target: at least 300 requests/s each, so
the sandbox never dominates a test run.
"""

from __future__ import annotations

import argparse
import time

import requests
from pmhub_plugins.trello.sandbox import TrelloSandbox

from hub.sandbox.server import SandboxApp, SandboxServer

TIMEOUT = 10


def rate(label: str, count: int, seconds: float) -> float:
    per_second = count / seconds
    print(f"{label:<32} {count:>6} requests in {seconds:6.2f} s  {per_second:8.0f} requests/s")
    return per_second


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cards", type=int, default=50, help="cards on the board (default 50)")
    parser.add_argument("--requests", type=int, default=1000, help="requests per measurement")
    args = parser.parse_args()

    with SandboxServer(SandboxApp([TrelloSandbox()])) as server:
        root = server.url + "/trello/1"
        http = requests.Session()
        http.params = {"key": "bench", "token": "bench"}

        def call(method: str, path: str, **params: str) -> requests.Response:
            reply = http.request(method, root + path, params=params, timeout=TIMEOUT)
            reply.raise_for_status()
            return reply

        board = call("POST", "/boards", name="Bench").json()
        todo = call("GET", f"/boards/{board['id']}/lists").json()[0]["id"]
        started = time.perf_counter()
        ids = [call("POST", "/cards", idList=todo, name=f"card {n}", desc="body " * 20).json()["id"]
               for n in range(args.cards)]
        rates = {"create": rate("POST /1/cards", args.cards, time.perf_counter() - started)}

        started = time.perf_counter()
        for _ in range(args.requests):
            listed = call("GET", f"/boards/{board['id']}/cards/all").json()
        rates["list"] = rate(f"GET cards/all ({len(listed)} cards)", args.requests,
                             time.perf_counter() - started)

        started = time.perf_counter()
        for n in range(args.requests):
            call("GET", f"/cards/{ids[n % len(ids)]}")
        rates["get"] = rate("GET /1/cards/{id}", args.requests, time.perf_counter() - started)

    verdict = "meets" if min(rates["list"], rates["get"]) >= 300 else "MISSES"
    print(f"single client, loopback: {verdict} the 300 requests/s target")


if __name__ == "__main__":
    main()
