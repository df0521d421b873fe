"""Celery tasks of the curation app: thin, take ids, queued after commit."""

from __future__ import annotations

import logging

from celery import shared_task

from curation.notifications import send_event_emails

logger = logging.getLogger(__name__)

MAIL_RETRIES = 5


@shared_task(name="curation.send_case_event_emails", bind=True, max_retries=MAIL_RETRIES)
def send_case_event_emails(self, event_id: int) -> int:
    """Email the people a case event concerns; retry (with backoff) while the mail server fails."""
    try:
        return send_event_emails(event_id)
    except OSError as exc:  # smtplib.SMTPException is an OSError, as are refused connections
        if self.request.is_eager:
            # No worker (single-machine run): the request that made the
            # decision is waiting; do not make it wait for retries too.
            logger.warning("emails for case event %s not sent: %s", event_id, exc)
            return 0
        logger.warning(
            "emails for case event %s not sent (attempt %s): %s",
            event_id,
            self.request.retries + 1,
            exc,
        )
        raise self.retry(exc=exc, countdown=30 * 2**self.request.retries) from exc
