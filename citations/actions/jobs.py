"""Fetch jobs: a request for PMIDs/DOIs is a row first, a queue message second.

request_fetch writes the job and queues it on commit; a worker dispatches it
(claims it, turns its DOIs into PMIDs with a heartbeat, writes a FetchBatch
row per efetch) and the batches are fetched a task each
(citations/actions/batches.py); the sweep (citations/actions/sweep.py) queues
again what was lost or left by a dead worker. Tasks are queued by name
(config.celery.queue_task), so this module does not import citations.tasks,
which imports it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import timedelta

from django.conf import settings
from django.db import models, transaction
from django.db.models.functions import Coalesce
from django.utils import timezone

from citations import entrez
from citations.actions.batches import (
    fail_items,
    finish_job_if_done,
    heartbeat_seconds,
    run_batch,
    send_batches,
)
from citations.actions.identifiers import Identifier, parse_identifier
from citations.models import FetchBatch, FetchJob, FetchJobItem
from config.celery import queue_task
from config.heartbeat import Heartbeat

logger = logging.getLogger(__name__)

MAX_IDENTIFIERS = 20_000


def request_fetch(
    identifiers: Iterable[str], *, by=None, source: str = "", queue: bool = True
) -> FetchJob:
    """Record a request to fetch PMIDs/DOIs, then queue it once the row is committed.

    Identifiers that are neither PMID nor DOI become failed items at once, with
    the reason; repeats are asked for once. Raises ValueError on an empty or
    oversized request.
    """
    parsed: list[Identifier] = []
    seen: set[str] = set()
    for text in identifiers:
        if not str(text).strip():
            continue
        identifier = parse_identifier(str(text))
        if identifier.query in seen:
            continue
        seen.add(identifier.query)
        parsed.append(identifier)
    if not parsed:
        raise ValueError("Give at least one PMID or DOI.")
    if len(parsed) > MAX_IDENTIFIERS:
        raise ValueError(f"At most {MAX_IDENTIFIERS:,} PMIDs or DOIs per request.")

    with transaction.atomic():
        job = FetchJob.objects.create(
            requested_by=by if getattr(by, "is_authenticated", False) else None,
            source=source[:100],
        )
        FetchJobItem.objects.bulk_create(
            [
                FetchJobItem(
                    job=job,
                    position=position,
                    query=identifier.query,
                    pmid=identifier.pmid,
                    status=FetchJobItem.Status.FAILED
                    if identifier.error
                    else FetchJobItem.Status.PENDING,
                    error=identifier.error,
                )
                for position, identifier in enumerate(parsed)
            ],
            batch_size=1000,
        )
        if any(not identifier.error for identifier in parsed):
            if queue:  # queue=False: the caller runs the job itself (fetch_pubmed --sync)
                transaction.on_commit(lambda: queue_job(job.pk))
        else:
            job.state = FetchJob.State.DONE
            job.finished_at = timezone.now()
            job.save(update_fields=["state", "finished_at"])
    return job


def queue_job(job_id: int) -> None:
    """Hand a committed job to the broker; if that fails the sweep tries again."""
    FetchJob.objects.filter(pk=job_id).update(queued_at=timezone.now())
    try:
        queue_task("citations.run_fetch_job", job_id)
    except Exception:
        # The broker is down: the job row stays pending and the periodic sweep
        # queues it again, so the request is not lost.
        logger.exception("could not queue fetch job %s; the sweep will retry", job_id)


def retry_failed(job: FetchJob, *, by=None) -> int:
    """Put a job's failed items back to pending and queue the job; returns how many."""
    with transaction.atomic():
        job = FetchJob.objects.select_for_update().get(pk=job.pk)
        failed = job.items.filter(status=FetchJobItem.Status.FAILED)
        # A PMID typed wrong stays wrong: only well-formed identifiers are retried.
        retried = [
            item.pk
            for item in failed.only("pk", "query")
            if not parse_identifier(item.query).error
        ]
        if not retried:
            return 0
        # Out of their old (done) batches: the job's dispatcher batches them anew.
        FetchJobItem.objects.filter(pk__in=retried).update(
            status=FetchJobItem.Status.PENDING, error="", batch=None, updated_at=timezone.now()
        )
        job.state = FetchJob.State.PENDING
        job.finished_at = None
        job.error = ""
        job.save(update_fields=["state", "finished_at", "error"])
        transaction.on_commit(lambda: queue_job(job.pk))
    logger.info("fetch job %s: %d failed item(s) retried by %s", job.pk, len(retried), by)
    return len(retried)


def claim_dispatch(job_id: int, *, worker: str = "") -> bool:
    """Take the dispatch of a job (DOIs, batches) for this run; False if it is not to run here.

    Taken when the job is not done and nobody dispatches it, or the one who
    did stopped beating for FETCH_HEARTBEAT_TIMEOUT (or the sweep let it go).
    """
    now = timezone.now()
    stale = now - timedelta(seconds=settings.FETCH_HEARTBEAT_TIMEOUT)
    return bool(
        FetchJob.objects.filter(pk=job_id)
        .exclude(state=FetchJob.State.DONE)
        .filter(models.Q(heartbeat_at=None) | models.Q(heartbeat_at__lt=stale))
        .update(
            state=FetchJob.State.RUNNING,
            heartbeat_at=now,
            worker=worker,
            started_at=Coalesce("started_at", models.Value(now)),
        )
    )


def start_job(job_id: int, *, worker: str = "", in_hand: bool = False) -> list[int]:
    """Dispatch a job: turn its DOIs into PMIDs and its pending items into batches.

    Returns the ids of the FetchBatch rows written, each the items of at most
    ENTREZ_BATCH_SIZE (≤ 200) distinct PMIDs: one efetch. A PMID asked twice
    (as a PMID and as a DOI) is in one batch with both its items. Returns []
    for a job finished, deleted, or being dispatched by a live run. The batches
    are committed but not sent: `in_hand` says this process runs them itself
    (the sweep then leaves them alone for REQUEUE_AFTER).
    """
    batch_ids: list[int] = []
    # Again if "retry failed" put items back to pending while this run batched.
    for _ in range(3):
        if not claim_dispatch(job_id, worker=worker):
            break
        mine = FetchJob.objects.filter(pk=job_id, worker=worker, heartbeat_at__isnull=False)
        with Heartbeat(mine, every=heartbeat_seconds()):
            _resolve_dois(job_id)
        batch_ids += _make_batches(job_id, in_hand=in_hand)
        unbatched = FetchJobItem.objects.filter(
            job_id=job_id, status=FetchJobItem.Status.PENDING, batch=None
        )
        if not unbatched.exists():
            break
    return batch_ids


def _resolve_dois(job_id: int) -> None:
    """Each pending DOI or PMC id becomes a PMID (one esearch each) or a failed item, saved
    at once."""
    # job_id is loaded too: a deferred one would cost a query per item.
    dois = FetchJobItem.objects.filter(
        job_id=job_id, status=FetchJobItem.Status.PENDING, pmid=None
    ).only("pk", "job_id", "query", "pmid", "status", "error", "tries")
    for item in dois.order_by("position"):
        identifier = parse_identifier(item.query)
        item.tries += 1
        try:
            if identifier.error:
                raise ValueError(identifier.error)
            if identifier.pmcid:
                item.pmid = entrez.resolve_pmcid(identifier.pmcid)
                missing = f"PubMed has no article with the PMC id {identifier.pmcid}."
            else:
                item.pmid = entrez.resolve_doi(identifier.doi)
                missing = f"PubMed has no article with the DOI {identifier.doi}."
            if item.pmid is None:
                fail_items([item], missing)
        except (entrez.EntrezError, ValueError) as exc:
            fail_items([item], str(exc))
        item.save(update_fields=["pmid", "status", "error", "tries", "updated_at"])


def _make_batches(job_id: int, *, in_hand: bool) -> list[int]:
    """Write a batch row per efetch of the job's unbatched pending items; let the job go."""
    with transaction.atomic():
        # Two dispatchers of one job (the sweep let a slow one go) batch in turn.
        list(FetchJob.objects.select_for_update().filter(pk=job_id).values_list("pk"))
        by_pmid: dict[int, list[int]] = {}
        unbatched = (
            FetchJobItem.objects.filter(
                job_id=job_id, status=FetchJobItem.Status.PENDING, batch=None
            )
            .exclude(pmid=None)
            .order_by("position")
            .values_list("pk", "pmid")
        )
        for pk, pmid in unbatched:
            by_pmid.setdefault(pmid, []).append(pk)
        groups = [
            [pk for pmid in group for pk in by_pmid[pmid]] for group in entrez.batches(by_pmid)
        ]
        now = timezone.now()
        rows = FetchBatch.objects.bulk_create(
            [FetchBatch(job_id=job_id, queued_at=now if in_hand else None) for _ in groups]
        )
        for row, item_ids in zip(rows, groups, strict=True):
            FetchJobItem.objects.filter(pk__in=item_ids).update(batch=row)
        FetchJob.objects.filter(pk=job_id).update(heartbeat_at=None, worker="", queued_at=now)
    return [row.pk for row in rows]


def dispatch_job(job_id: int, *, worker: str = "") -> int:
    """The task path: write the job's batches and queue a task per batch, so every worker
    takes a share of the job.

    Returns the number of batches the broker took. A batch it refuses is
    kept as a row, and the sweep sends it again.
    """
    batch_ids = start_job(job_id, worker=worker)
    if not batch_ids:
        finish_job_if_done(job_id)
        return 0
    return send_batches(batch_ids)


def run_job(job_id: int) -> FetchJob | None:
    """Fetch every pending item of a job in this process (fetch_pubmed --sync).

    Idempotent: items already final are left alone, so running a job twice
    (a re-queued message, two workers) does no harm.
    """
    for batch_id in start_job(job_id, in_hand=True):
        run_batch(batch_id)
    finish_job_if_done(job_id)
    return FetchJob.objects.filter(pk=job_id).first()
