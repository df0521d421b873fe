"""Cached search counts and statistics: never stale after the registry changes."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from curation import workflow
from curation.actions.cases import transition
from curation.actions.review import approve_case
from curation.models import Case, IHCResult
from curation.search import cache as search_cache
from tests.curation.searchdata import build_registry
from tests.factories import CaseFactory, diagnosis, topography

SEARCH = reverse("curation:search")
STATS = reverse("curation:stats")


@pytest.fixture(autouse=True)
def _cache_on(settings):
    # On by default only with Redis; locmem is as good within one test process.
    settings.SEARCH_CACHE = True


@pytest.fixture
def registry(db):
    return build_registry()


def test_without_the_cache_every_search_recounts(client, registry, settings):
    settings.SEARCH_CACHE = False
    _, first = _queries(client, SEARCH)
    _, second = _queries(client, SEARCH)
    assert first == second


def _counts(response, facet):
    return {v.label: v.count for v in response.context["facets"][facet].values}


def _stat(response, key):
    chart = next(c for c in response.context["charts"] if c["key"] == key)
    return dict(chart["rows"])


def _queries(client, url, query=None):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, query or {})
    assert response.status_code == 200
    return response, len(queries)


def test_a_repeated_search_is_answered_from_the_cache_with_the_same_counts(client, registry):
    first, cold = _queries(client, SEARCH)
    second, warm = _queries(client, SEARCH)
    assert warm < cold
    assert _counts(second, "dx") == _counts(first, "dx")
    assert second.context["result"].total == first.context["result"].total == 5


def test_a_case_published_by_a_reviewer_shows_in_the_next_search_and_statistics(
    client, registry, curator, reviewer
):
    imt = "inflammatory myofibroblastic tumor"
    before = client.get(SEARCH, {"ihc": "ALK:positive"})
    stats_before = client.get(STATS)
    entity = reverse("curation:diagnosis", args=["inflammatory-myofibroblastic-tumor"])
    stains = reverse("curation:stains") + (
        "?dx=inflammatory-myofibroblastic-tumor&dx=dermatofibrosarcoma-protuberans"
    )
    entity_before = client.get(entity).context["n_cases"]
    alk_before = _alk(client.get(stains))
    tree_before = client.get(reverse("curation:diagnoses")).content.decode()
    assert _counts(before, "dx")[imt] == 3
    case = CaseFactory(
        created_by=curator,
        final_diagnosis=diagnosis(imt),
        topography=topography("C44.4"),
        ihc=[("ALK", "positive")],
        fusions=["TPM3::ALK"],
    )
    transition(case, workflow.SUBMITTED, curator)
    # A submitted case is not public: the counts (still cached) do not change.
    assert _counts(client.get(SEARCH, {"ihc": "ALK:positive"}), "dx")[imt] == 3
    approve_case(Case.objects.get(pk=case.pk), reviewer)
    after = client.get(SEARCH, {"ihc": "ALK:positive"})
    assert _counts(after, "dx")[imt] == 4
    assert after.context["result"].total == before.context["result"].total + 1
    assert case.pk in [c.pk for c in after.context["cases"]]
    stats_after = client.get(STATS)
    assert stats_after.context["total"] == stats_before.context["total"] + 1
    assert _stat(stats_after, "diagnosis")[imt] == _stat(stats_before, "diagnosis")[imt] + 1
    gene = client.get(reverse("curation:gene", args=["ALK"]))
    assert "TPM3::ALK" in gene.content.decode()
    # The answer pages, cached per generation too, count it at once.
    assert client.get(entity).context["n_cases"] == entity_before + 1
    assert _alk(client.get(stains)) == (alk_before[0] + 1, alk_before[1] + 1)
    tree = client.get(reverse("curation:diagnoses")).content.decode()
    assert f"{imt}</a>" in tree and tree != tree_before


def _alk(response) -> tuple[int, int]:
    (row,) = [r for r in response.context["rows"] if r.marker == "ALK"]
    return row.cells[0].positive, row.cells[0].tested


def test_a_case_leaving_the_published_state_leaves_the_counts(client, registry):
    assert client.get(STATS).context["total"] == 5
    before = client.get(SEARCH)
    assert before.context["result"].total == 5
    assert registry["scalp_imt"].pk in [c.pk for c in before.context["cases"]]
    case = registry["scalp_imt"]
    Case.objects.get(pk=case.pk).delete()
    assert client.get(STATS).context["total"] == 4
    after = client.get(SEARCH)
    assert after.context["result"].total == 4
    assert case.pk not in [c.pk for c in after.context["cases"]]


def test_an_edited_ihc_result_of_a_published_case_changes_the_facet_at_once(client, registry):
    assert _counts(client.get(SEARCH), "ihc")["ALK positive"] == 3
    row = IHCResult.objects.get(case=registry["scalp_imt"], marker__name="ALK", result="positive")
    row.result = IHCResult.Result.NEGATIVE
    row.save()
    assert _counts(client.get(SEARCH), "ihc")["ALK positive"] == 2
    profile = client.get(SEARCH, {"profile": "ALK+ SMA+"})
    assert registry["scalp_imt"].pk not in [c.pk for c in profile.context["cases"]]


def test_the_generation_moves_again_when_the_writing_transaction_commits(
    registry, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        before = search_cache.generation()
        Case.objects.get(pk=registry["dfsp"].pk).save()
        during = search_cache.generation()
    after = search_cache.generation()
    assert before < during < after


def test_the_nocache_parameter_is_ignored_outside_the_benchmark(client, registry, settings):
    # Words: their matching ids and the page's order are cached per query.
    query = {"q": "scalp nodule", "nocache": "1"}
    client.get(SEARCH, query)
    _, warm = _queries(client, SEARCH, query)
    settings.SEARCH_CACHE_BYPASS_PARAM = "nocache"
    _, cold = _queries(client, SEARCH, query)
    assert warm < cold


def test_a_renamed_diagnosis_shows_under_its_new_name_at_once(client, registry):
    assert "inflammatory myofibroblastic tumor" in _counts(client.get(SEARCH), "dx")
    imt = diagnosis("inflammatory myofibroblastic tumor")
    imt.name = "inflammatory myofibroblastic tumour"
    imt.save()
    names = _counts(client.get(SEARCH), "dx")
    assert names["inflammatory myofibroblastic tumour"] == 3
    assert "inflammatory myofibroblastic tumor" not in names


def test_a_curators_draft_saves_leave_the_cached_counts_warm(client, registry, curator):
    client.get(SEARCH)
    _, warm = _queries(client, SEARCH)
    draft = CaseFactory(created_by=curator, ihc=[("ALK", "positive")], fusions=["TPM3::ALK"])
    draft.site_detail = "forearm"
    draft.save()
    response, after = _queries(client, SEARCH)
    assert after == warm
    assert response.context["result"].total == 5


@pytest.mark.parametrize(
    "url",
    [
        reverse("curation:diagnosis", args=["inflammatory-myofibroblastic-tumor"]),
        reverse("curation:stains")
        + "?dx=inflammatory-myofibroblastic-tumor&dx=dermatofibrosarcoma-protuberans",
        reverse("curation:diagnoses"),
    ],
)
def test_the_answer_pages_are_counted_once_per_generation(client, registry, url):
    first, cold = _queries(client, url)
    second, warm = _queries(client, url)
    assert warm < cold, (cold, warm)
    # The same page (but for the CSRF token in the page head).
    assert first.content.split(b"<main", 1)[1] == second.content.split(b"<main", 1)[1]
