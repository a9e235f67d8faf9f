"""Checking sandbox replies against the oracles in ../shared/oracles.

Two kinds of check: the official OpenAPI description (openapi-core, with the known quirks relaxed)
and the key sets and JSON types of real recorded replies. Tests skip with a clear reason where the
oracles folder is absent (a user's fresh clone); never under CI, where shared/ sits beside the clone.
"""

from __future__ import annotations

import ast
import contextlib
import json
import os
import re
from functools import cache
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]


def oracles_dir() -> Path:
    path = Path(os.environ.get("PMHUB_ORACLES", REPO.parent / "shared" / "oracles"))
    if not path.is_dir():
        if os.environ.get("CI") == "true":
            pytest.fail(f"oracles folder {path} is missing under CI")
        pytest.skip(f"oracles folder {path} is absent (set PMHUB_ORACLES to check conformance)")
    return path


def _relax(node: Any, *, nullable_enums: bool, drop_formats: frozenset[str]) -> Any:
    """Reality differs from the descriptions in documented ways (see the oracles README)."""
    if isinstance(node, dict):
        out = {k: _relax(v, nullable_enums=nullable_enums, drop_formats=drop_formats)
               for k, v in node.items()}
        if nullable_enums and "enum" in out and None not in out["enum"]:
            out["enum"] = [*out["enum"], None]
            out["nullable"] = True
        if out.get("format") in drop_formats:
            out.pop("format")
        return out
    if isinstance(node, list):
        return [_relax(v, nullable_enums=nullable_enums, drop_formats=drop_formats) for v in node]
    return node


@cache
def openapi(relative: str, *, nullable_enums: bool = False,
            drop_formats: frozenset[str] = frozenset()) -> Any:
    """An openapi-core ``OpenAPI`` for a description under the oracles folder."""
    from openapi_core import Config, OpenAPI

    with (oracles_dir() / relative).open(encoding="utf-8") as handle:
        spec = json.load(handle)
    spec = _relax(spec, nullable_enums=nullable_enums, drop_formats=drop_formats)
    return OpenAPI.from_dict(spec, config=Config(spec_validator_cls=None))


def check_response(api: Any, server: str, method: str, path: str, status: int,
                   body: Any, *, query: str = "", headers: dict[str, str] | None = None) -> None:
    """Validate one reply against the description; fail with the validator's own words."""
    from openapi_core.testing import MockRequest, MockResponse

    request = MockRequest(server, method.lower(), path, args=_query_dict(query))
    data = b"" if body is None else json.dumps(body).encode()
    response = MockResponse(data, status_code=status, headers=headers or {},
                            content_type="application/json")
    result = api.unmarshal_response(request, response)
    if result.errors:
        details = "; ".join(_describe(e) for e in result.errors)
        pytest.fail(f"{method} {path} -> {status} does not match the description: {details}")


def _describe(error: Exception) -> str:
    inner = getattr(error, "__cause__", None)
    nested = getattr(inner, "schema_errors", None) or getattr(error, "schema_errors", None) or []
    text = "; ".join(f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in nested)
    return f"{error}{' (' + text + ')' if text else ''}"[:2000]


def _query_dict(query: str) -> dict[str, str]:
    from urllib.parse import parse_qsl

    return dict(parse_qsl(query))


@cache
def recorded(relative: str) -> list[dict[str, Any]]:
    """Recorded real exchanges: dicts with method, path, status and the parsed JSON body."""
    with (oracles_dir() / relative).open(encoding="utf-8") as handle:
        raw = json.load(handle)
    out = []
    for entry in raw:
        body = entry.get("body")
        if isinstance(body, str):
            with contextlib.suppress(ValueError):
                body = json.loads(body)
        headers = entry.get("resp_headers")
        if isinstance(headers, str):
            try:
                headers = dict(ast.literal_eval(headers))
            except (ValueError, SyntaxError):
                headers = {}
        out.append({**entry, "body": body, "resp_headers": headers or {},
                    "status": int(entry.get("status", 0) or 0)})
    return out


def recorded_bodies(relative: str, method: str, path_pattern: str, status: int = 200) -> list[Any]:
    rx = re.compile(path_pattern)
    return [e["body"] for e in recorded(relative)
            if e["method"].upper() == method.upper() and rx.search(e["path"].split("?")[0])
            and e["status"] == status]


def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    return type(value).__name__


def assert_same_shape(real: Any, ours: Any, where: str = "$", *, depth: int = 2) -> None:
    """Every key the real reply has, ours has too, with the same JSON type where both are non-null."""
    if isinstance(real, list) and isinstance(ours, list):
        if real and ours:
            assert_same_shape(real[0], ours[0], f"{where}[0]", depth=depth)
        return
    if not isinstance(real, dict):
        return
    assert isinstance(ours, dict), f"{where}: real reply is an object, ours is {_type_name(ours)}"
    missing = sorted(set(real) - set(ours))
    assert not missing, f"{where}: keys the real service sends but the sandbox does not: {missing}"
    for key, value in real.items():
        mine = ours[key]
        if value is None or mine is None:
            continue
        assert _type_name(value) == _type_name(mine), (
            f"{where}.{key}: real is {_type_name(value)}, sandbox sends {_type_name(mine)}")
        if depth > 0 and isinstance(value, (dict, list)):
            assert_same_shape(value, mine, f"{where}.{key}", depth=depth - 1)
