"""Immunoprofile queries: parsing (no database) and matching published cases."""

import pytest
from django.urls import reverse

from curation.search.immunoprofile import marker_key, parse_profile
from tests.curation.searchdata import build_registry, case_ids

MARKERS = [
    (1, "ALK", ["anaplastic lymphoma kinase", "CD246"]),
    (2, "SMA", ["smooth muscle actin", "alpha-SMA", "\u03b1-SMA"]),
    (3, "S100", ["S-100", "S100 protein"]),
    (4, "SOX10", ["SOX-10"]),
    (5, "HMB-45", ["HMB45"]),
]
URL = reverse("curation:search")


def test_a_profile_is_read_into_markers_and_results():
    profile = parse_profile("ALK+ SMA+ S100- SOX10-", MARKERS)
    assert profile.usable
    assert [(t.marker, t.result) for t in profile.terms] == [
        ("ALK", "positive"),
        ("SMA", "positive"),
        ("S100", "negative"),
        ("SOX10", "negative"),
    ]
    assert profile.normalised == "ALK+ SMA+ S100- SOX10-"


def test_synonyms_spellings_commas_words_and_unicode_minus_are_understood():
    profile = parse_profile("alpha-SMA+, S-100 neg; sox-10\u2212 HMB-45- cd246 positive", MARKERS)
    assert profile.errors == ()
    assert {(t.marker, t.result) for t in profile.terms} == {
        ("SMA", "positive"),
        ("S100", "negative"),
        ("SOX10", "negative"),
        ("HMB-45", "negative"),
        ("ALK", "positive"),
    }
    assert marker_key("S-100") == marker_key("s100")


def test_a_marker_given_both_positive_and_negative_is_left_out_and_the_rest_kept():
    profile = parse_profile("ALK+ S100- ALK- ALK+", MARKERS)
    assert profile.errors == ("ALK is given as both positive and negative; keep one.",)
    assert profile.usable
    assert profile.normalised == "S100-"


@pytest.mark.parametrize(
    "text, expected",
    [
        ("ALK(+)", "ALK+"),
        ("ALK (+) S-100(-)", "ALK+ S100-"),
        ("S100 neg", "S100-"),
        ("S100 neg.", "S100-"),
        ("SMA focal+", "SMA+"),
        ("SMA focally positive, S100 negative", "SMA+ S100-"),
        ("SMA weak+ SOX10 patchy-", "SMA+ SOX10-"),
        ("SMA variably positive", "SMA+"),
        ("CD246 diffuse strong+", "ALK+"),
        ("CD34-", "CD34-"),
        ("CD34 -", "CD34-"),
        ("ALK(\u2212)", "ALK-"),
        ("ALK+ SMA+ S100- SOX10-", "ALK+ SMA+ S100- SOX10-"),
    ],
)
def test_the_spellings_pathologists_write_are_read(text, expected):
    markers = [*MARKERS, (6, "CD34", [])]
    profile = parse_profile(text, markers)
    assert profile.errors == ()
    assert profile.normalised == expected


def test_an_unknown_term_is_named_and_the_rest_of_the_profile_kept():
    profile = parse_profile("ALK(+) FOO+ S100 neg SMA", MARKERS)
    assert profile.normalised == "ALK+ S100-"
    assert "“FOO” is not a marker RareDerm knows." in profile.errors
    assert any("“SMA” has no result" in e for e in profile.errors)


def test_an_unknown_marker_and_a_marker_without_result_are_named():
    profile = parse_profile("FOO+ ALK", MARKERS)
    assert not profile.usable
    assert "“FOO” is not a marker RareDerm knows." in profile.errors
    assert any("“ALK” has no result" in e for e in profile.errors)


@pytest.mark.parametrize("text", ["", "   ", "+", "-", "+++", "'; DROP TABLE x; --+", "x" * 5000])
def test_nonsense_gives_errors_not_exceptions(text):
    profile = parse_profile(text, MARKERS)
    assert not profile.usable
    assert profile.errors


def test_too_many_markers_are_refused_with_the_limit():
    profile = parse_profile(" ".join(["ALK+"] * 13), MARKERS)
    assert "at most 12 markers" in profile.errors[0]


@pytest.fixture
def registry(db):
    return build_registry()


def test_cases_consistent_with_a_profile_include_untested_markers_but_not_contradictions(
    client, registry
):
    response = client.get(URL, {"profile": "ALK+ SMA+ S100- SOX10-"})
    found = case_ids(response)
    # scalp: all four agree; infant: ALK+ (rest untested); dfsp: S100- (rest untested).
    # trunk: SMA negative contradicts; melanoma: ALK-, S100+, SOX10+ contradict.
    assert found[0] == registry["scalp_imt"].pk
    assert set(found) == {registry[n].pk for n in ("scalp_imt", "infant", "dfsp")}
    assert registry["trunk_imt"].pk not in found
    assert registry["melanoma"].pk not in found
    # Each row says how many of the profile's markers its case agrees with.
    html = response.content.decode()
    assert "4 of 4 profile markers reported as in the profile" in html
    assert "1 of 4 profile markers reported as in the profile" in html


def test_a_negative_in_the_profile_excludes_cases_reported_positive(client, registry):
    found = set(case_ids(client.get(URL, {"profile": "S100-"})))
    assert found == {registry["scalp_imt"].pk, registry["dfsp"].pk}
    found = set(case_ids(client.get(URL, {"profile": "S100+ ALK-"})))
    assert found == {registry["melanoma"].pk}


def test_the_summary_counts_consistent_cases_per_diagnosis_and_says_not_a_diagnosis(
    client, registry
):
    response = client.get(URL, {"profile": "ALK+ SMA+ S100- SOX10-"})
    html = response.content.decode()
    assert "Literature summary for ALK+ SMA+ S100- SOX10-" in html
    assert "not a diagnosis" in html
    consistent = [(v.label, v.count) for v in response.context["facets"]["dx"].values]
    assert consistent == [
        ("inflammatory myofibroblastic tumor", 2),
        ("dermatofibrosarcoma protuberans", 1),
    ]
    rows = {row["item"].name: row for row in response.context["differential"]}
    assert rows["inflammatory myofibroblastic tumor"]["consistent"] == 2
    # The melanoma contradicts three markers: no consistent case, still ranked.
    assert rows["spindle cell melanoma"]["consistent"] == 0


def test_an_unreadable_term_is_named_and_the_rest_of_the_profile_still_applies(client, registry):
    response = client.get(URL, {"profile": "ALK+ ALK- FOO+ S100 neg"})
    html = response.content.decode()
    assert "ALK is given as both positive and negative; keep one." in html
    assert "“FOO” is not a marker RareDerm knows." in html
    assert "Immunoprofile applied as S100-" in html
    assert set(case_ids(response)) == {registry["scalp_imt"].pk, registry["dfsp"].pk}
    assert "Profile: S100-" in html
    # The downloads linked from the page get the profile as applied: the same cases.
    assert "profile=S100-" in response.context["export_query"]
    export = client.get(
        reverse("curation:export", args=["csv"]) + response.context["export_query"]
    )
    assert export.status_code == 200
    assert len(b"".join(export.streaming_content).decode("utf-8-sig").splitlines()) == 1 + 2


def test_a_profile_with_nothing_readable_lists_no_case_not_every_case(client, registry):
    response = client.get(URL, {"profile": "ALK+ ALK- FOO+"})
    html = response.content.decode()
    assert "“FOO” is not a marker RareDerm knows." in html
    assert "nothing in it could be read, so no case is listed" in html
    assert "Literature summary" not in html
    assert case_ids(response) == []
