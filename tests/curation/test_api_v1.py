"""/api/v1/ (issue 17): cursor pages, conditional GETs (ETag / Last-Modified, 304),
anonymous throttling (429 with Retry-After), CORS, releases; /api/cases/ unchanged."""

import pytest

from curation.actions.releases import make_release
from curation.search import bitmaps
from tests.curation.searchdata import build_registry
from tests.curation.test_make_release_command import release_dir  # noqa: F401
from tests.factories import make_published_case

URL = "/api/v1/cases/"


@pytest.fixture(autouse=True)
def _fresh_throttle_counts():
    """Redis keeps throttle counts across tests (each test's clients start at zero)."""
    from django.core.cache import cache

    addresses = ("127.0.0.1", "10.1.2.3")
    cache.delete_many([f"throttle_anon_{address}" for address in addresses])
    yield
    cache.delete_many([f"throttle_anon_{address}" for address in addresses])


@pytest.fixture
def registry(db):
    return build_registry()


def test_cases_come_in_cursor_pages_newest_first_without_gaps(client, registry, settings):
    for _ in range(55):
        make_published_case()
    first = client.get(URL).json()
    assert len(first["results"]) == 50 and first["previous"] is None
    second = client.get(first["next"]).json()
    ids = [r["id"] for r in first["results"] + second["results"]]
    assert len(ids) == len(set(ids)) == 60
    assert second["next"] is None


def test_the_filters_and_the_contract_are_those_of_api_cases(client, registry):
    data = client.get(URL, {"five": "CARS"}).json()["results"]
    assert [r["id"] for r in data] == [registry["scalp_imt"].pk]
    assert data[0]["url"].startswith("http://testserver/")
    assert client.get(URL, {"sex": "robot"}).status_code == 400
    assert client.get(URL, {"cursor": "garbage"}).status_code == 404
    assert client.get("/api/cases/").json()["count"] == 5  # the old API keeps working


def test_a_repeated_request_with_the_etag_is_a_304(client, registry):
    first = client.get(f"{URL}{registry['dfsp'].pk}/")
    etag = first["ETag"]
    assert first["Last-Modified"]
    again = client.get(f"{URL}{registry['dfsp'].pk}/", HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304 and again.content == b""
    listing = client.get(URL)
    assert client.get(URL, HTTP_IF_NONE_MATCH=listing["ETag"]).status_code == 304
    assert client.get(URL, HTTP_IF_MODIFIED_SINCE=listing["Last-Modified"]).status_code == 304
    # A change gives a new ETag: the client gets the new body.
    make_published_case()
    assert client.get(URL, HTTP_IF_NONE_MATCH=listing["ETag"]).status_code == 200


@pytest.mark.parametrize("header", ["garbage", '"unterminated', "W/abc", '"a" "b"'])
def test_a_garbage_if_none_match_is_a_clear_400(client, registry, header):
    response = client.get(URL, HTTP_IF_NONE_MATCH=header)
    assert response.status_code == 400
    assert "If-None-Match" in response.json()["detail"]


def test_anonymous_clients_are_throttled_with_retry_after(client, registry, settings):
    settings.API_ANON_RATE = "3/minute"
    for _ in range(3):
        assert client.get(URL).status_code == 200
    refused = client.get(URL)
    assert refused.status_code == 429
    assert 0 < int(refused["Retry-After"]) <= 60
    # Another address has its own count.
    assert client.get(URL, REMOTE_ADDR="10.1.2.3").status_code == 200


def test_read_only_gets_may_come_from_any_origin(client, registry):
    assert client.get(URL, HTTP_ORIGIN="https://example.org")["Access-Control-Allow-Origin"] == "*"


def test_releases_are_listed_with_their_files_and_checksums(
    client,
    registry,
    release_dir,  # noqa: F811
):
    release = make_release("2026-12")
    data = client.get("/api/v1/releases/").json()
    assert [r["name"] for r in data] == ["2026-12"]
    files = {f["name"]: f for f in data[0]["files"]}
    expected = {f["name"]: f["sha256"] for f in release.files}
    assert {name: f["sha256"] for name, f in files.items()} == expected
    assert files["cases.csv"]["url"] == "http://testserver/releases/2026-12/cases.csv"
    assert client.get("/api/v1/releases/2026-12/").json()["case_count"] == 5
    assert client.get("/api/v1/releases/1999-01/").status_code == 404


def test_the_schema_documents_v1_and_its_answers(client, db):
    paths = client.get("/api/schema/?format=json").json()["paths"]
    responses = paths["/api/v1/cases/"]["get"]["responses"]
    assert {"200", "304", "400", "404", "429"} <= set(responses)
    assert "/api/v1/releases/{name}/" in paths


def test_a_genes_page_lists_its_fusion_partners_in_published_cases(client, registry):
    from curation.models import Gene

    alk = Gene.objects.get(symbol="ALK")
    data = client.get(f"/api/v1/genes/{alk.pk}/").json()
    assert data["hgnc_id"] == "HGNC:427"
    partners = {p["notation"]: p["cases"] for p in data["partners_as_three_prime"]}
    assert partners == {"CARS1::ALK": 1, "TPM3::ALK": 1, "?::ALK": 1}  # the draft not counted


def test_diagnoses_count_published_cases_and_markers_name_their_gene(client, registry):
    from curation.models import Diagnosis, Marker

    imt = Diagnosis.objects.get(name="inflammatory myofibroblastic tumor")
    one = client.get("/api/v1/diagnoses/inflammatory-myofibroblastic-tumor/").json()
    assert (one["id"], one["published_cases"]) == (imt.pk, 3)
    assert one["slug"] == "inflammatory-myofibroblastic-tumor"
    assert client.get("/api/v1/diagnoses/").json()["results"][0]["slug"]
    assert client.get("/api/v1/diagnoses/no-such-tumour/").status_code == 404
    alk = Marker.objects.get(name="ALK")
    assert client.get(f"/api/v1/markers/{alk.pk}/").json()["gene"] == "ALK"
    page = client.get("/api/v1/genes/").json()
    assert len(page["results"]) == 100 and page["next"]
    assert client.get("/api/v1/genes/abc/").status_code == 404


def test_citations_of_published_cases_by_pmid_with_csl(client, registry):
    data = client.get("/api/v1/citations/").json()["results"]
    pmids = [c["pmid"] for c in data]
    published = {case.citation.pmid for name, case in registry.items() if name != "draft"}
    assert set(pmids) == published and pmids == sorted(pmids, reverse=True)
    one = client.get("/api/v1/citations/35560368/").json()
    assert one["authors"][0] == "McCollum KJ"
    assert (one["published_cases"], one["csl"]["PMID"]) == (1, "35560368")
    assert client.get("/api/v1/citations/1/").status_code == 404


def test_a_diagnosis_carries_the_statistics_of_its_entity_page(client, registry):
    from curation.models import Diagnosis
    from curation.search.answers import entity_summary

    imt = Diagnosis.objects.get(name="inflammatory myofibroblastic tumor")
    stats = client.get("/api/v1/diagnoses/inflammatory-myofibroblastic-tumor/").json()[
        "statistics"
    ]
    page = entity_summary(imt)
    assert stats["cases"] == page["n_cases"] == 3  # the draft is not counted
    assert stats["papers"] == page["n_papers"]
    alk = next(row for row in stats["ihc"] if row["marker"] == "ALK")
    page_alk = next(rate for rate in page["ihc"] if rate.marker == "ALK")
    assert (alk["positive"], alk["tested"]) == (page_alk.positive, page_alk.tested)
    assert {f["notation"] for f in stats["fusions"]} == {f["notation"] for f in page["fusions"]}
    assert "CARS1::ALK" in {f["notation"] for f in stats["fusions"]}
    assert sorted(stats["newest_cases"]) == sorted(c.pk for c in page["newest"])
    # The entity page shows the same count.
    html = client.get("/diagnoses/inflammatory-myofibroblastic-tumor/").content.decode()
    assert "<strong>3</strong> published cases" in html


def test_a_diagnosis_with_its_statistics_has_a_fixed_query_budget(
    client, registry, django_assert_max_num_queries, settings
):
    for _ in range(5):
        make_published_case()  # more cases, markers and fusions: no more queries
    settings.SEARCH_CACHE = True  # the facet index is built once per registry generation
    bitmaps.current()
    # (one of them, the diagnoses' slugs, once per registry generation)
    with django_assert_max_num_queries(8):
        assert (
            client.get("/api/v1/diagnoses/inflammatory-myofibroblastic-tumor/").status_code == 200
        )


def test_a_diagnosis_leaves_out_retracted_papers_unless_asked_as_its_page(client, registry):
    citation = registry["scalp_imt"].citation
    citation.retracted = True
    citation.save(update_fields=["retracted"])
    url = "/api/v1/diagnoses/inflammatory-myofibroblastic-tumor/"
    assert client.get(url).json()["statistics"]["cases"] == 2
    assert client.get(url, {"retracted": "include"}).json()["statistics"]["cases"] == 3
    for bad in ("yes", ""):
        refused = client.get(url, {"retracted": bad})
        assert refused.status_code == 400 and refused.json()["retracted"]
