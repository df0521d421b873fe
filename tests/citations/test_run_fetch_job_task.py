"""run_fetch_job in real Celery worker processes, on PostgreSQL and Redis,
against the fake E-utilities server."""

import time

import pytest

from citations import actions
from citations.models import Citation, FetchJob

# Workers see only committed data, so these tests commit (and the database is
# flushed after them: tests/conftest.py puts the data migrations' rows back).
pytestmark = pytest.mark.django_db(transaction=True)


def wait_for_jobs(job_ids, timeout=60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        states = set(FetchJob.objects.filter(pk__in=job_ids).values_list("state", flat=True))
        if states == {FetchJob.State.DONE}:
            return
        time.sleep(0.2)
    raise AssertionError(f"jobs {job_ids} not done in {timeout} s")


def test_a_worker_fetches_the_founding_paper_into_postgresql(start_worker, fake_eutils, postgres):
    worker = start_worker(**fake_eutils.worker_env)
    job = actions.request_fetch(["35560368"], source="test")
    wait_for_jobs([job.pk])
    item = job.items.get()
    assert (item.status, item.error) == ("new", ""), worker.output()
    citation = Citation.objects.get(pmid=35560368)
    assert citation.title == (
        "Cutaneous inflammatory myofibroblastic tumor with CARS-ALK fusion: "
        "Case report and literature review."
    )
    assert citation.doi == "10.1111/cup.14261"
    assert citation.authors.get().last_name == "McCollum"
    assert fake_eutils.requests[0].method == "POST"
    assert "Task citations.run_fetch_job" in worker.output()


def test_two_workers_share_one_rate_limit(start_worker, fake_eutils, postgres):
    rate = 4
    env = dict(
        fake_eutils.worker_env,
        ENTREZ_RATE_LIMIT=str(rate),
        ENTREZ_BATCH_SIZE="1",
        ENTREZ_TIMEOUT="10",  # a loaded machine must not turn slow answers into retries
    )
    fake_eutils.rate_limit = rate  # NCBI would answer 429 beyond it
    first = start_worker(name="w1", concurrency=2, **env)
    second = start_worker(name="w2", concurrency=2, **env)
    pmids = [str(p) for p in fake_eutils.recorded_pmids]  # 9 PMIDs
    # Six jobs of three PMIDs, one efetch per PMID: 18 requests from 4 processes.
    jobs = [actions.request_fetch(pmids[i % 9 : i % 9 + 3] or pmids[:3]) for i in range(0, 18, 3)]
    wait_for_jobs([job.pk for job in jobs], timeout=90)

    efetches = [r for r in fake_eutils.requests if r.endpoint == "efetch"]
    assert len(efetches) >= 18
    assert {r.status for r in efetches} == {200}  # never a 429
    assert fake_eutils.max_in_any_second() <= rate
    # Both workers took part, so the limit held across processes, not within one.
    assert "succeeded" in first.output() and "succeeded" in second.output()
    assert Citation.objects.count() == 9
    statuses = set(
        FetchJob.objects.values_list("items__status", flat=True).filter(
            pk__in=[j.pk for j in jobs]
        )
    )
    assert statuses <= {"new", "updated"}


def test_two_workers_share_the_batches_of_one_job(start_worker, fake_eutils, postgres):
    env = dict(fake_eutils.worker_env, ENTREZ_BATCH_SIZE="1", ENTREZ_TIMEOUT="10")
    first = start_worker(name="w1", **env)
    second = start_worker(name="w2", **env)
    job = actions.request_fetch([str(p) for p in fake_eutils.recorded_pmids])  # 9 PMIDs
    wait_for_jobs([job.pk], timeout=90)

    assert fake_eutils.count("efetch") == 9  # one efetch per batch, none twice
    # One job, yet both workers fetched batches of it.
    for worker in (first, second):
        assert "Task citations.fetch_batch" in worker.output(), worker.output()
    assert set(job.items.values_list("status", flat=True)) == {"new"}
    assert Citation.objects.count() == 9
    job.refresh_from_db()
    assert job.finished_at is not None
