"""The sweep of fetch jobs and batches (citations/actions/sweep.py) and the claims that
make a batch run once: heartbeats, dead workers, lost and duplicated messages.

Tasks run inline here; tests/citations/test_worker_killed_mid_fetch.py kills a
real worker.
"""

import threading
from datetime import timedelta

import pytest
from django.db import connections
from django.utils import timezone

from citations import actions, tasks
from citations.actions.batches import claim_batch
from citations.actions.jobs import claim_dispatch
from citations.models import Citation, FetchBatch, FetchJob
from config import health

pytestmark = pytest.mark.django_db


def batched_job(pmids, capture, monkeypatch) -> tuple[FetchJob, FetchBatch]:
    """A job dispatched into one batch whose message was sent and not yet run."""
    sent = []
    monkeypatch.setattr(tasks.fetch_batch, "delay", lambda *args: sent.append(args))
    with capture(execute=True):
        job = actions.request_fetch([str(p) for p in pmids])
    monkeypatch.undo()
    batch = job.batches.get()
    assert sent == [(batch.pk,)]
    return job, batch


def beat_ago(batch: FetchBatch, seconds: float, worker: str = "") -> None:
    FetchBatch.objects.filter(pk=batch.pk).update(
        state=FetchBatch.State.RUNNING,
        heartbeat_at=timezone.now() - timedelta(seconds=seconds),
        worker=worker,
        task_id="task-of-the-dead-worker",
    )


def test_a_batch_held_by_a_live_run_is_not_fetched_by_a_second_message(
    fake_eutils, django_capture_on_commit_callbacks, monkeypatch
):
    job, batch = batched_job([35560368], django_capture_on_commit_callbacks, monkeypatch)
    assert claim_batch(batch.pk, task_id="first") is not None  # a worker is on it
    assert actions.run_batch(batch.pk, task_id="second") is False
    assert fake_eutils.count("efetch") == 0
    assert job.items.get().status == "pending"


def test_a_message_redelivered_after_its_worker_process_died_takes_the_batch_back_at_once(
    fake_eutils, django_capture_on_commit_callbacks, monkeypatch
):
    job, batch = batched_job([35560368], django_capture_on_commit_callbacks, monkeypatch)
    assert claim_batch(batch.pk, task_id="same-message") is not None  # then its process died
    assert actions.run_batch(batch.pk, task_id="same-message") is True
    batch.refresh_from_db()
    assert (batch.state, batch.runs) == (FetchBatch.State.DONE, 2)
    assert job.items.get().status == "new"


def test_a_late_message_for_a_done_batch_does_nothing(
    fake_eutils, django_capture_on_commit_callbacks, monkeypatch
):
    job, batch = batched_job([35560368], django_capture_on_commit_callbacks, monkeypatch)
    assert actions.run_batch(batch.pk) is True
    # The original message, back from Redis after the visibility timeout.
    assert actions.run_batch(batch.pk, task_id="task-of-the-dead-worker") is False
    assert fake_eutils.count("efetch") == 1
    assert job.items.get().status == "new"


def test_a_batch_silent_for_the_heartbeat_timeout_is_queued_again_and_fetched(
    fake_eutils, django_capture_on_commit_callbacks, monkeypatch, settings
):
    job, batch = batched_job([35560368, 9997], django_capture_on_commit_callbacks, monkeypatch)
    beat_ago(batch, settings.FETCH_HEARTBEAT_TIMEOUT - 5)
    assert actions.requeue_stalled_batches() == []  # still within its time
    beat_ago(batch, settings.FETCH_HEARTBEAT_TIMEOUT + 1)
    assert actions.requeue_stalled_batches() == [batch.pk]
    batch.refresh_from_db()
    assert (batch.state, batch.sends, batch.runs) == (FetchBatch.State.DONE, 2, 1)
    job.refresh_from_db()
    assert job.state == FetchJob.State.DONE
    assert set(job.items.values_list("status", flat=True)) == {"new"}


def test_a_batch_whose_worker_is_gone_is_queued_again_before_the_timeout(
    fake_eutils, django_capture_on_commit_callbacks, monkeypatch, settings, redis_url
):
    """The worker's own heartbeat key (config/health.py) says whether it still lives."""
    job, batch = batched_job([35560368], django_capture_on_commit_callbacks, monkeypatch)
    third = settings.FETCH_HEARTBEAT_TIMEOUT / 3
    health.mark_worker_alive("alive@host")
    try:
        beat_ago(batch, third + 1, worker="alive@host")
        assert actions.requeue_stalled_batches() == []  # slow, but its worker lives
        beat_ago(batch, third - 1, worker="dead@host")
        assert actions.requeue_stalled_batches() == []  # beat too recently to judge
        beat_ago(batch, third + 1, worker="dead@host")
        assert actions.requeue_stalled_batches() == [batch.pk]
    finally:
        health.forget_worker("alive@host")
    assert job.items.get().status == "new"


def test_a_run_whose_batch_was_handed_on_drops_its_answer(
    transactional_db, fake_eutils, monkeypatch, settings
):
    """The slow original and the new run both finish: one efetch stored, once."""
    pmids = fake_eutils.recorded_pmids[:3]
    sent = []
    monkeypatch.setattr(tasks.fetch_batch, "delay", lambda *args: sent.append(args))
    job = actions.request_fetch([str(p) for p in pmids])  # committed: no test transaction
    monkeypatch.undo()
    batch = job.batches.get()
    settings.ENTREZ_TIMEOUT = 10
    fake_eutils.stall_seconds = 3
    fake_eutils.inject("stall", times=1, endpoint="efetch")
    stored_by_original = []

    def run_original():
        try:
            stored_by_original.append(actions.run_batch(batch.pk, task_id="slow"))
        finally:
            connections.close_all()  # this thread's own connection

    original = threading.Thread(target=run_original)
    original.start()
    try:
        deadline = timezone.now() + timedelta(seconds=10)
        while fake_eutils.count("efetch") == 0 and timezone.now() < deadline:
            threading.Event().wait(0.05)
        # It looks dead (no beat for the timeout): the sweep hands it on, a second run stores it.
        beat_ago(batch, settings.FETCH_HEARTBEAT_TIMEOUT + 1)
        assert actions.requeue_stalled_batches() == [batch.pk]
    finally:
        original.join(timeout=30)
    assert stored_by_original == [False]
    assert fake_eutils.count("efetch") == 2
    batch.refresh_from_db()
    assert (batch.state, batch.runs) == (FetchBatch.State.DONE, 2)
    assert set(job.items.values_list("status", "tries")) == {("new", 1)}
    assert Citation.objects.count() == 3


def test_a_long_fetch_keeps_its_batch_by_beating(
    transactional_db, fake_eutils, monkeypatch, settings
):
    settings.FETCH_HEARTBEAT_TIMEOUT = 6  # a beat every second
    settings.ENTREZ_TIMEOUT = 10
    fake_eutils.stall_seconds = 3.5
    fake_eutils.inject("stall", times=1, endpoint="efetch")
    sent = []
    monkeypatch.setattr(tasks.fetch_batch, "delay", lambda *args: sent.append(args))
    job = actions.request_fetch(["35560368"])
    monkeypatch.undo()
    batch = job.batches.get()
    started = timezone.now()
    assert actions.run_batch(batch.pk) is True
    batch.refresh_from_db()
    # It beat while it waited for NCBI: the sweep never saw it silent for 2 s.
    assert batch.heartbeat_at >= started + timedelta(seconds=2)
    assert batch.state == FetchBatch.State.DONE


def test_a_queued_batch_whose_message_was_lost_is_sent_again_ever_less_often(
    fake_eutils, django_capture_on_commit_callbacks, monkeypatch
):
    _job, batch = batched_job([35560368], django_capture_on_commit_callbacks, monkeypatch)
    sent = []
    monkeypatch.setattr(tasks.fetch_batch, "delay", lambda *args: sent.append(args))
    queued_at = FetchBatch.objects.get(pk=batch.pk).queued_at
    assert actions.requeue_stalled_batches(now=queued_at + timedelta(minutes=1)) == []
    # Lost after two minutes: sent again (a second copy of a message only waiting is a no-op).
    assert actions.requeue_stalled_batches(now=queued_at + timedelta(minutes=2, seconds=1)) == [
        batch.pk
    ]
    queued_at = FetchBatch.objects.get(pk=batch.pk).queued_at
    # A long queue is not a lost message: the next copy waits twice as long.
    assert actions.requeue_stalled_batches(now=queued_at + timedelta(minutes=3)) == []
    assert actions.requeue_stalled_batches(now=queued_at + timedelta(minutes=4, seconds=1)) == [
        batch.pk
    ]
    assert sent == [(batch.pk,), (batch.pk,)]
    assert FetchBatch.objects.get(pk=batch.pk).sends == 3


def test_a_job_whose_dispatcher_died_is_queued_again(
    fake_eutils, django_capture_on_commit_callbacks, monkeypatch, settings
):
    """A worker killed while it turned the job's DOIs into PMIDs."""
    monkeypatch.setattr(tasks.run_fetch_job, "delay", lambda *args: None)  # a message, then death
    with django_capture_on_commit_callbacks(execute=True):
        job = actions.request_fetch(["10.1111/cup.14261"])
    monkeypatch.undo()
    assert claim_dispatch(job.pk, worker="dead@host")
    assert not claim_dispatch(job.pk, worker="other@host")  # held: a second message waits
    FetchJob.objects.filter(pk=job.pk).update(
        heartbeat_at=timezone.now() - timedelta(seconds=settings.FETCH_HEARTBEAT_TIMEOUT + 1)
    )
    assert actions.requeue_stalled_jobs() == [job.pk]
    job.refresh_from_db()
    assert job.state == FetchJob.State.DONE
    assert (job.heartbeat_at, job.worker) == (None, "")
    assert list(job.items.values_list("pmid", "status")) == [(35560368, "new")]


def test_a_running_job_left_with_nothing_pending_is_finished(
    fake_eutils, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        job = actions.request_fetch(["35560368"])
    # Its last batch's worker died between storing the batch and marking the job.
    FetchJob.objects.filter(pk=job.pk).update(state=FetchJob.State.RUNNING, finished_at=None)
    assert actions.requeue_stalled_jobs() == []
    job.refresh_from_db()
    assert job.state == FetchJob.State.DONE and job.finished_at is not None


def test_items_retried_are_batched_anew(fake_eutils, django_capture_on_commit_callbacks):
    fake_eutils.inject("500", times=None, endpoint="efetch")
    with django_capture_on_commit_callbacks(execute=True):
        job = actions.request_fetch(["35560368"])
    first = job.batches.get()
    assert job.items.get().status == "failed"
    fake_eutils.clear_faults()
    with django_capture_on_commit_callbacks(execute=True):
        assert actions.retry_failed(job) == 1
    item = job.items.get()
    assert item.status == "new"
    assert item.batch_id != first.pk
    assert job.batches.count() == 2


def test_a_batch_whose_worker_died_five_times_is_given_up_with_the_reason(
    fake_eutils, django_capture_on_commit_callbacks, monkeypatch, settings
):
    """A record that kills every worker fetching it (memory, say) does not kill them forever."""
    job, batch = batched_job([35560368], django_capture_on_commit_callbacks, monkeypatch)
    sent = []
    monkeypatch.setattr(tasks.fetch_batch, "delay", lambda *args: sent.append(args))
    for run in range(1, 6):
        # A worker takes the message, starts the batch... and dies.
        assert claim_batch(batch.pk, task_id=f"run-{run}") is not None
        beat_ago(batch, settings.FETCH_HEARTBEAT_TIMEOUT + 1)
        assert actions.requeue_stalled_batches() == ([batch.pk] if run < 5 else [])
    monkeypatch.undo()
    assert len(sent) == 4
    assert fake_eutils.count("efetch") == 0
    item = job.items.get()
    assert item.status == "failed"
    assert "stopped 5 times" in item.error
    job.refresh_from_db()
    assert job.state == FetchJob.State.DONE
    # A late message for it does nothing; "retry failed" asks again.
    assert actions.run_batch(batch.pk, task_id="run-5") is False
    with django_capture_on_commit_callbacks(execute=True):
        assert actions.retry_failed(job) == 1
    assert job.items.get().status == "new"
