"""Citation chasing through elink: the task stores a paper's links, the citation page shows
them, one click sends the unknown ones to screening (deduplicated), publishing a paper's
first case chases it, and a real worker runs it."""

import time

import pytest
from django.urls import reverse

from citations import entrez
from citations.models import CitationLink
from citations.tasks import chase_citation
from curation import workflow
from curation.actions.cases import transition
from curation.actions.review import approve_case
from screening.actions import add_candidate
from screening.models import Candidate
from tests.factories import CaseFactory, CitationFactory

PMID = 35560368


def _links(fake_eutils):
    fake_eutils.add_links(PMID, entrez.REFERENCES, [27797938, 9997, 11748933])
    fake_eutils.add_links(PMID, entrez.CITED_BY, [39000001, 39000002])
    fake_eutils.add_links(
        PMID, entrez.RELATED, [(PMID, 99999999), (39000003, 4100), (39000004, 5200)]
    )


def _stored(citation, relation):
    return list(
        citation.links.filter(relation=relation).order_by("position").values_list("pmid", "score")
    )


@pytest.mark.django_db
def test_the_task_stores_references_citing_and_related_papers_with_scores(fake_eutils):
    _links(fake_eutils)
    paper = CitationFactory(pmid=PMID)
    chase_citation(paper.pk)
    assert _stored(paper, "refs") == [(27797938, None), (9997, None), (11748933, None)]
    assert _stored(paper, "citedin") == [(39000001, None), (39000002, None)]
    assert _stored(paper, "related") == [(39000004, 5200), (39000003, 4100)]
    assert fake_eutils.count("elink") == 3
    chase_citation(paper.pk)  # again: replaced, not doubled
    assert paper.links.count() == 7


@pytest.mark.django_db
def test_a_bad_ncbi_answer_stores_nothing_and_keeps_the_links_stored_before(fake_eutils):
    _links(fake_eutils)
    paper = CitationFactory(pmid=PMID)
    chase_citation(paper.pk)
    before = sorted(paper.links.values_list("relation", "pmid"))
    # References and cited-by answer well this time; related articles do not.
    fake_eutils.add_links(PMID, entrez.REFERENCES, [1, 2, 3, 4])
    fake_eutils.add_links(PMID, entrez.RELATED, [("39000003", 10), ("<b>x</b>", 5)])
    with pytest.raises(entrez.EntrezError, match="not a PMID"):
        from citations.actions.links import chase_citation as chase

        chase(paper.pk)
    chase_citation(paper.pk)  # the task reports it and raises nothing
    assert sorted(paper.links.values_list("relation", "pmid")) == before


@pytest.mark.django_db
def test_a_failed_fetch_is_said_on_the_page_until_a_good_one(client, curator, fake_eutils):
    _links(fake_eutils)
    paper = CitationFactory(pmid=PMID)
    chase_citation(paper.pk)
    fake_eutils.elink_error(PMID, "Invalid uid 35560368 at position= 0")
    chase_citation(paper.pk)  # NCBI refuses: the task records it and raises nothing
    paper.refresh_from_db()
    assert "Invalid uid" in paper.links_error and paper.links_error_at is not None
    client.force_login(curator)
    page = client.get(paper.get_absolute_url()).content.decode()
    assert 'data-testid="links-error"' in page and "Invalid uid" in page
    assert "The links below are from the fetch before." in page
    assert "References (3 in PubMed" in page  # the earlier links are kept

    fake_eutils.elink_error(PMID, None)  # NCBI answers again
    chase_citation(paper.pk)
    paper.refresh_from_db()
    assert (paper.links_error, paper.links_error_at) == ("", None)
    assert 'data-testid="links-error"' not in client.get(paper.get_absolute_url()).content.decode()


@pytest.mark.django_db
def test_the_page_counts_each_relation_and_one_click_sends_the_unknown_cited_by_once(
    client, curator, fake_eutils
):
    _links(fake_eutils)
    paper = CitationFactory(pmid=PMID)
    CitationFactory(pmid=39000001)  # RareDerm has one citing paper already
    chase_citation(paper.pk)
    client.force_login(curator)
    page = client.get(paper.get_absolute_url()).content.decode()
    assert "References (3 in PubMed, 0 already in RareDerm)" in page
    assert "Cited by (2 in PubMed, 1 already in RareDerm)" in page
    assert "Related (2 in PubMed, 0 already in RareDerm)" in page
    # A related paper a saved search found already: the same candidate, a second source.
    add_candidate(kind="search", pmid=39000004, label="cutaneous IMT")
    url = reverse("screening:chase", args=[PMID])
    done = client.post(url, {"relation": "related"}, follow=True).content.decode()
    assert "Related of PMID 35560368: 1 sent to screening, 1 in screening already" in done
    done = client.post(url, {"relation": "citedin"}, follow=True).content.decode()
    assert "1 sent to screening, 0 in screening already, 1 in RareDerm already" in done
    assert sorted(Candidate.objects.values_list("pmid", flat=True)) == [
        39000002,
        39000003,
        39000004,
    ]
    labels = [s.label for s in Candidate.objects.get(pmid=39000004).sources.order_by("pk")]
    assert labels == ["cutaneous IMT", "related to PMID 35560368"]
    assert Candidate.objects.get(pmid=39000002).sources.get().label == (
        "papers citing PMID 35560368"
    )
    again = client.post(url, {"relation": "related"}, follow=True).content.decode()
    assert "0 sent to screening, 2 in screening already" in again
    assert Candidate.objects.count() == 3


@pytest.mark.django_db
def test_a_curator_fetches_the_links_on_demand_and_a_reader_may_not(
    client, curator, reader, fake_eutils
):
    _links(fake_eutils)
    CitationFactory(pmid=PMID)
    url = reverse("citations:chase_links", args=[PMID])
    client.force_login(reader)
    assert client.post(url).status_code == 403
    assert fake_eutils.count() == 0
    client.force_login(curator)
    response = client.post(url, follow=True)
    assert "Fetching the references" in response.content.decode()


@pytest.mark.django_db(transaction=True)
def test_the_on_demand_button_stores_the_links_once_committed(client, curator, fake_eutils):
    _links(fake_eutils)
    paper = CitationFactory(pmid=PMID)
    client.force_login(curator)
    client.post(reverse("citations:chase_links", args=[PMID]))
    assert paper.links.count() == 7


@pytest.mark.django_db(transaction=True)
def test_publishing_a_papers_first_case_chases_it_and_a_second_does_not(
    settings, curator, reviewer, fake_eutils
):
    settings.CHASE_ON_PUBLISH = True
    _links(fake_eutils)
    paper = CitationFactory(pmid=PMID)
    for _ in range(2):
        case = CaseFactory(created_by=curator, citation=paper)
        transition(case, workflow.SUBMITTED, curator)
        approve_case(case, reviewer)
    assert paper.links.count() == 7
    assert fake_eutils.count("elink") == 3


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_chases_a_paper_queued_from_the_page(
    postgres, client, curator, fake_eutils, start_worker
):
    _links(fake_eutils)
    paper = CitationFactory(pmid=PMID)
    worker = start_worker(**fake_eutils.worker_env)
    client.force_login(curator)
    client.post(reverse("citations:chase_links", args=[PMID]))
    deadline = time.monotonic() + 60
    while CitationLink.objects.filter(citation=paper).count() < 7:
        assert time.monotonic() < deadline, worker.output()
        time.sleep(0.3)
    assert _stored(paper, "related") == [(39000004, 5200), (39000003, 4100)]
