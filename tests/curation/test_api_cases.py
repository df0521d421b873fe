"""The read-only API of published cases: /api/cases/, the search page's filters, the schema."""

import json
from decimal import Decimal

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


# Every choice column of the record, the issue-14 ones included: empty is null, documented.
ENUM_FIELDS = (
    "laterality",
    "outcome",
    "age_unit",
    "sex",
    "source_depth",
    "mitoses_unit",
    "necrosis",
    "lymphovascular_invasion",
    "perineural_invasion",
    "focality",
    "grade_lowered_to",
    "diagnosis_review",
)
NUMBER_FIELDS = ("age", "size_mm", "follow_up_months", "depth_mm", "mitoses")


def enum_values(schema, prop):
    """Every value a property's schema allows, following its $refs."""
    values = list(prop.get("enum", []))
    for part in prop.get("oneOf", []) + prop.get("allOf", []):
        if "$ref" in part:
            part = schema["components"]["schemas"][part["$ref"].rsplit("/", 1)[1]]
        values += enum_values(schema, part)
    return values


def test_every_unreported_choice_is_null_and_documented_nullable(client, db):
    case = make_published_case(age=None, **dict.fromkeys(ENUM_FIELDS, ""))
    data = client.get(f"{URL}{case.pk}/").json()
    listed = {row["id"]: row for row in client.get(URL).json()["results"]}[case.pk]
    schema = client.get("/api/schema/?format=json").json()
    properties = schema["components"]["schemas"]["Case"]["properties"]
    for name in ENUM_FIELDS:
        assert data[name] is None, name
        assert listed[name] is None, name
        assert properties[name].get("nullable") is True, name
        assert "" not in enum_values(schema, properties[name]), name


def test_every_reported_choice_comes_as_its_value(client, db):
    values = {
        "laterality": "left",
        "outcome": "awd",
        "age_unit": "months",
        "sex": "female",
        "source_depth": "full_text_figures",
        "mitoses_unit": "per_mm2",
        "necrosis": "absent",
        "lymphovascular_invasion": "present",
        "perineural_invasion": "absent",
        "focality": "multifocal",
        "grade_lowered_to": "D",
        "diagnosis_review": "disagrees",
    }
    case = make_published_case(
        **values,
        evidence_grade="A",
        grade_lowered_reason="The sequencing is described in one line.",
        diagnosis_review_comment="Looks like a DFSP to me.",
    )
    data = client.get(f"{URL}{case.pk}/").json()
    assert {name: data[name] for name in values} == values
    assert data["diagnosis_review_comment"] == "Looks like a DFSP to me."


def test_every_measure_is_a_json_number(client, db):
    case = make_published_case(
        age=Decimal("4.5"),
        size_mm=Decimal("12.0"),
        follow_up_months=Decimal("30.5"),
        depth_mm=Decimal("2.3"),
        mitoses=Decimal("7.0"),
        mitoses_unit="per_10_hpf",
    )
    raw = client.get(f"{URL}{case.pk}/").content.decode()
    data = json.loads(raw)
    assert {name: data[name] for name in NUMBER_FIELDS} == {
        "age": 4.5,
        "size_mm": 12,
        "follow_up_months": 30.5,
        "depth_mm": 2.3,
        "mitoses": 7,
    }
    assert '"size_mm":"' not in raw.replace(" ", "")
    unreported = make_published_case(**dict.fromkeys(NUMBER_FIELDS))
    data = client.get(f"{URL}{unreported.pk}/").json()
    assert all(data[name] is None for name in NUMBER_FIELDS)
    properties = client.get("/api/schema/?format=json").json()["components"]["schemas"]["Case"][
        "properties"
    ]
    for name in NUMBER_FIELDS:
        assert properties[name]["type"] == "number", name
        assert properties[name].get("nullable") is True, name


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
