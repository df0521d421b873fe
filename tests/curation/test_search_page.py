"""The public search page: published cases only, state in the URL, fixed query budget."""

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from curation.models import Case
from curation.search import bitmaps
from curation.search import cache as search_cache
from curation.search.params import SearchParams
from tests.curation.searchdata import DRAFT_WORD, build_registry, case_ids
from tests.factories import make_published_case

URL = reverse("curation:search")


@pytest.fixture
def registry(db):
    return build_registry()


def test_the_page_lists_every_published_case_and_no_draft(client, registry):
    response = client.get(URL)
    assert response.status_code == 200
    published = {c.pk for name, c in registry.items() if name != "draft"}
    assert set(case_ids(response)) == published
    assert registry["draft"].pk not in case_ids(response)
    assert "5 published cases" in response.content.decode()


def test_a_result_shows_diagnosis_site_age_sex_ihc_fusion_and_the_reference(client, registry):
    html = client.get(URL, {"q": "scalp"}).content.decode()
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))
    assert "Inflammatory myofibroblastic tumor" in text
    assert "Skin of scalp and neck (left posterior scalp)" in text
    assert "38 years, female" in text
    assert "ALK+" in text and "S100\u2212" in text
    assert "CARS1::ALK" in text
    assert "McCollum KJ et al. · 2022 · J Cutan Pathol" in text
    assert f'href="{registry["scalp_imt"].get_absolute_url()}"' in html


def test_a_draft_never_appears_even_to_the_curator_who_wrote_it(client, registry, curator):
    registry["draft"].created_by = curator
    registry["draft"].save()
    client.force_login(curator)
    response = client.get(URL, {"q": DRAFT_WORD})
    assert case_ids(response) == []
    assert "0 published cases" in response.content.decode()
    for facet in response.context["facets"].values():
        assert all(value.count <= 5 for value in facet.values)
    all_cases = client.get(URL)
    assert registry["draft"].pk not in case_ids(all_cases)
    ihc = {v.label: v.count for v in all_cases.context["facets"]["ihc"].values}
    assert ihc["ALK positive"] == 3  # scalp, trunk, infant; not the draft


def test_words_search_title_abstract_and_case_text(client, registry):
    assert case_ids(client.get(URL, {"q": "honeycomb"})) == [registry["dfsp"].pk]
    assert case_ids(client.get(URL, {"q": "painless nodule"})) == [registry["scalp_imt"].pk]
    assert case_ids(client.get(URL, {"q": "chest wall"})) == [registry["dfsp"].pk]


@pytest.mark.parametrize("written", ["CARS1::ALK", "CARS-ALK", "CARS/ALK", "cars1::alk"])
def test_a_fusion_written_any_way_in_the_search_box_finds_the_case(client, registry, written):
    assert case_ids(client.get(URL, {"q": written})) == [registry["scalp_imt"].pk]


@pytest.mark.parametrize("symbol", ["CARS", "CARS1", "cars"])
def test_a_5_prime_partner_filter_resolves_the_symbol(client, registry, symbol):
    response = client.get(URL, {"five": symbol})
    assert case_ids(response) == [registry["scalp_imt"].pk]
    assert "5&#x27; partner: CARS1" in response.content.decode()


def test_a_3_prime_partner_filter_finds_every_fusion_of_that_gene(client, registry):
    found = set(case_ids(client.get(URL, {"three": "ALK"})))
    assert found == {registry[n].pk for n in ("scalp_imt", "trunk_imt", "infant")}


def test_an_unknown_gene_finds_nothing_and_says_why(client, registry):
    response = client.get(URL, {"five": "NOTAGENE9"})
    assert case_ids(response) == []
    assert "5&#x27; partner “NOTAGENE9”" in response.content.decode()


def test_sort_by_age_puts_the_youngest_first_and_by_year_the_newest(client, registry):
    by_age = case_ids(client.get(URL, {"sort": "age"}))
    assert by_age[:2] == [registry["infant"].pk, registry["trunk_imt"].pk]
    assert by_age[-1] == registry["melanoma"].pk
    by_year = case_ids(client.get(URL, {"sort": "year"}))
    assert by_year[0] == registry["scalp_imt"].pk
    assert set(by_year[-2:]) == {registry["trunk_imt"].pk, registry["infant"].pk}


def test_pages_cover_every_result_once_and_link_to_each_other(client, registry):
    _more_cases(12)
    first = client.get(URL, {"per_page": 10, "sort": "year"})
    assert len(case_ids(first)) == 10
    assert first.context["next_link"] == "?sort=year&per_page=10&page=2"
    second = client.get(URL + first.context["next_link"])
    assert len(case_ids(second)) == 7
    assert second.context["prev_link"] == "?sort=year&per_page=10"
    assert len(set(case_ids(first)) | set(case_ids(second))) == 17
    # A page past the end shows the last page rather than an error.
    assert case_ids(client.get(URL, {"per_page": 10, "sort": "year", "page": 9})) == case_ids(
        second
    )


def test_the_whole_state_round_trips_through_the_url(client, registry):
    query = (
        "?q=scalp+nodule&dx=1&dx=2&site=C44&site=C49.6&five=CARS&three=ALK"
        "&ihc=ALK%3Apositive&sex=female&age=20-39&year=2022&outcome=ned"
        "&profile=ALK%2B+S100-&sort=year&per_page=50&page=2"
    )
    params = SearchParams.from_query(parse_qs(query[1:]))
    again = SearchParams.from_query(parse_qs(params.query_string(page=2)[1:]))
    assert again == params
    assert again.site == ("C44", "C49.6") and again.ihc == (("ALK", "positive"),)
    assert again.sort == "year" and again.per_page == 50 and again.page == 2


def test_following_a_facet_link_keeps_every_other_filter(client, registry):
    response = client.get(URL, {"q": "tumor", "sex": "female"})
    dx = next(v for v in response.context["facets"]["dx"].values if v.label.startswith("inflam"))
    link = urlsplit(dx.link).query
    followed = client.get(URL + "?" + link)
    assert followed.context["params"].sex == ("female",)
    assert followed.context["params"].q == "tumor"
    assert case_ids(followed) == [registry["scalp_imt"].pk]
    html = followed.content.decode()
    # The form carries the facet filters too, so a new search keeps them.
    assert '<input type="hidden" name="sex" value="female">' in html
    assert f'<input type="hidden" name="dx" value="{dx.value}">' in html


def test_removing_a_filter_chip_drops_only_that_filter(client, registry):
    response = client.get(URL, {"sex": "female", "outcome": "ned"})
    assert case_ids(response) == [registry["scalp_imt"].pk]
    chips = dict(response.context["active"])
    widened = client.get(URL + chips["Sex: female"])
    assert widened.context["params"].outcome == ("ned",)
    assert set(case_ids(widened)) == {registry["scalp_imt"].pk, registry["dfsp"].pk}


HOSTILE = [
    '"',
    "'",
    "&|!:*",
    "a & | ! : * b",
    '"unbalanced (quote',
    "x" * 10_240,
    "ALK' OR 1=1; DROP TABLE curation_case; --",
    "1; SELECT pg_sleep(10)",
    "Ünïcödé 中文 💥 ﷽",
    "\x00nul",
    "<script>alert(1)</script>",
    "((((",
    "-",
    "!!!",
    "::",
    "CARS1::",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_a_hostile_search_text_gives_a_page_not_an_error(client, registry, text):
    response = client.get(URL, {"q": text, "profile": text, "five": text, "three": text})
    assert response.status_code == 200
    assert "<script>alert(1)</script>" not in response.content.decode()


@pytest.mark.parametrize(
    "query",
    [
        "dx=abc&dx=-1&dx=99999999999999999999",
        "year=99999&year=abc&page=-3&per_page=100000",
        "page=99999",
        "ihc=::&ihc=ALK&ihc=FOO:positive&ihc=ALK:maybe",
        "site=C99.9&site=%27--&sex=robot&age=200-300&outcome=%00",
        "sort=pk;DROP&per_page=0",
        "q=" + "%F0%9F%92%A5" * 3000,
        "q=%FF%FE%00",
    ],
)
def test_hostile_parameters_are_ignored_with_a_page(client, registry, query):
    response = client.get(URL + "?" + query)
    assert response.status_code == 200


def test_a_cut_search_text_is_reported(client, registry):
    response = client.get(URL, {"q": "scalp " * 2000})
    assert "Only the first 300 characters" in response.content.decode()


def _more_cases(n):
    for i in range(n):
        make_published_case(
            label=f"Case {i}",
            ihc=[("ALK", "positive"), ("SMA", "positive"), ("S100", "negative")],
            fusions=["CARS1::ALK", "?::ROS1"] if i % 2 else ["TPM3::ALK"],
        )


@pytest.mark.parametrize(
    "query",
    [
        {},
        {"q": "spindle cells"},
        {"q": "CARS-ALK scalp", "ihc": "ALK:positive", "five": "CARS", "sex": "female"},
        {"profile": "ALK+ SMA+ S100-", "sort": "age", "site": "C44", "age": "20-39"},
    ],
)
def test_the_number_of_queries_does_not_grow_with_the_page_size(
    client, registry, query, django_assert_max_num_queries, settings
):
    _more_cases(110)
    counts = {}
    for size in (10, 100):
        search_cache.bump()  # cold: every count recomputed
        with CaptureQueriesContext(connection) as queries:
            response = client.get(URL, {**query, "per_page": size})
        assert response.status_code == 200
        counts[size] = len(queries)
    assert counts[10] == counts[100]
    settings.SEARCH_CACHE = True  # (on with Redis; locmem here otherwise)
    search_cache.bump()
    # The facet index of the new generation: a fixed number of grouped queries, once.
    with CaptureQueriesContext(connection) as queries:
        bitmaps.current()
    assert 0 < len(queries) <= 26
    # A query nobody asked before: no GROUP BY per facet (the index counts them); the
    # words' matching ids, the page, its rows, the diagnosis terms, and for words the
    # markers and the gene they may name.
    with django_assert_max_num_queries(14):
        client.get(URL, {**query, "per_page": 100})
    # Warm (same registry generation): the counts come from the cache.
    client.get(URL, {**query, "per_page": 100})
    with django_assert_max_num_queries(8):
        response = client.get(URL, {**query, "per_page": 100})
    assert response.status_code == 200


def test_a_search_term_of_a_diagnosis_finds_its_cases(client, registry):
    # "Inflammatory pseudotumor" is a search term of IMT (MeSH indexes IMT under
    # "Granuloma, Plasma Cell"): it finds IMT cases even when their text never says it.
    expected = set(
        Case.objects.published()
        .filter(final_diagnosis__name="inflammatory myofibroblastic tumor")
        .values_list("pk", flat=True)
    )
    assert expected
    for text in ("inflammatory pseudotumor", "Plasma cell granuloma", "inflammatory pseudotumour"):
        assert set(case_ids(client.get(URL, {"q": text, "per_page": 100}))) == expected
    # One generic word is not a diagnosis: "tumor" does not pull in every tumour's cases.
    assert len(case_ids(client.get(URL, {"q": "tumor"}))) < len(registry)


def test_the_who_family_facet_groups_and_filters_cases(client, registry):
    response = client.get(URL)
    families = {v.label: v for v in response.context["facets"]["family"].values}
    assert families["Myofibroblastic tumours"].count == 3
    myofibroblastic = families["Myofibroblastic tumours"].value
    ids = case_ids(client.get(URL, {"family": myofibroblastic}))
    assert set(ids) == {registry[n].pk for n in ("scalp_imt", "trunk_imt", "infant")}
    # With the 3' partner ALK, the family facet shows where the ALK-driven tumours sit.
    alk = client.get(URL, {"three": "ALK"})
    assert {v.label for v in alk.context["facets"]["family"].values} == {"Myofibroblastic tumours"}
    chips = [label for label, _ in client.get(URL, {"family": myofibroblastic}).context["active"]]
    assert "WHO family: Myofibroblastic tumours" in chips


@pytest.mark.parametrize(
    "query, message",
    [
        ({"site": "Q99"}, "Site “Q99” is not an ICD-O-3 topography code such as C44 or C44.4."),
        ({"age": "abc"}, "Age “abc” is not an age band (0-9, 10-19, 20-39, 40-59, 60-79, 80+)."),
        ({"sex": "x"}, "Sex “x” is not one of female, male."),
        ({"ihc": "ALK"}, "IHC filter “ALK” is not marker:result, e.g. ALK:positive."),
    ],
)
def test_an_unreadable_facet_value_is_reported_not_silently_dropped(
    client, registry, query, message
):
    html = client.get(URL, query).content.decode()
    assert message.replace("“", "&ldquo;") in html or message in html
    assert "Filters in force" not in html  # nothing shown as applied


def test_an_unreadable_profile_is_reported_and_not_shown_as_an_applied_filter(client, registry):
    response = client.get(URL, {"profile": "FOO+ ALK"})
    html = response.content.decode()
    assert "Immunoprofile: “FOO” is not a marker RareDerm knows." in html
    assert "Profile: FOO+ ALK" not in html
    assert "Filters in force" not in html


@pytest.mark.parametrize("view", ["cards", "table"])
def test_a_result_names_the_first_author_and_says_et_al_only_when_there_are_others(
    client, db, view
):
    """Rows fetch two authors of each paper: the first, and whether there are others."""
    from tests.factories import CitationFactory

    alone = CitationFactory(authors=[("Solo", "H")])
    three = CitationFactory(authors=[("Ahn", "A"), ("Bose", "B"), ("Cruz", "C")])
    make_published_case(citation=alone, histology="zygomatic solo")
    make_published_case(citation=three, histology="zygomatic three")
    html = client.get(URL, {"q": "zygomatic", "view": view}).content.decode()
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))
    assert "Solo H et al." not in text
    assert "Solo H" in text
    assert "Ahn A et al." in text
    assert "Bose" not in text and "Cruz" not in text
