"""The facet index: for every facet value, the published cases that have it, as a bitmap.

A search's facet counts are intersections: the cases that match the search (every
filter but the facet's own) intersected with the cases of each value, counted
(`intersection_cardinality`). The bitmaps are compressed sets of case ids
(pyroaring, Roaring bitmaps); at 100,000 cases all the facet counts of any filter
take a few milliseconds, where a `GROUP BY` per facet over the filtered cases took
up to seconds for a query nobody had asked before (issue 19).

The index depends only on the published registry, so it is built once per
*registry generation* (curation/search/cache.py): by one process (single-flight),
kept in Redis for the other processes, and held in each process's memory while the
generation lasts. After a publication, while one process rebuilds it, every request
(the rebuilding one included, when settings.SEARCH_REFRESH_IN_BACKGROUND) is
answered from the previous generation's index.

Built from a fixed number of grouped queries whatever the registry's size (one per
case column, one per kind of child row); the cases' ids come back grouped by value
(`array_agg` on PostgreSQL).

What stays in the database: full-text matching (its GIN index gives the matching ids,
intersected here), the order of a result page, and the rows shown.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from functools import reduce

import numpy as np
from django.db import connection
from pyroaring import BitMap, FrozenBitMap

from curation.search import cache

EMPTY = FrozenBitMap()
# How long one process may hold the right to build before another may take over: longer
# than a build takes (1.6 s at 100,000 cases, 41 s at 1,000,000 measured).
BUILD_LOCK_SECONDS = 300

# Facets over a column of the case: facet -> column, grouped in the database.
CASE_COLUMNS = {
    "family": "final_diagnosis__family_id",
    "dx": "final_diagnosis_id",
    "site": "topography__code",
    "sex": "sex",
    "year": "citation__year",
    "grade": "evidence_grade",
    "outcome": "outcome",
    "source": "source_depth",
}


@dataclass
class FacetIndex:
    """Case ids of the published registry, by facet value (see the module's docstring)."""

    generation: int | None
    published: FrozenBitMap  # every published case
    retracted: FrozenBitMap  # those whose paper is retracted (left out unless asked)
    # facet -> value -> cases: CASE_COLUMNS' facets, "age" (band key), "five" and "three"
    # (gene id), "ihc" ((marker id, result)), and the child-row facets (finding, method,
    # treatment, event; facets.CHILD_FACETS).
    values: dict[str, dict[object, FrozenBitMap]] = field(default_factory=dict)
    # What the values are called: "family", "dx" (id -> name), "site" (code -> name),
    # "gene" (id -> approved symbol), "marker" (id -> name).
    labels: dict[str, dict] = field(default_factory=dict)
    # Each published case's place in the result list's default order (newest
    # publication first, engine.ordered): rank[case id], -1 for ids not published.
    rank: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int32))

    def cases(self, facet: str, value) -> FrozenBitMap:
        return self.values.get(facet, {}).get(value, EMPTY)

    def union(self, facet: str, values) -> BitMap:
        return BitMap.union(EMPTY, *(self.cases(facet, v) for v in values))


def in_order(index: FacetIndex, cases, start: int, stop: int, matches=None) -> list[int]:
    """Case ids `start:stop` of `cases` in the result list's order (engine.ordered):
    newest publication first; for a profile (`matches`: {case id: agreeing markers})
    the most agreeing markers first. Computed here whatever the number of cases (a
    sort of their ranks), instead of an ORDER BY over every matching case."""
    found = _array(cases)
    if not len(found) or start >= len(found):
        return []
    ranks = index.rank[found]
    if matches:
        keys = np.fromiter(matches.keys(), dtype=np.int64, count=len(matches))
        agree = np.fromiter(matches.values(), dtype=np.int64, count=len(matches))
        by_id = np.argsort(keys)
        at = np.clip(np.searchsorted(keys, found, sorter=by_id), 0, len(keys) - 1)
        hit = keys[by_id[at]] == found
        agreeing = np.where(hit, agree[by_id[at]], 0)
        chosen = np.lexsort((ranks, -agreeing))[start:stop]
    elif stop < len(found):
        first = np.argpartition(ranks, stop - 1)[:stop]
        chosen = first[np.argsort(ranks[first])][start:stop]
    else:
        chosen = np.argsort(ranks)[start:stop]
    return found[chosen].tolist()


def intersect(sets) -> BitMap:
    """The cases in every one of `sets` (at least one set)."""
    sets = sorted(sets, key=len)  # the smallest first: every step stays small
    return reduce(lambda a, b: a & b, sets[1:], BitMap(sets[0]))


def _array(bitmap) -> np.ndarray:
    """The ids of `bitmap`, ascending, as a numpy array (no copy through Python ints)."""
    return np.frombuffer(bitmap.to_array(), dtype=np.uint32).astype(np.int64)


def agreement(index: FacetIndex, terms) -> dict[int, int]:
    """{case id: agreeing markers} of the published cases consistent with the profile
    `terms` (immunoprofile.Term): at least one term agrees and none is contradicted.

    One rule with the immunoprofile page's wording: a term agrees when the case has the
    marker with the term's result, and is contradicted when the case has it with the
    opposite result (positive against negative); other results neither agree nor
    contradict."""
    terms = list(terms)
    if not terms:
        return {}
    agrees = [index.cases("ihc", (t.marker_id, t.result)) for t in terms]
    contradicts = [
        index.cases("ihc", (t.marker_id, "negative" if t.result == "positive" else "positive"))
        for t in terms
    ]
    consistent = BitMap.union(EMPTY, *agrees) - BitMap.union(EMPTY, *contradicts)
    if not consistent:
        return {}
    found = np.concatenate([_array(a & consistent) for a in agrees])
    case_ids, counts = np.unique(found, return_counts=True)
    return dict(zip(case_ids.tolist(), counts.tolist(), strict=True))


def tested_by_diagnosis(index: FacetIndex, cases, marker_ids) -> dict:
    """{(diagnosis id, name): {marker id: (positive, tested)}} among `cases`: for each
    final diagnosis and marker, the cases with a positive result and those tested
    (positive, negative or equivocal: immunoprofile.TESTED, the one rule of a marker's
    rate), each case once. Intersections only: no query."""
    from curation.search.immunoprofile import TESTED

    names = index.labels["dx"]
    counts: dict[tuple[int, str], dict[int, tuple[int, int]]] = {}
    for marker_id in marker_ids:
        tested = cases & BitMap.union(EMPTY, *(index.cases("ihc", (marker_id, r)) for r in TESTED))
        if not tested:
            continue
        positive = tested & index.cases("ihc", (marker_id, "positive"))
        for dx, of_dx in index.values["dx"].items():
            n = tested.intersection_cardinality(of_dx)
            if n:
                pair = (positive.intersection_cardinality(of_dx), n)
                counts.setdefault((dx, names.get(dx, "")), {})[marker_id] = pair
    return counts


# -- building -------------------------------------------------------------------------


def _grouped(rows, keys: tuple[str, ...], case_field: str, within=None) -> dict:
    """{value (or tuple of values) of `keys`: the cases of those rows}: one query.

    `within`: keep only these cases (a bitmap). Child rows are grouped whatever their
    case's status and narrowed here: cheaper than a join in the query."""
    found: dict[object, BitMap] = {}
    rows = rows.order_by()
    if connection.vendor == "postgresql":
        from django.contrib.postgres.aggregates import ArrayAgg

        # A row per value (a few hundred at most): fetched at once, no server cursor.
        for row in rows.values(*keys).annotate(case_ids=ArrayAgg(case_field)):
            key = tuple(row[k] for k in keys) if len(keys) > 1 else row[keys[0]]
            found[key] = BitMap(row["case_ids"])
    else:  # SQLite (make run without PostgreSQL): grouped here
        for *values, case_id in rows.values_list(*keys, case_field).iterator(chunk_size=5000):
            key = tuple(values) if len(keys) > 1 else values[0]
            found.setdefault(key, BitMap()).add(case_id)
    if within is not None:
        found = {key: cases & within for key, cases in found.items()}
    return {key: FrozenBitMap(cases) for key, cases in found.items() if cases}


def build(generation: int | None = None) -> FacetIndex:
    """The index of the published registry as it is now: a fixed number of queries."""
    from curation.models import (
        Case,
        ClinicalEvent,
        Diagnosis,
        DiagnosisFamily,
        FusionFinding,
        Gene,
        IHCResult,
        Marker,
        MolecularFinding,
        Topography,
        Treatment,
    )
    from curation.search.facets import CHILD_FACETS, LIST_ORDER, age_band

    published = Case.objects.published()
    order = np.fromiter(
        published.order_by(*LIST_ORDER).values_list("pk", flat=True).iterator(chunk_size=20000),
        dtype=np.int64,
    )
    rank = np.full(int(order.max()) + 1 if len(order) else 0, -1, dtype=np.int32)
    rank[order] = np.arange(len(order), dtype=np.int32)
    index = FacetIndex(
        generation=generation,
        published=FrozenBitMap(order.astype(np.uint32)),
        retracted=FrozenBitMap(Case.objects.left_out().values_list("pk", flat=True)),
        rank=rank,
    )
    values = index.values
    for facet, column in CASE_COLUMNS.items():
        values[facet] = {
            value: cases
            for value, cases in _grouped(published, (column,), "pk").items()
            if value not in (None, "")  # not reported
        }
    bands: dict[str, BitMap] = {}
    for (unit, age), cases in _grouped(
        published.filter(age__isnull=False), ("age_unit", "age"), "pk"
    ).items():
        band = age_band(unit, age)
        if band:
            bands.setdefault(band, BitMap()).update(cases)
    values["age"] = {band: FrozenBitMap(cases) for band, cases in bands.items()}
    everyone = index.published
    fusions = FusionFinding.objects.all()
    for facet, column in (("five", "five_prime_gene_id"), ("three", "three_prime_gene_id")):
        values[facet] = {
            gene: cases
            for gene, cases in _grouped(fusions, (column,), "case_id", everyone).items()
            if gene is not None
        }
    values["ihc"] = _grouped(IHCResult.objects.all(), ("marker_id", "result"), "case_id", everyone)
    # The child-row facets (facets.CHILD_FACETS): a value's cases are those with a row
    # of that value in any of the facet's tables; "fusion" is any fusion row.

    tables = {
        FusionFinding: fusions,
        MolecularFinding: MolecularFinding.objects.all(),
        Treatment: Treatment.objects.all(),
        ClinicalEvent: ClinicalEvent.objects.all(),
    }
    for facet, definition in CHILD_FACETS.items():
        found: dict[object, BitMap] = {}
        for model, column in definition.sources:
            rows = tables[model]
            if column == "fusion":
                grouped = {"fusion": BitMap.union(EMPTY, *values["three"].values())}
                grouped["fusion"] |= BitMap.union(EMPTY, *values["five"].values())
                # a fusion row with neither partner named is a fusion all the same
                grouped["fusion"] |= BitMap(
                    rows.filter(five_prime_gene=None, three_prime_gene=None).values_list(
                        "case_id", flat=True
                    )
                )
                grouped["fusion"] &= everyone
            else:
                grouped = _grouped(rows, (column,), "case_id", everyone)
            for value, cases in grouped.items():
                if value:
                    found.setdefault(value, BitMap()).update(cases)
        values[facet] = {value: FrozenBitMap(cases) for value, cases in found.items()}
    labels = index.labels
    labels["family"] = dict(
        DiagnosisFamily.objects.filter(pk__in=list(values["family"])).values_list("pk", "name")
    )
    labels["dx"] = dict(
        Diagnosis.objects.filter(pk__in=list(values["dx"])).values_list("pk", "name")
    )
    labels["site"] = dict(
        Topography.objects.filter(code__in=list(values["site"])).values_list("code", "name")
    )
    genes = {*values["five"], *values["three"]}
    labels["gene"] = dict(Gene.objects.filter(pk__in=list(genes)).values_list("pk", "symbol"))
    markers = {marker for marker, _ in values["ihc"]}
    labels["marker"] = dict(Marker.objects.filter(pk__in=list(markers)).values_list("pk", "name"))
    return index


# -- the index of the current generation ----------------------------------------------

_held: dict[str, FacetIndex] = {}  # this process's index: {"index": FacetIndex}
_lock = threading.Lock()


def current() -> FacetIndex:
    """The index of the registry's generation (or, while one process rebuilds it after
    a change, of the previous one): from this process's memory, else from the cache,
    else built here. With the cache off (no Redis), built for every call."""
    gen = cache.generation()
    if gen is None:
        return build()
    held = _held.get("index")
    if held is not None and held.generation == gen:
        return held
    if held is not None and not 0 <= gen - (held.generation or 0) <= cache.STALE_GENERATIONS:
        held = None  # from many changes back: not served, even while the new one is built
    index = cache.cached(
        "facetindex",
        (),
        lambda: build(gen),
        held=held,
        background=True,
        lock_seconds=BUILD_LOCK_SECONDS,
    )
    with _lock:
        mine = _held.get("index")
        if mine is None or (index.generation or 0) >= (mine.generation or 0):
            _held["index"] = index
    return index


def is_current(index: FacetIndex) -> bool:
    """Is `index` the registry generation's own (not the previous one, served while the
    new one is built)? What is derived from a previous index must not be cached for the
    new generation."""
    gen = cache.generation()
    return gen is None or index.generation == gen


def forget_held() -> None:
    """Drop this process's index (tests: each test's registry is its own)."""
    with _lock:
        _held.clear()
