"""POST /api/v1/drafts/ (issue 17): a curator's script sends a case as JSON with a
personal API token. The case form validates it (the same bad input, the same
message), the same actions write it, and it goes through the same review: a draft,
or a case in the review queue — never public until a reviewer approves it."""

import html

import pytest
from django.urls import reverse

from accounts.tokens import create_token
from curation import workflow
from curation.drafts_api import EXAMPLE
from curation.models import Case
from tests.curation.curate_forms import case_post
from tests.factories import CitationFactory

URL = "/api/v1/drafts/"


@pytest.fixture
def citation(db):
    return CitationFactory(pmid=EXAMPLE["pmid"])


@pytest.fixture
def key(curator):
    return create_token(curator, name="script")[1]


def send(client, body, key, **extra):
    return client.post(
        URL, body, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {key}", **extra
    )


def test_a_curators_case_lands_in_the_review_queue_and_is_not_public(
    client, citation, curator, key, reviewer
):
    response = send(client, EXAMPLE, key)
    assert response.status_code == 201, response.json()
    case = Case.objects.get(pk=response.json()["id"])
    assert response.json()["status"] == case.status == workflow.SUBMITTED
    assert case.created_by == curator and case.citation == citation
    assert str(case.age) == "38.0" and case.topography.code == "C44.4"
    assert [(r.marker.name, r.result) for r in case.ihc_results.all()] == [("ALK", "positive")]
    assert case.fusions.get().notation == "CARS1::ALK"
    # Not public: not in the API, not on the case page for anyone else.
    assert client.get(f"/api/v1/cases/{case.pk}/").status_code == 404
    assert client.get(case.get_absolute_url()).status_code == 404
    client.force_login(reviewer)
    queue = client.get(reverse("curation:review_queue")).content.decode()
    assert reverse("curation:review_case", args=[case.pk]) in queue


def test_without_submit_the_case_stays_a_draft_of_its_curator(client, citation, curator, key):
    response = send(
        client, {"pmid": citation.pmid, "label": "Case 2", "age": 7.5, "age_unit": "years"}, key
    )
    assert response.status_code == 201
    case = Case.objects.get(pk=response.json()["id"])
    assert case.status == workflow.DRAFT and case.label == "Case 2"
    client.force_login(curator)
    assert client.get(reverse("curation:my_drafts")).status_code == 200
    assert "Case 2" in client.get(reverse("curation:my_drafts")).content.decode()


def test_an_incomplete_case_sent_for_review_is_refused_and_nothing_is_written(
    client, citation, key
):
    response = send(client, {"pmid": citation.pmid, "submit": True, "sex": "female"}, key)
    assert response.status_code == 400
    errors = response.json()
    assert errors["final_diagnosis"] == ["Choose the final diagnosis before submitting."]
    assert "topography" in errors and "findings" in errors
    assert not Case.objects.exists()


@pytest.mark.parametrize(
    ("fields", "rows", "where", "message"),
    [
        ({"age": -5}, {}, "age", "An age cannot be negative."),
        ({"age": 300}, {}, "age", "An age of 300 years is not plausible (at most 120)."),
        ({"follow_up_months": 12}, {}, "outcome", "Give the status at the last follow-up."),
        ({"sex": "robot"}, {}, "sex", None),
        ({"final_diagnosis": "no such tumour"}, {}, "final_diagnosis", None),
        ({}, {"ihc": [{"marker": "ALK"}]}, "ihc_results[0].result", None),
    ],
)
def test_the_same_bad_input_gets_the_same_message_from_the_form_and_the_api(
    client, citation, curator, key, fields, rows, where, message
):
    api = send(
        client,
        {
            "pmid": citation.pmid,
            "age_unit": "years",
            **fields,
            **({"ihc_results": rows["ihc"]} if rows else {}),
        },
        key,
    )
    assert api.status_code == 400
    api_messages = api.json()[where]
    if message:
        assert api_messages == [message]
    assert not Case.objects.filter(created_by=curator).exists()
    # The same input through the case page.
    client.force_login(curator)
    case = Case.objects.create(citation=citation, created_by=curator)
    page = client.post(
        reverse("curation:case_edit", args=[case.pk]),
        case_post(case, ihc=rows.get("ihc", ()), **fields),
    )
    assert page.status_code == 422
    shown = html.unescape(page.content.decode())
    for text in api_messages:
        assert text in shown


@pytest.mark.parametrize(
    ("body", "where", "message"),
    [
        ({"colour": "red"}, "colour", "Unknown field “colour”"),
        ({"age": "38"}, "age", "Expected a number"),
        ({"age": True}, "age", "Expected a number"),
        ({"label": 5}, "label", "Expected a string"),
        ({"submit": "yes"}, "submit", "Expected true or false"),
        ({"ihc_results": [{"marker": "ALK", "colour": 1}]}, "ihc_results[0].colour", "Unknown"),
        ({"ihc_results": [{"percent_cells": 5.5}]}, "ihc_results[0].percent_cells", "whole"),
        ({"ihc_results": "ALK"}, "ihc_results", "Expected a list"),
    ],
)
def test_unknown_keys_and_wrong_types_are_a_400_naming_each(
    client, citation, key, body, where, message
):
    response = send(client, {"pmid": citation.pmid, **body}, key)
    assert response.status_code == 400
    assert message in " ".join(response.json()[where])
    assert not Case.objects.exists()


def test_every_problem_is_listed_at_once(client, citation, key):
    response = send(client, {"pmid": citation.pmid, "colour": 1, "age": "x", "sex": 2}, key)
    assert set(response.json()) == {"colour", "age", "sex"}


@pytest.mark.parametrize(
    ("body", "where"),
    [("{not json", "detail"), ("[1, 2]", "detail"), ('{"pmid": "1"}', "pmid")],
)
def test_a_body_that_is_no_case_object_is_a_clear_400(client, citation, key, body, where):
    response = send(client, body, key)
    assert response.status_code == 400
    assert response.json()[where]


def test_a_body_too_large_is_a_json_400(client, citation, key, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1_000
    response = send(client, {"pmid": citation.pmid, "notes": "x" * 2_000}, key)
    assert response.status_code == 400
    assert "larger than 1,000 bytes" in response.json()["detail"][0]
    assert not Case.objects.exists()


def test_a_report_not_in_rarederm_is_named(client, db, key):
    response = send(client, {"pmid": 12345}, key)
    assert response.status_code == 400
    assert "PMID 12345 is not in RareDerm" in response.json()["pmid"][0]


def test_anonymous_and_readers_cannot_submit(client, citation, reader, curator):
    assert client.post(URL, EXAMPLE, content_type="application/json").status_code == 401
    # A logged-in session is no token (and would need CSRF): 401 too.
    client.force_login(curator)
    assert client.post(URL, EXAMPLE, content_type="application/json").status_code == 401
    client.logout()
    _token, reader_key = create_token(reader, name="not a curator")
    refused = send(client, EXAMPLE, reader_key)
    assert refused.status_code == 403
    assert "Only curators" in refused.json()["detail"]
    assert not Case.objects.exists()


def test_a_revoked_token_submits_nothing(client, citation, curator):
    from accounts.tokens import revoke_token

    token, key = create_token(curator, name="old")
    revoke_token(token)
    assert send(client, EXAMPLE, key).status_code == 401
    assert not Case.objects.exists()


def test_the_schema_documents_every_field_and_every_answer(client, db):
    schema = client.get("/api/schema/?format=json").json()
    operation = schema["paths"]["/api/v1/drafts/"]["post"]
    assert {"201", "400", "401", "403", "415"} <= set(operation["responses"])
    components = schema["components"]["schemas"]
    for name in ("Draft", "DraftIhcRow", "DraftFusionRow", "DraftTreatmentRow"):
        for field, spec in components[name]["properties"].items():
            assert spec.get("description"), f"{name}.{field} is not described"
