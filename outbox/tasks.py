"""Celery tasks of the outbox: thin, take ids, idempotent (see outbox/actions.py)."""

from celery import shared_task

from outbox import actions


@shared_task(name="outbox.send_emails")
def send_emails(email_ids: list[int]) -> int:
    """Send these outbox e-mails (those pending and due); failures are recorded, not raised."""
    return actions.send_emails(email_ids)


@shared_task(name="outbox.sweep")
def sweep() -> int:
    """Queue again the e-mails due and not on the queue (broker down at commit, a retry due)."""
    return len(actions.requeue_due())
