"""Screening's Celery tasks (thin: the work is in screening.digest)."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="screening.send_weekly_digest")
def send_weekly_digest() -> int:
    from screening.digest import queue_weekly_digest

    return queue_weekly_digest()
