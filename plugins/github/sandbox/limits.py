"""GitHub's content-creation secondary rate limit, as the stand-in enforces it when asked to.

GitHub documents "no more than 80 content-generating requests per minute" among its secondary
limits ("Rate limits for the REST API"), and answers past it with a 403 whose only sign is the
message: quota remains (``x-ratelimit-remaining`` above 0) and ``retry-after`` is not always sent.
The stand-in's limit is off by default; ``POST /_sandbox/github/content-creation-limit`` turns it
on, with a shorter window for tests.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

#: GitHub's reply past a secondary limit, as clients have recorded it (PyGithub and octokit read
#: the message to tell it from a permissions 403).
SECONDARY_LIMIT_MESSAGE = ("You have exceeded a secondary rate limit and have been temporarily blocked "
                           "from content creation. Please retry your request again later.")
SECONDARY_LIMIT_DOCS = ("https://docs.github.com/rest/using-the-rest-api/rate-limits-for-the-rest-api"
                        "#about-secondary-rate-limits")


@dataclass
class ContentCreationLimit:
    """At most ``limit`` creating requests (POST) in any ``window`` seconds.

    Only creates that succeeded count, so a refused request does not prolong the block.
    ``retry_after``: also send ``Retry-After`` (the seconds until the oldest create leaves the
    window), which GitHub does only sometimes.
    """

    limit: int
    window: float = 60.0
    retry_after: bool = False
    clock: Callable[[], float] = time.monotonic
    created: deque[float] = field(default_factory=deque)

    @classmethod
    def from_json(cls, body: Any) -> ContentCreationLimit:
        """The limit a control request asks for; ValueError naming the problem."""
        if not isinstance(body, dict):
            raise ValueError('expected a JSON object {"limit": N, "window_seconds": S, "retry_after": B}')
        unknown = set(body) - {"limit", "window_seconds", "retry_after"}
        if unknown:
            raise ValueError(f"unknown keys {sorted(unknown)}")
        limit, window = body.get("limit"), body.get("window_seconds", 60)
        if not isinstance(limit, int) or isinstance(limit, bool) or limit < 1:
            raise ValueError("'limit' must be a whole number of creates, at least 1")
        if not isinstance(window, (int, float)) or isinstance(window, bool) or window <= 0:
            raise ValueError("'window_seconds' must be a number of seconds above 0")
        if not isinstance(body.get("retry_after", False), bool):
            raise ValueError("'retry_after' must be true or false")
        return cls(limit=limit, window=float(window), retry_after=body.get("retry_after", False))

    def to_json(self) -> dict[str, Any]:
        return {"limit": self.limit, "window_seconds": self.window, "retry_after": self.retry_after,
                "in_window": len(self._pruned())}

    def refusal(self) -> float | None:
        """Seconds until a create is allowed again, or None when one is allowed now."""
        created = self._pruned()
        if len(created) < self.limit:
            return None
        return max(0.0, created[0] + self.window - self.clock())

    def note_create(self) -> None:
        self.created.append(self.clock())

    def retry_after_header(self, wait: float) -> dict[str, str]:
        return {"Retry-After": str(max(1, math.ceil(wait)))} if self.retry_after else {}

    def _pruned(self) -> deque[float]:
        cutoff = self.clock() - self.window
        while self.created and self.created[0] <= cutoff:
            self.created.popleft()
        return self.created
