"""Fetch batches: one efetch of a job's items, claimed by one run at a time, with a heartbeat.

A job's dispatcher (citations/actions/jobs.py) writes a FetchBatch row per
efetch and sends one `citations.fetch_batch` message per row. The task that
receives it claims the row (a fresh run_token), refreshes its heartbeat from
a thread while it fetches, and stores the answer, items and batch in one
transaction only if it still holds the claim. So a batch is fetched by one
run at a time and stored once, whatever the broker delivers:

- a message for a batch already done is a no-op (a late re-delivery);
- a message for a batch a live run holds is a no-op (a duplicate);
- a message re-delivered because its worker process died (same task id)
  takes the batch back at once;
- the sweep (citations/actions/sweep.py) puts back to queued a batch whose
  heartbeat stopped, and a run that was only slow, not dead, finds its claim
  gone when it wants to store and drops its answer.
"""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta

from django.conf import settings
from django.db import models, transaction
from django.utils import timezone

from citations import entrez, pubmed
from citations.actions.storage import mark_all_deleted, store_articles
from citations.models import Citation, FetchBatch, FetchJob, FetchJobItem
from config.celery import queue_task
from config.heartbeat import Heartbeat

logger = logging.getLogger(__name__)


# A batch whose run stopped this many times (its worker killed each time: a
# record that exhausts memory, say) is not started again: its PMIDs fail with
# the reason, and "retry failed" can ask for them later.
MAX_RUNS = 5


def heartbeat_seconds() -> float:
    """How often a running fetch says it is alive: a sixth of FETCH_HEARTBEAT_TIMEOUT."""
    return settings.FETCH_HEARTBEAT_TIMEOUT / 6


def send_batches(batch_ids: list[int]) -> int:
    """Hand committed batches to the broker; returns how many it took.

    A batch the broker refuses gets queued_at null, and the sweep sends it at
    its next run: the row keeps the request.
    """
    sent = 0
    for batch_id in batch_ids:
        FetchBatch.objects.filter(pk=batch_id).update(
            queued_at=timezone.now(), sends=models.F("sends") + 1
        )
        try:
            queue_task("citations.fetch_batch", batch_id)
        except Exception:
            logger.exception("could not queue fetch batch %s; the sweep will retry", batch_id)
            FetchBatch.objects.filter(pk=batch_id).update(queued_at=None)
        else:
            sent += 1
    return sent


def claim_batch(batch_id: int, *, task_id: str = "", worker: str = "") -> uuid.UUID | None:
    """Take a batch for this run; its new run_token, or None when it is not to be run here.

    It is taken when it waits (queued), when its run stopped beating for
    FETCH_HEARTBEAT_TIMEOUT, or when this is the same task (a message
    re-delivered because the process running it died).
    """
    token = uuid.uuid4()
    now = timezone.now()
    stale = now - timedelta(seconds=settings.FETCH_HEARTBEAT_TIMEOUT)
    takeable = models.Q(state=FetchBatch.State.QUEUED) | models.Q(
        state=FetchBatch.State.RUNNING, heartbeat_at__lt=stale
    )
    if task_id:
        takeable |= models.Q(state=FetchBatch.State.RUNNING, task_id=task_id)
    claimed = (
        FetchBatch.objects.filter(pk=batch_id, runs__lt=MAX_RUNS)
        .filter(takeable)
        .update(
            state=FetchBatch.State.RUNNING,
            run_token=token,
            task_id=task_id,
            worker=worker,
            started_at=now,
            heartbeat_at=now,
            runs=models.F("runs") + 1,
        )
    )
    return token if claimed else None


def run_batch(batch_id: int, *, task_id: str = "", worker: str = "") -> bool:
    """Fetch and store one batch (one efetch, one transaction); True if this run stored it.

    Idempotent: a batch done, or held by a live run, is left alone; only the
    items still pending are fetched, and the citations are upserted.
    """
    token = claim_batch(batch_id, task_id=task_id, worker=worker)
    if token is None:
        if FetchBatch.objects.filter(pk=batch_id, runs__gte=MAX_RUNS).exclude(
            state=FetchBatch.State.DONE
        ):
            give_up_batch(batch_id)
        else:
            logger.info("fetch batch %s is done or held by a live run; nothing to do", batch_id)
        return False
    job_id = FetchBatch.objects.values_list("job_id", flat=True).get(pk=batch_id)
    mine = FetchBatch.objects.filter(pk=batch_id, run_token=token, state=FetchBatch.State.RUNNING)
    with Heartbeat(mine, every=heartbeat_seconds()):
        stored = _fetch_and_store(batch_id, mine)
    finish_job_if_done(job_id)
    return stored


def _fetch_and_store(batch_id: int, mine) -> bool:
    items = list(
        FetchJobItem.objects.filter(batch_id=batch_id, status=FetchJobItem.Status.PENDING)
        .exclude(pmid=None)
        .only("pk", "job_id", "pmid", "status", "error", "citation_id", "tries")
        .order_by("position")
    )
    by_pmid: dict[int, list[FetchJobItem]] = {}
    for item in items:
        by_pmid.setdefault(item.pmid, []).append(item)
    pmids = list(by_pmid)
    outcome: tuple | None = None
    error = ""
    if pmids:
        try:
            outcome = entrez.fetch_articles(pmids)
        except entrez.EntrezError as exc:
            for item in items:
                item.tries += settings.ENTREZ_MAX_TRIES
                item.updated_at = timezone.now()
            error = str(exc)
            fail_items(items, error)
    with transaction.atomic():
        # The claim is checked under the row's lock: the sweep cannot hand the
        # batch on between this check and the commit, and a run whose batch was
        # handed on (it looked dead) drops its answer instead of writing twice.
        if not mine.select_for_update().exists():
            logger.warning(
                "fetch batch %s was handed to another run while this one fetched; "
                "this answer is dropped",
                batch_id,
            )
            return False
        if outcome is not None:
            records, tries = outcome
            for item in items:
                item.tries += tries
            _store_batch(pmids, records, by_pmid)
        elif pmids:
            _mark_refresh_failed(pmids, error)
        _save_items(items)
        mine.update(state=FetchBatch.State.DONE, finished_at=timezone.now())
    return True


def give_up_batch(batch_id: int) -> None:
    """A batch started MAX_RUNS times and never finished: its pending items fail, with why."""
    message = (
        f"The worker fetching this PMID stopped {MAX_RUNS} times before it finished "
        "(killed or crashed); it was not tried again. Retry it later."
    )
    with transaction.atomic():
        batch = FetchBatch.objects.select_for_update().filter(pk=batch_id).first()
        if batch is None or batch.state == FetchBatch.State.DONE:
            return
        FetchJobItem.objects.filter(batch_id=batch_id, status=FetchJobItem.Status.PENDING).update(
            status=FetchJobItem.Status.FAILED, error=message, updated_at=timezone.now()
        )
        FetchBatch.objects.filter(pk=batch_id).update(
            state=FetchBatch.State.DONE, run_token=None, finished_at=timezone.now()
        )
    logger.error(
        "fetch batch %s of job %s given up after %d runs", batch_id, batch.job_id, MAX_RUNS
    )
    finish_job_if_done(batch.job_id)


def finish_job_if_done(job_id: int) -> bool:
    """Mark a job done once none of its items is pending; True if it is done.

    Called after each batch commits: the last batch to commit sees every
    other's outcome, so a job shared by several workers ends exactly once.
    """
    if FetchJobItem.objects.filter(job_id=job_id, status=FetchJobItem.Status.PENDING).exists():
        return False
    FetchJob.objects.filter(pk=job_id).exclude(state=FetchJob.State.DONE).update(
        state=FetchJob.State.DONE, finished_at=timezone.now()
    )
    return True


def fail_items(items: list[FetchJobItem], message: str) -> None:
    for item in items:
        item.status = FetchJobItem.Status.FAILED
        item.error = message
        item.citation = None


def _save_items(items: list[FetchJobItem]) -> None:
    """Write the outcomes of a batch's items: one UPDATE per kind of outcome.

    Most items of a batch end alike (added, tries 1), so a few UPDATEs do
    (bulk_update's CASE per row and field cost 1.4 ms per item); each item's
    citation is the one stored under its PMID.
    """
    groups: dict[tuple, list[int]] = {}
    for item in items:
        key = (item.status, item.error, item.tries, item.citation_id is not None)
        groups.setdefault(key, []).append(item.pk)
    now = timezone.now()
    citation_of_pmid = models.Subquery(
        Citation.objects.filter(pmid=models.OuterRef("pmid")).values("pk")[:1]
    )
    for (status, error, tries, stored), pks in groups.items():
        FetchJobItem.objects.filter(pk__in=pks).update(
            status=status,
            error=error,
            tries=tries,
            updated_at=now,
            citation=citation_of_pmid if stored else None,
        )


def _store_batch(pmids, records, by_pmid) -> None:
    articles = [r for r in records if isinstance(r, pubmed.ParsedArticle) and r.pmid in by_pmid]
    deleted = {pmid for r in records if isinstance(r, pubmed.ParsedDeletion) for pmid in r.pmids}
    unreadable = {
        r.pmid: r.reason
        for r in records
        if isinstance(r, pubmed.ParsedFailure) and r.pmid in by_pmid
    }
    stored_pmids = {r.pmid for r in articles}
    outcomes = store_articles(articles)
    # A record PubMed holds but we cannot read: a stored copy is kept, marked.
    _mark_refresh_failed([p for p in unreadable if p not in stored_pmids], unreadable)
    withdrawn = [pmid for pmid in pmids if pmid not in outcomes and pmid in deleted]
    mark_all_deleted(withdrawn)
    now = timezone.now()
    for pmid in pmids:
        items = by_pmid[pmid]
        for item in items:
            item.updated_at = now
        outcome = outcomes.get(pmid)
        if outcome is not None and outcome.error:
            fail_items(items, outcome.error)
        elif outcome is not None:
            created = outcome.created
            for item in items:
                item.citation_id = outcome.citation_id
                item.error = outcome.note
                item.status = FetchJobItem.Status.NEW if created else FetchJobItem.Status.UPDATED
                created = False  # a PMID asked twice (as PMID and DOI) is new once
        elif pmid in unreadable:
            fail_items(items, unreadable[pmid])
        elif pmid in deleted:
            fail_items(items, f"PubMed has withdrawn PMID {pmid} (DeleteCitation).")
        else:
            fail_items(items, f"PubMed has no record with PMID {pmid}.")


def _mark_refresh_failed(pmids: list[int], message: str | dict[int, str]) -> None:
    """Stored citations of these PMIDs could not be refreshed (one message, or one per PMID)."""
    messages = message if isinstance(message, dict) else dict.fromkeys(pmids, message)
    by_message: dict[str, list[int]] = {}
    for pmid in pmids:
        by_message.setdefault(messages[pmid][:2000], []).append(pmid)
    for text, group in by_message.items():
        Citation.objects.filter(pmid__in=group).exclude(
            fetch_status=Citation.FetchStatus.DELETED
        ).update(
            fetch_status=Citation.FetchStatus.REFRESH_FAILED,
            fetch_error=text,
            updated_at=timezone.now(),
        )
