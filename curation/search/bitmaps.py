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

Built from a fixed number of queries whatever the registry's size (one grouped query
per case column and per kind of child row; the cases' ids come back grouped by value,
`array_agg` on PostgreSQL), with each case's numbers (age, size, follow-up, paper, year)
as arrays. Besides the search's counts, the index gives the list's default and numeric
column orders and every number of the entity, stains, statistics and gene pages.

What stays in the database: full-text matching (its GIN index gives the matching ids,
intersected here) and its ranking, the text column sorts, and the rows shown.
"""

from __future__ import annotations

import array
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
# IHC results by marker, clone and result (the stains page's per-clone rates): the clone
# as the stains page groups it (answers.clone_key: the controlled term, else the text).
IHC_BY_CLONE = "ihcclone"
# The clones as entered, by marker, of the tested results (the entity page lists them).
CLONES_ENTERED = "clones"
# Fusion findings by 5' gene, 3' gene (ids, None when not named) and method.
FUSIONS = "fusions"


@dataclass
class FacetIndex:
    """Case ids of the published registry, by facet value (see the module's docstring)."""

    generation: int | None
    published: FrozenBitMap  # every published case
    retracted: FrozenBitMap  # those whose paper is retracted (left out unless asked)
    # facet -> value -> cases: CASE_COLUMNS' facets, "age" (band key), "five" and "three"
    # (gene id), "ihc" ((marker id, result)), IHC_BY_CLONE, CLONES_ENTERED, FUSIONS, and
    # the child-row facets (finding, method, treatment, event; facets.CHILD_FACETS).
    values: dict[str, dict[object, FrozenBitMap]] = field(default_factory=dict)
    # What the values are called: "family", "dx" (id -> name), "site" (code -> name),
    # "gene" (id -> approved symbol), "marker" (id -> name).
    labels: dict[str, dict] = field(default_factory=dict)
    # Each published case's place in the result list's default order (newest
    # publication first, engine.ordered): rank[case id], -1 for ids not published.
    rank: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int32))
    # Numbers of each published case, by case id (NUMBERS; NaN, or -1 for "citation",
    # when not reported or not published): medians and distinct papers of any set of
    # cases without a query.
    numbers: dict[str, np.ndarray] = field(default_factory=dict)

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


def counted(index: FacetIndex, *, retracted: bool = False) -> FrozenBitMap:
    """The published cases as searches and answers count them: those of retracted papers
    only with `retracted` (Case.objects.counted)."""
    return index.published if retracted else index.published - index.retracted


def counts(index: FacetIndex, facet: str, cases) -> dict:
    """{value: how many of `cases` have it} for the values of `facet` some of them have."""
    return {
        value: n
        for value, of_value in index.values.get(facet, {}).items()
        if (n := cases.intersection_cardinality(of_value))
    }


def values_of(index: FacetIndex, name: str, cases) -> np.ndarray:
    """The reported values of number `name` (NUMBERS) of `cases`, NaNs left out."""
    found = index.numbers[name][_array(cases)]
    return found[~np.isnan(found)]


def having(index: FacetIndex, name: str, cases) -> BitMap:
    """Those of `cases` whose number `name` (NUMBERS) is reported."""
    ids = _array(cases)
    return BitMap(ids[~np.isnan(index.numbers[name][ids])].astype(np.uint32))


def papers_of(index: FacetIndex, cases) -> int:
    """How many distinct papers (primary citations) `cases` come from."""
    citations = index.numbers["citation"][_array(cases)]
    return int(np.unique(citations[citations >= 0]).size)


def newest(cases, count: int) -> list[int]:
    """The `count` highest case ids of `cases`, highest first (the cases a cell of
    counts points to: the most recently entered)."""
    return list(cases[-count:])[::-1] if count else []


# The table's column sorts the index can order by (params.COLUMN_SORTS): column -> number.
NUMBER_SORTS = {"age": "age", "size": "size", "follow_up": "follow_up", "year": "year"}


def in_column_order(
    index: FacetIndex, cases, column: str, descending: bool, start: int, stop: int
) -> list[int]:
    """Case ids `start:stop` of `cases` sorted by a numeric column (NUMBER_SORTS), cases
    without the value last either way, then the highest id first: engine.ordered's
    column sort, without an ORDER BY over every matching case."""
    found = _array(cases)
    if not len(found) or start >= len(found):
        return []
    values = index.numbers[NUMBER_SORTS[column]][found]
    missing = np.isnan(values)
    key = np.where(missing, 0.0, -values if descending else values)
    chosen = np.lexsort((-found, key, missing))[start:stop]
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


def tested(of_result, cases) -> tuple[BitMap, int]:
    """The cases of `cases` tested for a marker and how many of them were positive, from
    the marker's cases by result (`of_result`: {result: cases}, for one clone or all):
    a case is tested when it has a positive, negative or equivocal result
    (immunoprofile.TESTED), positive when one of them is positive; each case once. The
    one counting rule of a marker's rate (the entity page, the stains page, the
    profile's differential)."""
    from curation.search.immunoprofile import TESTED

    found = BitMap.union(EMPTY, *(of_result.get(result, EMPTY) for result in TESTED)) & cases
    return found, found.intersection_cardinality(of_result.get("positive", EMPTY))


def tested_by_diagnosis(index: FacetIndex, cases, marker_ids) -> dict:
    """{(diagnosis id, name): {marker id: (positive, tested)}} among `cases`: for each
    final diagnosis and marker, the cases with a positive result and those tested
    (`tested`). Intersections only: no query."""
    names = index.labels["dx"]
    counts: dict[tuple[int, str], dict[int, tuple[int, int]]] = {}
    results = {result for _, result in index.values["ihc"]}
    for marker_id in marker_ids:
        of_result = {result: index.cases("ihc", (marker_id, result)) for result in results}
        tested_cases, _ = tested(of_result, cases)
        if not tested_cases:
            continue
        positive = tested_cases & of_result.get("positive", EMPTY)
        for dx, of_dx in index.values["dx"].items():
            n = tested_cases.intersection_cardinality(of_dx)
            if n:
                pair = (positive.intersection_cardinality(of_dx), n)
                counts.setdefault((dx, names.get(dx, "")), {})[marker_id] = pair
    return counts


# -- building -------------------------------------------------------------------------


def _bitmap_of(ids: str) -> BitMap:
    """The bitmap of "12,7,300" (PostgreSQL's string_agg of case ids)."""
    return BitMap(array.array("I", np.fromstring(ids, dtype=np.uint32, sep=",").tobytes()))


def _grouped(rows, keys: tuple[str, ...], case_field: str, within=None) -> dict:
    """{value (or tuple of values) of `keys`: the cases of those rows}: one query.

    `within`: keep only these cases (a bitmap). Child rows are grouped whatever their
    case's status and narrowed here: cheaper than a join in the query."""
    found: dict[object, BitMap] = {}
    rows = rows.order_by()
    if connection.vendor == "postgresql":
        from django.contrib.postgres.aggregates import StringAgg
        from django.db.models import TextField
        from django.db.models.functions import Cast

        # A row per value (a few hundred at most), its cases as one text of ids, read by
        # numpy: never as Python ints (a list of 4.8 million of them for the IHC rows at
        # 1,000,000 cases is 170 MB; their text is 34 MB), and faster. Fetched at once:
        # a server cursor (WITH HOLD, outside a transaction) costs more than it saves.
        grouped = rows.values(*keys).annotate(
            case_ids=StringAgg(Cast(case_field, TextField()), ",")
        )
        for row in grouped:
            key = tuple(row[k] for k in keys) if len(keys) > 1 else row[keys[0]]
            found[key] = _bitmap_of(row["case_ids"])
    else:  # SQLite (make run without PostgreSQL): grouped here
        for *values, case_id in rows.values_list(*keys, case_field).iterator(chunk_size=5000):
            key = tuple(values) if len(keys) > 1 else values[0]
            found.setdefault(key, BitMap()).add(case_id)
    if within is not None:
        found = {key: cases & within for key, cases in found.items()}
    return {key: FrozenBitMap(cases) for key, cases in found.items() if cases}


# The numbers kept per case (FacetIndex.numbers): name -> its column, as a float.
NUMBERS = ("age", "size", "follow_up")


def _numbers(cases) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """The ids of `cases` in their order, and NUMBERS and "citation" by case id: read in
    chunks (a million cases would be a million tuples at once)."""
    from django.db.models import FloatField, Max
    from django.db.models.functions import Cast

    from curation.search.facets import age_in_years

    top = cases.aggregate(top=Max("pk"))["top"]
    size = 0 if top is None else top + 1
    numbers = {name: np.full(size, np.nan) for name in NUMBERS}
    numbers["citation"] = np.full(size, -1, dtype=np.int32)
    columns = ("pk", "citation_id", "age_years", "size_as_float", "follow_up_as_float")
    rows = cases.annotate(
        age_years=Cast(age_in_years(), FloatField()),
        size_as_float=Cast("size_mm", FloatField()),
        follow_up_as_float=Cast("follow_up_months", FloatField()),
    ).values_list(*columns)
    order, chunk = [], []

    def store():
        ids = np.array([row[0] for row in chunk], dtype=np.int64)
        order.append(ids)
        numbers["citation"][ids] = [-1 if row[1] is None else row[1] for row in chunk]
        for position, name in enumerate(NUMBERS, start=2):
            numbers[name][ids] = np.array([row[position] for row in chunk], dtype=float)
        chunk.clear()

    for row in rows.iterator(chunk_size=CHUNK):
        chunk.append(row)
        if len(chunk) == CHUNK:
            store()
    if chunk:
        store()
    return (np.concatenate(order) if order else np.zeros(0, dtype=np.int64)), numbers


CHUNK = 20000


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
    from curation.search.facets import CHILD_FACETS, CLONE_KEY, LIST_ORDER, age_band
    from curation.search.immunoprofile import TESTED

    published = Case.objects.published()
    order, numbers = _numbers(published.order_by(*LIST_ORDER))
    rank = np.full(numbers["citation"].size, -1, dtype=np.int32)
    rank[order] = np.arange(len(order), dtype=np.int32)
    index = FacetIndex(
        generation=generation,
        published=FrozenBitMap(order.astype(np.uint32)),
        retracted=FrozenBitMap(Case.objects.left_out().values_list("pk", flat=True)),
        rank=rank,
        numbers=numbers,
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
    # The paper's year as a number too (the table's year sort).
    index.numbers["year"] = np.full(rank.size, np.nan)
    for year, cases in values["year"].items():
        index.numbers["year"][_array(cases)] = year
    everyone = index.published
    fusions = FusionFinding.objects.all()
    values[FUSIONS] = _grouped(
        fusions, ("five_prime_gene_id", "three_prime_gene_id", "method"), "case_id", everyone
    )
    for facet, position in (("five", 0), ("three", 1)):
        genes: dict[int, BitMap] = {}
        for key, cases in values[FUSIONS].items():
            if key[position] is not None:
                genes.setdefault(key[position], BitMap()).update(cases)
        values[facet] = {gene: FrozenBitMap(cases) for gene, cases in genes.items()}
    values["ihc"] = _grouped(IHCResult.objects.all(), ("marker_id", "result"), "case_id", everyone)
    values[IHC_BY_CLONE] = _grouped(
        IHCResult.objects.annotate(clone_key=CLONE_KEY),
        ("marker_id", "clone_key", "result"),
        "case_id",
        everyone,
    )
    values[CLONES_ENTERED] = _grouped(
        IHCResult.objects.filter(result__in=TESTED).exclude(clone=""),
        ("marker_id", "clone"),
        "case_id",
        everyone,
    )
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
            if column == "fusion":  # any fusion row, partners named or not
                grouped = {"fusion": BitMap.union(EMPTY, *values[FUSIONS].values())}
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


def cached(kind: str, parts, compute, **options):
    """compute(index) with the facet index of the registry's generation, cached for the
    generation like cache.cached (same `options`); a value computed from the previous
    generation's index (served while the new one is built) is returned, not kept: kept,
    it would hide the change that started the generation until the next one."""

    def from_index():
        index = current()
        return index.generation, compute(index)

    _generation, value = cache.cached(
        kind,
        parts,
        from_index,
        keep=lambda computed: computed[0] == cache.generation(),
        **options,
    )
    return value


def forget_held() -> None:
    """Drop this process's index (tests: each test's registry is its own)."""
    with _lock:
        _held.clear()
