"""Zoho's v8 OpenAPI files (``../shared/oracles/zoho-crm``) made usable with openapi-core.

Documented gaps between those files and the real service, relaxed here rather than imitated:
- Cross-file ``$ref`` (``./users.json#/...``): the files are bundled into one document first.
- Real replies print ``null`` for empty values (``next_page_token``, ``Tag``, most field
  metadata sub-objects) where the files declare no null: every typed schema is made nullable.
- Success and error bodies sit under ``oneOf`` with schemas that require nothing, so a valid
  reply matches both alternatives and ``oneOf`` can never pass: it is read as ``anyOf``.
- ``pattern`` values are sample data (a user's email must match ``[a-z0-9]{9}@[a-z0-9]{5}.com``)
  and are dropped; a user's ``time_zone`` is a zone name string, not the object described.
- A module reference (``Minified_Module``) requires ``id`` as well as ``api_name``, though Zoho's
  own examples name a module by ``api_name`` alone: only ``api_name`` is required.
- The security scheme sits in ``common.json`` and describes OAuth, not Zoho's
  ``Zoho-oauthtoken`` header: security requirements are dropped (the auth tests cover them).
"""

from __future__ import annotations

import copy
import json
import re
from functools import cache
from typing import Any

from tests.sandbox.conformance import oracles_dir

SERVER = "https://zohoapis.com"
_EXTERNAL = re.compile(r"^\./(?P<file>[\w.]+)\.json#/components/schemas/(?P<name>.+)$")


def _bundle(entry: str) -> dict[str, Any]:
    """One self-contained document: external schemas copied in as ``<file>__<name>``."""
    folder = oracles_dir() / "zoho-crm"
    documents: dict[str, dict[str, Any]] = {}

    def document(name: str) -> dict[str, Any]:
        if name not in documents:
            documents[name] = json.loads((folder / f"{name}.json").read_text(encoding="utf-8"))
        return documents[name]

    root = document(entry)
    schemas = root.setdefault("components", {}).setdefault("schemas", {})
    pending: list[tuple[str, str]] = []

    def rewrite(node: Any, owner: str) -> Any:
        if isinstance(node, dict):
            out = {k: rewrite(v, owner) for k, v in node.items()}
            ref = out.get("$ref")
            if isinstance(ref, str):
                external = _EXTERNAL.match(ref)
                if external and external["file"] != entry:
                    pending.append((external["file"], external["name"]))
                    out["$ref"] = f"#/components/schemas/{external['file']}__{external['name']}"
                elif owner != entry and ref.startswith("#/components/schemas/"):
                    name = ref.rsplit("/", 1)[1]
                    pending.append((owner, name))
                    out["$ref"] = f"#/components/schemas/{owner}__{name}"
            return out
        if isinstance(node, list):
            return [rewrite(v, owner) for v in node]
        return node

    bundled = rewrite(root, entry)
    schemas = bundled["components"]["schemas"]
    while pending:
        owner, name = pending.pop()
        key = f"{owner}__{name}"
        if key in schemas:
            continue
        schemas[key] = {}  # placeholder first: schemas refer to themselves
        schemas[key] = rewrite(document(owner)["components"]["schemas"][name], owner)
    return bundled


def _relax(node: Any) -> Any:
    """Every typed schema nullable, ``oneOf`` read as ``anyOf``, no sample ``pattern``s."""
    if isinstance(node, dict):
        out = {("anyOf" if k == "oneOf" else k): _relax(v) for k, v in node.items()}
        if "type" in out or "properties" in out:
            out["nullable"] = True
        out.pop("pattern", None)
        if isinstance(out.get("enum"), list) and None not in out["enum"]:
            out["enum"] = [*out["enum"], None]
        return out
    if isinstance(node, list):
        return [_relax(v) for v in node]
    return node


@cache
def _spec(name: str) -> dict[str, Any]:
    spec = _bundle(name)
    users = spec["components"]["schemas"].get("users")
    if name == "users" and users:
        # A user's time_zone is a zone name ("Asia/Kolkata") in real replies, not an object.
        users["properties"]["time_zone"] = {"type": "string"}
    for key, schema in spec["components"]["schemas"].items():
        if key.endswith("Minified_Module"):
            # Zoho's own examples name a module by api_name alone (a note's Parent_Id.module).
            schema["required"] = ["api_name"]
    spec.pop("security", None)
    for path in spec.get("paths", {}).values():
        for operation in path.values():
            if isinstance(operation, dict):
                operation.pop("security", None)
    spec.get("components", {}).pop("securitySchemes", None)
    return _relax(spec)


@cache
def api(name: str) -> Any:
    """The description ``name`` (``record``, ``notes`` ...) for checking the sandbox's replies."""
    from openapi_core import Config, OpenAPI

    return OpenAPI.from_dict(_spec(name), config=Config(spec_validator_cls=None))


@cache
def request_api(name: str) -> Any:
    """The description for checking what a client sends. Record schemas serve replies and
    requests alike, so their ``required`` lists name what only the server fills in (a Note's
    ``Modified_Time``, ``$attachments`` ...): those lists are dropped; wrappers keep theirs."""
    from openapi_core import Config, OpenAPI

    spec = copy.deepcopy(_spec(name))
    for key in ("Note", "Record"):
        spec["components"]["schemas"].get(key, {}).pop("required", None)
    return OpenAPI.from_dict(spec, config=Config(spec_validator_cls=None))


def check_schema(name: str, schema: str, body: Any) -> None:
    """Validate ``body`` against one named component schema of a description."""
    from openapi_schema_validator import OAS30Validator

    spec = _spec(name)
    validator = OAS30Validator({"$ref": f"#/components/schemas/{schema}", "components": spec["components"]})
    errors = sorted(validator.iter_errors(body), key=str)
    assert not errors, f"{schema}: {errors[0].message} at {list(errors[0].absolute_path)}"
