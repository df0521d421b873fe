"""The citation list kept for anonymous readers under the citations' generation
(citations/counts.py, config/pagecache.py): rendered once, then kept until a citation
is stored, changed or deleted, and for a minute at most."""

import time
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

from citations import actions
from citations.models import Citation
from citations.pubmed import iter_records
from config import pagecache
from config.pagecache import KEPT_HEADER
from tests.factories import CitationFactory, UserFactory

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "entrez"
LIST = reverse("citations:list")


@pytest.fixture(autouse=True)
def _kept(settings, db):
    settings.SEARCH_CACHE = True
    settings.PAGE_CACHE = True


def read(url=LIST):
    return Client().get(url)


def test_the_list_is_rendered_once_then_kept(django_assert_num_queries):
    CitationFactory(title="Cutaneous inflammatory myofibroblastic tumour.")
    assert read()[KEPT_HEADER] == "rendered"
    with django_assert_num_queries(0):
        page = read()
    assert page[KEPT_HEADER] == "kept"
    assert "Cutaneous inflammatory myofibroblastic tumour." in page.content.decode()


def test_a_stored_article_shows_in_the_next_list():
    CitationFactory()
    read()
    assert read()[KEPT_HEADER] == "kept"
    actions.store_article(next(iter_records(FIXTURES / "pubmed_35560368.xml")))
    page = read()
    assert page[KEPT_HEADER] == "rendered"
    assert 'data-pmid="35560368"' in page.content.decode()


def test_a_changed_or_deleted_citation_shows_in_the_next_list():
    citation = CitationFactory(title="Before the correction.")
    assert "Before the correction." in read().content.decode()
    citation.title = "After the correction."
    citation.save()
    assert "After the correction." in read().content.decode()
    citation.delete()
    assert Citation.objects.count() == 0
    assert "No citation found" in read().content.decode()


def test_a_search_of_the_list_is_kept_under_its_own_address():
    CitationFactory(title="Dermatofibroma with monster cells.")
    CitationFactory(title="Plexiform fibrohistiocytic tumour.")
    read(LIST + "?q=monster")
    page = read(LIST + "?q=monster")
    assert page[KEPT_HEADER] == "kept"
    assert "monster cells" in page.content.decode()
    assert "Plexiform" not in page.content.decode()
    assert "Plexiform" in read().content.decode()


def test_a_list_is_kept_for_a_minute_at_most(monkeypatch):
    """A change written without a signal (an UPDATE) shows within the minute."""
    CitationFactory(title="Before an update.")
    read()
    Citation.objects.update(title="After an update.")  # no signal: the generation stays
    assert "Before an update." in read().content.decode()
    later = time.time() + 61
    monkeypatch.setattr(pagecache.time, "time", lambda: later)
    page = read()
    assert page[KEPT_HEADER] == "rendered"
    assert "After an update." in page.content.decode()


def test_signed_in_readers_get_the_list_rendered():
    CitationFactory()
    read()
    curator = Client()
    curator.force_login(UserFactory(username="curator-list"))
    page = curator.get(LIST)
    assert KEPT_HEADER not in page
    assert "curator-list" in page.content.decode()
