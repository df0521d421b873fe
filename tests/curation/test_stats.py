"""The statistics page: five charts of published cases, each with its numbers as a table."""

import pytest
from django.urls import reverse

from curation.models import Case
from curation.search import bitmaps
from tests.curation.searchdata import build_registry
from tests.factories import make_published_case

URL = reverse("curation:stats")


@pytest.fixture
def registry(db):
    return build_registry()


def chart(response, key):
    return dict(next(c for c in response.context["charts"] if c["key"] == key)["rows"])


def test_each_chart_counts_published_cases_only(client, registry):
    response = client.get(URL)
    assert response.status_code == 200
    assert chart(response, "diagnosis") == {
        "inflammatory myofibroblastic tumor": 3,  # the draft is not counted
        "dermatofibrosarcoma protuberans": 1,
        "spindle cell melanoma": 1,
    }
    assert chart(response, "site")["C44.4 Skin of scalp and neck"] == 1
    assert sum(chart(response, "site").values()) == 5
    assert chart(response, "fusion") == {
        "CARS1::ALK": 1,
        "TPM3::ALK": 1,
        "?::ALK": 1,
        "COL1A1::PDGFB": 1,
    }
    assert chart(response, "age") == {
        "0\u20139 years": 2,
        "10\u201319 years": 0,
        "20\u201339 years": 1,
        "40\u201359 years": 1,
        "60\u201379 years": 1,
        "80 years and over": 0,
    }
    assert chart(response, "year") == {"2019": 2, "2020": 1, "2021": 1, "2022": 1}
    assert chart(response, "grade") == {
        "A — the defining molecular finding by sequencing": 3,
        "B — by FISH, RT-PCR or another molecular test": 1,
        "C — defined by immunohistochemistry": 1,
        "D — morphology only": 0,
    }
    # trunk_imt (recurrence at 14 months) and melanoma (lung metastasis, death) are the
    # two published cases with a follow-up time.
    assert chart(response, "course") == {
        "Followed up": 2,
        "Local recurrence": 1,
        "Metastasis (regional or distant)": 1,
        "Died of disease": 1,
    }


def test_case_reports_per_year_count_papers_not_cases(client, registry):
    make_published_case(citation=registry["dfsp"].citation, label="Case 2")
    assert chart(client.get(URL), "year")["2020"] == 1


def test_every_chart_has_a_table_and_chart_js_is_served_locally(client, registry):
    html = client.get(URL).content.decode()
    for key in ("diagnosis", "site", "fusion", "age", "year"):
        assert f'<canvas id="chart-{key}"' in html
        assert f'<table data-table="{key}">' in html
    assert '<th scope="row">CARS1::ALK</th><td>1</td>' in html
    assert 'src="/static/vendor/chart.umd.min.js"' in html
    assert 'src="/static/js/stats.js"' in html
    assert 'id="chart-data"' in html


def test_an_empty_registry_says_so(client, db):
    html = client.get(URL).content.decode()
    assert "0 published cases" in html
    assert "No published case yet." in html


def test_the_statistics_page_has_a_fixed_query_budget(
    client, registry, django_assert_max_num_queries, settings
):
    for _ in range(15):
        make_published_case(fusions=["TPM3::ALK"])
    settings.SEARCH_CACHE = True  # the facet index is built once per registry generation
    with django_assert_max_num_queries(29):  # grouped queries, whatever the registry's size
        bitmaps.current()
    # Every chart counted in the index: no query of its own.
    with django_assert_max_num_queries(1):
        response = client.get(URL)
    fused = Case.objects.counted().filter(
        fusions__five_prime_gene__symbol="TPM3", fusions__three_prime_gene__symbol="ALK"
    )
    assert dict(response.context["charts"][3]["rows"])["TPM3::ALK"] == fused.count() >= 15


def test_the_cases_are_counted_by_who_family(client, registry):
    charts = {c["key"]: c for c in client.get(URL).context["charts"]}
    rows = dict(charts["family"]["rows"])
    assert rows["Myofibroblastic tumours"] == 3
    assert charts["family"]["title"] == "Cases by WHO family"
