"""Answers over the published registry: an entity's page and the stains that separate
diagnoses (issue 15). The numbers are counted in the facet index (curation/search/
bitmaps.py: the published cases of each diagnosis, site, marker result, clone, fusion...
as bitmaps, and each case's age, size, follow-up and paper), by intersections: a few
milliseconds for a diagnosis of 20,000 cases, where grouped queries over its cases took
one to two seconds (issue 19); medians with numpy, Fisher's exact test with SciPy
(`scipy.stats.fisher_exact`).

A diagnosis's cases are the published cases whose final diagnosis is the entity or one
of its subtypes. Percentages are of the cases *tested* for a marker (a positive,
negative or equivocal result); "not reported" and "not performed" are not tests.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from urllib.parse import quote

import numpy as np
from django.db.models import Count, Q
from django.urls import reverse
from django.utils.text import slugify
from pyroaring import FrozenBitMap
from scipy.stats import fisher_exact

from curation import molecular
from curation.models import (
    Case,
    ClinicalEvent,
    Diagnosis,
    MolecularFinding,
    Treatment,
)
from curation.notation import format_fusion
from curation.search import bitmaps
from curation.search import cache as search_cache

# A marker tested in fewer cases of a diagnosis than this is shown, but marked.
FEW_TESTED = 5
NEWEST = 10
REFERENCES_PER_CELL = 12
MAX_DIAGNOSES = 4


# -- diagnoses by slug ---------------------------------------------------------------


def name_slug(name: str) -> str:
    """The slug of a diagnosis's name: its page is /diagnoses/<slug>/."""
    return slugify(name)


def entity_url(diagnosis) -> str:
    """The entity page (/diagnoses/<slug>/) of a diagnosis, given it or its name; "" for
    none. The one way pages link a diagnosis to its entity page."""
    name = getattr(diagnosis, "name", diagnosis)
    slug = name_slug(str(name)) if name else ""
    return reverse("curation:diagnosis", args=[slug]) if slug else ""


def diagnosis_slug(diagnosis: Diagnosis) -> str:
    return name_slug(diagnosis.name)


def find_diagnosis(slug: str) -> Diagnosis | None:
    """The diagnosis whose name slugifies to `slug` (names are unique, case-insensitive):
    the slugs of every name looked up once per registry generation, then one query."""
    slug = slug.strip().lower()[:220]
    if not slug:
        return None
    pk = _slugs().get(slug)
    if pk is None:
        return None
    return Diagnosis.objects.select_related("family__category", "parent").filter(pk=pk).first()


def _slugs() -> dict[str, int]:
    """{slug: diagnosis id} of every diagnosis (cached per registry generation; a renamed
    diagnosis is a vocabulary change, which starts a new generation)."""
    return search_cache.cached(
        "dxslugs",
        (),
        lambda: {name_slug(name): pk for pk, name in Diagnosis.objects.values_list("pk", "name")},
    )


def cases_of(diagnosis: Diagnosis, *, retracted: bool = False):
    """Published cases of an entity (its subtypes included) or of a subtype; those of
    retracted papers only with `retracted` (Case.objects.counted)."""
    return (
        Case.objects.counted(retracted=retracted)
        .filter(Q(final_diagnosis=diagnosis) | Q(final_diagnosis__parent=diagnosis))
        .order_by()
    )


# -- the tree of diagnoses -------------------------------------------------------------


def diagnosis_tree(*, retracted: bool = False) -> list[dict]:
    """WHO categories → families → entities (with subtypes), each with its published
    cases counted (an entity's count includes its subtypes'). Two queries."""
    counts = dict(
        Case.objects.counted(retracted=retracted)
        .filter(final_diagnosis__isnull=False)
        .order_by()
        .values_list("final_diagnosis")
        .annotate(n=Count("pk"))
    )
    diagnoses = list(
        Diagnosis.objects.select_related("family__category").order_by(
            "family__category__position", "family__position", "position", "name"
        )
    )
    subtypes = defaultdict(list)
    for dx in diagnoses:
        if dx.parent_id:
            subtypes[dx.parent_id].append(dx)
    categories: dict = {}
    for dx in diagnoses:
        if dx.parent_id:
            continue
        category = dx.family.category if dx.family_id else None
        family = dx.family
        cat = categories.setdefault(
            category.pk if category else None,
            {"name": category.name if category else "Not yet placed", "families": {}},
        )
        fam = cat["families"].setdefault(
            family.pk if family else None,
            {"name": family.name if family else "Not yet placed", "entities": [], "n": 0},
        )
        children = [
            {"diagnosis": s, "slug": diagnosis_slug(s), "n": counts.get(s.pk, 0)}
            for s in subtypes[dx.pk]
        ]
        n = counts.get(dx.pk, 0) + sum(c["n"] for c in children)
        fam["entities"].append(
            {"diagnosis": dx, "slug": diagnosis_slug(dx), "n": n, "subtypes": children}
        )
        fam["n"] += n
    return [{**cat, "families": list(cat["families"].values())} for cat in categories.values()]


# -- an entity's page ------------------------------------------------------------------


@dataclass
class MarkerRate:
    marker: str
    positive: int = 0
    tested: int = 0
    clones: list[str] = field(default_factory=list)
    cases: list[int] = field(default_factory=list)  # the cases behind the cell (some)
    # With marker_rates(by_clone=True): the same counts per clone ("": not recorded).
    by_clone: dict[str, MarkerRate] = field(default_factory=dict)

    @property
    def percent(self) -> float | None:
        return 100 * self.positive / self.tested if self.tested else None

    @property
    def few(self) -> bool:
        return self.tested < FEW_TESTED


def _median(values: np.ndarray) -> float | None:
    return float(np.median(values)) if values.size else None


def marker_rates(index, cases, *, by_clone: bool = False) -> dict[str, MarkerRate]:
    """Per marker: cases positive, cases tested (bitmaps.tested: each case once, positive
    if any of its results was), the clones entered (those of the most recent cases
    first), some of the cases; with `by_clone`, each rate's `by_clone` has the same
    counts per clone (facets.CLONE_KEY). From the facet index (`cases`: a bitmap of
    published cases): no query."""
    names = index.labels["marker"]
    by_marker: dict[int, dict[str, dict[str, FrozenBitMap]]] = {}
    for (marker_id, key, result), of_value in index.values[bitmaps.IHC_BY_CLONE].items():
        by_marker.setdefault(marker_id, {}).setdefault(key, {})[result] = of_value
    clones_entered: dict[int, list] = {}
    for (marker_id, clone), of_clone in index.values[bitmaps.CLONES_ENTERED].items():
        clones_entered.setdefault(marker_id, []).append((clone, of_clone))
    rates: dict[str, MarkerRate] = {}
    for marker_id, clones in by_marker.items():
        of_result = {
            result: index.cases("ihc", (marker_id, result))
            for per_clone in clones.values()
            for result in per_clone
        }
        rate = _rate(names[marker_id], of_result, cases)
        if rate is None:
            continue
        newest_first = []
        for clone, of_clone in clones_entered.get(marker_id, []):
            found = of_clone & cases
            if found:
                newest_first.append((-found.max(), clone))
        rate.clones = [clone for _, clone in sorted(newest_first)]
        if by_clone:
            for key, per_clone in clones.items():
                cell = _rate(rate.marker, per_clone, cases)
                if cell is not None:
                    rate.by_clone[key] = cell
        rates[rate.marker] = rate
    return rates


def _rate(marker: str, of_result, cases) -> MarkerRate | None:
    """`marker`'s rate among `cases` (None when none was tested), with some of them."""
    tested, positive = bitmaps.tested(of_result, cases)
    if not tested:
        return None
    cases = bitmaps.newest(tested, REFERENCES_PER_CELL)
    return MarkerRate(marker, positive, len(tested), cases=cases)


def cases_in_index(index, diagnosis: Diagnosis, *, retracted: bool = False):
    """cases_of(), from the facet index: a bitmap."""
    subtypes = Diagnosis.objects.filter(parent=diagnosis).values_list("pk", flat=True)
    return index.union("dx", [diagnosis.pk, *subtypes]) & bitmaps.counted(
        index, retracted=retracted
    )


def entity_summary(diagnosis: Diagnosis, *, retracted: bool = False, index=None) -> dict:
    """Every number of an entity's page: counted in the facet index (`index`, else the
    current one); molecular findings other than fusions (few) and the newest cases' rows
    in the database (a fixed number of queries)."""
    index = index or bitmaps.current()
    found = cases_in_index(index, diagnosis, retracted=retracted)
    ids = cases_of(diagnosis, retracted=retracted).values("pk")

    def count(facet: str, value) -> int:
        return found.intersection_cardinality(index.cases(facet, value))

    ages = bitmaps.values_of(index, "age", found)
    sizes = bitmaps.values_of(index, "size", found)
    labels = index.labels["site"]
    sites = sorted(
        (
            (code, labels.get(code, ""), n)
            for code, n in bitmaps.counts(index, "site", found).items()
        ),
        key=lambda site: (-site[2], site[0]),
    )
    genes = index.labels["gene"]
    methods = dict(molecular.METHOD_CHOICES)
    fusions = sorted(
        (
            {
                "notation": format_fusion(genes.get(five), genes.get(three)),
                "three": genes.get(three),
                "method": methods.get(method, "not recorded"),
                "n": n,
            }
            for (five, three, method), of_fusion in index.values[bitmaps.FUSIONS].items()
            if (n := found.intersection_cardinality(of_fusion))
        ),
        key=lambda f: (-f["n"], f["three"] is None, f["three"] or "", f["notation"]),
    )
    findings = [
        {
            "finding": _finding_text(kind, gene, protein, copy_number, description),
            "method": methods.get(method, "not recorded"),
            "n": n,
        }
        for kind, gene, protein, copy_number, description, method, n in (
            MolecularFinding.objects.filter(case__in=ids)
            .order_by()
            .values_list(
                "kind", "gene__symbol", "hgvs_protein", "copy_number", "description", "method"
            )
            .annotate(n=Count("case", distinct=True))
            .order_by("-n")
        )
    ]
    kinds = dict(Treatment.Kind.choices)
    treatments = sorted(
        (
            (kinds.get(kind, kind), n)
            for kind, n in bitmaps.counts(index, "treatment", found).items()
        ),
        key=lambda treatment: (-treatment[1], treatment[0]),
    )
    follow_ups = bitmaps.values_of(index, "follow_up", found)
    followed = bitmaps.having(index, "follow_up", found)
    metastasis = followed & index.union("event", ClinicalEvent.METASTASES)
    newest = {
        case.pk: case
        for case in Case.objects.filter(
            pk__in=bitmaps.in_order(index, found, 0, NEWEST)
        ).select_related("citation", "topography")
    }
    return {
        "diagnosis": diagnosis,
        "n_cases": len(found),
        "n_papers": bitmaps.papers_of(index, found),
        "grades": [(code, label, count("grade", code)) for code, label in Case.Grade.choices],
        "age": {
            "n": int(ages.size),
            "median": _median(ages),
            "min": float(ages.min()) if ages.size else None,
            "max": float(ages.max()) if ages.size else None,
        },
        "sex": {"female": count("sex", "female"), "male": count("sex", "male")},
        "sites": sites,
        "size": {"n": int(sizes.size), "median": _median(sizes)},
        "ihc": sorted(
            marker_rates(index, found).values(), key=lambda r: (-r.tested, r.marker.casefold())
        ),
        "fusions": fusions,
        "findings": findings,
        "treatments": treatments,
        "course": {
            "followed": int(follow_ups.size),
            "median_follow_up": _median(follow_ups),
            "recurrence": followed.intersection_cardinality(
                index.cases("event", "local_recurrence")
            ),
            "metastasis": len(metastasis),
            "death_of_disease": followed.intersection_cardinality(
                index.cases("event", "death_of_disease")
            ),
        },
        "newest": sorted(newest.values(), key=lambda case: index.rank[case.pk]),
        "pubmed_url": "https://pubmed.ncbi.nlm.nih.gov/?term="
        + quote(f'"{diagnosis.name}"[tiab] AND (skin[tiab] OR cutaneous[tiab])'),
    }


def _finding_text(kind, gene, protein, copy_number, description) -> str:
    if kind == MolecularFinding.Kind.VARIANT:
        return f"{gene} {molecular.protein_short(protein)}".strip()
    if kind == MolecularFinding.Kind.COPY_NUMBER:
        label = dict(MolecularFinding.CopyNumber.choices).get(copy_number, copy_number)
        return f"{gene} {label.lower()}"
    return " ".join(p for p in (gene, description) if p)


# -- the stains that separate diagnoses ------------------------------------------------


@dataclass
class StainRow:
    marker: str
    cells: list[MarkerRate | None]  # one per diagnosis, None: not tested in its cases
    difference: float | None  # largest minus smallest % positive, among the tested
    p_value: float | None  # Fisher's exact test of that pair
    pair: tuple[int, int] | None  # indexes of the pair compared
    # Where the diagnoses' cases were stained with different clones (or some with none
    # recorded): the same comparison per clone, "" last ("clone not recorded").
    clones: list[StainRow] = field(default_factory=list)
    clone: str | None = None  # a clone's row: its clone ("" for not recorded)

    @property
    def few(self) -> bool:
        return any(cell is None or cell.few for cell in self.cells)


def _separation(marker: str, cells: list[MarkerRate | None], clone=None) -> StainRow:
    """The difference in % positive between the most and the least often positive of the
    tested cells, with Fisher's exact test of those two (None with fewer than two)."""
    tested = [(i, c) for i, c in enumerate(cells) if c is not None and c.tested]
    difference = p_value = pair = None
    if len(tested) >= 2:
        high = max(tested, key=lambda t: t[1].percent)
        low = min(tested, key=lambda t: t[1].percent)
        difference = high[1].percent - low[1].percent
        pair = (high[0], low[0])
        table = [
            [high[1].positive, high[1].tested - high[1].positive],
            [low[1].positive, low[1].tested - low[1].positive],
        ]
        p_value = float(fisher_exact(table).pvalue)
    return StainRow(marker, cells, difference, p_value, pair, clone=clone)


def separating_stains(
    diagnoses: list[Diagnosis], *, retracted: bool = False, index=None
) -> list[StainRow]:
    """Markers ranked by how well they separate the diagnoses: the difference in %
    positive between the most and the least often positive diagnosis (among those whose
    cases were tested), with Fisher's exact test of those two; markers tested in one
    diagnosis only come last. A marker whose cases were stained with more than one clone
    (a case with no clone recorded counts as one more) gets the same comparison per clone
    below it. Counted in the facet index (`index`, else the current one): a query per
    diagnosis (its subtypes)."""
    index = index or bitmaps.current()
    per_dx = [
        marker_rates(index, cases_in_index(index, dx, retracted=retracted), by_clone=True)
        for dx in diagnoses
    ]
    markers = sorted({m for rates in per_dx for m in rates}, key=str.casefold)
    rows = []
    for marker in markers:
        cells = [rates.get(marker) for rates in per_dx]
        row = _separation(marker, cells)
        clones = {key for cell in cells if cell is not None for key in cell.by_clone}
        if len(clones) > 1:
            for clone in sorted(clones, key=lambda c: (c == "", c.casefold())):
                per_clone = [cell.by_clone.get(clone) if cell else None for cell in cells]
                row.clones.append(_separation(marker, per_clone, clone=clone))
        rows.append(row)
    rows.sort(
        key=lambda r: (
            r.difference is None,
            -(r.difference or 0),
            r.p_value if r.p_value is not None else 1,
            r.marker.casefold(),
        )
    )
    return rows
