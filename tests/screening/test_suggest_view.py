"""Suggest a paper (/screening/suggest/, screening.views.suggest and actions.suggest_paper)."""

import pytest
from django.urls import reverse

from screening.models import Candidate, CandidateSource
from tests.factories import CitationFactory

pytestmark = pytest.mark.django_db
URL = reverse("screening:suggest")


def _post(client, follow=True, **data):
    return client.post(URL, {"identifier": "", "note": "", "email": "", **data}, follow=follow)


def test_anyone_suggests_a_paper_and_it_waits_in_screening(client, curator):
    response = _post(
        client,
        identifier="https://pubmed.ncbi.nlm.nih.gov/35560368/",
        note="A scalp IMT with CARS1::ALK.",
        email="reader@example.org",
    )
    assert "Thank you: the paper will be screened." in response.content.decode()
    candidate = Candidate.objects.get()
    assert candidate.pmid == 35560368
    source = candidate.sources.get()
    assert (source.kind, source.note, source.email) == (
        "suggestion",
        "A scalp IMT with CARS1::ALK.",
        "reader@example.org",
    )
    assert len(source.client_key) == 64 and "127.0.0.1" not in source.client_key
    client.force_login(curator)
    page = client.get(reverse("screening:inbox")).content.decode()
    assert "A scalp IMT with CARS1::ALK." in page
    assert "reader@example.org" not in page


def test_a_paper_suggested_or_found_already_says_so(client):
    _post(client, identifier="10.1111/cup.14261")
    response = _post(client, identifier="https://doi.org/10.1111/CUP.14261", note="again")
    assert "suggested or found already: it is in screening" in response.content.decode()
    assert Candidate.objects.count() == 1
    assert CandidateSource.objects.count() == 2


def test_a_paper_rarederm_has_says_so_and_is_not_screened(client):
    CitationFactory(pmid=35560368)
    response = _post(client, identifier="PMID: 35560368")
    assert "RareDerm has this paper already (PMID 35560368)." in response.content.decode()
    assert not Candidate.objects.exists()


@pytest.mark.parametrize(
    ("identifier", "message"),
    [
        ("", "Enter the paper&#x27;s PMID, DOI or a link to it."),
        ("not a paper", "is not"),
        ("PMC5442267", "PMC5442267 is a PubMed Central id: give the paper&#x27;s PMID or DOI"),
    ],
)
def test_an_invalid_identifier_gets_a_message_by_the_field_and_the_text_is_kept(
    client, identifier, message
):
    response = _post(client, follow=False, identifier=identifier, note="keep me")
    assert response.status_code == 400
    page = response.content.decode()
    assert message in page
    assert 'id="identifier-error"' in page
    assert "keep me" in page
    assert not Candidate.objects.exists()


def test_a_bad_email_is_refused_by_its_field(client):
    response = _post(client, follow=False, identifier="35560368", email="nobody")
    assert response.status_code == 400
    assert "This is not an e-mail address" in response.content.decode()
    assert not Candidate.objects.exists()


def test_the_honeypot_thanks_a_robot_and_stores_nothing(client):
    response = _post(client, identifier="35560368", website="http://spam.example")
    assert "Thank you" in response.content.decode()
    assert not Candidate.objects.exists()


def test_one_client_may_suggest_only_so_many_papers_in_a_while(client, settings):
    settings.SUGGESTION_RATE_LIMIT = 2
    for pmid in (1001, 1002):
        assert _post(client, follow=False, identifier=str(pmid)).status_code == 302
    refused = _post(client, follow=False, identifier="1003", note="kept")
    assert refused.status_code == 429
    page = refused.content.decode()
    assert "You have suggested 2 papers in the last 60 minutes" in page
    assert 'value="1003"' in page and "kept" in page
    assert Candidate.objects.count() == 2
    other = client.post(
        URL, {"identifier": "1003", "note": "", "email": ""}, REMOTE_ADDR="10.0.0.9"
    )
    assert other.status_code == 302  # another client is not held back
