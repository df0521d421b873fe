"""Immunoprofile queries: `ALK+ SMA+ S100- SOX10-` -> the published cases consistent with it.

`parse_profile` is plain Python (a marker table in, terms and messages out);
the matching is done in the facet index (`bitmaps.agreement`, one set operation per
term; curation/search/bitmaps.py).

A case is *consistent* with a profile when at least one of its reported
results agrees with the profile and none contradicts it (a marker the paper
did not test neither agrees nor contradicts; equivocal results do neither).
Cases are ranked by the number of agreeing markers. This is a summary of
the literature in the registry, not a diagnosis.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import connection
from django.db.models import BooleanField, F, Func, IntegerField, Q, Value, When
from django.db.models import Case as SqlCase

MAX_TERMS = 12
# A marker is *tested* in a case with one of these results ("not reported" and "not
# performed" are not tests); a case with several results for a marker counts once,
# positive if any was (bitmaps.tested).
TESTED = ("positive", "negative", "equivocal")
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
        """Something to apply: the terms that could be read (errors are said, not fatal)."""
        return bool(self.terms)

    @property
    def normalised(self) -> str:
        return " ".join(term.written for term in self.terms)


def _qualifier(word: str) -> bool:
    """`focal`, `focally`, `weak`, `patchily`, `variably`: the extent or intensity of a
    stain. The words are the record's own (IHCResult.Extent and IHCResult.Intensity)
    and their adverbs; in a profile they qualify a result without changing it."""
    from curation.models import IHCResult

    words = {w for w, _ in (*IHCResult.Extent.choices, *IHCResult.Intensity.choices)}
    word = word.lower()
    adverb = {word}
    if word.endswith("ily"):
        adverb.add(word[:-3] + "y")  # patchily
    elif word.endswith("bly"):
        adverb.add(word[:-1] + "e")  # variably
    elif word.endswith("ly"):
        adverb.add(word[:-2])  # focally, diffusely, weakly
    return bool(adverb & words)


def _tokens(text: str) -> list[str]:
    """The profile's terms, each a marker written with its sign: `ALK+`, `S100-`.

    Pathologists write `ALK(+)`, `ALK (+)`, `S100 neg`, `SMA focal+`, `SMA focally
    positive`, `CD34 -`: a sign or result word (with its qualifiers) belongs to the
    marker before it."""
    text = re.sub(r"\(\s*([+\-\u2212\u2013])\s*\)", r"\1", text or "")  # ALK(+) -> ALK+
    tokens = [t for t in _SPLIT.split(text) if t]
    merged: list[str] = []
    for token in tokens:
        bare = token.rstrip(".")
        sign = bare[-1:] if bare[-1:] in _SIGNS else ""
        word = _WORDS.get(bare.lower())
        qualifier = _qualifier(bare[:-1] if sign else bare)
        open_marker = merged and merged[-1][-1] not in _SIGNS
        if open_marker and (word or (sign and (len(bare) == 1 or qualifier))):
            merged[-1] += sign or ("+" if word == "positive" else "-")
        elif open_marker and qualifier:
            continue  # "SMA focally positive": the result follows
        else:
            merged.append(bare or token)
    return merged


def parse_profile(text: str, markers: Iterable[tuple[int, str, Iterable[str]]]) -> Profile:
    """Read `ALK+ SMA+ S100- SOX10-` (also `ALK(+)`, `S-100 neg`, `SMA focal+`, commas)
    against the marker table.

    `markers` is (id, name, synonyms) rows. Unknown markers, tokens without a
    sign and a marker given both + and - are errors with a message each; the
    other terms are kept, so the rest of the profile still applies.
    """
    table: dict[str, tuple[int, str]] = {}
    for marker_id, name, synonyms in markers:
        for spelling in (name, *synonyms):
            table.setdefault(marker_key(str(spelling)), (marker_id, name))
    merged = _tokens(text)
    errors: list[str] = []
    chosen: dict[int, Term] = {}
    contradicted: set[int] = set()
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
        if marker_id in contradicted or (previous and previous.result != term.result):
            # Neither result is believed: the marker is left out, the rest applies.
            errors.append(f"{name} is given as both positive and negative; keep one.")
            chosen.pop(marker_id, None)
            contradicted.add(marker_id)
            continue
        chosen[marker_id] = term
    if not merged:
        errors.append("Enter a profile such as ALK+ SMA+ S100- SOX10-.")
    return Profile(tuple(chosen.values()), tuple(dict.fromkeys(errors)))


# -- the profile as a differential ----------------------------------------------------


@dataclass(frozen=True)
class Evidence:
    """One profile term under one diagnosis: its cases' counts and the smoothed chance."""

    term: Term
    positive: int
    tested: int

    @property
    def rate(self) -> float:
        """P(positive | diagnosis) with add-one (Laplace) smoothing: (k + 1) / (n + 2).
        Untested (n = 0): 1/2, which favours neither result."""
        return (self.positive + 1) / (self.tested + 2)

    @property
    def chance(self) -> float:
        """P(the profile's result for this marker | diagnosis)."""
        return self.rate if self.term.result == "positive" else 1 - self.rate

    @property
    def discordant(self) -> bool:
        """The diagnosis's cases mostly went the other way."""
        return self.tested > 0 and self.chance < 0.5


@dataclass(frozen=True)
class Likelihood:
    """A diagnosis ranked by how likely the profile is under it."""

    diagnosis_id: int
    name: str
    evidence: tuple[Evidence, ...]  # one per profile term, in the profile's order
    likelihood: float  # product of the terms' chances
    relative: float  # likelihood / the best diagnosis's likelihood

    @property
    def markers_tested(self) -> int:
        return sum(1 for e in self.evidence if e.tested)


def rank_differential(
    profile: Profile, counts: dict[tuple[int, str], dict[int, tuple[int, int]]]
) -> list[Likelihood]:
    """Diagnoses ranked by the likelihood of the profile under each (plain Python).

    `counts` is {(diagnosis id, name): {marker id: (cases positive, cases tested)}}.
    L(d) = product over the profile's markers m of P(m's result in the profile | d),
    with P(positive | d) = (k + 1) / (n + 2) and P(negative | d) = 1 - that: a naive
    product (markers taken as independent given the diagnosis), no prior for how
    common a diagnosis is. An untested marker contributes 1/2 to every diagnosis's
    product alike, so it counts neither way; a diagnosis enters the ranking when at
    least one profile marker was tested in its cases. A single discordant stain
    lowers a diagnosis (its factor is small) but never removes it.
    """
    ranked = []
    for (dx_id, name), by_marker in counts.items():
        evidence = tuple(Evidence(t, *by_marker.get(t.marker_id, (0, 0))) for t in profile.terms)
        if not any(e.tested for e in evidence):
            continue
        likelihood = 1.0
        for e in evidence:
            likelihood *= e.chance
        ranked.append((dx_id, name, evidence, likelihood))
    ranked.sort(key=lambda r: (-r[3], -sum(e.tested for e in r[2]), r[1].casefold(), r[0]))
    best = ranked[0][3] if ranked else 1.0
    return [Likelihood(i, n, ev, lk, lk / best) for i, n, ev, lk in ranked]


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
    """`cases` narrowed to the consistent ones (`matches` from bitmaps.agreement)."""
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
