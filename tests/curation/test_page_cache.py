"""Anonymous readers' pages kept per registry generation (curation/search/pagecache.py)."""

import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from curation.search import bitmaps
from curation.search import cache as search_cache
from curation.search.pagecache import KEPT_HEADER, PLACEHOLDER
from tests.curation.searchdata import build_registry
from tests.factories import FigureFactory, UserFactory, make_published_case

SEARCH = reverse("curation:search")
PAGES = [
    SEARCH + "?q=scalp",
    reverse("curation:search_summary") + "?three=ALK",
    reverse("curation:diagnosis", args=["inflammatory-myofibroblastic-tumor"]),
    reverse("curation:stains") + "?dx=inflammatory-myofibroblastic-tumor&dx=dermatofibroma",
    reverse("curation:diagnoses"),
    reverse("curation:stats"),
    reverse("curation:gene", args=["ALK"]),
]


@pytest.fixture(autouse=True)
def _kept(settings):
    # On by default only with Redis; locmem is as good within one test process.
    settings.SEARCH_CACHE = True
    settings.PAGE_CACHE = True


@pytest.fixture
def registry(db):
    return build_registry()


def token(response) -> str:
    """The CSRF token the page gives htmx (base.html)."""
    return re.search(r'"X-CSRFToken": "([^"]+)"', response.content.decode()).group(1)


@pytest.mark.parametrize("url", PAGES)
def test_a_page_is_rendered_once_then_kept_for_every_anonymous_reader(registry, url):
    first = Client().get(url)
    with CaptureQueriesContext(connection) as queries:
        second = Client().get(url)
    assert first.status_code == second.status_code == 200
    assert (first[KEPT_HEADER], second[KEPT_HEADER]) == ("rendered", "kept")
    assert len(queries) == 0  # no count, no row, no template
    # The same page, but for the reader's own CSRF token.
    assert token(first) != token(second)
    assert second.content.decode().replace(token(second), "T") == first.content.decode().replace(
        token(first), "T"
    )
    assert PLACEHOLDER not in second.content.decode()


def test_the_token_of_a_kept_page_is_the_readers_own(registry):
    Client().get(SEARCH)  # kept
    reader = Client(enforce_csrf_checks=True)
    page = reader.get(SEARCH)
    assert page[KEPT_HEADER] == "kept"
    answer = reader.post(
        reverse("login"),
        {"username": "nobody", "password": "wrong", "csrfmiddlewaretoken": token(page)},
    )
    assert answer.status_code == 200  # the form again (bad password), not 403 (CSRF)
    stranger = Client(enforce_csrf_checks=True)
    stranger.get(reverse("login"))  # a cookie of its own
    refused = stranger.post(
        reverse("login"),
        {"username": "nobody", "password": "wrong", "csrfmiddlewaretoken": token(page)},
    )
    assert refused.status_code == 403  # another reader's token is worth nothing


def test_a_publication_shows_in_the_next_page(registry):
    client = Client()
    assert client.get(SEARCH + "?q=zygomatic").context["result"].total == 0
    assert client.get(SEARCH + "?q=zygomatic")[KEPT_HEADER] == "kept"
    make_published_case(label="new", histology="zygomatic spindle cells")  # a new generation
    after = client.get(SEARCH + "?q=zygomatic")
    assert after[KEPT_HEADER] == "rendered"
    assert after.context["result"].total == 1


def test_signed_in_readers_pages_are_never_kept(registry):
    user = UserFactory(username="pathologist-kept")
    reader = Client()
    reader.force_login(user)
    Client().get(SEARCH)  # kept for anonymous readers
    page = reader.get(SEARCH)
    assert KEPT_HEADER not in page
    assert "pathologist-kept" in page.content.decode()
    assert "pathologist-kept" not in Client().get(SEARCH).content.decode()


def test_without_the_setting_every_page_is_rendered(registry, settings):
    settings.PAGE_CACHE = False
    Client().get(SEARCH)
    assert KEPT_HEADER not in Client().get(SEARCH)


def test_a_refused_review_table_is_not_kept(registry):
    bad = reverse("curation:search_summary") + "?retracted=maybe"
    first, second = Client().get(bad), Client().get(bad)
    assert first.status_code == second.status_code == 400
    assert second[KEPT_HEADER] == "rendered"


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_a_page_rendered_from_the_previous_generation_is_not_kept(redis_url, settings):
    """While the index is rebuilt after a publication, pages are counted by the previous
    one; kept, such a page would hide the new case for the whole generation."""
    make_published_case(label="first", histology="zygomatic spindle cells")
    search_cache.forget_all()
    bitmaps.current()
    settings.SEARCH_REFRESH_IN_BACKGROUND = True
    make_published_case(label="new", histology="zygomatic spindle cells")
    url = SEARCH + "?q=zygomatic"
    assert Client().get(url).context["result"].total == 1  # the previous index
    assert search_cache.refreshes_done(timeout=30)
    page = Client().get(url)
    assert page[KEPT_HEADER] == "rendered"
    assert page.context["result"].total == 2
    assert Client().get(url)[KEPT_HEADER] == "kept"


def test_a_figure_of_a_published_case_starts_a_new_generation(registry):
    """Figures show on their gene's page, which is kept per generation."""
    case = make_published_case(fusions=["TPM3::ALK"])
    before = search_cache.generation()
    figure = FigureFactory(
        case=case,
        caption="ALK immunostain",
    )
    assert search_cache.generation() != before
    before = search_cache.generation()
    figure.delete()
    assert search_cache.generation() != before
