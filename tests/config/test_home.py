"""The home page says what RareDerm is, shows counts, and loads nothing from outside."""

import re
from pathlib import Path

import pytest

pytestmark = pytest.mark.django_db


def test_the_home_page_explains_rarederm(client):
    response = client.get("/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Rare skin tumours, case by case" in html
    assert "published case reports" in html


def test_the_home_page_has_landmarks_and_a_skip_link(client):
    html = client.get("/").content.decode()
    for landmark in ("<header", "<nav", "<main", "<footer"):
        assert landmark in html
    assert 'href="#main"' in html
    assert 'name="viewport"' in html


def test_every_script_and_stylesheet_comes_from_this_server(client):
    html = client.get("/").content.decode()
    sources = re.findall(r'(?:src|href)="([^"]+)"', html)
    assets = [s for s in sources if s.endswith((".js", ".css"))]
    assert assets, "the page should load its own CSS and JS"
    assert all(a.startswith("/static/") for a in assets), assets


def test_the_counts_start_at_zero_on_an_empty_registry(client):
    html = client.get("/").content.decode()
    assert re.search(r'data-count="citations">\s*0\s*<', html)
    assert re.search(r'data-count="cases">\s*0\s*<', html)


def test_a_publication_shows_in_the_home_count_at_once_with_the_cache_on(
    client, settings, reviewer, curator
):
    from curation.actions.cases import transition
    from curation.actions.review import approve_case
    from tests.factories import CaseFactory

    settings.SEARCH_CACHE = True
    assert re.search(r'data-count="cases">\s*0\s*<', client.get("/").content.decode())

    case = CaseFactory(created_by=curator)
    transition(case, "submitted", by=curator)
    approve_case(case, by=reviewer)

    assert re.search(r'data-count="cases">\s*1\s*<', client.get("/").content.decode())


def test_the_home_page_costs_no_query_for_its_counts_when_cached(
    client, settings, django_assert_num_queries
):
    settings.SEARCH_CACHE = True
    client.get("/")
    with django_assert_num_queries(0):
        assert client.get("/").status_code == 200


def test_favicon_ico_leads_to_the_sites_icon(client):
    from django.contrib.staticfiles import finders
    from django.templatetags.static import static

    response = client.get("/favicon.ico")
    assert response.status_code == 301
    assert response["Location"] == static("favicon.svg")
    assert "<svg" in Path(finders.find("favicon.svg")).read_text()
