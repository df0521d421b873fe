"""Full text over citation title and abstract and the case's own text.

PostgreSQL: `Case.search_vector` (kept by triggers, GIN-indexed) matched by
websearch_to_tsquery -- the parser search engines use, which never raises on
quotes, `&|!:*` or unbalanced input -- and ranked by ts_rank with weights
title A > case text B > abstract and notes C. SQLite: every word must occur
(icontains) in one of the same fields; no ranking. Same interface.
"""

from __future__ import annotations

import re

from django.contrib.postgres.search import SearchQuery, SearchRank
from django.db import connection
from django.db.models import F, Q, TextField, Value
from django.db.models.functions import Cast

from config.text import american_spelling, spelling_variants

CONFIG = "english"
MAX_WORDS = 8  # SQLite fallback: words matched
CASE_TEXT_FIELDS = (
    "site_detail",
    "clinical_presentation",
    "histology",
    "histology_pattern",
    "inflammatory_background",
    "notes",
)


def on_postgresql() -> bool:
    return connection.vendor == "postgresql"


def text_filter(cases, text: str, also: Q | None = None):
    """`cases` narrowed to those matching `text` (already cleaned), or `also`.

    `also` is what the text means beyond the words of the cases: the final
    diagnoses whose names or search terms the text names (curation.search.engine).
    """
    if not text:
        return cases
    also = also if also is not None else Q(pk__in=[])
    if on_postgresql():
        return cases.filter(Q(search_vector=_query(text)) | also)
    words = [w for w in re.split(r"[\s\"'&|!:*()<>]+", text) if w.strip("-")][:MAX_WORDS]
    if not words:
        return cases
    cases = cases.annotate(_abstract_text=Cast("citation__abstract", TextField()))
    matching = Q()
    for word in words:
        # As websearch_to_tsquery: "-word" means "without word".
        negated = word.startswith("-")
        word = word.lstrip("-")
        match = Q(pk__in=[])
        for variant in spelling_variants(word):
            match |= Q(citation__title__icontains=variant) | Q(_abstract_text__icontains=variant)
            for name in CASE_TEXT_FIELDS:
                match |= Q(**{f"{name}__icontains": variant})
        matching &= ~match if negated else match
    return cases.filter(matching | also)


def rank(cases, text: str):
    """Annotate `rank` (higher is better); 0 everywhere on SQLite or without text."""
    if text and on_postgresql():
        return cases.annotate(rank=SearchRank(F("search_vector"), _query(text)))
    return cases.annotate(rank=Value(0.0))


def _query(text: str) -> SearchQuery:
    """websearch_to_tsquery of the text, or of the text in the other spelling
    ("inflammatory myofibroblastic tumour" also as "... tumor", and back)."""
    query = SearchQuery(text, search_type="websearch", config=CONFIG)
    for respelled in _respellings(text):
        query |= SearchQuery(respelled, search_type="websearch", config=CONFIG)
    return query


def _respellings(text: str) -> list[str]:
    """The text with its British words American, and with its American words British."""
    out = []
    for side in (0, 1):
        words = []
        for word in text.split():
            variants = spelling_variants(word)
            is_british = (
                len(variants) > 1 and american_spelling(word.casefold()) != word.casefold()
            )
            if len(variants) > 1 and is_british == (side == 0):
                word = variants[1]
            words.append(word)
        respelled = " ".join(words)
        if respelled != text and respelled not in out:
            out.append(respelled)
    return out
