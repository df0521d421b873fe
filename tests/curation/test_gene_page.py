"""The gene page: fusion partners in published cases, with counts, sites, diagnoses and links."""

from urllib.parse import parse_qs, urlsplit

import pytest
from django.urls import reverse

from curation.search import bitmaps
from tests.curation.searchdata import build_registry, case_ids
from tests.factories import make_published_case, topography


@pytest.fixture
def registry(db):
    return build_registry()


def partners(response, side):
    return {p["notation"]: p for p in response.context[side]}


def test_alk_lists_its_5_prime_partners_with_counts_sites_and_diagnoses(client, registry):
    make_published_case(topography=topography("C49.0"), fusions=["CARS1::ALK"])
    response = client.get(reverse("curation:gene", args=["ALK"]))
    assert response.status_code == 200
    found = partners(response, "as_three")
    assert {n: p["cases"] for n, p in found.items()} == {
        "CARS1::ALK": 2,  # the scalp case and the new one; never the draft
        "TPM3::ALK": 1,
        "?::ALK": 1,
    }
    assert found["CARS1::ALK"]["sites"] == [
        ("C44.4", "Skin of scalp and neck", 1),
        ("C49.0", "Connective, subcutaneous and other soft tissues of head, face and neck", 1),
    ]
    assert found["CARS1::ALK"]["diagnoses"] == [("inflammatory myofibroblastic tumor", 2)]
    assert next(iter(found)) == "CARS1::ALK"  # most cases first
    html = response.content.decode()
    assert "unknown (break-apart)" in html
    assert 'href="/genes/CARS1/"' in html
    assert response.context["as_five"] == []


def test_a_partner_links_to_the_search_for_exactly_those_cases(client, registry):
    response = client.get(reverse("curation:gene", args=["ALK"]))
    link = partners(response, "as_three")["TPM3::ALK"]["search_url"]
    assert parse_qs(urlsplit(link).query) == {"three": ["ALK"], "five": ["TPM3"]}
    assert case_ids(client.get(link)) == [registry["trunk_imt"].pk]
    everything = client.get(response.context["search_three"])
    assert len(case_ids(everything)) == 3


def test_an_old_symbol_redirects_to_the_approved_one(client, registry):
    response = client.get(reverse("curation:gene", args=["CARS"]))
    assert response.status_code == 302
    assert response["Location"] == reverse("curation:gene", args=["CARS1"])
    page = client.get(response["Location"])
    assert {n: p["cases"] for n, p in partners(page, "as_five").items()} == {"CARS1::ALK": 1}


@pytest.mark.parametrize("symbol", ["NOTAGENE9", "'; DROP TABLE curation_gene; --", "x" * 500])
def test_an_unknown_or_hostile_symbol_is_not_found(client, registry, symbol):
    assert client.get(reverse("curation:gene", args=[symbol])).status_code == 404


def test_the_gene_page_has_a_fixed_query_budget(
    client, registry, django_assert_max_num_queries, settings
):
    for _ in range(10):
        make_published_case(fusions=["TPM3::ALK", "?::ROS1"])
    settings.SEARCH_CACHE = True  # the facet index is built once per registry generation
    bitmaps.current()
    # The partners counted in the facet index: the gene, its symbols and figures remain.
    with django_assert_max_num_queries(8):
        response = client.get(reverse("curation:gene", args=["ALK"]))
    assert partners(response, "as_three")["TPM3::ALK"]["cases"] == 11


@pytest.mark.parametrize(
    ("written", "symbol"), [("NPM", "NPM1"), ("CLTCL2", "CLTC"), ("npm", "NPM1")]
)
def test_an_older_papers_symbol_leads_to_the_current_gene_page(client, db, written, symbol):
    response = client.get(reverse("curation:gene", args=[written]))
    assert response.status_code == 302
    assert response.url == reverse("curation:gene", args=[symbol])
    assert client.get(response.url).status_code == 200
