"""The sweep: fetch jobs and batches whose message was lost, or whose worker died, go again.

Beat sends `citations.sweep_fetch_jobs` every 10 s (settings.CELERY_BEAT_SCHEDULE).
A running fetch (a batch, or a job's DOI look-ups) refreshes its heartbeat
every FETCH_HEARTBEAT_TIMEOUT / 6 seconds; it has stopped when

- its heartbeat is older than FETCH_HEARTBEAT_TIMEOUT (a hung or dead run,
  whatever its worker), or
- its heartbeat is older than a third of that and its worker is gone: the
  worker's own key in Redis (config/health.py, refreshed every 10 s, kept
  30 s) has expired. This is what hands a killed worker's batch on within a
  minute of the kill: its message would come back only after Redis's
  visibility timeout (CELERY_TASK_TIME_LIMIT + 600 s).

Everything here is safe to run twice or at once in two processes: rows are
handed on only if they did not change since they were read, and a task that
arrives for a batch done, or held by a live run, does nothing.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone

from citations.actions.batches import MAX_RUNS, give_up_batch, send_batches
from citations.actions.jobs import queue_job
from citations.models import FetchBatch, FetchJob, FetchJobItem
from config import health

logger = logging.getLogger(__name__)

# A message older than this whose job or batch has not started is taken as
# lost (a broker that restarted empty): it is sent again, then after twice as
# long, and so on up to 32 times as long, since a long queue is not a lost one.
REQUEUE_AFTER = timedelta(minutes=2)
MAX_DOUBLINGS = 5
# A batch written but not yet handed to the broker (its dispatcher died in
# between, or the broker refused it) is sent after this.
UNSENT_GRACE = timedelta(seconds=15)


def stopped_beating(rows, now: datetime) -> list:
    """The rows (with heartbeat_at and worker) whose run has stopped, by the two rules above."""
    timeout = timedelta(seconds=settings.FETCH_HEARTBEAT_TIMEOUT)
    silent = list(rows.filter(heartbeat_at__lt=now - timeout / 3))
    recent = [row for row in silent if row.heartbeat_at >= now - timeout and row.worker]
    alive: set[str] | None = set()
    if recent:
        try:
            alive = health.workers_alive(row.worker for row in recent)
        except Exception as exc:  # no Redis to ask: the timeout alone decides
            logger.warning("could not read the workers' heartbeats: %s", exc)
            alive = None
    return [
        row
        for row in silent
        if row.heartbeat_at < now - timeout
        or (alive is not None and row.worker and row.worker not in alive)
    ]


def _hand_on(row, now: datetime, **changes) -> bool:
    """Let a stopped run's job or batch go (with these changes), and say so.

    Only if the row did not beat or change state since it was read: a run that
    came back meanwhile keeps it.
    """
    unchanged = type(row).objects.filter(pk=row.pk, state=row.state, heartbeat_at=row.heartbeat_at)
    if not unchanged.update(**changes):
        return False
    logger.warning(
        "%s: its run on %s stopped beating %.0f s ago; queued again",
        row,
        row.worker or "a process that is not a worker",
        (now - row.heartbeat_at).total_seconds(),
    )
    return True


def requeue_stalled_jobs(now: datetime | None = None) -> list[int]:
    """Queue again jobs whose message was lost or whose dispatcher died; their ids.

    - pending, REQUEUE_AFTER after it was queued, none of its items moved:
      the message never arrived;
    - running, its dispatcher (DOI look-ups, batching) stopped beating;
    - running, nobody dispatching it, items pending in no batch, queued
      REQUEUE_AFTER ago (a lost message after "retry failed", or an upgrade).

    A running job with nothing pending and nobody dispatching it (its last
    batch's worker died between the commit and marking the job) is finished.
    """
    now = now or timezone.now()
    cutoff = now - REQUEUE_AFTER
    long_queued = models.Q(queued_at__isnull=True) | models.Q(queued_at__lt=cutoff)
    pending_items = FetchJobItem.objects.filter(
        job=models.OuterRef("pk"), status=FetchJobItem.Status.PENDING
    )
    lost = (
        FetchJob.objects.filter(state=FetchJob.State.PENDING)
        .filter(long_queued)
        .exclude(
            models.Exists(
                FetchJobItem.objects.filter(job=models.OuterRef("pk"), updated_at__gte=cutoff)
            )
        )
        .values_list("pk", flat=True)
    )
    dead = stopped_beating(
        FetchJob.objects.filter(state=FetchJob.State.RUNNING, heartbeat_at__isnull=False), now
    )
    released = [job.pk for job in dead if _hand_on(job, now, heartbeat_at=None, worker="")]
    unbatched = (
        FetchJob.objects.filter(state=FetchJob.State.RUNNING, heartbeat_at=None)
        .filter(long_queued)
        .filter(models.Exists(pending_items.filter(batch=None)))
        .values_list("pk", flat=True)
    )
    FetchJob.objects.filter(state=FetchJob.State.RUNNING, heartbeat_at=None).exclude(
        models.Exists(pending_items)
    ).update(state=FetchJob.State.DONE, finished_at=now)

    ids = sorted({*lost, *released, *unbatched})
    for job_id in ids:
        queue_job(job_id)
    return ids


def requeue_stalled_batches(now: datetime | None = None) -> list[int]:
    """Send again batches whose run stopped beating, or whose message was lost; their ids."""
    now = now or timezone.now()
    dead = stopped_beating(FetchBatch.objects.filter(state=FetchBatch.State.RUNNING), now)
    handed_on = []
    for batch in dead:
        if batch.runs >= MAX_RUNS:
            give_up_batch(batch.pk)
            continue
        if _hand_on(batch, now, state=FetchBatch.State.QUEUED, run_token=None):
            handed_on.append(batch.pk)
    waiting = FetchBatch.objects.filter(state=FetchBatch.State.QUEUED).filter(
        models.Q(queued_at__isnull=True, created_at__lt=now - UNSENT_GRACE)
        | models.Q(queued_at__lt=now - REQUEUE_AFTER)
    )
    lost = [
        batch.pk
        for batch in waiting.only("pk", "queued_at", "sends")
        if batch.queued_at is None
        or batch.queued_at < now - REQUEUE_AFTER * 2 ** min(max(batch.sends - 1, 0), MAX_DOUBLINGS)
    ]
    ids = sorted({*handed_on, *lost})
    send_batches(ids)
    return ids
