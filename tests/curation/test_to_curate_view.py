"""A curator's "To curate" list (curation.views.to_curate): papers screening included for them."""

import pytest
from django.urls import reverse

from screening.actions import add_candidate, decide_candidate
from tests.factories import CitationFactory

pytestmark = pytest.mark.django_db
URL = reverse("curation:to_curate")


def _candidate(pmid, **citation):
    record = CitationFactory(pmid=pmid, **citation)
    return add_candidate(kind="search", citation=record, label="cutaneous IMT").candidate


def test_included_papers_appear_in_the_list_of_the_curator_they_are_assigned_to(
    client, curator, reviewer
):
    candidate = _candidate(35560368, title="A cutaneous IMT.")
    _candidate(35560369, title="Still to screen.")
    decide_candidate(candidate, "include", by=reviewer, assign_to=curator)
    client.force_login(reviewer)
    assert "A cutaneous IMT." not in client.get(URL).content.decode()
    client.force_login(curator)
    page = client.get(URL).content.decode()
    assert "A cutaneous IMT." in page
    assert "Still to screen." not in page
    assert f'action="{reverse("curation:new_report")}"' in page
    assert 'name="identifier" value="35560368"' in page


def test_readers_are_refused(client, reader):
    client.force_login(reader)
    assert client.get(URL).status_code == 403


def test_starting_the_report_of_an_included_paper_opens_its_stored_citation(client, curator):
    candidate = _candidate(35560368)
    decide_candidate(candidate, "include", by=curator)
    client.force_login(curator)
    response = client.post(reverse("curation:new_report"), {"identifier": candidate.identifier})
    assert response.status_code == 302
    assert response["Location"] == reverse("curation:report", kwargs={"pmid": 35560368})
