"""Celery tasks of the curation app: thin, take ids, queued after commit."""

from __future__ import annotations

from celery import shared_task

from curation.notifications import queue_emails_of_event_id


@shared_task(name="curation.send_case_event_emails")
def send_case_event_emails(event_id: int) -> int:
    """A message queued before e-mails went through the outbox (an upgrade): the event's
    e-mails are written to the outbox now, which sends them; how many were written.

    Idempotent: an e-mail the outbox holds already (keyed by event and
    recipient) is not written twice.
    """
    return queue_emails_of_event_id(event_id)
