"""Fetch jobs: a request for PMIDs/DOIs is a row first, a queue message second.

request_fetch writes the job and queues it on commit; a worker starts it
(DOIs to PMIDs) and fetches it a batch per task; the sweep queues again jobs
whose messages were lost. Tasks are queued by name (config.celery.queue_task),
so this module does not import citations.tasks, which imports it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import timedelta

from django.conf import settings
from django.db import models, transaction
from django.utils import timezone

from citations import entrez, pubmed
from citations.actions.identifiers import Identifier, parse_identifier
from citations.actions.storage import mark_all_deleted, store_articles
from citations.models import Citation, FetchJob, FetchJobItem
from config.celery import queue_task

logger = logging.getLogger(__name__)

MAX_IDENTIFIERS = 20_000
# A pending job whose message is older than this is queued again by the sweep.
REQUEUE_AFTER = timedelta(minutes=2)


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
        FetchJobItem.objects.filter(pk__in=retried).update(
            status=FetchJobItem.Status.PENDING, error="", updated_at=timezone.now()
        )
        job.state = FetchJob.State.PENDING
        job.finished_at = None
        job.error = ""
        job.save(update_fields=["state", "finished_at", "error"])
        transaction.on_commit(lambda: queue_job(job.pk))
    logger.info("fetch job %s: %d failed item(s) retried by %s", job.pk, len(retried), by)
    return len(retried)


def requeue_stalled_jobs(now=None) -> list[int]:
    """Queue again jobs whose messages were lost (broker down) or whose worker died.

    A job is stalled when none of its items moved for a while: a pending job
    REQUEUE_AFTER after it was queued (the message never arrived), a running
    one a task time limit after its batches were queued (a batch cannot take
    longer). Queuing it again queues its pending items again; an item already
    fetched is not fetched twice.
    """
    now = now or timezone.now()

    def stalled(state: str, quiet: timedelta):
        cutoff = now - quiet
        return (
            FetchJob.objects.filter(state=state)
            .filter(models.Q(queued_at__isnull=True) | models.Q(queued_at__lt=cutoff))
            .exclude(
                models.Exists(
                    FetchJobItem.objects.filter(job=models.OuterRef("pk"), updated_at__gte=cutoff)
                )
            )
        )

    running_quiet = timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT + 60)
    ids = sorted(
        set(stalled(FetchJob.State.PENDING, REQUEUE_AFTER).values_list("pk", flat=True))
        | set(stalled(FetchJob.State.RUNNING, running_quiet).values_list("pk", flat=True))
    )
    for job_id in ids:
        queue_job(job_id)
    return ids


def _fail(items: list[FetchJobItem], message: str) -> None:
    for item in items:
        item.status = FetchJobItem.Status.FAILED
        item.error = message
        item.citation = None


def start_job(job_id: int) -> list[list[int]]:
    """Mark a job running, turn its DOIs into PMIDs; the ids of its pending items in batches.

    Each batch holds the items of at most ENTREZ_BATCH_SIZE (≤ 200) distinct
    PMIDs: one efetch. A PMID asked twice (as a PMID and as a DOI) is in one
    batch with both its items. Returns [] for a job finished or deleted.
    """
    job = FetchJob.objects.filter(pk=job_id).first()
    if job is None or job.state == FetchJob.State.DONE:
        return []
    FetchJob.objects.filter(pk=job.pk).update(
        state=FetchJob.State.RUNNING, started_at=job.started_at or timezone.now()
    )
    # job_id is loaded too: a deferred one would cost a query per item.
    pending = list(
        FetchJobItem.objects.filter(job_id=job.pk, status=FetchJobItem.Status.PENDING)
        .only("pk", "job_id", "query", "pmid", "status", "error", "tries")
        .order_by("position")
    )
    # DOIs first: each becomes a PMID (one esearch each) or a failed item.
    for item in pending:
        if item.pmid is None:
            identifier = parse_identifier(item.query)
            item.tries += 1
            try:
                if identifier.error:
                    raise ValueError(identifier.error)
                item.pmid = entrez.resolve_doi(identifier.doi)
                if item.pmid is None:
                    _fail([item], f"PubMed has no article with the DOI {identifier.doi}.")
            except (entrez.EntrezError, ValueError) as exc:
                _fail([item], str(exc))
            item.save(update_fields=["pmid", "status", "error", "tries", "updated_at"])

    by_pmid: dict[int, list[int]] = {}
    for item in pending:
        if item.status == FetchJobItem.Status.PENDING and item.pmid is not None:
            by_pmid.setdefault(item.pmid, []).append(item.pk)
    return [[pk for pmid in batch for pk in by_pmid[pmid]] for batch in entrez.batches(by_pmid)]


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


def dispatch_job(job_id: int) -> int:
    """The task path: queue one task per batch, so every worker takes a share of the job.

    Returns the number of batches queued. A batch the broker refuses is left
    pending, and the sweep queues the job again.
    """
    batches = start_job(job_id)
    if not batches:
        finish_job_if_done(job_id)
        return 0
    # No transaction is open in a worker, so the items are committed already.
    FetchJob.objects.filter(pk=job_id).update(queued_at=timezone.now())
    for number, item_ids in enumerate(batches):
        try:
            queue_task("citations.fetch_job_batch", job_id, item_ids)
        except Exception:
            logger.exception(
                "could not queue batch %d of fetch job %s; the sweep will retry", number, job_id
            )
            return number
    return len(batches)


def run_job(job_id: int) -> FetchJob | None:
    """Fetch every pending item of a job in this process (fetch_pubmed --sync).

    Idempotent: items already final are left alone, so running a job twice
    (a re-queued message, two workers) does no harm.
    """
    for item_ids in start_job(job_id):
        run_batch(job_id, item_ids)
    finish_job_if_done(job_id)
    return FetchJob.objects.filter(pk=job_id).first()


def run_batch(job_id: int, item_ids: list[int]) -> None:
    """Fetch and store one batch of a job's items (one efetch, one transaction).

    Idempotent and safe to run twice at once: only the items still pending are
    fetched, the citations are upserted, and the items end with the same outcome.
    """
    items = list(
        FetchJobItem.objects.filter(
            job_id=job_id, pk__in=item_ids, status=FetchJobItem.Status.PENDING
        )
        .exclude(pmid=None)
        .only("pk", "job_id", "pmid", "status", "error", "citation_id", "tries")
        .order_by("position")
    )
    by_pmid: dict[int, list[FetchJobItem]] = {}
    for item in items:
        by_pmid.setdefault(item.pmid, []).append(item)
    pmids = list(by_pmid)
    if pmids:
        try:
            records, tries = entrez.fetch_articles(pmids)
        except entrez.EntrezError as exc:
            for item in items:
                item.tries += settings.ENTREZ_MAX_TRIES
                item.updated_at = timezone.now()
            _fail(items, str(exc))
            with transaction.atomic():
                _mark_refresh_failed(pmids, str(exc))
                _save_items(items)
        else:
            for item in items:
                item.tries += tries
            with transaction.atomic():
                _store_batch(pmids, records, by_pmid)
                _save_items(items)
    finish_job_if_done(job_id)


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
            _fail(items, outcome.error)
        elif outcome is not None:
            created = outcome.created
            for item in items:
                item.citation_id = outcome.citation_id
                item.error = outcome.note
                item.status = FetchJobItem.Status.NEW if created else FetchJobItem.Status.UPDATED
                created = False  # a PMID asked twice (as PMID and DOI) is new once
        elif pmid in unreadable:
            _fail(items, unreadable[pmid])
        elif pmid in deleted:
            _fail(items, f"PubMed has withdrawn PMID {pmid} (DeleteCitation).")
        else:
            _fail(items, f"PubMed has no record with PMID {pmid}.")


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
