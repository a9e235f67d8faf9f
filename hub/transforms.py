"""Transforms every mapping may name; registered by the core like any plugin's."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from hub import hookimpl
from hub.mapping import Direction, Transform, TransformParams, declare_params


@declare_params(TransformParams(required={"prefix": str}))
def label_prefix(values: dict[str, Any], params: Mapping[str, Any], direction: Direction) -> dict[str, Any]:
    """Carry a value as a label, e.g. GitHub's ``priority: high`` convention.

    In: the first label starting with ``prefix`` becomes ``raw[field]`` and leaves the labels.
    Out: ``raw[field]`` becomes a label ``prefix + value``.
    """
    prefix = str(params["prefix"])
    name = str(params["field"])
    labels = list(values.get("labels") or [])
    raw = dict(values.get("raw") or {})
    if direction == "in":
        found = next((label for label in labels if label.startswith(prefix)), None)
        if found is not None:
            raw[name] = found[len(prefix):]
        values["labels"] = [label for label in labels if not label.startswith(prefix)]
    else:
        labels = [label for label in labels if not label.startswith(prefix)]
        if raw.get(name):
            labels.append(prefix + raw[name])
        values["labels"] = sorted(set(labels))
    values["raw"] = raw
    return values


@declare_params(TransformParams(others=str))
def label_map(values: dict[str, Any], params: Mapping[str, Any], direction: Direction) -> dict[str, Any]:
    """Carry a value as one of several fixed labels, e.g. GitHub's ``enhancement`` for a story.

    Params other than ``field`` map a label to a canonical value (``enhancement = "story"``).
    In: the first such label sets ``raw[field]`` and leaves the labels. Out: the label for
    ``raw[field]`` is added (the first label listed for that value).
    """
    name = str(params["field"])
    table = {str(k): str(v) for k, v in params.items() if k != "field"}
    labels = list(values.get("labels") or [])
    raw = dict(values.get("raw") or {})
    if direction == "in":
        found = next((label for label in labels if label in table), None)
        if found is not None:
            raw[name] = table[found]
        values["labels"] = [label for label in labels if label not in table]
    else:
        labels = [label for label in labels if label not in table]
        wanted = next((label for label, value in table.items() if value == raw.get(name)), None)
        if wanted is not None:
            labels.append(wanted)
        values["labels"] = sorted(set(labels))
    values["raw"] = raw
    return values


@declare_params(TransformParams(optional={"prefix": str, "space": str}))
def field_label(values: dict[str, Any], params: Mapping[str, Any], direction: Direction) -> dict[str, Any]:
    """Carry a canonical field that a tool has no place for (e.g. ``customer`` in Jira) as a label.

    In: the first label starting with ``prefix`` sets the field and leaves the labels. Out: the
    field's value becomes the label ``prefix + value``. Labels in some tools (Jira) cannot hold
    spaces, so spaces travel as ``space`` (default ``_``) and come back as spaces; a value that
    already held that character comes back with a space in its place.
    """
    name = str(params["field"])
    prefix = str(params.get("prefix", f"{name}:"))
    space = str(params.get("space", "_"))
    labels = list(values.get("labels") or [])
    if direction == "in":
        found = next((label for label in labels if label.startswith(prefix)), None)
        if found is not None:
            values[name] = found[len(prefix):].replace(space, " ") if space else found[len(prefix):]
        values["labels"] = [label for label in labels if not label.startswith(prefix)]
    else:
        labels = [label for label in labels if not label.startswith(prefix)]
        value = values.get(name)
        if value:
            labels.append(prefix + (str(value).replace(" ", space) if space else str(value)))
        values["labels"] = sorted(set(labels))
    return values


@hookimpl
def register_transforms(register: Callable[[str, Transform], None]) -> None:
    register("label_prefix", label_prefix)
    register("label_map", label_map)
    register("field_label", field_label)
