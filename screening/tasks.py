"""Screening's Celery tasks (thin: the work is in screening.digest)."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="screening.send_weekly_digest")
def send_weekly_digest() -> int:
    from screening.digest import queue_weekly_digest

    return queue_weekly_digest()


@shared_task(name="screening.fetch_candidate_records")
def fetch_candidate_records() -> dict | None:
    """The PubMed records of candidates known by PMID alone (screening.actions)."""
    import logging

    from citations.entrez import EntrezError
    from screening.actions import fetch_candidate_records as fetch

    try:
        return fetch()
    except EntrezError as exc:
        # The next run (the next suggestion or chase) asks again for what is missing.
        logging.getLogger(__name__).warning("candidate records not fetched: %s", exc)
        return None
