"""The facet index (curation/search/bitmaps.py): counts that keep their promise, kept fresh.

A facet's count promises what choosing the value gives. The index counts by
intersecting bitmaps; the result list and the exports filter in SQL
(engine.filtered). These tests hold the two to each other on a varied synthetic
registry: for many searches, every count shown must be the number of cases the
list gives when that value is chosen.
"""

import random
from dataclasses import replace
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from citations.models import Citation
from curation.models import Case, ClinicalEvent, Gene, IHCResult, MolecularFinding, Treatment
from curation.search import bitmaps
from curation.search import cache as search_cache
from curation.search.engine import (
    CHILD_FACETS,
    COLUMN_FACETS,
    Resolved,
    filtered,
    ordered,
    run_search,
)
from curation.search.immunoprofile import count_tested
from curation.search.params import SearchParams
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
    search_cache.forget_all()  # update() sends no signal
    return cases


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
    """Newest first, a profile's most agreeing first: the index's order (bitmaps.in_order)
    is the SQL ordering's (engine.ordered, used by the exports), page after page."""
    rng = random.Random(5)
    first = run_search(SearchParams())
    for _ in range(10):
        params = replace(random_search(rng, first), q="", per_page=10)
        resolved = Resolved(params, bypass_cache=True)
        expected = list(
            ordered(filtered(params, resolved), params, resolved).values_list("pk", flat=True)
        )
        for number in (1, 2, 3):
            page = run_search(replace(params, page=number)).page
            shown = [case.pk for case in page.object_list]
            at = page.number  # a page past the last shows the last one
            assert shown == expected[(at - 1) * 10 : at * 10], (params, number)


def test_the_differential_counts_stains_as_the_entity_pages_do(registry):
    """The profile's differential (facet index) and the entity and stains pages (SQL,
    immunoprofile.count_tested): the same positive and tested cases per diagnosis."""
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
