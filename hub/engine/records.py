"""Small pure pieces the engine applies to every record: snapshots, fingerprints, markers,
comment attribution."""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any


def snapshot_json(values: dict[str, Any]) -> str:
    """The canonical JSON text of synced values: stored as the merge base, hashed for echoes."""
    return json.dumps(values, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def fingerprint(snapshot: str) -> str:
    return hashlib.blake2b(snapshot.encode(), digest_size=16).hexdigest()


def marker_for(flow: str, record_type: str, target_side: str, source_id: str) -> str:
    """Deterministic, so even a lost state store finds what an earlier run created.

    Short, lowercase hex with a prefix: valid as a Jira label, a Zoho field value, hidden text.
    """
    digest = hashlib.blake2b(f"{flow}|{record_type}|{target_side}|{source_id}".encode(),
                             digest_size=8).hexdigest()
    return f"pmhub-{digest}"


_ATTRIBUTION = re.compile(r"\A\*\*(?P<who>[^*\n]+)\*\* \(via (?P<via>[^)\n]+)\):\n\n")


def attribute(body: str, author: str | None, via: str) -> str:
    """Prefix a comment copied by the hub's account with who really wrote it, and where."""
    if not author:
        return body
    return f"**{author}** (via {via}):\n\n{body}"


def strip_attribution(body: str) -> tuple[str, str | None]:
    """Undo ``attribute``: the body as its author wrote it, and the author's name."""
    match = _ATTRIBUTION.match(body)
    if not match:
        return body, None
    return body[match.end():], match.group("who")


_URL = re.compile(r"https?://[^\s)>\]\"']+")


def urls_in(text: str | None) -> list[str]:
    return _URL.findall(text or "")
