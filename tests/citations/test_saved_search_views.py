"""Reviewers' saved-search page (/citations/saved-searches/) against the fake E-utilities
server: NCBI's complaints are shown when a query is saved, a query matching more than
10,000 records asks for confirmation, searches are edited, enabled and disabled."""

import pytest
from django.urls import reverse

from citations.models import SavedSearch

pytestmark = pytest.mark.django_db
QUERY = '("inflammatory myofibroblastic tumor"[tiab]) AND (skin[tiab] OR cutaneous[tiab])'
LIST = reverse("citations:saved_searches")


def _post(client, url=LIST, **data):
    return client.post(url, {"schedule": "weekly", **data})


def test_a_reviewer_saves_a_query_pubmed_accepts(client, reviewer, fake_eutils):
    fake_eutils.add_search(QUERY, {35560368: "2022/05/13"})
    client.force_login(reviewer)
    response = _post(client, name="cutaneous IMT", query=QUERY, schedule="daily")
    assert response.status_code == 302
    search = SavedSearch.objects.get()
    assert (search.name, search.query, search.schedule, search.enabled) == (
        "cutaneous IMT",
        QUERY,
        "daily",
        True,
    )
    assert search.created_by == reviewer
    assert fake_eutils.count("esearch") == 1
    page = client.get(LIST).content.decode()
    assert "cutaneous IMT" in page and "Disable" in page


def test_a_query_pubmed_rejects_is_shown_with_ncbis_message_and_not_saved(
    client, reviewer, fake_eutils
):
    fake_eutils.reject("abcXYZ")
    client.force_login(reviewer)
    response = _post(client, name="typo", query="abcXYZ")
    assert response.status_code == 400
    page = response.content.decode()
    assert "PubMed rejected the query: PhraseNotFound: abcXYZ" in page
    assert 'value="typo"' in page  # what was typed is kept
    assert not SavedSearch.objects.exists()


def test_a_query_matching_more_than_10000_records_asks_for_confirmation(
    client, reviewer, fake_eutils
):
    fake_eutils.add_search("skin", dict.fromkeys(range(1, 10_002), "2020/01/01"))
    client.force_login(reviewer)
    response = _post(client, name="too broad", query="skin")
    assert response.status_code == 400
    assert "10,001 records" in response.content.decode()
    assert not SavedSearch.objects.exists()
    assert _post(client, name="too broad", query="skin", confirm_large="on").status_code == 302
    assert SavedSearch.objects.get().name == "too broad"


def test_editing_rechecks_only_a_new_query(client, reviewer, fake_eutils):
    search = SavedSearch.objects.create(name="cutaneous IMT", query=QUERY)
    url = reverse("citations:saved_search_edit", args=[search.pk])
    client.force_login(reviewer)
    assert _post(client, url, name="IMT", query=QUERY, schedule="daily").status_code == 302
    assert fake_eutils.count("esearch") == 0  # same wording: PubMed is not asked again
    search.refresh_from_db()
    assert (search.name, search.schedule) == ("IMT", "daily")
    fake_eutils.reject("abcXYZ")
    response = _post(client, url, name="IMT", query="abcXYZ")
    assert "PubMed rejected the query: PhraseNotFound: abcXYZ" in response.content.decode()
    search.refresh_from_db()
    assert search.query == QUERY


def test_a_name_in_use_is_refused(client, reviewer, fake_eutils):
    SavedSearch.objects.create(name="IMT", query=QUERY)
    other = SavedSearch.objects.create(name="other", query=QUERY)
    client.force_login(reviewer)
    url = reverse("citations:saved_search_edit", args=[other.pk])
    response = _post(client, url, name="IMT", query=QUERY)
    assert "A saved search is called &#x27;IMT&#x27; already." in response.content.decode()


def test_a_reviewer_disables_and_enables_a_search(client, reviewer):
    search = SavedSearch.objects.create(name="IMT", query=QUERY)
    url = reverse("citations:saved_search_enabled", args=[search.pk])
    client.force_login(reviewer)
    client.post(url, {"enabled": "0"})
    search.refresh_from_db()
    assert search.enabled is False
    assert "Enable</button>" in client.get(LIST).content.decode()
    client.post(url, {"enabled": "1"})
    search.refresh_from_db()
    assert search.enabled is True


def test_curators_and_readers_may_not_manage_searches(client, curator, reader):
    search = SavedSearch.objects.create(name="IMT", query=QUERY)
    for user in (curator, reader):
        client.force_login(user)
        assert client.get(LIST).status_code == 403
        enabled = reverse("citations:saved_search_enabled", args=[search.pk])
        assert client.post(enabled, {"enabled": "0"}).status_code == 403
    search.refresh_from_db()
    assert search.enabled is True
    client.logout()
    assert client.get(LIST).status_code == 302  # to the login page
