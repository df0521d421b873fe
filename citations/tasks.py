"""Celery tasks of citations: thin, take ids, idempotent (see citations/actions/jobs.py).

A fetch job is one run_fetch_job task that resolves its DOIs and writes a
FetchBatch row per efetch (≤ 200 PMIDs), then queues one fetch_batch task per
row, so every worker takes a share of a large job. Every task may run twice
(acks_late, the sweep): a batch done, or held by a live run, is left alone.
"""

import logging

from celery import shared_task

from citations import actions

logger = logging.getLogger(__name__)


def _worker(task) -> str:
    """The node name of the worker running this task ("" when it runs inline)."""
    return "" if task.request.is_eager else task.request.hostname or ""


@shared_task(name="citations.run_fetch_job", bind=True)
def run_fetch_job(self, job_id: int) -> None:
    """Start a FetchJob: resolve its DOIs, then queue a task per batch of pending PMIDs."""
    actions.dispatch_job(job_id, worker=_worker(self))


@shared_task(name="citations.fetch_batch", bind=True)
def fetch_batch(self, batch_id: int) -> None:
    """Fetch one FetchBatch from PubMed and store it in one transaction, with a heartbeat."""
    actions.run_batch(batch_id, task_id=self.request.id or "", worker=_worker(self))


@shared_task(name="citations.fetch_job_batch", bind=True)
def fetch_job_batch(self, job_id: int, item_ids: list[int]) -> None:
    """A message queued before batches were rows (an upgrade): the job's items are batched anew.

    Only its items still pending and in no batch are, so this is a no-op for
    a job the sweep or another message dispatched already.
    """
    actions.dispatch_job(job_id, worker=_worker(self))


@shared_task(name="citations.sweep_fetch_jobs")
def sweep_fetch_jobs() -> None:
    """Queue again fetch jobs and batches whose message was lost or whose worker died."""
    actions.requeue_stalled_jobs()
    actions.requeue_stalled_batches()


@shared_task(name="citations.run_saved_search")
def run_saved_search(search_id: int) -> None:
    """Run one saved search (a second message while a run is on does nothing)."""
    from citations.actions.searches import run_saved_search as run

    run(search_id)


@shared_task(name="citations.run_due_saved_searches")
def run_due_saved_searches() -> None:
    """Beat, every hour: queue each enabled saved search its schedule says is due."""
    from citations.actions.searches import due_searches
    from config.celery import queue_task

    for search in due_searches():
        queue_task("citations.run_saved_search", search.pk)


@shared_task(name="citations.run_refresh")
def run_refresh(run_id: int) -> None:
    """Run one refresh of the retraction watch (a second message for it does nothing)."""
    from citations.actions.refresh import run_refresh as run

    run(run_id)


@shared_task(name="citations.refresh_cited")
def refresh_cited() -> None:
    """Beat, monthly: fetch every cited PMID again and record retractions and corrections."""
    from citations.actions.refresh import start_refresh

    start_refresh(source="beat")


@shared_task(name="citations.chase_citation")
def chase_citation(citation_id: int) -> None:
    """Fetch and store a citation's references, citing and related papers (elink)."""
    from citations.actions.links import chase_citation as chase
    from citations.entrez import EntrezError

    try:
        chase(citation_id)
    except EntrezError as exc:
        # Nothing was stored; a curator can ask again with the citation page's button.
        logger.warning("citation chasing of citation %s failed: %s", citation_id, exc)
