"""Answers over the published registry: an entity's page and the stains that separate
diagnoses (issue 15). Every number is counted in the database per diagnosis, in a fixed
number of queries whatever the registry's size; medians with Python's `statistics`,
Fisher's exact test with SciPy (`scipy.stats.fisher_exact`).

A diagnosis's cases are the published cases whose final diagnosis is the entity or one
of its subtypes. Percentages are of the cases *tested* for a marker (a positive,
negative or equivocal result); "not reported" and "not performed" are not tests.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from urllib.parse import quote

from django.db.models import Count, Q
from django.db.models.functions import Coalesce, Trim
from django.urls import reverse
from django.utils.text import slugify
from scipy.stats import fisher_exact

from curation import molecular
from curation.models import (
    Case,
    ClinicalEvent,
    Diagnosis,
    FusionFinding,
    IHCResult,
    MolecularFinding,
    Treatment,
)
from curation.notation import format_fusion
from curation.search import cache as search_cache
from curation.search.facets import age_in_years
from curation.search.immunoprofile import TESTED, count_tested

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


def _median(values) -> Decimal | float | None:
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def clone_key(term_name: str | None, clone: str) -> str:
    """The clone a result was stained with, as the stains page groups it: the controlled
    term's name when the clone is a known one, else the text entered (spaces trimmed);
    "" when none. CLONE_KEY is the same in SQL."""
    return term_name if term_name is not None else (clone or "").strip(" ")


CLONE_KEY = Coalesce("clone_term__name", Trim("clone"))


def marker_rates(cases, *, by_clone: bool = False) -> dict[str, MarkerRate]:
    """Per marker: cases positive, cases tested (each case once, positive if any of its
    results was: immunoprofile.count_tested), clones used, some of the cases. Two
    queries (counts by marker; clones and case ids by marker); with `by_clone`, a third
    fills each rate's `by_clone` with the same counts per clone (count_tested again)."""
    results = IHCResult.objects.filter(case__in=cases.values("pk"))
    rates: dict[str, MarkerRate] = {
        row["marker__name"]: MarkerRate(row["marker__name"], row["positive"], row["tested"])
        for row in count_tested(results, "marker__name")
    }
    if by_clone:
        for row in count_tested(
            results.annotate(clone_key=CLONE_KEY), "marker__name", "clone_key"
        ):
            rates[row["marker__name"]].by_clone[row["clone_key"]] = MarkerRate(
                row["marker__name"], row["positive"], row["tested"]
            )
    detail = (
        results.filter(result__in=TESTED)
        .order_by("marker__name", "-case_id")
        .values_list("marker__name", "clone", "clone_term__name", "case_id")
    )
    for marker, clone, term_name, case_id in detail:
        rate = rates[marker]
        if clone and clone not in rate.clones:
            rate.clones.append(clone)
        if len(rate.cases) < REFERENCES_PER_CELL and case_id not in rate.cases:
            rate.cases.append(case_id)
        if by_clone:
            cell = rate.by_clone[clone_key(term_name, clone)]
            if len(cell.cases) < REFERENCES_PER_CELL and case_id not in cell.cases:
                cell.cases.append(case_id)
    return rates


def entity_summary(diagnosis: Diagnosis, *, retracted: bool = False) -> dict:
    """Every number of an entity's page (a fixed number of queries)."""
    cases = cases_of(diagnosis, retracted=retracted)
    ids = cases.values("pk")
    n_cases = cases.count()
    n_papers = cases.values("citation").distinct().count()
    grades = dict(cases.values_list("evidence_grade").annotate(n=Count("pk")))
    sexes = dict(cases.exclude(sex="").values_list("sex").annotate(n=Count("pk")))
    ages = list(
        cases.filter(age__isnull=False)
        .annotate(years=age_in_years())
        .values_list("years", flat=True)
    )
    sizes = list(cases.filter(size_mm__isnull=False).values_list("size_mm", flat=True))
    sites = list(
        cases.filter(topography__isnull=False)
        .values_list("topography__code", "topography__name")
        .annotate(n=Count("pk"))
        .order_by("-n", "topography__code")
    )
    fusions = [
        {
            "notation": format_fusion(five, three),
            "three": three,
            "method": dict(molecular.METHOD_CHOICES).get(method, "not recorded"),
            "n": n,
        }
        for five, three, method, n in FusionFinding.objects.filter(case__in=ids)
        .order_by()
        .values_list("five_prime_gene__symbol", "three_prime_gene__symbol", "method")
        .annotate(n=Count("case", distinct=True))
        .order_by("-n", "three_prime_gene__symbol")
    ]
    findings = [
        {
            "finding": _finding_text(kind, gene, protein, copy_number, description),
            "method": dict(molecular.METHOD_CHOICES).get(method, "not recorded"),
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
    treatments = [
        (dict(Treatment.Kind.choices).get(kind, kind), n)
        for kind, n in Treatment.objects.filter(case__in=ids)
        .order_by()
        .values_list("kind")
        .annotate(n=Count("case", distinct=True))
        .order_by("-n")
    ]
    followed = cases.filter(follow_up_months__isnull=False)
    follow_ups = list(followed.values_list("follow_up_months", flat=True))
    events = dict(
        ClinicalEvent.objects.filter(case__in=followed.values("pk"))
        .order_by()
        .values_list("kind")
        .annotate(n=Count("case", distinct=True))
    )
    metastasis = (
        ClinicalEvent.objects.filter(
            case__in=followed.values("pk"), kind__in=ClinicalEvent.METASTASES
        )
        .values("case")
        .distinct()
        .count()
    )
    newest = list(
        Case.objects.filter(pk__in=ids)
        .select_related("citation", "topography")
        .order_by("-published_at", "-pk")[:NEWEST]
    )
    return {
        "diagnosis": diagnosis,
        "n_cases": n_cases,
        "n_papers": n_papers,
        "grades": [(code, label, grades.get(code, 0)) for code, label in Case.Grade.choices],
        "age": {
            "n": len(ages),
            "median": _median(ages),
            "min": min(ages) if ages else None,
            "max": max(ages) if ages else None,
        },
        "sex": {"female": sexes.get("female", 0), "male": sexes.get("male", 0)},
        "sites": sites,
        "size": {"n": len(sizes), "median": _median(sizes)},
        "ihc": sorted(
            marker_rates(cases).values(), key=lambda r: (-r.tested, r.marker.casefold())
        ),
        "fusions": fusions,
        "findings": findings,
        "treatments": treatments,
        "course": {
            "followed": len(follow_ups),
            "median_follow_up": _median(follow_ups),
            "recurrence": events.get("local_recurrence", 0),
            "metastasis": metastasis,
            "death_of_disease": events.get("death_of_disease", 0),
        },
        "newest": newest,
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


def separating_stains(diagnoses: list[Diagnosis], *, retracted: bool = False) -> list[StainRow]:
    """Markers ranked by how well they separate the diagnoses: the difference in %
    positive between the most and the least often positive diagnosis (among those whose
    cases were tested), with Fisher's exact test of those two; markers tested in one
    diagnosis only come last. A marker whose cases were stained with more than one clone
    (a case with no clone recorded counts as one more) gets the same comparison per clone
    below it. Three queries per diagnosis."""
    per_dx = [marker_rates(cases_of(dx, retracted=retracted), by_clone=True) for dx in diagnoses]
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
