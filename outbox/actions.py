"""The outbox: e-mails are rows written with what causes them, then sent at least once.

- `queue_emails(messages, kind=...)` writes the e-mails in the caller's
  transaction (a rolled-back decision mails nobody) and queues a task once it
  commits; a broker that is down leaves the rows unsent, never the caller
  failed.
- `send_emails(ids)` sends those still due over one connection, each in its own
  transaction holding its row: marked sent with the time once the mail server
  took it, or its failure recorded with the next try (backoff doubling from
  OUTBOX_RETRY_BACKOFF, at most an hour). A refusal the server calls permanent
  (5xx), or OUTBOX_MAX_ATTEMPTS failures, end in "gave up".
- `requeue_due()` is beat's sweep: due rows whose message was refused or lost
  are queued again.

At least once: a worker that dies after the server took an e-mail but before
its row is marked sent leaves it pending, and it is sent again (with the same
Message-ID). Tasks are queued by name, so this module imports no tasks.
"""

from __future__ import annotations

import logging
import smtplib
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.core.mail.message import make_msgid
from django.core.mail.utils import DNS_NAME
from django.db import models, transaction
from django.utils import timezone

from config.celery import queue_task
from outbox.models import Email

logger = logging.getLogger(__name__)

# A due e-mail handed to the broker this long ago and still pending: its
# message was lost (a broker that restarted empty), so it is queued again.
REQUEUE_AFTER = timedelta(minutes=2)
# The longest pause between two tries of one e-mail.
MAX_BACKOFF = timedelta(hours=1)
# E-mails per task (one mail-server connection each).
CHUNK = 50


def queue_emails(
    messages: Sequence[EmailMessage], *, kind: str = "", keys: Sequence[str] | None = None
) -> list[int]:
    """Write these e-mails to the outbox in the current transaction; they go after the commit.

    `keys` (one per message) make the writing idempotent: an e-mail whose key
    is in the outbox already is not written again. Returns the ids written.
    """
    if not messages:
        return []
    if keys is not None and len(keys) != len(messages):
        raise ValueError("one key per message")
    now = timezone.now()
    rows = [
        Email(
            kind=kind[:100],
            key=keys[index] if keys else "",
            from_email=message.from_email or settings.DEFAULT_FROM_EMAIL,
            to=list(message.to),
            subject=message.subject,
            body=message.body,
            headers=dict(message.extra_headers),
            message_id=make_msgid(domain=DNS_NAME),
            queued_at=now,
            next_attempt_at=now,
        )
        for index, message in enumerate(messages)
        if message.to  # an e-mail to nobody is not an e-mail
    ]
    if not rows:
        return []
    with transaction.atomic():
        if keys:
            known = set(
                Email.objects.filter(key__in=[row.key for row in rows]).values_list(
                    "key", flat=True
                )
            )
            rows = [row for row in rows if row.key not in known]
        ids = [row.pk for row in Email.objects.bulk_create(rows)]
    if ids:
        transaction.on_commit(lambda: _queue(ids), robust=True)
    return ids


def _queue(ids: list[int]) -> None:
    """Hand committed e-mails to the broker; if it refuses, the sweep queues them again."""
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        try:
            queue_task("outbox.send_emails", chunk)
        except Exception:
            logger.exception("could not queue e-mails %s; the sweep will send them", chunk)
            Email.objects.filter(pk__in=chunk, state=Email.State.PENDING).update(queued_at=None)


def send_emails(ids: Iterable[int]) -> int:
    """Send those of these e-mails still pending and due; how many the mail server took."""
    sent = 0
    connection = None
    unreachable: Exception | None = None
    try:
        for pk in sorted(set(ids)):
            with transaction.atomic():
                # Its row is held while it is sent: a second task (a duplicate
                # message, the sweep) skips it instead of sending it twice.
                email = (
                    Email.objects.select_for_update(skip_locked=True)
                    .filter(pk=pk, state=Email.State.PENDING, next_attempt_at__lte=timezone.now())
                    .first()
                )
                if email is None:
                    continue  # sent, given up, being sent, or not due yet
                if unreachable is not None:
                    # The server could not be reached for the one before: each
                    # of the others would wait EMAIL_TIMEOUT for the same answer.
                    _record_failure(email, unreachable)
                    continue
                try:
                    if connection is None:
                        try:
                            connection = get_connection(fail_silently=False)
                            connection.open()
                        except Exception as exc:
                            unreachable = exc
                            raise
                    connection.send_messages([message_of(email)])
                except Exception as exc:
                    _record_failure(email, exc)
                    # A connection that failed is not trusted with the next e-mail.
                    _close(connection)
                    connection = None
                else:
                    email.state = Email.State.SENT
                    email.sent_at = timezone.now()
                    email.attempts += 1
                    email.last_error = ""
                    email.save(update_fields=["state", "sent_at", "attempts", "last_error"])
                    sent += 1
    finally:
        _close(connection)
    return sent


def message_of(email: Email) -> EmailMessage:
    """The e-mail as Django sends it, with the Message-ID it keeps on every try."""
    return EmailMessage(
        email.subject,
        email.body,
        email.from_email,
        to=email.to,
        headers={**email.headers, "Message-ID": email.message_id},
    )


def _close(connection) -> None:
    if connection is not None:
        try:
            connection.close()
        except Exception as exc:
            logger.warning("closing the mail connection failed: %s", exc)


def is_permanent(exc: Exception) -> bool:
    """The mail server refused it for good (an SMTP 5xx): asking again gives the same."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in exc.recipients.values()]
        return bool(codes) and all(500 <= code < 600 for code in codes)
    if isinstance(exc, smtplib.SMTPResponseException):
        return 500 <= exc.smtp_code < 600
    return False


def retry_delay(attempts: int) -> timedelta:
    """The pause after the n-th failed try: OUTBOX_RETRY_BACKOFF, doubling, at most an hour."""
    first = timedelta(seconds=settings.OUTBOX_RETRY_BACKOFF)
    return min(first * 2 ** min(attempts - 1, 20), MAX_BACKOFF)


def _record_failure(email: Email, exc: Exception) -> None:
    email.attempts += 1
    email.last_error = f"{exc.__class__.__name__}: {exc}"[:2000]
    email.queued_at = None
    if is_permanent(exc) or email.attempts >= settings.OUTBOX_MAX_ATTEMPTS:
        email.state = Email.State.FAILED
        logger.error(
            "e-mail %s to %s not sent, given up after %d attempt(s): %s",
            email.pk,
            ", ".join(email.to),
            email.attempts,
            email.last_error,
        )
    else:
        email.next_attempt_at = timezone.now() + retry_delay(email.attempts)
        logger.warning(
            "e-mail %s to %s not sent (attempt %d): %s; next try at %s",
            email.pk,
            ", ".join(email.to),
            email.attempts,
            email.last_error,
            email.next_attempt_at.isoformat(timespec="seconds"),
        )
    email.save(update_fields=["attempts", "last_error", "queued_at", "state", "next_attempt_at"])


def requeue_due(now: datetime | None = None) -> list[int]:
    """Queue the pending e-mails that are due and not on the queue (beat's sweep); their ids.

    Not on the queue: the broker refused them (queued_at null), a try failed
    (its next try is due), or their message was handed over REQUEUE_AFTER ago
    and never ran (lost).
    """
    now = now or timezone.now()
    ids = list(
        Email.objects.filter(state=Email.State.PENDING, next_attempt_at__lte=now)
        .filter(models.Q(queued_at=None) | models.Q(queued_at__lt=now - REQUEUE_AFTER))
        .order_by("next_attempt_at", "pk")
        .values_list("pk", flat=True)[: CHUNK * 20]
    )
    if ids:
        Email.objects.filter(pk__in=ids).update(queued_at=timezone.now())
        _queue(ids)
    return ids


def send_again(ids: Iterable[int]) -> int:
    """An admin's "send again": the e-mails go back to pending, due now; how many.

    E-mails already sent are left alone.
    """
    with transaction.atomic():
        again = list(
            Email.objects.filter(pk__in=list(ids))
            .exclude(state=Email.State.SENT)
            .values_list("pk", flat=True)
        )
        Email.objects.filter(pk__in=again).update(
            state=Email.State.PENDING,
            attempts=0,
            next_attempt_at=timezone.now(),
            queued_at=timezone.now(),
        )
        if again:
            transaction.on_commit(lambda: _queue(again), robust=True)
    return len(again)
