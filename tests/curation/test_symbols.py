"""The gene-symbol resolver, without a database (curation.symbols)."""

import pytest

from curation.symbols import (
    ALIAS,
    AMBIGUOUS,
    APPROVED,
    INVALID,
    PREVIOUS,
    UNKNOWN,
    GeneRecord,
    SymbolIndex,
)

CARS1 = GeneRecord("HGNC:1493", "CARS1", "cysteinyl-tRNA synthetase 1", ("CARS",), ("CYSRS",))
CARS2 = GeneRecord("HGNC:25695", "CARS2", "cysteinyl-tRNA synthetase 2, mitochondrial")
SEC31A = GeneRecord("HGNC:17052", "SEC31A", "SEC31 homolog A", ("SEC31L1",), ("SEC31",))
ALK = GeneRecord("HGNC:427", "ALK", "ALK receptor tyrosine kinase", (), ("CD246",))
NTRK1 = GeneRecord("HGNC:8031", "NTRK1", "neurotrophic receptor tyrosine kinase 1", (), ("TRKA",))
NTRK2 = GeneRecord("HGNC:8032", "NTRK2", "neurotrophic receptor tyrosine kinase 2", (), ("TRKB",))
# Two genes sharing an alias, and two sharing a previous symbol: the resolver
# must hand both to the curator instead of picking one.
SHARED_ALIAS_1 = GeneRecord("HGNC:90001", "GENEA1", "", (), ("P40X",))
SHARED_ALIAS_2 = GeneRecord("HGNC:90002", "GENEB1", "", (), ("P40X",))
SHARED_PREV_1 = GeneRecord("HGNC:90003", "GENEC1", "", ("OLDSYM",), ())
SHARED_PREV_2 = GeneRecord("HGNC:90004", "GENED1", "", ("OLDSYM",), ())
# A symbol that is one gene's previous symbol and another gene's alias: the
# curator chooses (issue 13: never silently the wrong gene).
PREV_VS_ALIAS_1 = GeneRecord("HGNC:90005", "GENEE1", "", ("MIXED",), ())
PREV_VS_ALIAS_2 = GeneRecord("HGNC:90006", "GENEF1", "", (), ("MIXED",))


@pytest.fixture
def index():
    return SymbolIndex(
        [
            CARS1,
            CARS2,
            SEC31A,
            ALK,
            NTRK1,
            NTRK2,
            SHARED_ALIAS_1,
            SHARED_ALIAS_2,
            SHARED_PREV_1,
            SHARED_PREV_2,
            PREV_VS_ALIAS_1,
            PREV_VS_ALIAS_2,
        ]
    )


def test_an_approved_symbol_resolves_to_itself(index):
    result = index.resolve("ALK")
    assert result.status == APPROVED
    assert result.gene == ALK
    assert result.message == ""


def test_cars_resolves_to_cars1_through_its_previous_symbol_never_to_cars2(index):
    result = index.resolve("CARS")
    assert result.status == PREVIOUS
    assert result.gene == CARS1
    assert result.gene != CARS2
    assert "previous symbol of CARS1" in result.message


def test_sec31l1_resolves_to_sec31a(index):
    result = index.resolve("SEC31L1")
    assert (result.status, result.gene) == (PREVIOUS, SEC31A)


def test_a_unique_alias_resolves_and_says_so(index):
    result = index.resolve("TRKA")
    assert (result.status, result.gene) == (ALIAS, NTRK1)
    assert "alias of NTRK1" in result.message


def test_an_ambiguous_alias_goes_to_the_curator_with_both_candidates(index):
    result = index.resolve("P40X")
    assert result.status == AMBIGUOUS
    assert result.gene is None
    assert not result.resolved
    assert {g.symbol for g in result.candidates} == {"GENEA1", "GENEB1"}
    assert "GENEA1, GENEB1" in result.message


def test_an_ambiguous_previous_symbol_goes_to_the_curator(index):
    result = index.resolve("OLDSYM")
    assert result.status == AMBIGUOUS
    assert result.gene is None


def test_a_previous_symbol_that_is_another_genes_alias_goes_to_the_curator(index):
    result = index.resolve("MIXED")
    assert (result.status, result.gene) == (AMBIGUOUS, None)
    assert set(result.candidates) == {PREV_VS_ALIAS_1, PREV_VS_ALIAS_2}
    assert "previous symbol of GENEE1 and an alias of GENEF1" in result.message


def test_letter_case_and_surrounding_space_do_not_matter(index):
    assert index.resolve("  cars1 ").gene == CARS1
    assert index.resolve("Cars").gene == CARS1


def test_an_unknown_symbol_is_not_guessed(index):
    result = index.resolve("CARS3")
    assert result.status == UNKNOWN
    assert result.gene is None
    assert "not a known HGNC gene symbol" in result.message


@pytest.mark.parametrize("text", ["", "   ", None])
def test_empty_input_asks_for_a_symbol(index, text):
    result = index.resolve(text)
    assert result.status == INVALID
    assert result.message == "Enter a gene symbol."


def test_a_2000_character_string_is_refused_with_its_length(index):
    result = index.resolve("A" * 2000)
    assert result.status == INVALID
    assert "2000 characters" in result.message
    assert len(result.query) <= 40


@pytest.mark.parametrize("text", ["CARS ALK", "ALK;DROP TABLE", "<b>ALK</b>", "::", "AL K"])
def test_text_that_is_not_a_symbol_is_refused(index, text):
    result = index.resolve(text)
    assert result.status == INVALID
    assert "not a gene symbol" in result.message


def test_unicode_dashes_inside_a_symbol_become_hyphens():
    hla = GeneRecord("HGNC:4931", "HLA-A")
    index = SymbolIndex([hla])
    for dash in "\u2010\u2011\u2013\u2014\u2212":
        assert index.resolve(f"HLA{dash}A").gene == hla


def test_is_known_covers_previous_symbols_and_aliases(index):
    assert index.is_known("CARS")
    assert index.is_known("trka")
    assert not index.is_known("NOPE1")
    assert len(index) == 12
