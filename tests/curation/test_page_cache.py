"""Anonymous readers' pages kept per registry generation (curation/search/pagecache.py,
config/pagecache.py); case pages also under their open error reports and releases."""

import re
import threading

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import PublicName
from config import pagecache
from config.pagecache import KEPT_HEADER, PLACEHOLDER
from curation import workflow
from curation.actions.cases import transition
from curation.actions.releases import make_release
from curation.actions.review import approve_case
from curation.search import bitmaps
from curation.search import cache as search_cache
from tests.curation.searchdata import build_registry
from tests.curation.test_make_release_command import release_dir  # noqa: F401
from tests.factories import (
    CaseFactory,
    CitationFactory,
    FigureFactory,
    UserFactory,
    make_published_case,
)

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


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_while_the_new_index_is_built_the_page_kept_before_stands_in(
    redis_url, settings, monkeypatch
):
    """After a publication no page is rendered from the previous index while the new one
    is built (the seconds the rebuild takes the processors): the page kept before serves,
    then the page of the new generation, rendered once."""
    make_published_case(label="first", histology="zygomatic spindle cells")
    search_cache.forget_all()
    settings.SEARCH_REFRESH_IN_BACKGROUND = True
    url = SEARCH + "?q=zygomatic"
    Client().get(url)
    assert Client().get(url)[KEPT_HEADER] == "kept"
    building = threading.Event()
    release = threading.Event()
    real_build = bitmaps.build

    def slow_build(*args, **kwargs):
        building.set()
        assert release.wait(30)
        return real_build(*args, **kwargs)

    monkeypatch.setattr(bitmaps, "build", slow_build)
    make_published_case(label="new", histology="zygomatic spindle cells")
    pagecache.local.clear()  # another process: it holds no page of either generation
    stand_in = Client().get(url)
    assert building.wait(30)  # the request started the rebuild
    assert stand_in[KEPT_HEADER] == pagecache.STAND_IN
    assert "1 published case" in stand_in.content.decode()
    assert token(stand_in) != PLACEHOLDER  # the reader's own token, as in a kept page
    release.set()
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


def test_a_case_page_is_kept_and_asks_only_what_changes_without_a_generation(registry):
    """Its open error reports and its releases: two small queries, no template."""
    case = make_published_case(fusions=["TPM3::ALK"])
    first = Client().get(case.get_absolute_url())
    with CaptureQueriesContext(connection) as queries:
        second = Client().get(case.get_absolute_url())
    assert (first[KEPT_HEADER], second[KEPT_HEADER]) == ("rendered", "kept")
    assert len(queries) == 2
    assert second.content.decode().replace(token(second), "T") == first.content.decode().replace(
        token(first), "T"
    )


def test_a_flag_shows_at_once_on_the_kept_case_page(registry):
    case = make_published_case()
    reader = Client()
    reader.get(case.get_absolute_url())
    assert reader.get(case.get_absolute_url())[KEPT_HEADER] == "kept"
    answer = reader.post(f"/cases/{case.pk}/flag/", {"message": "The age is 48, not 38."})
    assert answer.status_code == 302
    reader.get(answer["Location"])  # the flag's "thank you" message is read
    page = Client().get(case.get_absolute_url())
    assert page[KEPT_HEADER] == "rendered"
    assert "possible error in this case (1 open report)" in page.content.decode()


def test_a_release_shows_at_once_on_the_kept_case_page(registry, release_dir):  # noqa: F811
    case = make_published_case()
    assert "Not in a release yet" in Client().get(case.get_absolute_url()).content.decode()
    make_release("2026-12")
    page = Client().get(case.get_absolute_url())
    assert page[KEPT_HEADER] == "rendered"
    assert "Release 2026-12</a>: version" in page.content.decode()


def test_a_reviewers_new_name_shows_on_the_kept_case_page(registry, curator, reviewer):
    reviewer.first_name, reviewer.last_name = "Rosa", "Reviewer"
    reviewer.save()
    case = CaseFactory(created_by=curator)
    transition(case, workflow.SUBMITTED, curator)
    approve_case(case, reviewer)
    url = case.get_absolute_url()
    assert "reviewed and published by Rosa Reviewer" in Client().get(url).content.decode()
    assert Client().get(url)[KEPT_HEADER] == "kept"
    reviewer.last_login = reviewer.date_joined
    reviewer.save(update_fields=["last_login"])  # a login: nothing public changed
    assert Client().get(url)[KEPT_HEADER] == "kept"
    reviewer.save()  # saved as it was: nothing public changed
    assert Client().get(url)[KEPT_HEADER] == "kept"
    reviewer.last_name = "Rivera"
    reviewer.save()
    assert "reviewed and published by Rosa Rivera" in Client().get(url).content.decode()
    PublicName.objects.create(user=reviewer, style=PublicName.Style.INITIALS)
    assert "reviewed and published by R. R." in Client().get(url).content.decode()


def test_a_draft_case_page_is_never_kept(registry):
    curator = UserFactory(username="cur-draft")
    draft = CaseFactory(created_by=curator)
    assert Client().get(draft.get_absolute_url()).status_code == 404
    owner = Client()
    owner.force_login(curator)
    assert KEPT_HEADER not in owner.get(draft.get_absolute_url())
    assert Client().get(draft.get_absolute_url()).status_code == 404


def test_a_large_kept_page_is_answered_from_the_process_memory(registry, monkeypatch):
    """A review table of thousands of cases is megabytes: not fetched from the shared
    cache for each reader (config/pagecache.local)."""
    url = PAGES[1]
    Client().get(url)
    fetched = []
    real_get = pagecache.cache.get
    monkeypatch.setattr(
        pagecache.cache, "get", lambda key, *a: fetched.append(key) or real_get(key, *a)
    )
    assert Client().get(url)[KEPT_HEADER] == "kept"
    assert not [key for key in fetched if key.startswith("page:")]
    pagecache.local.clear()  # another process: from the shared cache, then held
    assert Client().get(url)[KEPT_HEADER] == "kept"
    assert len([key for key in fetched if key.startswith("page:")]) == 1


def test_the_process_memory_holds_the_pages_served_last_within_its_limit():
    local = pagecache._Local(limit=100)
    page = pagecache.Kept(parts=(b"x" * 40,), headers={}, expires=float("inf"))
    for key in ("a", "b"):
        local.put(key, page)
    local.get("a")  # served last: kept over "b"
    local.put("c", page)
    assert (local.get("a"), local.get("b"), local.get("c")) == (page, None, page)
    assert local.size == 80
    local.put("huge", pagecache.Kept(parts=(b"x" * 101,), headers={}, expires=float("inf")))
    assert local.get("huge") is None and local.size == 80
    local.put("old", pagecache.Kept(parts=(b"x",), headers={}, expires=0.0))
    assert local.get("old") is None


def test_a_change_to_another_report_of_a_published_case_starts_a_new_generation(registry):
    """A case page lists the other reports of its patient, with their titles."""
    other = CitationFactory(title="An earlier report of the same patient.")
    case = make_published_case()
    case.other_citations.add(other)
    page = Client().get(case.get_absolute_url()).content.decode()
    assert "An earlier report of the same patient." in page
    other.title = "An earlier report of the same patient (corrected)."
    other.save()
    page = Client().get(case.get_absolute_url())
    assert page[KEPT_HEADER] == "rendered"
    assert "(corrected)" in page.content.decode()
    unrelated = CitationFactory(title="A paper no published case cites.")
    before = search_cache.generation()
    unrelated.title = "Still cited by no published case."
    unrelated.save()
    assert search_cache.generation() == before
