"""Candidates known by PMID alone (suggestions, chased papers) get their PubMed record by a
task (efetch, batches of at most 200), so the inbox shows their title and abstract."""

import time

import pytest
from django.urls import reverse

from screening.actions import add_candidate, fetch_candidate_records, suggest_paper
from screening.models import Candidate
from tests.factories import CitationFactory


@pytest.mark.django_db
def test_pmid_only_candidates_get_title_abstract_journal_and_year_in_one_efetch(
    client, curator, fake_eutils
):
    for pmid in (27797938, 35560368, 1):  # 1: PubMed does not know it
        add_candidate(kind="suggestion", pmid=pmid)
    counts = fetch_candidate_records()
    assert counts == {"asked": 3, "linked": 2, "requests": 1}
    (request,) = fake_eutils.requests
    assert sorted(request.ids) == ["1", "27797938", "35560368"]
    paper = Candidate.objects.get(pmid=35560368).citation
    assert paper.year == 2022 and paper.title and paper.journal
    assert Candidate.objects.get(pmid=1).citation is None
    client.force_login(curator)
    inbox = client.get(reverse("screening:inbox")).content.decode()
    # The title (the entity's terms in it highlighted), and PMID 1 still waiting.
    assert "Leucocyte telomere length, genetic variants at the <i>TERT</i> gene" in inbox
    assert "<strong>Objective:</strong> Telomere shortening occurs" in inbox
    assert inbox.count("(not fetched yet)") == 1
    assert fetch_candidate_records()["requests"] == 1  # only PMID 1 is asked for again


@pytest.mark.django_db
def test_more_than_200_candidates_go_in_batches_of_200(fake_eutils):
    pmids = fake_eutils.add_synthetic(450)
    Candidate.objects.bulk_create(Candidate(pmid=pmid) for pmid in pmids)
    counts = fetch_candidate_records()
    assert counts == {"asked": 450, "linked": 450, "requests": 3}
    assert [len(r.ids) for r in fake_eutils.requests] == [200, 200, 50]


@pytest.mark.django_db
def test_an_ncbi_fault_keeps_the_batches_before_and_the_next_run_catches_up(fake_eutils, settings):
    settings.ENTREZ_BATCH_SIZE = 2
    for pmid in (27797938, 35560368, 9997):
        add_candidate(kind="suggestion", pmid=pmid)
    fake_eutils.inject("html", times=3)  # the first batch: every try garbled
    fake_eutils.reset_counts()
    from citations.entrez import EntrezError

    with pytest.raises(EntrezError, match="bad answer"):
        fetch_candidate_records()
    assert not Candidate.objects.filter(citation__isnull=False).exists()
    assert fetch_candidate_records() == {"asked": 3, "linked": 3, "requests": 2}


@pytest.mark.django_db
def test_a_candidate_with_a_citation_already_is_not_fetched(fake_eutils):
    add_candidate(kind="search", pmid=35560368, citation=CitationFactory(pmid=35560368))
    assert fetch_candidate_records() == {"asked": 0, "linked": 0, "requests": 0}
    assert fake_eutils.count() == 0


@pytest.mark.django_db(transaction=True)
def test_a_suggested_pmid_gets_its_record_from_a_real_worker(
    postgres, settings, fake_eutils, start_worker
):
    settings.FETCH_CANDIDATE_RECORDS = True
    worker = start_worker(**fake_eutils.worker_env)
    suggest_paper("https://pubmed.ncbi.nlm.nih.gov/27797938/")
    deadline = time.monotonic() + 60
    while Candidate.objects.filter(pmid=27797938, citation__isnull=True).exists():
        assert time.monotonic() < deadline, worker.output()
        time.sleep(0.3)
    assert Candidate.objects.get(pmid=27797938).citation.abstract


@pytest.mark.django_db
def test_doi_only_candidates_get_their_pmid_merge_when_known_and_are_asked_once(
    client, curator, fake_eutils
):
    from screening.prisma import prisma_counts
    from tests.fake_eutils import synthetic_doi

    found, twice = fake_eutils.add_synthetic(2)
    by_doi = add_candidate(kind="suggestion", doi=synthetic_doi(found)).candidate
    add_candidate(kind="reference", pmid=twice, label="references of PMID 9")
    same_paper = add_candidate(kind="suggestion", doi=synthetic_doi(twice)).candidate
    unknown = add_candidate(kind="suggestion", doi="10.9999/not.in.pubmed").candidate
    assert prisma_counts()["records"] == 4

    fetch_candidate_records()
    by_doi.refresh_from_db()
    assert by_doi.pmid == found and by_doi.citation is not None and by_doi.citation.title
    # The same paper twice: one record now, its suggestion a duplicate source.
    assert not Candidate.objects.filter(pk=same_paper.pk).exists()
    kept = Candidate.objects.get(pmid=twice)
    assert sorted((s.kind, s.duplicate) for s in kept.sources.all()) == [
        ("reference", False),
        ("suggestion", True),
    ]
    counts = prisma_counts()
    assert (counts["identified_total"], counts["duplicates"], counts["records"]) == (4, 1, 3)
    assert counts["identified_total"] - counts["duplicates"] == counts["records"]
    unknown.refresh_from_db()
    assert unknown.pmid is None and unknown.doi_checked_at is not None
    client.force_login(curator)
    inbox = client.get(reverse("screening:inbox")).content.decode()
    assert "PubMed has no record of this DOI" in inbox

    asked = fake_eutils.count("esearch")
    assert asked == 3
    fetch_candidate_records()
    assert fake_eutils.count("esearch") == asked  # each DOI is asked for once
