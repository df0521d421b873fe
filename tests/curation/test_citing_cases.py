"""A citation's page lists the published cases citing it (a section curation adds)."""

import pytest
from django.urls import reverse

from tests.factories import CaseFactory, CitationFactory, make_published_case

pytestmark = pytest.mark.django_db


def page(client, pmid) -> str:
    response = client.get(reverse("citations:detail", args=[pmid]))
    assert response.status_code == 200
    return response.content.decode()


def test_published_cases_that_cite_it_are_listed_and_drafts_are_not(client):
    citation = CitationFactory(pmid=35560368)
    published = make_published_case(citation=citation, label="Case 1")
    CaseFactory(citation=citation, label="Case 2")  # a draft
    html = page(client, 35560368)
    assert "Cases that cite it" in html
    assert f'<a href="{published.get_absolute_url()}">{published}</a>' in html
    assert "(Case 2)" not in html


def test_a_case_citing_it_as_another_report_is_listed(client):
    other = CitationFactory(pmid=12091962)
    published = make_published_case(label="Case 3")
    published.other_citations.add(other)
    assert str(published) in page(client, 12091962)


def test_a_paper_no_published_case_cites_says_so(client):
    CitationFactory(pmid=35560368)
    html = page(client, 35560368)
    assert "Cases that cite it" in html
    assert "No published case cites this article yet." in html
