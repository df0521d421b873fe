"""A saved search run by a real Celery worker process (queued by the command), to the inbox."""

import time

import pytest
from django.core.management import call_command

from citations.models import SavedSearch, SavedSearchRun
from screening.models import Candidate

QUERY = '"inflammatory myofibroblastic tumor"[tiab] AND cutaneous[tiab]'


@pytest.mark.django_db(transaction=True)
def test_a_queued_saved_search_runs_on_a_worker_and_its_papers_wait_for_screening(
    postgres, fake_eutils, start_worker
):
    fake_eutils.add_search(QUERY, {35560368: "2022/05/13", 27797938: "2016/11/01"})
    search = SavedSearch.objects.create(name="cutaneous IMT", query=QUERY)
    worker = start_worker(**fake_eutils.worker_env)
    call_command("run_saved_searches", "cutaneous IMT")
    deadline = time.monotonic() + 60
    while not SavedSearchRun.objects.filter(search=search).exclude(state="running").exists():
        assert time.monotonic() < deadline, worker.output()
        time.sleep(0.3)
    run = search.runs.get()
    assert (run.state, run.found, run.added) == ("done", 2, 2), worker.output()
    assert sorted(Candidate.objects.values_list("pmid", flat=True)) == [27797938, 35560368]
    assert fake_eutils.count("esearch") == 1 and fake_eutils.count("efetch") == 1
