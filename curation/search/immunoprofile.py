"""Immunoprofile queries: `ALK+ SMA+ S100- SOX10-` -> the published cases consistent with it.

`parse_profile` is plain Python (a marker table in, terms and messages out);
`consistent_cases` does the matching in the database.

A case is *consistent* with a profile when at least one of its reported
results agrees with the profile and none contradicts it (a marker the paper
did not test neither agrees nor contradicts; equivocal results do neither).
Cases are ranked by the number of agreeing markers. This is a summary of
the literature in the registry, not a diagnosis.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Count, Exists, IntegerField, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce

MAX_TERMS = 12
_SIGNS = {"+": "positive", "-": "negative", "\u2212": "negative", "\u2013": "negative"}
_WORDS = {"pos": "positive", "positive": "positive", "neg": "negative", "negative": "negative"}
_SPLIT = re.compile(r"[\s,;]+")


def marker_key(text: str) -> str:
    """Spelling-insensitive key: "S-100" == "s100", "Melan A" == "MelanA"."""
    text = text.lower().replace("\u03b1", "alpha").replace("\u03b2", "beta")
    return re.sub(r"[^0-9a-z\u0394\u03b4]+", "", text)


@dataclass(frozen=True)
class Term:
    marker_id: int
    marker: str  # the vocabulary's name
    result: str  # "positive" | "negative"

    @property
    def written(self) -> str:
        return f"{self.marker}{'+' if self.result == 'positive' else '-'}"


@dataclass(frozen=True)
class Profile:
    terms: tuple[Term, ...]
    errors: tuple[str, ...]

    @property
    def usable(self) -> bool:
        return bool(self.terms) and not self.errors

    @property
    def normalised(self) -> str:
        return " ".join(term.written for term in self.terms)


def parse_profile(text: str, markers: Iterable[tuple[int, str, Iterable[str]]]) -> Profile:
    """Read `ALK+ SMA+ S100- SOX10-` (also `S-100 neg`, commas) against the marker table.

    `markers` is (id, name, synonyms) rows. Unknown markers, tokens without a
    sign and a marker given both + and - are errors with a message each.
    """
    table: dict[str, tuple[int, str]] = {}
    for marker_id, name, synonyms in markers:
        for spelling in (name, *synonyms):
            table.setdefault(marker_key(str(spelling)), (marker_id, name))
    tokens = [t for t in _SPLIT.split(text or "") if t]
    # "S100 neg": a result word belongs to the token before it.
    merged: list[str] = []
    for token in tokens:
        word = _WORDS.get(token.lower())
        if word and merged and merged[-1][-1] not in "+-\u2212\u2013":
            merged[-1] += "+" if word == "positive" else "-"
        else:
            merged.append(token)
    errors: list[str] = []
    chosen: dict[int, Term] = {}
    if len(merged) > MAX_TERMS:
        errors.append(f"A profile has at most {MAX_TERMS} markers; you gave {len(merged)}.")
        merged = merged[:MAX_TERMS]
    for token in merged:
        sign = token[-1]
        if sign not in _SIGNS or len(token) < 2:
            errors.append(
                f"“{token[:40]}” has no result: write a marker followed by + or -, "
                "e.g. ALK+ S100-."
            )
            continue
        found = table.get(marker_key(token[:-1]))
        if found is None:
            errors.append(f"“{token[:-1][:40]}” is not a marker RareDerm knows.")
            continue
        marker_id, name = found
        term = Term(marker_id, name, _SIGNS[sign])
        previous = chosen.get(marker_id)
        if previous and previous.result != term.result:
            errors.append(f"{name} is given as both positive and negative; keep one.")
            continue
        chosen[marker_id] = term
    if not merged:
        errors.append("Enter a profile such as ALK+ SMA+ S100- SOX10-.")
    return Profile(tuple(chosen.values()), tuple(dict.fromkeys(errors)))


def _agrees(terms: Iterable[Term]) -> Q:
    condition = Q(pk__in=[])
    for term in terms:
        condition |= Q(marker_id=term.marker_id, result=term.result)
    return condition


def _contradicts(terms: Iterable[Term]) -> Q:
    condition = Q(pk__in=[])
    for term in terms:
        opposite = "negative" if term.result == "positive" else "positive"
        condition |= Q(marker_id=term.marker_id, result=opposite)
    return condition


def consistent_cases(cases, profile: Profile):
    """`cases` narrowed to those consistent with the profile, annotated `profile_agree`."""
    from curation.models import IHCResult

    agree = (
        IHCResult.objects.filter(case=OuterRef("pk"))
        .filter(_agrees(profile.terms))
        .order_by()
        .values("case")
        .annotate(n=Count("marker", distinct=True))
        .values("n")
    )
    contradiction = IHCResult.objects.filter(case=OuterRef("pk")).filter(
        _contradicts(profile.terms)
    )
    # Candidates first: cases with an agreeing result, found through the
    # (marker, result) index; the per-case count then runs on those only.
    agreeing = IHCResult.objects.filter(_agrees(profile.terms)).values("case_id")
    return (
        cases.filter(pk__in=agreeing)
        .exclude(Exists(contradiction))
        .annotate(profile_agree=Coalesce(Subquery(agree, output_field=IntegerField()), Value(0)))
    )


def marker_rows():
    """(id, name, synonyms) of every marker: one query."""
    from curation.models import Marker

    return list(Marker.objects.order_by("name").values_list("id", "name", "synonyms"))
