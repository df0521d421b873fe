"""The facet index (curation/search/bitmaps.py): counts that keep their promise, kept fresh.

A facet's count promises what choosing the value gives. The index counts by
intersecting bitmaps; the result list and the exports filter in SQL
(engine.filtered). These tests hold the two to each other on a varied synthetic
registry: for many searches, every count shown must be the number of cases the
list gives when that value is chosen.
"""

import random
import statistics
from dataclasses import replace
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.models import Count, Q
from django.db.models.functions import Coalesce, Trim
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from citations.models import Citation
from curation.models import (
    Case,
    ClinicalEvent,
    Clone,
    Diagnosis,
    FusionFinding,
    Gene,
    IHCResult,
    MolecularFinding,
    Treatment,
)
from curation.molecular import METHOD_CHOICES
from curation.notation import format_fusion
from curation.search import bitmaps
from curation.search import cache as search_cache
from curation.search.answers import cases_of, entity_summary, separating_stains
from curation.search.engine import (
    CHILD_FACETS,
    COLUMN_FACETS,
    Resolved,
    filtered,
    ordered,
    run_search,
)
from curation.search.facets import age_band_expression, age_in_years
from curation.search.immunoprofile import TESTED
from curation.search.params import AGE_BANDS, SearchParams
from curation.search.partners import gene_partners
from curation.search.stats import registry_stats
from tests.factories import make_published_case

pytestmark = pytest.mark.postgres


@pytest.fixture
def registry(db):
    call_command("generate_synthetic", "--cases", "300", "--seed", "7", stdout=StringIO())
    rng = random.Random(3)
    cases = list(Case.objects.published().order_by("pk"))
    # What the synthetic registry lacks: treatments, other molecular findings, a
    # retracted paper, and ages in months (the age bands read every unit).
    for case in rng.sample(cases, 60):
        kind = rng.choice(Treatment.Kind.values)
        agent = "crizotinib" if kind == Treatment.Kind.SYSTEMIC else ""
        Treatment.objects.create(case=case, kind=kind, agent=agent)
    for case in rng.sample(cases, 40):
        kind = rng.choice(MolecularFinding.Kind.values)
        MolecularFinding.objects.create(
            case=case,
            kind=kind,
            method=rng.choice(["dna_ngs", "pcr", "fish_break_apart"]),
            # complete, as the form asks (the table's check constraints)
            gene=Gene.objects.get(symbol="BRAF") if kind != "other" else None,
            hgvs_protein="p.Val600Glu" if kind == "variant" else "",
            copy_number="amplification" if kind == "copy_number" else "",
            description="methylation class" if kind == "other" else "",
        )
    for case in rng.sample(cases, 30):
        ClinicalEvent.objects.create(case=case, kind=ClinicalEvent.Kind.LOCAL_RECURRENCE)
    Case.objects.filter(pk__in=[c.pk for c in cases[:10]]).update(age=18, age_unit="months")
    Case.objects.filter(pk__in=[c.pk for c in cases[::3]]).update(source_depth="full_text")
    Case.objects.filter(pk__in=[c.pk for c in cases[1::3]]).update(source_depth="abstract")
    Citation.objects.filter(pk__in=[c.citation_id for c in cases[10:25]]).update(retracted=True)
    # Clones as curators enter them: some linked to the controlled term (grouped under
    # its name whatever was typed), some typed with stray spaces, some left blank.
    results = list(IHCResult.objects.filter(clone__gt="").select_related("marker"))
    for result in rng.sample(results, len(results) // 3):
        term = Clone.objects.filter(marker=result.marker, name__iexact=result.clone).first()
        if term is not None:
            IHCResult.objects.filter(pk=result.pk).update(
                clone_term=term, clone=result.clone.lower()
            )
    for result in rng.sample(results, len(results) // 10):
        IHCResult.objects.filter(pk=result.pk).update(clone=f" {result.clone} ")
    for result in rng.sample(results, len(results) // 10):
        IHCResult.objects.filter(pk=result.pk).update(clone="", clone_term=None)
    search_cache.forget_all()  # update() sends no signal
    return cases


def count_tested(results, *by: str):
    """The rule of a marker's rate, stated in SQL: per group, the cases with a positive,
    negative or equivocal result (tested) and those with a positive one, each once."""
    return (
        results.filter(result__in=TESTED)
        .order_by()
        .values(*by)
        .annotate(
            tested=Count("case", distinct=True),
            positive=Count("case", distinct=True, filter=Q(result="positive")),
        )
    )


def sql_total(params: SearchParams) -> int:
    """What the result list and the exports count: the SQL filter."""
    return filtered(params, Resolved(params, bypass_cache=True)).count()


def choosing(params: SearchParams, facet: str, value) -> SearchParams:
    """The search a reader gets by choosing `value` in facet `facet` (its link)."""
    if facet == "ihc":
        marker, result = value.split(":")
        return replace(params, ihc=(*params.ihc, (marker, result)))
    if facet in ("five", "three"):
        return replace(params, **{facet: value})
    return replace(params, **{facet: (value,)})


def shown(result, rng, per_facet=3):
    """(facet, value, count) of up to `per_facet` values of each facet, site codes too."""
    for name, facet in result.facets.items():
        values = [*facet.values, *(c for v in facet.values for c in v.children)]
        for value in rng.sample(values, min(per_facet, len(values))):
            yield name, value


def random_search(rng, first) -> SearchParams:
    """A search a reader could make: a few values picked from the unfiltered facets."""
    picks = {}
    names = rng.sample(sorted(first.facets), rng.randrange(1, 4))
    for name in names:
        values = first.facets[name].values
        if values:
            picks[name] = rng.choice(values).value
    params = SearchParams(retracted=rng.random() < 0.3)
    for name, value in picks.items():
        params = choosing(params, name, value)
    if rng.random() < 0.3:
        params = replace(params, profile=rng.choice(["ALK+ SMA+", "S100+ SOX10+", "CD34+ S100-"]))
    if rng.random() < 0.25:
        params = replace(params, q=rng.choice(["scalp", "spindle", "CARS1::ALK", "nodule"]))
    return params


def test_every_count_shown_is_what_choosing_the_value_lists(registry):
    rng = random.Random(11)
    first = run_search(SearchParams())
    assert first.total == sql_total(SearchParams()) == Case.objects.counted().count()
    checked = 0
    for _ in range(14):
        params = random_search(rng, first)
        result = run_search(params)
        assert result.total == sql_total(params), params
        for facet, value in shown(result, rng):
            if value.selected:
                continue
            expected = sql_total(choosing(params, facet, value.value))
            assert value.count == expected, (params, facet, value.value)
            checked += 1
    assert checked > 100  # the searches were not all empty


def test_the_pages_list_the_cases_in_the_order_the_database_sorts_them(registry):
    """Newest first, a profile's most agreeing first, or by a numeric column: the index's
    order (bitmaps.in_order, in_column_order) is the SQL ordering's (engine.ordered, used
    by the exports), page after page."""
    rng = random.Random(5)
    first = run_search(SearchParams())
    for _ in range(24):
        params = replace(random_search(rng, first), q="", per_page=10)
        sort = rng.choice(["relevance", "relevance", "size", "-size", "age", "-age"])
        sort = rng.choice([sort, "follow_up", "-follow_up", "year", "-year"])
        params = replace(params, sort=sort)
        resolved = Resolved(params, bypass_cache=True)
        expected = list(
            ordered(filtered(params, resolved), params, resolved).values_list("pk", flat=True)
        )
        for number in (1, 2, 3):
            page = run_search(replace(params, page=number)).page
            shown = [case.pk for case in page.object_list]
            at = page.number  # a page past the last shows the last one
            assert shown == expected[(at - 1) * 10 : at * 10], (params, number)


def test_the_differential_counts_stains_as_sql_counts_them(registry):
    """The profile's differential (facet index) and the rule stated in SQL: the same
    positive and tested cases per diagnosis."""
    index = bitmaps.current()
    markers = sorted({marker for marker, _ in index.values["ihc"]})
    cases = index.published - index.retracted
    found = bitmaps.tested_by_diagnosis(index, cases, markers)
    rows = count_tested(
        IHCResult.objects.filter(case__in=Case.objects.counted(), marker_id__in=markers),
        "case__final_diagnosis_id",
        "case__final_diagnosis__name",
        "marker_id",
    )
    expected = {}
    for row in rows:
        key = (row["case__final_diagnosis_id"], row["case__final_diagnosis__name"])
        expected.setdefault(key, {})[row["marker_id"]] = (row["positive"], row["tested"])
    assert found == expected and len(expected) > 3


def sql_entity(diagnosis, retracted: bool) -> dict:
    """An entity page's numbers counted in SQL over its cases (what the index must give)."""
    cases = cases_of(diagnosis, retracted=retracted)
    ihc = IHCResult.objects.filter(case__in=cases.values("pk"))
    rates = {
        row["marker__name"]: (row["positive"], row["tested"])
        for row in count_tested(ihc, "marker__name")
    }
    clones = {}
    for marker, clone in (
        ihc.filter(result__in=TESTED).exclude(clone="").values_list("marker__name", "clone")
    ):
        clones.setdefault(marker, set()).add(clone)
    ages = [
        float(v)
        for v in cases.annotate(years=age_in_years()).values_list("years", flat=True)
        if v is not None
    ]
    followed = cases.filter(follow_up_months__isnull=False)
    events = ClinicalEvent.objects.filter(case__in=followed.values("pk"))
    return {
        "n_cases": cases.count(),
        "n_papers": cases.values("citation").distinct().count(),
        "grades": dict(cases.values_list("evidence_grade").annotate(n=Count("pk"))),
        "sex": dict(
            cases.filter(sex__in=("female", "male")).values_list("sex").annotate(n=Count("pk"))
        ),
        "sites": sorted(
            cases.filter(topography__isnull=False)
            .values_list("topography__code", "topography__name")
            .annotate(n=Count("pk")),
            key=lambda site: (-site[2], site[0]),
        ),
        "age": (len(ages), min(ages, default=None), max(ages, default=None)),
        "sizes": sorted(
            float(s) for s in cases.exclude(size_mm=None).values_list("size_mm", flat=True)
        ),
        "ihc": rates,
        "clones": clones,
        "treatments": dict(
            Treatment.objects.filter(case__in=cases.values("pk"))
            .values_list("kind")
            .annotate(n=Count("case", distinct=True))
        ),
        "fusions": {
            (format_fusion(five, three), dict(METHOD_CHOICES).get(method, "not recorded")): n
            for five, three, method, n in FusionFinding.objects.filter(case__in=cases.values("pk"))
            .values_list("five_prime_gene__symbol", "three_prime_gene__symbol", "method")
            .annotate(n=Count("case", distinct=True))
        },
        "followed": followed.count(),
        "recurrence": events.filter(kind="local_recurrence").values("case").distinct().count(),
        "metastasis": events.filter(kind__in=ClinicalEvent.METASTASES)
        .values("case")
        .distinct()
        .count(),
        "newest": list(cases.order_by("-published_at", "-pk").values_list("pk", flat=True)[:10]),
    }


def shown_entity(summary) -> dict:
    """The same numbers as the entity page shows them."""
    age = summary["age"]
    kinds = {label: kind for kind, label in Treatment.Kind.choices}
    return {
        "n_cases": summary["n_cases"],
        "n_papers": summary["n_papers"],
        "grades": {code: n for code, _label, n in summary["grades"] if n},
        "sex": {sex: n for sex, n in summary["sex"].items() if n},
        "sites": summary["sites"],
        "age": (age["n"], age["min"], age["max"]),
        "ihc": {rate.marker: (rate.positive, rate.tested) for rate in summary["ihc"]},
        "clones": {rate.marker: set(rate.clones) for rate in summary["ihc"] if rate.clones},
        "treatments": {kinds[label]: n for label, n in summary["treatments"]},
        "fusions": {(f["notation"], f["method"]): f["n"] for f in summary["fusions"]},
        "followed": summary["course"]["followed"],
        "recurrence": summary["course"]["recurrence"],
        "metastasis": summary["course"]["metastasis"],
        "newest": [case.pk for case in summary["newest"]],
    }


def test_an_entity_pages_numbers_are_those_sql_counts(registry):
    """The entity page counts in the facet index; SQL over the entity's cases (its
    subtypes' included, retracted papers' only when asked) gives the same numbers."""
    entities = list(
        Diagnosis.objects.filter(
            Q(pk__in=Case.objects.values("final_diagnosis"))
            | Q(subtypes__in=Case.objects.values("final_diagnosis"))
        ).distinct()
    )
    assert len(entities) > 5
    for diagnosis in entities:
        for retracted in (False, True):
            summary = entity_summary(diagnosis, retracted=retracted)
            expected = sql_entity(diagnosis, retracted)
            sizes = expected.pop("sizes")
            assert shown_entity(summary) == {
                **expected,
                "grades": {k: n for k, n in expected["grades"].items() if k},
            }, (diagnosis.name, retracted)
            median = summary["size"]["median"]
            assert summary["size"]["n"] == len(sizes)
            assert median == (statistics.median(sizes) if sizes else None)


def test_the_stains_page_counts_each_clone_as_sql_groups_it(registry):
    """Per clone (the controlled term's name, else the text trimmed): the same positive
    and tested cases as SQL grouping by that clone."""
    clone = Coalesce("clone_term__name", Trim("clone"))
    linked = IHCResult.objects.exclude(clone_term=None).values("case__final_diagnosis")
    diagnoses = [
        *Diagnosis.objects.filter(pk__in=linked)[:2],
        *Diagnosis.objects.filter(cases__isnull=False).exclude(pk__in=linked).distinct()[:2],
    ]
    assert len(diagnoses) == 4
    rows = separating_stains(diagnoses)
    assert any(row.clones for row in rows)
    for position, diagnosis in enumerate(diagnoses):
        ihc = IHCResult.objects.filter(case__in=cases_of(diagnosis).values("pk"))
        expected = {
            (row["marker__name"], row["key"]): (row["positive"], row["tested"])
            for row in count_tested(ihc.annotate(key=clone), "marker__name", "key")
        }
        found = {}
        for row in rows:
            cell = row.cells[position]
            for key, per_clone in cell.by_clone.items() if cell else ():
                found[(row.marker, key)] = (per_clone.positive, per_clone.tested)
        assert found == expected, diagnosis.name
        assert any(key == "" for _, key in found)  # "clone not recorded" is a cell too


def sql_stats(retracted: bool) -> dict:
    """The statistics page's charts counted in SQL (what the index must give)."""
    cases = Case.objects.counted(retracted=retracted).order_by()

    def top(term):
        rows = cases.exclude(**{term: None}).values_list(f"{term}__name").annotate(n=Count("pk"))
        return sorted(rows, key=lambda row: (-row[1], row[0]))[:20]

    fusions = (
        FusionFinding.objects.filter(case__in=cases.values("pk"))
        .values_list("five_prime_gene__symbol", "three_prime_gene__symbol")
        .annotate(n=Count("case", distinct=True))
        .order_by("-n", "three_prime_gene__symbol", "five_prime_gene__symbol")[:20]
    )
    grades = dict(cases.values_list("evidence_grade").annotate(n=Count("pk")))
    followed = cases.exclude(follow_up_months=None)
    events = ClinicalEvent.objects.filter(case__in=followed.values("pk"))

    def with_event(kinds):
        return events.filter(kind__in=kinds).values("case").distinct().count()

    bands = dict(
        cases.exclude(age=None)
        .annotate(band=age_band_expression())
        .values_list("band")
        .annotate(n=Count("pk"))
    )
    years = (
        cases.exclude(citation__year=None)
        .values_list("citation__year")
        .annotate(n=Count("citation", distinct=True))
        .order_by("citation__year")
    )
    return {
        "diagnosis": top("final_diagnosis"),
        "family": top("final_diagnosis__family"),
        "site": [
            (f"{code} {name}", n)
            for code, name, n in cases.exclude(topography=None)
            .values_list("topography__code", "topography__name")
            .annotate(n=Count("pk"))
            .order_by("topography__code")
        ],
        "fusion": [(f"{five or '?'}::{three}", n) for five, three, n in fusions],
        "grade": [(label, grades.get(code, 0)) for code, label in Case.Grade.choices],
        "course": [
            ("Followed up", followed.count()),
            ("Local recurrence", with_event(["local_recurrence"])),
            ("Metastasis (regional or distant)", with_event(ClinicalEvent.METASTASES)),
            ("Died of disease", with_event(["death_of_disease"])),
        ],
        "age": [(label, bands.get(key, 0)) for key, label, _, _ in AGE_BANDS],
        "year": [(str(year), n) for year, n in years],
    }


def test_the_statistics_are_those_sql_counts(registry):
    for retracted in (False, True):
        charts = {chart["key"]: chart["rows"] for chart in registry_stats(retracted=retracted)}
        assert charts == sql_stats(retracted), retracted


def sql_partners(gene, gene_is: str) -> dict:
    """A gene's partners counted in SQL: {notation: (cases, sites, diagnoses)}."""
    mine, other = ("five_prime_gene", "three_prime_gene")
    if gene_is == "three":
        mine, other = other, mine
    found = {}
    rows = FusionFinding.objects.filter(case__status="published", **{mine: gene})
    for partner in set(rows.values_list(f"{other}__symbol", flat=True)):
        cases = Case.objects.filter(
            pk__in=rows.filter(**{f"{other}__symbol": partner}).values("case")
        )
        notation = (
            f"{partner or '?'}::{gene.symbol}"
            if gene_is == "three"
            else f"{gene.symbol}::{partner}"
        )
        sites = cases.exclude(topography=None).values_list("topography__code", "topography__name")
        diagnoses = cases.exclude(final_diagnosis=None).values_list("final_diagnosis__name")
        found[notation] = (
            cases.count(),
            sorted(sites.annotate(n=Count("pk")), key=lambda s: (-s[2], s[0])),
            sorted(diagnoses.annotate(n=Count("pk")), key=lambda d: (-d[1], d[0])),
        )
    return found


def test_a_genes_partners_are_those_sql_counts(registry):
    genes = Gene.objects.filter(
        Q(fusions_as_five_prime__isnull=False) | Q(fusions_as_three_prime__isnull=False)
    ).distinct()
    assert genes.count() > 3
    for gene in genes:
        for gene_is in ("five", "three"):
            partners = {
                p["notation"]: (p["cases"], p["sites"], p["diagnoses"])
                for p in gene_partners(gene, gene_is=gene_is)
            }
            assert partners == sql_partners(gene, gene_is), (gene.symbol, gene_is)


def test_a_facets_own_choice_leaves_its_other_values_counted(registry):
    first = run_search(SearchParams())
    dx = first.facets["dx"].values
    params = SearchParams(dx=(dx[0].value,))
    result = run_search(params)
    counts = {v.value: v.count for v in result.facets["dx"].values}
    # Still every diagnosis, with its own count: "or within" a facet.
    assert counts == {v.value: v.count for v in dx}
    assert result.total == dx[0].count


def test_the_retracted_papers_cases_are_counted_only_when_asked(registry):
    with_retracted = run_search(SearchParams(retracted=True)).total
    without = run_search(SearchParams()).total
    assert with_retracted - without == Case.objects.left_out().count() > 0


def test_every_facet_of_the_page_is_in_the_index(registry):
    index = bitmaps.current()
    for name in (*COLUMN_FACETS, *CHILD_FACETS, "site", "age", "five", "three", "ihc"):
        assert index.values[name], name  # the registry has values of every facet


def test_a_new_query_reads_no_facet_group_by(registry, settings):
    settings.SEARCH_CACHE = True
    bitmaps.current()  # this generation's index
    params = SearchParams.from_query({"dx": [str(Case.objects.first().final_diagnosis_id)]})
    with CaptureQueriesContext(connection) as queries:
        run_search(params)
    assert not [q for q in queries.captured_queries if "GROUP BY" in q["sql"]]


# -- after a publication ---------------------------------------------------------------


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_after_a_publication_readers_get_the_previous_index_until_the_new_one_is_ready(
    redis_url, settings
):
    settings.SEARCH_CACHE = True
    make_published_case(label="first")
    search_cache.forget_all()
    before = bitmaps.current()
    assert len(before.published) == 1
    settings.SEARCH_REFRESH_IN_BACKGROUND = True

    published = make_published_case(label="just published")  # bumps the generation
    with CaptureQueriesContext(connection) as queries:
        served = bitmaps.current()
    # Served at once from the previous generation: this request ran no query; a
    # thread rebuilds meanwhile.
    assert served is before and len(queries) == 0
    assert search_cache.refreshes_done(timeout=30)
    assert published.pk in bitmaps.current().published
    assert run_search(SearchParams()).total == 2


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_without_background_refresh_the_next_request_sees_the_publication(redis_url, settings):
    settings.SEARCH_CACHE = True
    make_published_case(label="first")
    search_cache.forget_all()
    assert run_search(SearchParams()).total == 1
    make_published_case(label="second")
    assert run_search(SearchParams()).total == 2


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_a_page_cut_by_the_previous_index_is_not_kept_for_the_new_generation(redis_url, settings):
    """While the index is rebuilt, a search by words is counted by the previous index
    (which lacks the new case); the page sliced by that count must not stay cached for
    the new generation (it hid a published case from the words' search)."""
    settings.SEARCH_CACHE = True
    make_published_case(label="first")
    search_cache.forget_all()
    bitmaps.current()
    settings.SEARCH_REFRESH_IN_BACKGROUND = True
    published = make_published_case(label="new", histology="zygomatic spindle cells")
    params = SearchParams(q="zygomatic")
    run_search(params)  # the previous index: none counted yet
    assert search_cache.refreshes_done(timeout=30)
    found = run_search(params)
    assert found.total == 1
    assert [case.pk for case in found.page.object_list] == [published.pk]


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_an_answer_counted_by_the_previous_index_is_not_kept_for_the_new_generation(
    redis_url, settings, client
):
    """An entity page asked while the index is rebuilt after a publication is counted by
    the previous index; kept for the new generation, it would leave the new case out of
    the page until the next publication."""
    settings.SEARCH_CACHE = True
    make_published_case(label="first")
    search_cache.forget_all()
    bitmaps.current()
    settings.SEARCH_REFRESH_IN_BACKGROUND = True
    make_published_case(label="new")
    url = reverse("curation:diagnosis", args=["inflammatory-myofibroblastic-tumor"])
    assert client.get(url).context["n_cases"] == 1  # the previous index, while rebuilt
    assert search_cache.refreshes_done(timeout=30)
    assert client.get(url).context["n_cases"] == 2
