"""Citation chasing from the stored XML: a citation's page shows its references to screeners
(screening.views.references_section) and sends the unknown ones to screening (chase)."""

import re

import pytest
from django.urls import reverse

from citations.pubmed import reference_pmids
from screening.actions import add_candidate
from screening.models import Candidate
from tests.factories import CitationFactory
from tests.fake_eutils import FIXTURES

pytestmark = pytest.mark.django_db

# pubmed7.xml (29963580): a recorded PubMed answer with a ReferenceList of 49.
RAW = re.search(
    r"<PubmedArticle>.*?</PubmedArticle>",
    (FIXTURES / "pubmed7.xml").read_text(encoding="utf-8"),
    re.DOTALL,
).group(0)


def test_the_reference_pmids_are_read_from_the_raw_xml_in_order():
    pmids = reference_pmids(RAW)
    assert len(pmids) == 49
    assert pmids[:2] == [25144646, 8028666]
    assert 29963580 not in pmids  # the article's own PMID is no reference
    assert reference_pmids("") == []


@pytest.fixture
def paper():
    return CitationFactory(pmid=29963580, raw_xml=RAW)


def test_screeners_see_how_many_references_rarederm_has(client, curator, paper):
    CitationFactory(pmid=25144646)
    add_candidate(kind="search", pmid=8028666)
    client.force_login(curator)
    page = client.get(paper.get_absolute_url()).content.decode()
    assert "References (49 in PubMed, 1 already in RareDerm)" in page
    assert "1 of them in screening already" in page


def test_readers_do_not_see_the_references_section(client, reader, paper):
    client.force_login(reader)
    assert "in PubMed, " not in client.get(paper.get_absolute_url()).content.decode()


def test_one_click_sends_the_unknown_references_to_screening_once(client, curator, paper):
    CitationFactory(pmid=25144646)
    add_candidate(kind="search", pmid=8028666, label="cutaneous IMT")
    client.force_login(curator)
    url = reverse("screening:chase", args=[29963580])
    response = client.post(url, follow=True)
    assert (
        "References of PMID 29963580: 47 sent to screening, 1 in screening already, "
        "1 in RareDerm already." in response.content.decode()
    )
    assert Candidate.objects.count() == 48
    found_again = Candidate.objects.get(pmid=8028666)
    assert [s.label for s in found_again.sources.order_by("pk")] == [
        "cutaneous IMT",
        "references of PMID 29963580",
    ]
    again = client.post(url, follow=True).content.decode()
    assert "0 sent to screening, 48 in screening already" in again
    assert Candidate.objects.count() == 48
