"""Celery tasks of citations: thin, take ids, idempotent (see citations/actions/jobs.py).

A fetch job is one run_fetch_job task that resolves its DOIs and queues one
fetch_job_batch task per efetch batch (≤ 200 PMIDs), so every worker takes a
share of a large job. Every task may run twice (acks_late, the sweep): items
already final are skipped.
"""

from celery import shared_task

from citations import actions


@shared_task(name="citations.run_fetch_job")
def run_fetch_job(job_id: int) -> None:
    """Start a FetchJob: resolve its DOIs, then queue a task per batch of pending PMIDs."""
    actions.dispatch_job(job_id)


@shared_task(name="citations.fetch_job_batch")
def fetch_job_batch(job_id: int, item_ids: list[int]) -> None:
    """Fetch one batch of a FetchJob's items from PubMed and store it in one transaction."""
    actions.run_batch(job_id, item_ids)


@shared_task(name="citations.sweep_fetch_jobs")
def sweep_fetch_jobs() -> None:
    """Queue again fetch jobs left pending (broker was down) or stuck (worker died)."""
    actions.requeue_stalled_jobs()
