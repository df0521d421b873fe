"""Celery tasks of citations: thin, take ids, idempotent (see citations/actions.py)."""

from celery import shared_task

from citations import actions


@shared_task(name="citations.run_fetch_job")
def run_fetch_job(job_id: int) -> None:
    """Fetch the pending PMIDs of a FetchJob from PubMed and store them."""
    actions.run_job(job_id)


@shared_task(name="citations.sweep_fetch_jobs")
def sweep_fetch_jobs() -> None:
    """Queue again fetch jobs left pending (broker was down) or stuck (worker died)."""
    actions.requeue_stalled_jobs()
