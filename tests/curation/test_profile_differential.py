"""The immunoprofile as a differential on /search/?profile=…: diagnoses ranked by the
likelihood of the profile, checked against an independent computation in plain Python
over the test's own registry (no SQL, no code of the app's)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from curation.models import Case
from curation.search import cache as search_cache
from tests.curation.searchdata import build_registry
from tests.factories import CaseFactory, diagnosis, make_published_case, topography

pytestmark = pytest.mark.django_db

URL = reverse("curation:search")
PROFILE = "ALK(+) SMA focal+ S100 neg SOX10-"
TERMS = [("ALK", "positive"), ("SMA", "positive"), ("S100", "negative"), ("SOX10", "negative")]
TESTED = ("positive", "negative", "equivocal")


@pytest.fixture
def registry(db):
    cases = build_registry()
    efh = diagnosis("epithelioid fibrous histiocytoma")
    for alk, sma in [
        ("positive", "negative"),
        ("positive", "negative"),
        ("negative", "equivocal"),
    ]:
        make_published_case(
            final_diagnosis=efh,
            topography=topography("C44.7"),
            fusions=[],
            ihc=[("ALK", alk), ("SMA", sma), ("EMA", "positive")],
        )
    imt = diagnosis("inflammatory myofibroblastic tumor")
    # Two clones, two results: the case counts once for ALK, as positive.
    make_published_case(
        final_diagnosis=imt,
        topography=topography("C44.4"),
        fusions=[],
        ihc=[
            ("ALK", "positive"),
            ("ALK", "negative", {"clone": "ALK1"}),
            ("SOX10", "not_reported"),
        ],
    )
    # A draft never counts, whatever it says.
    CaseFactory(
        final_diagnosis=diagnosis("spindle cell melanoma"),
        ihc=[("ALK", "positive"), ("SMA", "positive"), ("S100", "negative")],
        fusions=[],
    )
    return cases


def independent_ranking(cases) -> list[tuple[str, float, list[tuple[int, int]]]]:
    """(diagnosis, likelihood, [(positive, tested) per term]) from the cases' own rows."""
    counts: dict[str, dict[str, list[int]]] = {}
    for case in cases:
        results: dict[str, set] = {}
        for row in case.ihc_results.all():
            if row.result in TESTED:
                results.setdefault(row.marker.name, set()).add(row.result)
        per_marker = counts.setdefault(case.final_diagnosis.name, {})
        for marker, seen in results.items():
            positive, tested = per_marker.get(marker, [0, 0])
            per_marker[marker] = [positive + ("positive" in seen), tested + 1]
    ranking = []
    for name, per_marker in counts.items():
        evidence = [tuple(per_marker.get(marker, (0, 0))) for marker, _ in TERMS]
        if not any(tested for _, tested in evidence):
            continue
        likelihood = 1.0
        for (positive, tested), (_, result) in zip(evidence, TERMS, strict=True):
            rate = (positive + 1) / (tested + 2)  # Laplace: add one to each outcome
            likelihood *= rate if result == "positive" else 1 - rate
        ranking.append((name, likelihood, evidence))
    ranking.sort(key=lambda r: (-r[1], -sum(t for _, t in r[2]), r[0].casefold()))
    return ranking


def shown(response) -> list[tuple[str, float, list[tuple[int, int]]]]:
    return [
        (d.name, d.likelihood, [(e.positive, e.tested) for e in d.evidence])
        for d in response.context["result"].differential
    ]


def test_diagnoses_are_ranked_as_an_independent_computation_ranks_them(client, registry):
    response = client.get(URL, {"profile": PROFILE})
    assert response.status_code == 200
    expected = independent_ranking(Case.objects.filter(status="published"))
    got = shown(response)
    assert [name for name, _, _ in got] == [name for name, _, _ in expected]
    for (_, likelihood, evidence), (_, want, want_evidence) in zip(got, expected, strict=True):
        assert likelihood == pytest.approx(want)
        assert evidence == want_evidence
    assert got[0][0] == "inflammatory myofibroblastic tumor"
    # IMT: ALK 4/4, SMA 1/2, S100 0/1, SOX10 0/1 (the "not reported" SOX10 is no test).
    assert got[0][2] == [(4, 4), (1, 2), (0, 1), (0, 1)]
    html = response.content.decode()
    assert "4/4 positive" in html
    assert 'href="/diagnoses/inflammatory-myofibroblastic-tumor/"' in html
    assert "not a diagnosis" in html


def test_a_single_discordant_stain_lowers_a_diagnosis_without_removing_it(client, registry):
    response = client.get(URL, {"profile": PROFILE})
    ranked = {d.name: d for d in response.context["result"].differential}
    # EFH: ALK 2/3 positive agrees, SMA 0/3 positive contradicts SMA+.
    efh = ranked["epithelioid fibrous histiocytoma"]
    assert [e.discordant for e in efh.evidence] == [False, True, False, False]
    order = list(ranked)
    assert order.index("inflammatory myofibroblastic tumor") < order.index(
        "epithelioid fibrous histiocytoma"
    )
    # No EFH case is consistent with the profile (each was SMA negative or ALK
    # negative), so the case list has none, yet the diagnosis is ranked.
    row = next(
        r
        for r in response.context["differential"]
        if r["item"] is not None and r["item"].name == efh.name
    )
    assert row["consistent"] == 0
    assert 'class="discordant"' in response.content.decode()


def test_an_untested_marker_counts_neither_way(client, registry):
    # The DFSP cases were never stained for ALK, SMA or SOX10: each is 1/2 for DFSP,
    # which is what an untested marker is for every diagnosis.
    response = client.get(URL, {"profile": "S100-"})
    alone = {d.name: d.likelihood for d in response.context["result"].differential}
    response = client.get(URL, {"profile": "S100- SOX10-"})
    both = {d.name: d.likelihood for d in response.context["result"].differential}
    assert both["dermatofibrosarcoma protuberans"] == pytest.approx(
        alone["dermatofibrosarcoma protuberans"] * 0.5
    )


def test_the_ranking_follows_the_other_filters_but_not_the_chosen_diagnosis(client, registry):
    skin = shown(client.get(URL, {"profile": PROFILE, "site": "C44"}))
    assert "dermatofibrosarcoma protuberans" not in [name for name, _, _ in skin]  # C49.6
    skin_cases = Case.objects.filter(status="published", topography__code__startswith="C44.")
    assert [n for n, _, _ in skin] == [n for n, _, _ in independent_ranking(skin_cases)]
    imt = diagnosis("inflammatory myofibroblastic tumor")
    everything = shown(client.get(URL, {"profile": PROFILE}))
    assert shown(client.get(URL, {"profile": PROFILE, "dx": imt.pk})) == everything


@pytest.mark.parametrize("query", [{"profile": PROFILE}, {"profile": PROFILE, "site": "C44"}])
def test_the_query_count_does_not_grow_with_the_registry(client, registry, query):
    counts = []
    for extra in (0, 40):
        for i in range(extra):
            make_published_case(
                final_diagnosis=diagnosis(
                    ["inflammatory myofibroblastic tumor", "spindle cell melanoma"][i % 2]
                ),
                ihc=[("ALK", "positive"), ("SMA", "negative"), ("S100", "negative")],
                fusions=[],
            )
        search_cache.bump()
        with CaptureQueriesContext(connection) as queries:
            response = client.get(URL, query)
        assert response.status_code == 200
        assert len(response.context["result"].differential) >= 2
        counts.append(len(queries))
    assert counts[0] == counts[1]
