"""Jira wiki markup <-> Atlassian Document Format, as far as the stand-in needs it.

The stand-in stores bodies as wiki markup (what REST v2 speaks) and converts to ADF for v3
readers, and back for v3 writers, so either API version reads what the other wrote. Wiki -> ADF
keeps inline markup as literal text (it parses blocks only), which makes wiki -> ADF -> wiki the
identity; ADF marks written through v3 become their wiki spelling.
"""

from __future__ import annotations

import re
from typing import Any

_HEADING = re.compile(r"^h([1-6])\.\s+(.*)$")
_BULLET = re.compile(r"^([*#]+)\s+(.*)$")
#: A {code}/{noformat} opener alone on its line starts a fenced block.
_FENCE = re.compile(r"^\{(code|noformat)(?::[^}]*)?\}$")


def is_adf(value: Any) -> bool:
    return isinstance(value, dict) and value.get("type") == "doc" and isinstance(
        value.get("content"), list)


def wiki_to_adf(text: str | None) -> dict[str, Any] | None:
    """A v3 document for a stored wiki body (None stays None, as Jira sends null)."""
    if text is None:
        return None
    content: list[dict[str, Any]] = []
    for block in _blocks(text):
        content.append(_block_to_adf(block))
    return {"type": "doc", "version": 1, "content": content}


def adf_to_wiki(doc: Any) -> str:
    """Wiki markup for a v3 document; unknown nodes keep their text."""
    if not is_adf(doc):
        raise ValueError("not an Atlassian Document")
    return "\n\n".join(_node_to_wiki(node) for node in doc["content"])


def _blocks(text: str) -> list[str]:
    """Split on blank lines, but keep {code}/{noformat} blocks whole."""
    blocks: list[str] = []
    current: list[str] = []
    fence: str | None = None
    for line in text.split("\n"):
        stripped = line.strip()
        opener = _FENCE.match(stripped)
        if fence is None and opener:
            fence = "{" + opener.group(1) + "}"
            if current:
                blocks.append("\n".join(current))
                current = []
            current.append(line)
            continue
        if fence is not None:
            current.append(line)
            if stripped == fence:
                blocks.append("\n".join(current))
                current, fence = [], None
            continue
        if stripped == "":
            if current:
                blocks.append("\n".join(current))
                current = []
            continue
        current.append(line)
    if current:
        blocks.append("\n".join(current))
    return blocks


def _inline(text: str) -> list[dict[str, Any]]:
    nodes: list[dict[str, Any]] = []
    for index, line in enumerate(text.split("\n")):
        if index:
            nodes.append({"type": "hardBreak"})
        if line:
            nodes.append({"type": "text", "text": line})
    return nodes


def _block_to_adf(block: str) -> dict[str, Any]:
    first = block.split("\n", 1)[0].strip()
    if first.startswith(("{code", "{noformat")):
        lines = block.split("\n")
        lang_match = re.match(r"\{code:(?:language=)?([\w+#-]+)", first)
        body = "\n".join(lines[1:-1])
        node: dict[str, Any] = {"type": "codeBlock", "content": [{"type": "text", "text": body}]
                                if body else []}
        if lang_match:
            node["attrs"] = {"language": lang_match.group(1)}
        if first.startswith("{noformat"):
            node["attrs"] = {"language": "noformat"}
        return node
    heading = _HEADING.match(block)
    if heading and "\n" not in block:
        return {"type": "heading", "attrs": {"level": int(heading.group(1))},
                "content": _inline(heading.group(2))}
    lines = block.split("\n")
    bullets = [_BULLET.match(line) for line in lines]
    if all(bullets) and len({m.group(1) for m in bullets if m}) == 1:
        marker = bullets[0].group(1)  # type: ignore[union-attr]
        if len(marker) == 1:
            kind = "bulletList" if marker == "*" else "orderedList"
            return {"type": kind, "content": [
                {"type": "listItem", "content": [{"type": "paragraph",
                                                  "content": _inline(m.group(2))}]}
                for m in bullets if m
            ]}
    return {"type": "paragraph", "content": _inline(block)}


_MARKS = {"strong": ("*", "*"), "em": ("_", "_"), "strike": ("-", "-"), "underline": ("+", "+"),
          "code": ("{{", "}}"), "subsup": ("~", "~")}


def _node_to_wiki(node: dict[str, Any]) -> str:
    kind = node.get("type")
    children = node.get("content") or []
    if kind == "text":
        text = str(node.get("text", ""))
        for mark in node.get("marks") or []:
            mark_type = mark.get("type")
            if mark_type == "link":
                text = f"[{text}|{mark.get('attrs', {}).get('href', '')}]"
            elif mark_type in _MARKS:
                left, right = _MARKS[mark_type]
                text = f"{left}{text}{right}"
        return text
    if kind == "hardBreak":
        return "\n"
    if kind == "mention":
        return f"[~accountid:{node.get('attrs', {}).get('id', '')}]"
    if kind in ("emoji", "status", "date", "inlineCard"):
        attrs = node.get("attrs", {})
        return str(attrs.get("text") or attrs.get("shortName") or attrs.get("url") or "")
    if kind == "paragraph":
        return "".join(_node_to_wiki(child) for child in children)
    if kind == "heading":
        level = node.get("attrs", {}).get("level", 1)
        return f"h{level}. " + "".join(_node_to_wiki(child) for child in children)
    if kind in ("bulletList", "orderedList"):
        marker = "*" if kind == "bulletList" else "#"
        items = []
        for item in children:
            text = " ".join(_node_to_wiki(part) for part in item.get("content") or [])
            items.append(f"{marker} {text}")
        return "\n".join(items)
    if kind == "codeBlock":
        language = (node.get("attrs") or {}).get("language")
        body = "".join(_node_to_wiki(child) for child in children)
        if language == "noformat":
            return f"{{noformat}}\n{body}\n{{noformat}}"
        opener = f"{{code:{language}}}" if language else "{code}"
        return f"{opener}\n{body}\n{{code}}"
    if kind == "blockquote":
        inner = "\n\n".join(_node_to_wiki(child) for child in children)
        return f"{{quote}}\n{inner}\n{{quote}}"
    if kind == "rule":
        return "----"
    return "".join(_node_to_wiki(child) for child in children)
