"""The fusion-notation parser, without a database (curation.notation)."""

import pytest

from curation.notation import NotationError, format_fusion, parse_fusion


@pytest.mark.parametrize(
    "written, five, three",
    [
        ("CARS-ALK", "CARS", "ALK"),
        ("CARS/ALK", "CARS", "ALK"),
        ("CARS1-ALK", "CARS1", "ALK"),
        ("CARS1::ALK", "CARS1", "ALK"),
        ("CARS1 :: ALK", "CARS1", "ALK"),
        ("CARS1:ALK", "CARS1", "ALK"),
        ("CARS-ALK fusion", "CARS", "ALK"),
        ("TPM3-NTRK1 fusion gene", "TPM3", "NTRK1"),
    ],
)
def test_the_ways_papers_write_a_fusion_give_its_two_partners(written, five, three):
    parsed = parse_fusion(written)
    assert (parsed.five_prime, parsed.three_prime) == (five, three)
    assert parsed.hgnc == f"{five}::{three}"


@pytest.mark.parametrize("dash", ["\u2010", "\u2011", "\u2012", "\u2013", "\u2014", "\u2212"])
def test_unicode_dashes_separate_partners_like_a_hyphen(dash):
    parsed = parse_fusion(f"CARS{dash}ALK")
    assert parsed.hgnc == "CARS::ALK"


def test_what_the_paper_wrote_is_kept():
    assert parse_fusion("  CARS\u2013ALK  ").written == "CARS-ALK"


@pytest.mark.parametrize(
    "written", ["ALK rearrangement", "ALK-rearranged", "?::ALK", "ALK break-apart"]
)
def test_a_partner_unknown_rearrangement_keeps_the_known_gene_as_3_prime(written):
    parsed = parse_fusion(written)
    assert parsed.partner_unknown
    assert parsed.five_prime is None
    assert parsed.three_prime == "ALK"
    assert parsed.hgnc == "?::ALK"


def test_format_fusion_writes_hgnc_notation():
    assert format_fusion("CARS1", "ALK") == "CARS1::ALK"
    assert format_fusion(None, "ROS1") == "?::ROS1"


def test_hyphenated_gene_names_split_where_both_sides_are_known_symbols():
    known = {"NKX2-1", "ALK", "HLA-A"}.__contains__
    assert parse_fusion("NKX2-1-ALK", is_symbol=known).hgnc == "NKX2-1::ALK"
    assert parse_fusion("NKX2-1::ALK").hgnc == "NKX2-1::ALK"


def test_several_hyphens_without_a_symbol_check_are_not_guessed():
    with pytest.raises(NotationError, match="several hyphens"):
        parse_fusion("NKX2-1-ALK")


@pytest.mark.parametrize(
    "written, message",
    [
        ("", "Enter a fusion"),
        ("   ", "Enter a fusion"),
        (None, "Enter a fusion"),
        ("::", "Both partners are missing"),
        ("ALK::", "3' partner after ALK is missing"),
        ("::ALK", "5' partner before ALK is missing"),
        ("ALK::?", "Record the known gene as the 3' partner"),
        ("ALK", "is not a fusion"),
        ("A::B::C", "more than two partners"),
        ("CARS/ALK/ROS1", "more than two partners"),
        ("CARS-<script>", "not a gene symbol"),
        ("CARS\u2013", "3' partner after CARS is missing"),
    ],
)
def test_hostile_or_incomplete_input_gets_a_clear_message(written, message):
    with pytest.raises(NotationError, match=message):
        parse_fusion(written)


def test_a_2000_character_string_is_refused_with_its_length():
    with pytest.raises(NotationError, match="2000 characters"):
        parse_fusion("CARS-" + "A" * 1995)


def test_an_overlong_symbol_inside_a_short_enough_string_is_refused():
    with pytest.raises(NotationError, match="at most 40"):
        parse_fusion("CARS::" + "A" * 150)
