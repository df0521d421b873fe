"""citations/entrez.py elink: references, cited-by and related articles from the fake server."""

import pytest

from citations import entrez


def test_the_recorded_references_and_citing_papers_are_read_in_order(fake_eutils):
    # elink1.xml, recorded for PMID 9298984: its pubmed_pubmed_refs start 14732139, 8909532.
    references, tries = entrez.elink(9298984, entrez.REFERENCES)
    assert tries == 1
    assert [pmid for pmid, _ in references[:3]] == [14732139, 8909532, 8898221]
    assert all(score is None for _, score in references)
    cited_by, _ = entrez.elink(9298984, entrez.CITED_BY)
    assert cited_by and 9298984 not in [pmid for pmid, _ in cited_by]
    (request, _) = fake_eutils.requests
    assert request.endpoint == "elink"
    assert (request.params["dbfrom"], request.params["db"]) == ("pubmed", "pubmed")
    assert request.params["linkname"] == "pubmed_pubmed_refs"
    assert request.params["cmd"] == "neighbor"


def test_related_articles_come_with_scores_best_first_top_20_without_the_paper_itself(
    fake_eutils,
):
    fake_eutils.add_links(
        35560368,
        entrez.RELATED,
        [(35560368, 100000000)] + [(1000 + n, 5000 + n * 10) for n in range(30)],
    )
    fake_eutils.add_links(35560368, entrez.REFERENCES, [27797938, 9997])
    chased = entrez.chase(35560368)
    related = chased[entrez.RELATED]
    assert len(related) == 20
    assert related[0] == (1029, 5290)
    assert [score for _, score in related] == sorted((s for _, s in related), reverse=True)
    assert 35560368 not in [pmid for pmid, _ in related]
    assert chased[entrez.REFERENCES] == [(27797938, None), (9997, None)]
    assert chased[entrez.CITED_BY] == []
    assert [r.params["cmd"] for r in fake_eutils.requests] == [
        "neighbor",
        "neighbor",
        "neighbor_score",
    ]


def test_an_error_element_in_the_answer_is_a_clear_error_with_ncbis_words(fake_eutils):
    fake_eutils.elink_error(35560368, "Invalid uid 35560368 at position=0")
    with pytest.raises(entrez.EntrezError, match="Invalid uid 35560368"):
        entrez.chase(35560368)
    assert fake_eutils.count("elink") == 1  # not retried: asking again gives the same


def test_a_non_numeric_id_in_the_answer_is_refused(fake_eutils):
    fake_eutils.add_links(35560368, entrez.CITED_BY, ["27797938", "PMC5442267"])
    with pytest.raises(entrez.EntrezError, match=r"'PMC5442267'.*not a PMID"):
        entrez.elink(35560368, entrez.CITED_BY)


def test_a_cut_short_answer_is_retried_then_a_clear_error(fake_eutils):
    fake_eutils.inject("truncated", times=None, endpoint="elink")
    with pytest.raises(entrez.EntrezError, match=r"bad answer.*after 3 tries"):
        entrez.elink(9298984, entrez.REFERENCES)


def test_an_unknown_link_name_is_refused_before_asking_ncbi(fake_eutils):
    with pytest.raises(ValueError, match="unknown link name"):
        entrez.elink(9298984, "pubmed_pmc")
    assert fake_eutils.count() == 0
