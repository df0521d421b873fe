"""curation/molecular.py: HGVS forms, RefSeq ids and the evidence grade (no database)."""

import pytest

from curation.molecular import (
    HGVSError,
    effective_grade,
    lowering_error,
    parse_cdna,
    parse_protein,
    protein_short,
    supported_grade,
    transcript_error,
)


@pytest.mark.parametrize(
    ("written", "normalised"),
    [
        ("V600E", "p.Val600Glu"),
        ("p.V600E", "p.Val600Glu"),
        ("p.val600glu", "p.Val600Glu"),
        ("p.(Val600Glu)", "p.(Val600Glu)"),
        ("p.Q61*", "p.Gln61Ter"),
        ("p.E746_A750del", "p.Glu746_Ala750del"),
        ("p.Leu858ArgfsTer5", "p.Leu858ArgfsTer5"),
        ("p.A750_E751insVL", "p.Ala750_Glu751insValLeu"),
    ],
)
def test_protein_changes_are_normalised_to_hgvs_three_letter_form(written, normalised):
    assert parse_protein(written) == normalised


def test_the_short_form_is_what_papers_print():
    assert protein_short("p.Val600Glu") == "p.V600E"
    assert protein_short("p.Gln61Ter") == "p.Q61*"


@pytest.mark.parametrize(
    "written", ["V600", "BRAF V600E", "p.600E", "p.Val600Glx", "p.E750_A746del"]
)
def test_a_protein_change_that_does_not_parse_says_what_to_type(written):
    with pytest.raises(HGVSError, match=r"p\.V600E|range"):
        parse_protein(written)


@pytest.mark.parametrize(
    ("written", "normalised"),
    [
        ("c.1799t>a", "c.1799T>A"),
        ("c.-124C>T", "c.-124C>T"),  # upstream of the start codon
        ("c.1234+1G>A", "c.1234+1G>A"),
        ("c.2235_2249del", "c.2235_2249del"),
        ("1799_1800delinsaa", "c.1799_1800delinsAA"),
    ],
)
def test_cdna_changes_keep_their_form_with_upper_case_bases(written, normalised):
    assert parse_cdna(written) == normalised


@pytest.mark.parametrize("written", ["c.1799T>T", "c.1799", "1799TA", "c.abc"])
def test_a_cdna_change_that_does_not_parse_is_refused(written):
    with pytest.raises(HGVSError):
        parse_cdna(written)


def test_a_refseq_transcript_is_checked_for_form():
    assert transcript_error("NM_004333.6") == ""
    assert transcript_error("NM_004333") == ""
    assert "RefSeq" in transcript_error("ENST00000389048")


@pytest.mark.parametrize(
    ("methods", "ihc", "grade"),
    [
        (["targeted_rna_panel"], ["positive"], "A"),
        (["dna_panel", "fish_break_apart"], [], "A"),
        (["fish_break_apart"], ["positive"], "B"),
        (["rt_pcr"], [], "B"),
        (["ihc_surrogate"], [], "C"),
        ([], ["positive", "negative"], "C"),
        ([""], ["positive"], "C"),  # a finding without its method supports nothing more
        (["other"], [], "D"),
        ([], ["not_reported"], "D"),
        ([], [], "D"),
    ],
)
def test_the_grade_is_what_the_findings_support(methods, ihc, grade):
    assert supported_grade(methods, ihc) == grade


def test_a_grade_may_be_lowered_never_raised():
    assert lowering_error("B", "C") == ""
    assert effective_grade("B", "C") == "C"
    assert "never raised" in lowering_error("C", "A")
    assert effective_grade("C", "A") == "C"
    assert effective_grade("A", "") == "A"
