"""Markdown (pmhub's canonical body format) <-> Jira wiki markup (what REST v2 stores).

Jira -> Markdown is ``jira2markdown`` (its grammar built once, plain paragraphs skipped: it is slow);
Markdown -> Jira is ``mistletoe``'s Jira renderer (jira2markdown only goes one way). Two adjustments
make a round trip stable for everyday text, which matters because the engine compares what it wrote
with what it reads back to recognise its own echoes:

* no backslash escaping of ``_ - + * ~ ^ { } [ ]`` in plain text: mistletoe escapes them next to any
  word character, so ``snake_case`` would come back as ``snake\\_case`` and grow a new backslash on
  every trip. Jira itself reads ``snake_case`` and ``a-b`` literally.
* a single newline inside a paragraph stays a newline (Jira and GitHub both show it as a line break),
  and a fenced block without a language becomes ``{noformat}`` (jira2markdown would label a bare
  ``{code}`` block as Java).

Both libraries are imported on first use, so importing the connector stays cheap.
"""

from __future__ import annotations

import re
from functools import cache, lru_cache
from typing import Any


def wiki_to_markdown(text: str | None) -> str:
    """Markdown for a Jira wiki-markup body (None and "" give "")."""
    if not text:
        return ""
    if "{" in text:
        # {code}, {quote}, {panel}... may span blank lines: convert the body as one piece.
        return _tidy(_convert_wiki(text))
    # jira2markdown's pyparsing grammar costs ~0.3 ms per character, so a listing of long
    # descriptions would be dominated by it. Paragraphs made only of characters that no Jira markup
    # uses come out unchanged (checked in the tests), so only the others go through the grammar.
    # The separators are kept (the split captures them), so the result matches a whole conversion.
    parts = _BLANK_LINES.split(text.strip("\n"))
    return _tidy("".join(
        part if n % 2 or _is_plain(part) else _convert_wiki(part).strip("\n")
        for n, part in enumerate(parts)))


#: Letters, digits, white space and punctuation that no Jira markup (nor its Markdown escaping) uses.
_PLAIN_PUNCTUATION = frozenset(" \t\n.,;:'\"()/%$@=")
_BLANK_LINES = re.compile(r"(\n[ \t]*\n+)")
_BLOCK_PREFIX = re.compile(r"^\s*(?:h[1-6]|bq)\.", re.MULTILINE)


def _is_plain(block: str) -> bool:
    return (all(c.isalnum() or c in _PLAIN_PUNCTUATION for c in block)
            and not _BLOCK_PREFIX.search(block) and "--" not in block)


@lru_cache(maxsize=4096)
def _convert_wiki(text: str) -> str:
    # Cached: the overlap window and echo checks read the same bodies again.
    try:
        return str(_jira_grammar().transform_string(text))
    except Exception:  # the grammar's parse actions crash on some malformed tables and links
        # A body that cannot be converted is still worth syncing: as its raw wiki text, which reads
        # fine as Markdown, rather than a failed listing that stalls every record behind it.
        return text


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
def _jira_grammar() -> Any:
    """jira2markdown's grammar, built once: its ``convert()`` rebuilds the pyparsing grammar on every
    call (~80 ms), which would dominate listing a few thousand issues. Same construction as convert()."""
    import jira2markdown.parser  # noqa: F401 - sets pyparsing's whitespace handling the grammar needs
    from jira2markdown.elements import MarkupElements
    from pyparsing import Forward

    elements = MarkupElements()
    inline_markup = Forward()
    markup = Forward()
    inline_markup << elements.expr(inline_markup, markup, {},
                                   [e for e in elements if e.is_inline_element])
    markup << elements.expr(inline_markup, markup, {}, elements)
    return markup


@cache
def _renderer_class() -> Any:
    """mistletoe's Jira renderer with the adjustments described above (built once, lazily)."""
    from mistletoe.contrib.jira_renderer import JIRARenderer

    class PmhubJiraRenderer(JIRARenderer):
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
