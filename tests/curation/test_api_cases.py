"""The read-only API of published cases: /api/cases/, the search page's filters, the schema."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.curation.searchdata import build_registry
from tests.factories import make_published_case

URL = "/api/cases/"


@pytest.fixture
def registry(db):
    return build_registry()


def ids(response):
    return {row["id"] for row in response.json()["results"]}


def test_the_list_holds_published_cases_only(client, registry):
    response = client.get(URL)
    assert response.status_code == 200
    assert response.json()["count"] == 5
    assert registry["draft"].pk not in ids(response)


def test_a_draft_is_not_found_by_id(client, registry):
    assert client.get(f"{URL}{registry['draft'].pk}/").status_code == 404


def test_a_case_carries_its_ihc_fusions_and_citation(client, registry):
    data = client.get(f"{URL}{registry['scalp_imt'].pk}/").json()
    assert data["final_diagnosis"] == "inflammatory myofibroblastic tumor"
    assert data["topography_code"] == "C44.4"
    assert data["fusions"] == [
        {
            "notation": "CARS1::ALK",
            "five_prime": "CARS1",
            "five_prime_hgnc_id": "HGNC:1493",
            "three_prime": "ALK",
            "three_prime_hgnc_id": "HGNC:427",
            "partner_status": "known",
            "five_prime_exon": "",
            "three_prime_exon": "",
            "five_prime_transcript": "",
            "three_prime_transcript": "",
            "breakpoint": "",
            "method": "rna_seq",
            "assay": "",
            "as_reported": "CARS1::ALK",
        }
    ]
    assert data["evidence_grade"] == "A"
    assert data["icdo_version"] == "ICD-O-3.2"
    assert [(r["marker"], r["result"]) for r in data["ihc"]][:2] == [
        ("ALK", "positive"),
        ("SMA", "positive"),
    ]
    assert data["citation"]["pmid"] == 35560368
    assert data["citation"]["first_author"] == "McCollum KJ"


def test_the_filters_are_the_search_pages(client, registry):
    assert ids(client.get(URL, {"five": "CARS"})) == {registry["scalp_imt"].pk}
    assert ids(client.get(URL, {"ihc": "S100:negative"})) == {
        registry["scalp_imt"].pk,
        registry["dfsp"].pk,
    }
    assert ids(client.get(URL, {"profile": "S100+ ALK-"})) == {registry["melanoma"].pk}
    assert ids(client.get(URL, {"site": "C49", "sex": "male"})) == {registry["dfsp"].pk}
    assert ids(client.get(URL, {"q": "honeycomb"})) == {registry["dfsp"].pk}


@pytest.mark.parametrize(
    "query", [{"sex": "robot"}, {"dx": "abc"}, {"year": "'; DROP"}, {"q": "nul\x00"}]
)
def test_an_invalid_filter_is_a_clear_400(client, registry, query):
    response = client.get(URL, query)
    assert response.status_code == 400
    assert list(response.json()) == list(query)


@pytest.mark.parametrize(
    "text", ['"', "&|!:*", "x" * 10_240, "' OR 1=1 --", "\u4e2d\u6587 \U0001f4a5"]
)
def test_hostile_text_gives_an_answer_not_an_error(client, registry, text):
    assert client.get(URL, {"q": text, "five": text}).status_code == 200
    # Text that is no immunoprofile is refused with what is wrong with it (issue 12).
    response = client.get(URL, {"q": text, "five": text, "profile": text})
    assert response.status_code == 400
    assert response.json()["detail"][0].startswith("Immunoprofile: ")


def test_the_number_of_queries_does_not_grow_with_the_rows(client, registry):
    counts = []
    for extra in (0, 40):
        for _ in range(extra):
            make_published_case(fusions=["TPM3::ALK", "?::ROS1"])
        with CaptureQueriesContext(connection) as queries:
            response = client.get(URL, {"three": "ALK"})
        assert len(response.json()["results"]) == (3 if extra == 0 else 43)
        counts.append(len(queries))
    # The page, its count, and one query per kind of row (IHC, fusions, other findings,
    # treatments, events, differentials) and for the authors.
    assert counts[0] == counts[1] <= 10


def test_the_schema_documents_the_endpoint_and_its_filters(client, db):
    schema = client.get("/api/schema/").content.decode()
    assert "/api/cases/:" in schema and "/api/cases/{id}/:" in schema
    for name in ("profile", "five", "three", "ihc", "site"):
        assert f"name: {name}" in schema


@pytest.mark.parametrize(
    "query, message",
    [
        ({"site": "Q99"}, "Site “Q99” is not an ICD-O-3 topography code such as C44 or C44.4."),
        ({"year": "1500"}, "Year “1500” is not a year from 1800 to 2200."),
        ({"profile": "FOO+"}, "Immunoprofile: “FOO” is not a marker RareDerm knows."),
    ],
)
def test_unreadable_filters_are_a_400_with_the_message_not_every_case(
    client, registry, query, message
):
    response = client.get(URL, query)
    assert response.status_code == 400
    assert message in response.json()["detail"]


# -- the contract (issue 17): what the schema promises is what comes back ----------------


def test_an_unreported_laterality_or_outcome_is_null_not_an_empty_string(client, registry):
    case = make_published_case(laterality="", outcome="")
    data = client.get(f"{URL}{case.pk}/").json()
    assert data["laterality"] is None
    assert data["outcome"] is None
    assert client.get(f"{URL}{registry['scalp_imt'].pk}/").json()["outcome"] == "ned"


def test_the_schema_says_enum_fields_may_be_null(client, db):
    schema = client.get("/api/schema/?format=json").json()
    case = schema["components"]["schemas"]["Case"]["properties"]
    for name in ("laterality", "outcome", "sex"):
        assert case[name].get("nullable") is True, name


def test_age_is_a_number_and_url_is_absolute(client, registry):
    data = client.get(f"{URL}{registry['scalp_imt'].pk}/").json()
    assert data["age"] == 38
    assert isinstance(data["age"], int | float)
    assert data["url"] == f"http://testserver/cases/{registry['scalp_imt'].pk}/"
    schema = client.get("/api/schema/?format=json").json()
    case = schema["components"]["schemas"]["Case"]["properties"]
    assert case["age"]["type"] == "number"
    assert case["url"]["format"] == "uri"


def test_the_schema_lists_the_400_and_404_answers(client, db):
    paths = client.get("/api/schema/?format=json").json()["paths"]
    assert {"200", "400", "404"} <= set(paths["/api/cases/"]["get"]["responses"])
    assert {"200", "404"} <= set(paths["/api/cases/{id}/"]["get"]["responses"])


@pytest.mark.parametrize(
    "query",
    [
        {"sex": ""},
        {"sex": ["male", "robot"]},
        {"outcome": "NED "},
        {"sort": ["year", "shoe size"]},
        {"age": ""},
    ],
)
def test_a_value_outside_a_filters_choices_is_a_400(client, registry, query):
    response = client.get(URL, query)
    assert response.status_code == 400, response.content
    (name,) = query
    assert "is not one of" in response.json()[name][0]


def test_a_page_past_the_end_is_a_documented_404(client, registry):
    response = client.get(URL, {"page": 99})
    assert response.status_code == 404
    assert "detail" in response.json()


@pytest.mark.parametrize("path", ["3.5/", "abc/", "1/extra/", "nothing-here/"])
def test_an_address_under_the_api_that_is_not_there_answers_json(client, db, path):
    response = client.get(f"{URL}{path}")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json()["detail"]
