"""Marks an entity's terms in sanitised HTML (a title or an abstract section). Django-free.

Only the text between tags is searched, so markup the sanitiser kept
(<i>, <sup>...) is never split; matches are whole words, in any letter case.
"""

from __future__ import annotations

import re

_TAG = re.compile(r"(<[^>]*>)")


def term_pattern(terms) -> re.Pattern | None:
    """One pattern for all the terms, longest first ("ALK-positive" before "ALK")."""
    cleaned = sorted({t.strip() for t in terms if t and t.strip()}, key=len, reverse=True)
    if not cleaned:
        return None
    alternatives = "|".join(re.escape(t) for t in cleaned)
    return re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.IGNORECASE)


def highlight(html: str, pattern: re.Pattern | None) -> str:
    """`html` (already safe) with every match of `pattern` wrapped in <mark>."""
    if pattern is None or not html:
        return html
    parts = _TAG.split(html)
    for i in range(0, len(parts), 2):  # even positions are text, odd ones tags
        parts[i] = pattern.sub(lambda m: f"<mark>{m.group(0)}</mark>", parts[i])
    return "".join(parts)


# A quoted phrase searched in titles or abstracts: "inflammatory myofibroblastic tumor"[tiab].
_QUERY_PHRASE = re.compile(
    r'"([^"]{2,200})"\s*\[(?:tiab|ti|ab|tw|title|abstract)\]', re.IGNORECASE
)


def query_phrases(query: str) -> list[str]:
    """The phrases a PubMed query looks for in titles and abstracts (MeSH terms are not text)."""
    return [phrase.strip() for phrase in _QUERY_PHRASE.findall(query or "")]
