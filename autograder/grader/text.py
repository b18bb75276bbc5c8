"""Student-controlled text made safe for where the grader writes it.

File names, notebook fields, exception messages and fault reasons come from
the submission. Before the grader writes any of them it passes through one of:

- ``clean``: valid Unicode that can be encoded as UTF-8 (lone surrogates and
  undecodable bytes of file names become U+FFFD), cut to a length;
- ``terminal``: ``clean`` plus every control or format character (ANSI
  escapes, carriage returns, bidi overrides) shown as a visible ``\\x..``
  escape, so a progress line can never be redrawn by a submission;
- ``markdown``: ``clean`` plus HTML and markdown syntax escaped, so a note
  renders as the literal text in the feedback, never as a tag or a link.
"""

from __future__ import annotations

import html
import re
import unicodedata

from .bounds import REASON_CHARS

_SURROGATES = re.compile(r"[\ud800-\udfff]")
#: Characters with a meaning in markdown; each is backslash-escaped (CommonMark allows it for all).
_MARKDOWN = re.compile(r"([\\`*_{}\[\]()#+\-.!|~>:])")


def clean(text, limit: int = REASON_CHARS) -> str:
    """``text`` as encodable Unicode of at most ``limit`` characters (an ellipsis marks a cut)."""
    text = _SURROGATES.sub("\ufffd", str(text))
    return text if len(text) <= limit else text[: max(limit - 1, 0)] + "\u2026"


def _visible(char: str) -> str:
    if char in "\n\t" or unicodedata.category(char) not in ("Cc", "Cf", "Zl", "Zp"):
        return char
    return f"\\x{ord(char):02x}" if ord(char) < 0x100 else f"\\u{ord(char):04x}"


def terminal(text, limit: int = REASON_CHARS) -> str:
    """``clean`` text on one line with no control character left: safe to print to a terminal."""
    text = clean(text, limit).replace("\n", " ").replace("\t", " ")
    return "".join(_visible(c) for c in text)


def markdown(text, limit: int = REASON_CHARS) -> str:
    """``clean`` text that a markdown renderer shows literally (no HTML, no links, no emphasis)."""
    return _MARKDOWN.sub(r"\\\1", html.escape(terminal(text, limit), quote=False))


def encodable(text: str) -> str:
    """``text`` with each lone surrogate (invalid in UTF-8) replaced by U+FFFD."""
    return _SURROGATES.sub("\ufffd", text)


def deep_clean(value):
    """A copy of a JSON-like tree in which every string is encodable (lone surrogates replaced)."""
    if isinstance(value, str):
        return encodable(value)
    if isinstance(value, list):
        return [deep_clean(v) for v in value]
    if isinstance(value, dict):
        return {deep_clean(k): deep_clean(v) for k, v in value.items()}
    return value
