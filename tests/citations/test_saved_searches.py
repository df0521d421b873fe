"""Saved PubMed searches (citations/actions/searches.py) against the fake E-utilities server:
the history server, entry-date windows, batches of 200, faults caught up, rejected queries;
the records land in screening as candidates."""

from datetime import UTC as utc
from datetime import date, datetime, timedelta

import pytest
from django.core.exceptions import ValidationError

from citations.actions.searches import add_saved_search, due_searches, run_saved_search
from citations.models import Citation, SavedSearch
from screening.models import Candidate

pytestmark = pytest.mark.django_db
QUERY = '("inflammatory myofibroblastic tumor"[tiab]) AND (skin[tiab] OR cutaneous[tiab])'
DAY1 = datetime(2026, 11, 20, 6, 0, tzinfo=utc)


def _search(**extra) -> SavedSearch:
    return SavedSearch.objects.create(name="cutaneous IMT", query=QUERY, **extra)


def test_the_first_run_takes_the_whole_history_into_citations_and_screening(fake_eutils):
    fake_eutils.add_search(QUERY, {35560368: "2022/05/13", 27797938: "2016/11/01"})
    search = _search()
    run = run_saved_search(search.pk, now=DAY1)
    assert (run.state, run.found, run.fetched, run.added, run.failed) == ("done", 2, 2, 2, 0)
    assert run.requests == 2  # one esearch, one efetch
    esearch, efetch = fake_eutils.requests
    assert esearch.params["usehistory"] == "y"
    assert "mindate" not in esearch.params
    assert efetch.params["WebEnv"].startswith("MCID_FAKE")
    assert set(Citation.objects.values_list("pmid", flat=True)) == {35560368, 27797938}
    candidates = Candidate.objects.order_by("pmid")
    assert [c.pmid for c in candidates] == [27797938, 35560368]
    assert all(c.citation.pmid == c.pmid for c in candidates)
    assert [s.label for c in candidates for s in c.sources.all()] == ["cutaneous IMT"] * 2
    search.refresh_from_db()
    assert search.covered_until == DAY1.date()


def test_a_later_run_asks_only_for_records_entered_since_the_last_one(fake_eutils):
    fake_eutils.add_search(QUERY, {35560368: "2022/05/13"})
    search = _search()
    run_saved_search(search.pk, now=DAY1)
    fake_eutils.add_search(QUERY, {27797938: "2026/11/24"})
    fake_eutils.reset_counts()
    run = run_saved_search(search.pk, now=DAY1 + timedelta(days=7))
    assert (run.mindate, run.maxdate) == (date(2026, 11, 20), date(2026, 11, 27))
    esearch = fake_eutils.requests[0]
    assert (esearch.params["datetype"], esearch.params["mindate"], esearch.params["maxdate"]) == (
        "edat",
        "2026/11/20",
        "2026/11/27",
    )
    assert (run.found, run.added) == (1, 1)
    assert Candidate.objects.count() == 2


def test_records_come_in_efetch_batches_of_at_most_200(fake_eutils):
    pmids = fake_eutils.add_synthetic(450)
    fake_eutils.add_search(QUERY, dict.fromkeys(pmids, "2026/11/01"))
    run = run_saved_search(_search().pk, now=DAY1)
    assert (run.found, run.fetched, run.added) == (450, 450, 450)
    assert fake_eutils.count("esearch") == 1
    assert fake_eutils.count("efetch") == 3  # ceil(450 / 200)
    assert [int(r.params["retmax"]) for r in fake_eutils.requests if r.endpoint == "efetch"] == [
        200,
        200,
        200,
    ]
    assert Candidate.objects.count() == 450


def test_an_ncbi_fault_fails_the_run_cleanly_and_the_next_run_catches_up(fake_eutils):
    fake_eutils.add_search(QUERY, {35560368: "2022/05/13", 27797938: "2016/11/01"})
    search = _search()
    fake_eutils.inject("503", times=None, endpoint="efetch")
    failed = run_saved_search(search.pk, now=DAY1)
    assert failed.state == "failed"
    assert "503" in failed.error
    search.refresh_from_db()
    assert search.covered_until is None
    assert not Candidate.objects.exists()
    fake_eutils.clear_faults()
    caught_up = run_saved_search(search.pk, now=DAY1 + timedelta(days=7))
    assert caught_up.mindate is None  # the whole history again: nothing skipped
    assert (caught_up.state, caught_up.added) == ("done", 2)
    assert Candidate.objects.count() == 2


def test_a_record_found_again_is_stored_and_screened_once(fake_eutils):
    fake_eutils.add_search(QUERY, {35560368: "2026/11/20"})
    search = _search()
    run_saved_search(search.pk, now=DAY1)
    again = run_saved_search(search.pk, now=DAY1 + timedelta(days=1))  # the same day again
    assert (again.found, again.added) == (1, 0)
    candidate = Candidate.objects.get()
    assert candidate.sources.count() == 1


def test_a_paper_already_in_rarederm_is_not_screened(fake_eutils):
    from tests.factories import CitationFactory

    CitationFactory(pmid=35560368)
    fake_eutils.add_search(QUERY, {35560368: "2022/05/13"})
    run = run_saved_search(_search().pk, now=DAY1)
    assert (run.found, run.added) == (1, 0)
    assert not Candidate.objects.exists()


def test_a_query_pubmed_rejects_is_refused_with_ncbis_message(fake_eutils):
    fake_eutils.reject("abcXYZ")
    with pytest.raises(ValidationError) as caught:
        add_saved_search("typo", "abcXYZ")
    assert caught.value.message_dict["query"] == [
        "PubMed rejected the query: PhraseNotFound: abcXYZ"
    ]
    assert not SavedSearch.objects.exists()


def test_a_query_matching_more_than_10000_records_needs_confirmation(fake_eutils):
    fake_eutils.add_search("skin", dict.fromkeys(range(1, 10_002), "2020/01/01"))
    with pytest.raises(ValidationError, match="10,001 records"):
        add_saved_search("too broad", "skin")
    search = add_saved_search("too broad", "skin", confirm_large=True, schedule="daily")
    assert (search.schedule, search.enabled) == ("daily", True)


def test_searches_are_due_by_their_schedule():
    weekly = _search(last_run_at=DAY1)
    daily = SavedSearch.objects.create(name="daily", query="x", schedule="daily", last_run_at=DAY1)
    never = SavedSearch.objects.create(name="never run", query="y")
    SavedSearch.objects.create(name="off", query="z", enabled=False)
    assert due_searches(now=DAY1 + timedelta(days=1)) == [daily, never]
    assert due_searches(now=DAY1 + timedelta(days=7)) == [weekly, daily, never]
