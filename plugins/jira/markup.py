"""Markdown (pmhub's canonical body format) <-> Jira wiki markup (what REST v2 stores).

Jira -> Markdown is ``jira2markdown``; Markdown -> Jira is ``mistletoe``'s Jira renderer (jira2markdown
only goes one way). Two adjustments make a round trip stable for everyday text, which matters because
the engine compares what it wrote with what it reads back to recognise its own echoes:

* no backslash escaping of ``_ - + * ~ ^ { } [ ]`` in plain text: mistletoe escapes them next to any
  word character, so ``snake_case`` would come back as ``snake\\_case`` and grow a new backslash on
  every trip. Jira itself reads ``snake_case`` and ``a-b`` literally.
* a single newline inside a paragraph stays a newline (Jira and GitHub both show it as a line break),
  and a fenced block without a language becomes ``{noformat}`` (jira2markdown would label a bare
  ``{code}`` block as Java).

Both libraries are imported on first use, so importing the connector stays cheap.
"""

from __future__ import annotations

from functools import cache
from typing import Any


def wiki_to_markdown(text: str | None) -> str:
    """Markdown for a Jira wiki-markup body (None and "" give "")."""
    if not text:
        return ""
    from jira2markdown import convert

    return _tidy(convert(text))


def markdown_to_wiki(text: str | None) -> str:
    """Jira wiki markup for a Markdown body."""
    if not text or not text.strip():
        return ""
    import mistletoe

    with _renderer_class()() as renderer:
        return _tidy(renderer.render(mistletoe.Document(text)))


def _tidy(text: str) -> str:
    # Trailing blank lines and spaces carry nothing and differ between the two converters.
    return "\n".join(line.rstrip() for line in text.strip("\n").split("\n"))


@cache
def _renderer_class() -> Any:
    """mistletoe's Jira renderer with the adjustments described above (built once, lazily)."""
    from mistletoe.contrib.jira_renderer import JIRARenderer

    class PmhubJiraRenderer(JIRARenderer):  # type: ignore[misc]
        def render_raw_text(self, token: Any, escape: bool = True) -> str:
            return str(token.content)

        @staticmethod
        def render_line_break(token: Any) -> str:
            return "\n" if token.soft else "\\\\\n"

        def render_block_code(self, token: Any) -> str:
            if token.language:
                return str(super().render_block_code(token))
            body = token.children[0].content if token.children else ""
            return "{noformat}\n" + body + "{noformat}" + self._block_eol(token)

    return PmhubJiraRenderer
