"""The one identifier grammar (citations.actions.identifiers), as every caller uses it."""

import pytest

from citations.actions import parse_identifier, split_identifiers


@pytest.mark.parametrize(
    "typed",
    [
        "35560368",
        "  35560368. ",
        "PMID: 35560368",
        "pmid35560368",
        "PMID 35560368",
        "https://pubmed.ncbi.nlm.nih.gov/35560368/",
        "pubmed.ncbi.nlm.nih.gov/35560368/",
        "http://pubmed.ncbi.nlm.nih.gov/35560368",
        "https://pubmed.ncbi.nlm.nih.gov/35560368/?from_term=ALK#abstract",
        "www.ncbi.nlm.nih.gov/pubmed/35560368",
        "<https://pubmed.ncbi.nlm.nih.gov/35560368/>",
    ],
)
def test_a_pmid_in_every_usual_form(typed):
    found = parse_identifier(typed)
    assert (found.pmid, found.query, found.error) == (35560368, "35560368", "")


@pytest.mark.parametrize(
    "typed",
    [
        "10.1111/cup.14261",
        "10.1111/CUP.14261.",
        "doi:10.1111/cup.14261",
        "DOI: 10.1111/cup.14261",
        "https://doi.org/10.1111/cup.14261",
        "doi.org/10.1111/cup.14261",
        "http://dx.doi.org/10.1111/cup.14261",
        "https://doi.org/10.1111%2Fcup.14261",
    ],
)
def test_a_doi_in_every_usual_form(typed):
    found = parse_identifier(typed)
    assert (found.doi, found.pmid, found.error) == ("10.1111/cup.14261", None, "")


@pytest.mark.parametrize(
    "typed",
    [
        "PMC5442267",
        "pmc5442267",
        "PMCID: PMC5442267",
        "PMCID: 5442267",
        "https://pmc.ncbi.nlm.nih.gov/articles/PMC5442267/",
        "https://www.ncbi.nlm.nih.gov/pmc/articles/PMC5442267/",
        "ncbi.nlm.nih.gov/pmc/articles/PMC5442267",
        "https://europepmc.org/article/PMC/PMC5442267",
    ],
)
def test_a_pmc_id_in_every_usual_form(typed):
    found = parse_identifier(typed)
    assert (found.pmcid, found.query, found.pmid, found.error) == (
        "PMC5442267",
        "PMC5442267",
        None,
        "",
    )
    assert found.lookup == {"pmcid": "PMC5442267"}


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("", "is not a PMID (35560368), a DOI (10.1111/cup.14261), a PMC id"),
        ("0", "a PMID is a positive whole number"),
        ("abc", "“abc” is not a PMID"),
        ("-5", "is not a PMID"),
        ("35560368 OR 1", "is not a PMID"),
        ("https://evil.example/pubmed/35560368", "is not a PMID"),
        ("pubmed.ncbi.nlm.nih.gov/35560368/<script>", "is not a PMID"),
        ("PMC", "is not a PMID"),
        ("x" * 5000, "is too long (5,000 characters)"),
        ("3556\x000368", "invisible control characters"),
        ("3556\u202e0368", "invisible control characters"),
    ],
)
def test_hostile_or_wrong_input_gets_a_clear_message(typed, message):
    found = parse_identifier(typed)
    assert found.error and message in found.error
    assert found.pmid is None and not found.doi and not found.pmcid
    assert len(found.error) < 300 and "\x00" not in found.error


def test_a_pasted_list_keeps_a_prefixed_identifier_whole():
    assert split_identifiers("PMID: 1, PMID 2;3\nPMCID: PMC4 doi:10.1/x") == [
        "PMID:1",
        "PMID:2",
        "3",
        "PMCID:PMC4",
        "doi:10.1/x",
    ]
