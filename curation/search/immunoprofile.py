"""Immunoprofile queries: `ALK+ SMA+ S100- SOX10-` -> the published cases consistent with it.

`parse_profile` is plain Python (a marker table in, terms and messages out);
`profile_matches` does the matching in the database, in one grouped query.

A case is *consistent* with a profile when at least one of its reported
results agrees with the profile and none contradicts it (a marker the paper
did not test neither agrees nor contradicts; equivocal results do neither).
Cases are ranked by the number of agreeing markers. This is a summary of
the literature in the registry, not a diagnosis.
"""

from __future__ import annotations

import json
import operator
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import reduce

from django.db import connection
from django.db.models import BooleanField, Count, F, Func, IntegerField, Q, Value, When
from django.db.models import Case as SqlCase

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
    return reduce(operator.or_, (Q(marker_id=t.marker_id, result=t.result) for t in terms))


def _contradicts(terms: Iterable[Term]) -> Q:
    return reduce(
        operator.or_,
        (
            Q(marker_id=t.marker_id, result="negative" if t.result == "positive" else "positive")
            for t in terms
        ),
    )


def profile_matches(profile: Profile) -> dict[int, int]:
    """{case id: agreeing markers} of every case consistent with `profile`: ONE grouped query.

        SELECT case_id, COUNT(DISTINCT marker_id) FILTER (WHERE agrees),
               COUNT(*) FILTER (WHERE contradicts)
        FROM curation_ihcresult WHERE agrees OR contradicts   -- curation_ihc_marker_idx
        GROUP BY case_id HAVING agree >= 1 AND contradict = 0

    Only the profile's (marker, result) pairs are read, through the
    (marker, result) index; the result is the case set every facet and the
    result page then reuse (by id), instead of a correlated count per case.
    Cases of any status: callers narrow to published ones.
    """
    from curation.models import IHCResult

    if not profile.usable:
        return {}
    agrees, contradicts = _agrees(profile.terms), _contradicts(profile.terms)
    rows = (
        IHCResult.objects.filter(agrees | contradicts)
        .order_by()
        .values("case_id")
        .annotate(
            agree=Count("marker", distinct=True, filter=agrees),
            contradict=Count("pk", filter=contradicts),
        )
        .filter(agree__gte=1, contradict=0)
        .values_list("case_id", "agree")
    )
    return dict(rows)


class InArray(Func):
    """`<expression> = ANY(<array>)` (PostgreSQL): one parameter however many ids."""

    output_field = BooleanField()

    def __init__(self, expression, ids, **extra):
        super().__init__(expression, **extra)
        self.ids = list(ids)

    def as_sql(self, compiler, connection, **extra_context):
        lhs, params = compiler.compile(self.source_expressions[0])
        # One text constant ('{1,2,3}'::integer[]), not ARRAY[1,2,3]: PostgreSQL then
        # hashes it once per query instead of scanning it for every row.
        literal = "{" + ",".join(str(int(i)) for i in self.ids) + "}"
        return f"{lhs} = ANY(%s::integer[])", (*params, literal)


def _in_ids(ids) -> Q | InArray:
    ids = list(ids)
    if connection.vendor == "postgresql":
        return InArray(F("pk"), ids)
    return Q(pk__in=ids)


def consistent_filter(cases, matches: dict[int, int]):
    """`cases` narrowed to the consistent ones (`matches` from profile_matches)."""
    if not matches:
        return cases.none()
    return cases.filter(_in_ids(matches))


class Agreement(Func):
    """PostgreSQL: the agreeing-marker count of a case, looked up in one jsonb constant.

    `COALESCE(('{"101": 3, ...}'::jsonb ->> id::text)::integer, 0)`: a jsonb
    object's keys are sorted, so each row costs a binary search, where a CASE
    over id arrays scanned every array for every row (2 s for 33,000 cases).
    """

    output_field = IntegerField()

    def __init__(self, expression, matches: dict[int, int], **extra):
        super().__init__(expression, **extra)
        self.matches = matches

    def as_sql(self, compiler, connection, **extra_context):
        lhs, params = compiler.compile(self.source_expressions[0])
        mapping = json.dumps({str(int(k)): int(v) for k, v in self.matches.items()})
        return f"COALESCE(((%s::jsonb) ->> ({lhs})::text)::integer, 0)", (mapping, *params)


def with_agreement(cases, matches: dict[int, int]):
    """Annotate `profile_agree` (agreeing markers; 0 outside `matches`) for sorting."""
    if connection.vendor == "postgresql":
        return cases.annotate(profile_agree=Agreement(F("pk"), matches))
    by_count: dict[int, list[int]] = {}
    for case_id, agree in matches.items():
        by_count.setdefault(agree, []).append(case_id)
    whens = [When(pk__in=ids, then=Value(n)) for n, ids in sorted(by_count.items())]
    if not whens:
        return cases.annotate(profile_agree=Value(0, output_field=IntegerField()))
    return cases.annotate(
        profile_agree=SqlCase(*whens, default=Value(0), output_field=IntegerField())
    )


def marker_rows():
    """(id, name, synonyms) of every marker: one query."""
    from curation.models import Marker

    return list(Marker.objects.order_by("name").values_list("id", "name", "synonyms"))
