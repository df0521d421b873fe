"""The diagnoses' pages and the stains page: every number checked against an independent
count in Python over the same registry's rows (no SQL), Fisher's p against SciPy."""

import statistics
from decimal import Decimal

import pytest
from django.urls import reverse
from scipy.stats import fisher_exact

from curation.models import Case, Diagnosis
from curation.search import bitmaps
from curation.search.answers import find_diagnosis
from tests.curation.searchdata import build_registry
from tests.factories import diagnosis, make_published_case, topography

pytestmark = pytest.mark.django_db

YEARS = {"years": 1, "months": 12}


@pytest.fixture
def registry(db):
    cases = build_registry()
    efh = diagnosis("epithelioid fibrous histiocytoma")
    for i, (alk, ema) in enumerate(
        [("positive", "positive"), ("positive", "negative"), ("positive", "positive")]
    ):
        make_published_case(
            final_diagnosis=efh,
            topography=topography("C44.7"),
            age=30 + i,
            fusions=[],
            ihc=[("ALK", alk), ("EMA", ema), ("SMA", "negative")],
            size_mm=8 + i,
        )
    return cases


def _independent(dx: Diagnosis) -> dict:
    """The entity's numbers in plain Python over its published cases' rows."""
    cases = [
        c
        for c in Case.objects.filter(status="published")
        if c.final_diagnosis_id == dx.pk
        or (c.final_diagnosis and c.final_diagnosis.parent_id == dx.pk)
    ]
    ages = [Decimal(c.age) / YEARS[c.age_unit] for c in cases if c.age is not None]
    rates = {}
    for case in cases:
        seen = {}
        for r in case.ihc_results.all():
            if r.result in ("positive", "negative", "equivocal"):
                seen.setdefault(r.marker.name, set()).add(r.result)
        for marker, results in seen.items():
            positive, tested = rates.get(marker, (0, 0))
            # A case counts once per marker, positive if any of its results was.
            rates[marker] = (positive + ("positive" in results), tested + 1)
    followed = [c for c in cases if c.follow_up_months is not None]
    return {
        "n": len(cases),
        "papers": len({c.citation_id for c in cases}),
        "median_age": statistics.median(ages) if ages else None,
        "rates": rates,
        "followed": len(followed),
        "recurrence": sum(
            any(e.kind == "local_recurrence" for e in c.clinical_events.all()) for c in followed
        ),
    }


def test_the_entity_page_numbers_agree_with_an_independent_count(client, registry):
    imt = Diagnosis.objects.get(name="inflammatory myofibroblastic tumor")
    expected = _independent(imt)
    response = client.get(
        reverse("curation:diagnosis", args=["inflammatory-myofibroblastic-tumor"])
    )
    assert response.status_code == 200
    ctx = response.context
    assert (ctx["n_cases"], ctx["n_papers"]) == (expected["n"], expected["papers"])
    assert ctx["age"]["median"] == expected["median_age"]
    assert {r.marker: (r.positive, r.tested) for r in ctx["ihc"]} == expected["rates"]
    assert (ctx["course"]["followed"], ctx["course"]["recurrence"]) == (
        expected["followed"],
        expected["recurrence"],
    )
    page = response.content.decode()
    assert "100% (3/3)" in page  # ALK in the three IMTs
    assert "TPM3::ALK" in page and "CARS1::ALK" in page
    assert "not a diagnosis" in page


def test_the_tree_counts_the_published_cases_of_each_entity(client, registry):
    page = client.get(reverse("curation:diagnoses")).content.decode()
    assert 'data-diagnosis="inflammatory-myofibroblastic-tumor"' in page
    assert (
        'inflammatory myofibroblastic tumor</a> <span class="muted">8825/1</span> — 3 cases'
        in page
    )


def test_the_stains_that_separate_two_diagnoses_are_ranked_with_fishers_p(client, registry):
    url = reverse("curation:stains")
    response = client.get(
        url, {"dx": ["inflammatory-myofibroblastic-tumor", "epithelioid-fibrous-histiocytoma"]}
    )
    assert response.status_code == 200
    rows = {r.marker: r for r in response.context["rows"]}
    # SMA: IMT 1/2 positive, EFH 0/3 -> 50 points; ALK: 3/3 and 3/3 -> 0 points.
    sma = rows["SMA"]
    assert round(sma.difference) == 50
    assert sma.p_value == pytest.approx(fisher_exact([[1, 1], [0, 3]]).pvalue)
    assert rows["ALK"].difference == 0
    ranked = [r.marker for r in response.context["rows"]]
    assert ranked.index("SMA") < ranked.index("ALK")
    # Markers tested in one diagnosis only (EMA, desmin, S100...) come last, marked.
    assert rows["EMA"].difference is None and rows["EMA"].few
    assert "few tested" in response.content.decode()


def _by_clone(dx: Diagnosis, marker: str) -> dict[str, tuple[int, int]]:
    """(positive, tested) per clone of one marker, in plain Python: a case counts once per
    clone it was stained with, positive if any of those results was."""
    seen: dict[str, dict[int, set]] = {}
    for case in Case.objects.filter(status="published"):
        if case.final_diagnosis_id != dx.pk:
            continue
        for r in case.ihc_results.all():
            if r.marker.name == marker and r.result in ("positive", "negative", "equivocal"):
                key = r.clone_term.name if r.clone_term else r.clone.strip(" ")
                seen.setdefault(key, {}).setdefault(case.pk, set()).add(r.result)
    return {
        key: (sum("positive" in results for results in cases.values()), len(cases))
        for key, cases in seen.items()
    }


def test_a_marker_stained_with_different_clones_is_compared_clone_by_clone(client, registry):
    imt = Diagnosis.objects.get(name="inflammatory myofibroblastic tumor")
    efh = Diagnosis.objects.get(name="epithelioid fibrous histiocytoma")
    make_published_case(final_diagnosis=imt, ihc=[("ALK", "positive", {"clone": "D5F3"})])
    make_published_case(  # one case, two clones: counted under each
        final_diagnosis=imt,
        ihc=[("ALK", "positive", {"clone": " ALK1"}), ("ALK", "negative", {"clone": "D5F3"})],
    )
    for result in ("negative", "negative", "positive"):
        make_published_case(final_diagnosis=efh, ihc=[("ALK", result, {"clone": "ALK1"})])

    response = client.get(
        reverse("curation:stains"),
        {"dx": ["inflammatory-myofibroblastic-tumor", "epithelioid-fibrous-histiocytoma"]},
    )
    rows = {r.marker: r for r in response.context["rows"]}
    alk = rows["ALK"]
    clones = [sub.clone for sub in alk.clones]
    assert clones == ["ALK1", "D5F3", ""]  # "clone not recorded" last
    expected = [_by_clone(imt, "ALK"), _by_clone(efh, "ALK")]
    assert expected[0] == {"": (3, 3), "D5F3": (1, 2), "ALK1": (1, 1)}  # the check's check
    for sub in alk.clones:
        got = [(c.positive, c.tested) if c else None for c in sub.cells]
        assert got == [dx.get(sub.clone) for dx in expected], sub.clone
    alk1 = next(sub for sub in alk.clones if sub.clone == "ALK1")
    assert round(alk1.difference) == 67  # IMT 1/1, EFH 1/3
    assert alk1.p_value == pytest.approx(fisher_exact([[1, 0], [1, 2]]).pvalue)
    # The marker's own row still counts each case once, whatever its clones.
    assert (alk.cells[0].positive, alk.cells[0].tested) == (5, 5)
    # A marker stained with one clone (or none recorded) everywhere is not split.
    assert rows["SMA"].clones == []
    page = response.content.decode()
    assert 'data-clone="ALK1"' in page and "clone not recorded" in page


@pytest.mark.parametrize(
    "query, message",
    [
        (
            {"dx": ["no-such-tumour", "inflammatory-myofibroblastic-tumor"]},
            "“no-such-tumour” is not",
        ),
        (
            {
                "dx": [
                    "inflammatory-myofibroblastic-tumor",
                    "dermatofibroma",
                    "epithelioid-fibrous-histiocytoma",
                    "spindle-cell-melanoma",
                    "dermatofibrosarcoma-protuberans",
                ]
            },
            "Choose two to 4 different diagnoses to compare (5 given)",
        ),
        (
            {"dx": ["inflammatory-myofibroblastic-tumor", "no-such-tumour"]},
            "“no-such-tumour” is not",
        ),
    ],
)
def test_a_bad_choice_of_diagnoses_is_explained(client, registry, query, message):
    response = client.get(reverse("curation:stains"), query)
    assert response.status_code == 400
    assert message in response.content.decode(), response.context["errors"]


def test_one_diagnosis_from_its_entity_page_asks_for_the_others_without_an_error(client, registry):
    entity = client.get(reverse("curation:diagnosis", args=["inflammatory-myofibroblastic-tumor"]))
    assert "/stains/?dx=inflammatory-myofibroblastic-tumor" in entity.content.decode()
    response = client.get(reverse("curation:stains"), {"dx": "inflammatory-myofibroblastic-tumor"})
    assert response.status_code == 200
    page = response.content.decode()
    assert (
        "Choose one to 3 more diagnoses to compare with inflammatory myofibroblastic tumor."
        in page
    )
    assert 'value="inflammatory-myofibroblastic-tumor" selected' in page
    # Subtypes can be chosen too (epithelioid fibrous histiocytoma is one of dermatofibroma).
    assert '<option value="epithelioid-fibrous-histiocytoma">' in page
    assert response.context["rows"] == []


def test_an_unknown_diagnosis_page_is_a_404(client, db):
    assert client.get(reverse("curation:diagnosis", args=["quokkaoma"])).status_code == 404
    assert find_diagnosis("") is None


@pytest.mark.parametrize("extra", [0, 30])
def test_the_pages_cost_the_same_queries_whatever_the_registry_size(
    client, registry, extra, django_assert_max_num_queries, settings
):
    for i in range(extra):
        make_published_case(age=20 + i, ihc=[("ALK", "positive"), ("SMA", "negative")])
    settings.SEARCH_CACHE = True  # the facet index is built once per registry generation
    with django_assert_max_num_queries(29):  # grouped queries, whatever the registry's size
        bitmaps.current()
    with django_assert_max_num_queries(8):  # fusions, other findings, the newest cases
        client.get(reverse("curation:diagnosis", args=["inflammatory-myofibroblastic-tumor"]))
    with django_assert_max_num_queries(6):  # counted in the facet index
        client.get(
            reverse("curation:stains"),
            {"dx": ["inflammatory-myofibroblastic-tumor", "epithelioid-fibrous-histiocytoma"]},
        )
