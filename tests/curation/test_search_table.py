"""The search results as a table (/search/?view=table): columns and sort in the URL,
read strictly (an unknown one is said, never a 500), a fixed number of queries."""

import re
from decimal import Decimal
from html import unescape

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from curation.models import Case
from curation.search import cache as search_cache
from curation.search.params import COLUMNS
from tests.curation.searchdata import build_registry, case_ids
from tests.factories import make_published_case

pytestmark = pytest.mark.django_db

URL = reverse("curation:search")
PER_YEAR = {"years": 1, "months": 12, "weeks": Decimal("52.1775"), "days": Decimal("365.25")}


@pytest.fixture
def registry(db):
    cases = build_registry()
    make_published_case(
        label="Case 9",
        age=None,
        size_mm=Decimal("31.5"),
        treatments=[("systemic", {"agent": "crizotinib"})],
        ihc=[("ALK", "positive"), ("SMA", "equivocal")],
    )
    return cases


def headers(html: str) -> list[str]:
    return re.findall(r'<th scope="col" data-column="([a-z_]+)"', html)


def table_rows(html: str) -> dict[int, dict[str, str]]:
    """{case id: {column: the cell's text as a reader sees it}} of the results table."""
    rows = {}
    for pk, row in re.findall(r'<tr data-case="(\d+)">(.*?)</tr>', html, re.DOTALL):
        cells = re.findall(r'<td data-column="([a-z_]+)"[^>]*>(.*?)</td>', row, re.DOTALL)
        rows[int(pk)] = {key: unescape(re.sub(r"<[^>]+>", "", text)) for key, text in cells}
    return rows


def test_the_table_shows_a_row_of_cells_per_case_in_the_review_tables_words(client, registry):
    response = client.get(URL, {"view": "table", "per_page": 100})
    assert response.status_code == 200
    html = response.content.decode()
    assert headers(html) == list(COLUMNS)
    rows = table_rows(html)
    assert set(rows) == set(case_ids(response))
    scalp = rows[registry["scalp_imt"].pk]
    assert scalp["grade"] == "A"
    assert scalp["diagnosis"] == "inflammatory myofibroblastic tumor"
    assert scalp["age"] == "38 years"
    assert scalp["sex"] == "Female"
    assert scalp["ihc"] == "ALK+, SMA+, S100\u2212, SOX10\u2212"
    assert scalp["finding"] == "CARS1::ALK"
    assert scalp["outcome"] == "NED"
    assert scalp["site"] == "C44.4 left posterior scalp"
    assert 'title="No evidence of disease">NED</td>' in html
    trunk = rows[registry["trunk_imt"].pk]
    assert trunk["follow_up"] == "20"
    assert trunk["treatment"].startswith("Wide local excision")
    assert "McCollum KJ et al., 2022" in html
    assert 'href="/citations/35560368/">PMID 35560368</a>' in html
    # The cards are not shown besides.
    assert 'class="result-list"' not in html


def test_the_columns_chosen_are_kept_in_the_url_and_in_every_link(client, registry):
    response = client.get(URL, {"view": "table", "cols": ["ihc", "grade"], "site": "C44"})
    html = response.content.decode()
    assert headers(html) == ["grade", "ihc"]  # the table's own order
    for link in re.findall(r'<th scope="col" data-column="grade"[^>]*><a href="([^"]+)"', html):
        assert "view=table" in link and "cols=grade" in link and "cols=ihc" in link
        assert "site=C44" in link and "sort=grade" in link
    # The downloads are of the cases, not of how they are shown.
    assert "view=" not in response.context["export_query"]
    assert "cols=" not in response.context["export_query"]
    # Comma-separated works too; every column chosen is the default, left out of links.
    response = client.get(URL, {"view": "table", "cols": "grade,ihc"})
    assert headers(response.content.decode()) == ["grade", "ihc"]


def _years(case):
    return None if case.age is None else Decimal(case.age) / PER_YEAR[case.age_unit]


@pytest.mark.parametrize(
    "sort, key, reverse",
    [
        ("age", _years, False),
        ("-age", _years, True),
        ("size", lambda c: c.size_mm, False),
        ("-size", lambda c: c.size_mm, True),
        ("diagnosis", lambda c: c.final_diagnosis.name, False),
        ("follow_up", lambda c: c.follow_up_months, False),
        ("-year", lambda c: c.citation.year, False),
        ("grade", lambda c: c.evidence_grade, False),
    ],
)
def test_a_header_sorts_as_python_sorts_the_cases_without_a_value_last(
    client, registry, sort, key, reverse
):
    response = client.get(URL, {"view": "table", "sort": sort, "per_page": 100})
    got = case_ids(response)
    published = list(Case.objects.filter(status="published"))
    known = [c for c in published if key(c) is not None]
    # Ties: newest case first, as the app breaks them.
    known.sort(key=lambda c: c.pk, reverse=True)
    known.sort(key=key, reverse=reverse)
    missing = sorted((c for c in published if key(c) is None), key=lambda c: -c.pk)
    assert [key(Case.objects.get(pk=pk)) for pk in got] == [key(c) for c in known + missing]
    state = response.context["table"]["headers"]
    sorted_by = [h for h in state if h["sort"]]
    assert len(sorted_by) == 1


def test_clicking_the_sorted_header_again_reverses_it(client, registry):
    response = client.get(URL, {"view": "table", "sort": "size"})
    size = next(h for h in response.context["table"]["headers"] if h["key"] == "size")
    assert size["sort"] == "ascending" and "sort=-size" in size["link"]
    response = client.get(URL, {"view": "table", "sort": "-size"})
    size = next(h for h in response.context["table"]["headers"] if h["key"] == "size")
    assert size["sort"] == "descending" and "sort=size" in size["link"]
    # The search form keeps the column sort on a new search.
    assert 'value="-size" selected' in response.content.decode()


@pytest.mark.parametrize(
    "query, message",
    [
        ({"cols": "grade,quokka"}, "Column “quokka” is not one of grade, diagnosis"),
        ({"sort": "quokka"}, "Sort “quokka” is not one of relevance, year, age or a column"),
        ({"sort": "-relevance"}, "Sort “-relevance” is not one of"),
        ({"view": "spreadsheet"}, "View “spreadsheet” is not one of cards, table"),
        ({"cols": "'; DROP TABLE x; --"}, "left out"),
    ],
)
def test_an_unknown_column_sort_or_view_is_said_not_a_500(client, registry, query, message):
    response = client.get(URL, {"view": "table", **query})
    assert response.status_code == 200
    assert message in response.content.decode()
    assert len(case_ids(response)) == 6  # nothing else changed: every published case


def test_the_table_costs_the_same_queries_whatever_the_page_size(client, registry):
    for i in range(60):
        make_published_case(
            label=f"Case {i}",
            treatments=[("excision", {})],
            molecular=[("copy_number", "MDM2", {"copy_number": "amplification"})],
        )
    counts = {}
    for size in (10, 50):
        search_cache.bump()
        with CaptureQueriesContext(connection) as queries:
            response = client.get(URL, {"view": "table", "sort": "-size", "per_page": size})
        assert response.status_code == 200
        assert len(response.context["table"]["rows"]) == size
        counts[size] = len(queries)
    assert counts[10] == counts[50]
    # The cards' budget (test_search_page) and the table's two more prefetches.
    assert counts[50] <= 32 + 2


def test_every_cell_is_escaped(client, db):
    """Rows are built in Python (100 a page): a value is text, never markup."""
    hostile = '<img src=x onerror="alert(1)">'
    case = make_published_case(site_detail=hostile)
    html = client.get(URL, {"view": "table"}).content.decode()
    assert hostile not in html
    assert table_rows(html)[case.pk]["site"].endswith(hostile)  # shown as text
