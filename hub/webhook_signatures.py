"""Checks shared by the tools' webhook receivers (``plugins/<tool>/webhooks.py``)."""

from __future__ import annotations

import hashlib
import hmac


def sha256_signature_matches(secret: str | None, body: bytes, given: str | None) -> bool:
    """Whether ``given`` is ``sha256=<hex HMAC-SHA256 of body>`` keyed with ``secret``, compared in
    constant time (GitHub's ``X-Hub-Signature-256``, Jira Cloud's ``X-Hub-Signature``). No secret
    configured: nothing verifies."""
    if not secret:
        return False
    expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest((given or "").encode(), expected.encode())


def body_digest(body: bytes) -> str:
    """Stands in for a delivery id where a tool sends none: the same body is the same delivery."""
    return "sha256:" + hashlib.sha256(body).hexdigest()
