"""screening.actions.add_candidate: each paper once, with every place it was found."""

import pytest

from screening.actions import DUPLICATE, KNOWN, NEW, add_candidate
from screening.models import Candidate, CandidateSource
from tests.factories import CitationFactory

pytestmark = pytest.mark.django_db


def test_a_new_paper_becomes_a_candidate_with_its_source(curator):
    added = add_candidate(kind="suggestion", pmid=35560368, by=curator, note="an IMT")
    assert added.outcome == NEW
    source = added.candidate.sources.get()
    assert (source.kind, source.added_by, source.note, source.duplicate) == (
        "suggestion",
        curator,
        "an IMT",
        False,
    )
    assert added.candidate.status == Candidate.Status.NEW


def test_the_same_pmid_again_is_a_duplicate_recorded_on_the_first_candidate():
    first = add_candidate(kind="search", pmid=35560368, label="cutaneous IMT").candidate
    again = add_candidate(kind="reference", pmid=35560368, label="references of PMID 1")
    assert again.outcome == DUPLICATE
    assert again.candidate == first
    assert Candidate.objects.count() == 1
    assert list(first.sources.order_by("pk").values_list("label", "duplicate")) == [
        ("cutaneous IMT", False),
        ("references of PMID 1", True),
    ]


def test_a_doi_in_another_letter_case_or_as_a_link_is_the_same_paper():
    first = add_candidate(kind="suggestion", doi="10.1111/cup.14261").candidate
    again = add_candidate(kind="suggestion", doi="https://doi.org/10.1111/CUP.14261")
    assert again.outcome == DUPLICATE
    assert again.candidate == first


def test_a_pmid_found_later_fills_in_the_candidate_found_by_doi():
    first = add_candidate(kind="suggestion", doi="10.1111/cup.14261").candidate
    again = add_candidate(kind="search", pmid=35560368, doi="10.1111/cup.14261")
    assert again.candidate == first
    first.refresh_from_db()
    assert first.pmid == 35560368


def test_a_paper_registry_already_holds_is_not_screened_again():
    known = CitationFactory(pmid=35560368, doi="10.1111/cup.14261")
    by_pmid = add_candidate(kind="suggestion", pmid=35560368)
    by_doi = add_candidate(kind="suggestion", doi="10.1111/CUP.14261")
    assert (by_pmid.outcome, by_pmid.citation) == (KNOWN, known)
    assert by_doi.outcome == KNOWN
    assert not Candidate.objects.exists()
    assert not CandidateSource.objects.exists()


def test_a_citation_just_fetched_for_the_candidate_is_its_record():
    citation = CitationFactory(pmid=35560368)
    added = add_candidate(kind="search", citation=citation, label="cutaneous IMT")
    assert added.outcome == NEW
    assert (added.candidate.pmid, added.candidate.doi) == (35560368, citation.doi)
    assert added.candidate.citation == citation


def test_a_paper_without_pmid_or_doi_is_refused():
    with pytest.raises(ValueError, match="PMID or a DOI"):
        add_candidate(kind="suggestion", doi="not a doi")
