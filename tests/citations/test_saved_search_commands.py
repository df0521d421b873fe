"""manage.py add_saved_search and run_saved_searches, against the fake E-utilities server."""

from io import StringIO

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from citations.models import SavedSearch
from screening.models import Candidate

pytestmark = pytest.mark.django_db
QUERY = '"inflammatory myofibroblastic tumor"[tiab] AND cutaneous[tiab]'


def _call(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_a_search_is_saved_then_run_here_with_its_counts(fake_eutils):
    fake_eutils.add_search(QUERY, {35560368: "2022/05/13", 27797938: "2016/11/01"})
    assert "Saved search 'cutaneous IMT' (runs weekly)" in _call(
        "add_saved_search", "cutaneous IMT", QUERY
    )
    out = _call("run_saved_searches", "--sync")
    assert "cutaneous IMT: finished (the beginning to " in out
    assert "2 found, 2 fetched, 2 new, 0 failed, 2 requests" in out
    assert Candidate.objects.count() == 2


def test_a_rejected_query_is_not_saved_and_says_why(fake_eutils):
    fake_eutils.reject("abcXYZ")
    with pytest.raises(CommandError, match="PhraseNotFound: abcXYZ"):
        _call("add_saved_search", "typo", "abcXYZ", "--schedule", "daily")
    assert not SavedSearch.objects.exists()


def test_a_failed_run_is_reported_and_the_command_fails(fake_eutils):
    fake_eutils.add_search(QUERY, {35560368: "2022/05/13"})
    SavedSearch.objects.create(name="cutaneous IMT", query=QUERY)
    fake_eutils.inject("500", times=None, endpoint="esearch")
    out = StringIO()
    with pytest.raises(CommandError, match="1 saved search"):
        call_command("run_saved_searches", "--sync", "cutaneous IMT", stdout=out)
    assert "cutaneous IMT: failed" in out.getvalue()


def test_an_unknown_name_is_refused():
    with pytest.raises(CommandError, match="No saved search called: nope"):
        _call("run_saved_searches", "nope")


def test_disabled_searches_run_only_when_named(fake_eutils):
    fake_eutils.add_search(QUERY, {35560368: "2022/05/13"})
    SavedSearch.objects.create(name="off", query=QUERY, enabled=False)
    assert _call("run_saved_searches", "--sync") == ""
    assert "off: finished" in _call("run_saved_searches", "--sync", "off")


def test_without_sync_the_runs_are_queued_for_the_workers(fake_eutils):
    # Tasks run inline in tests unless a real worker is asked for: queued is run.
    fake_eutils.add_search(QUERY, {35560368: "2022/05/13"})
    SavedSearch.objects.create(name="cutaneous IMT", query=QUERY)
    assert _call("run_saved_searches") == "cutaneous IMT: queued\n"
    assert SavedSearch.objects.get().runs.get().state == "done"


def test_beat_queues_due_saved_searches_every_hour():
    entry = settings.CELERY_BEAT_SCHEDULE["citations-saved-searches"]
    assert entry["task"] == "citations.run_due_saved_searches"
    assert entry["schedule"].minute == {17}
    assert len(entry["schedule"].hour) == 24
