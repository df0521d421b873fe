"""The citation list: search, pagination, a fixed query budget."""

from pathlib import Path

import pytest
from django.core.management import call_command
from django.urls import reverse

from citations.models import Author, Citation

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "entrez"
pytestmark = pytest.mark.django_db


@pytest.fixture
def recorded(capsys):
    call_command("import_pubmed_xml", *sorted(str(p) for p in FIXTURES.glob("pubmed*.xml")))
    capsys.readouterr()


def make_citations(count: int, start: int = 1000) -> None:
    for n in range(start, start + count):
        citation = Citation.objects.create(pmid=n, title=f"Case {n} of a rare tumour", year=2000)
        Author.objects.bulk_create(
            [Author(citation=citation, position=p, last_name=f"Author{p}") for p in range(5)]
        )


def pmids_on(response) -> list[int]:
    return [citation.pmid for citation in response.context["page"].object_list]


def test_the_list_shows_newest_first_with_authors_and_journal(client, recorded):
    response = client.get(reverse("citations:list"))
    assert response.status_code == 200
    assert pmids_on(response)[0] == 35560368  # 2022, the newest
    html = response.content.decode()
    assert "McCollum KJ, et al." in html
    assert "9 citations." in html
    assert "<i>TERT</i>" in html  # sanitised markup is rendered, not escaped


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("35560368", [35560368]),
        ("https://doi.org/10.1111/CUP.14261", [35560368]),
        ("McCollum", [35560368]),
        ("myofibroblastic cars-alk", [35560368]),
        ("Canadian Respiratory", [29963580]),
        ("telomere", [27797938]),
        ("nothing-like-this", []),
    ],
)
def test_search_finds_by_pmid_doi_author_and_words(client, recorded, query, expected):
    response = client.get(reverse("citations:list"), {"q": query})
    assert pmids_on(response) == expected


def test_the_search_text_is_escaped(client, recorded):
    response = client.get(reverse("citations:list"), {"q": "<script>alert(1)</script>"})
    assert b"<script>alert(1)</script>" not in response.content
    assert b"&lt;script&gt;" in response.content


def test_pages_of_25_and_a_bad_page_number_is_the_last_page(client):
    make_citations(30)
    second = client.get(reverse("citations:list"), {"page": "2"})
    assert len(pmids_on(second)) == 5
    assert pmids_on(client.get(reverse("citations:list"), {"page": "99"})) == pmids_on(second)
    assert len(pmids_on(client.get(reverse("citations:list"), {"page": "x"}))) == 25


@pytest.mark.parametrize("count", [5, 60])
def test_the_list_has_a_fixed_query_budget(client, curator, django_assert_max_num_queries, count):
    make_citations(count)
    client.force_login(curator)
    # session, user, groups (roles), count, page, authors of the page
    with django_assert_max_num_queries(6):
        response = client.get(reverse("citations:list"), {"q": "rare"})
    assert response.status_code == 200


def test_with_the_shared_cache_the_whole_list_counts_its_rows_once_a_minute(
    client, settings, django_assert_num_queries
):
    settings.SEARCH_CACHE = True
    make_citations(30)
    client.get(reverse("citations:list"))
    # The page's rows and their authors; no COUNT over every citation.
    with django_assert_num_queries(2):
        response = client.get(reverse("citations:list"), {"page": 2})
    assert len(pmids_on(response)) == 5


def test_a_search_is_always_counted_exactly_even_with_the_cache(client, settings):
    settings.SEARCH_CACHE = True
    make_citations(30)
    client.get(reverse("citations:list"))
    response = client.get(reverse("citations:list"), {"q": "1029"})
    assert pmids_on(response) == [1029]
