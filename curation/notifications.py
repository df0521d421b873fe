"""Emails about a case's life: to reviewers when it is submitted, to its curator on a decision.

Actions call `queue_event_emails(event)` inside their transaction; the email
task is queued only once the transaction commits (a rolled-back decision
mails nobody), and a broker or mail server that is down never undoes or
blocks the decision: the queueing is `robust` (logged, not raised) and the
task retries on its own (curation.tasks).
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse

from accounts.roles import REVIEWER
from config.celery import queue_task
from curation import workflow
from curation.models import CaseEvent

logger = logging.getLogger(__name__)

DECISIONS = (workflow.PUBLISHED, workflow.CHANGES_REQUESTED, workflow.REJECTED)


def queue_event_emails(event: CaseEvent) -> None:
    """Send this event's emails (if it has any) from a Celery task, after the commit."""
    if event.is_comment:
        return  # on the timeline, not in anyone's inbox
    if event.to_status != workflow.SUBMITTED and event.to_status not in DECISIONS:
        return
    event_id = event.pk
    transaction.on_commit(lambda: _enqueue(event_id), robust=True)


def _enqueue(event_id: int) -> None:
    # By name: curation.tasks imports this module.
    queue_task("curation.send_case_event_emails", event_id)


def absolute_url(path: str) -> str:
    return f"{settings.SITE_URL}{path}"


def reviewers_to_notify(event: CaseEvent):
    """Active reviewers (and admins) with an email address, except whoever submitted."""
    users = get_user_model().objects.filter(is_active=True).exclude(email="")
    users = users.filter(Q(groups__name=REVIEWER) | Q(is_superuser=True)).distinct()
    if event.actor_id:
        users = users.exclude(pk=event.actor_id)
    return users.order_by("pk")


def curator_to_notify(event: CaseEvent):
    """Whoever made the submission that was decided (else the case's creator)."""
    submitter_id = CaseEvent.objects.submitter_id(event.case_id, before=event)
    if submitter_id is not None:
        return get_user_model().objects.get(pk=submitter_id)
    return event.case.created_by


def messages_for_event(event: CaseEvent) -> list[EmailMessage]:
    """The emails an event sends (one per recipient, so addresses stay private)."""
    case = event.case
    context = {"event": event, "case": case, "actor": event.actor}
    if event.is_comment:
        return []
    if event.to_status == workflow.SUBMITTED:
        template = "curation/review/email/submitted.txt"
        context["url"] = absolute_url(reverse("curation:review_case", args=[case.pk]))
        recipients = list(reviewers_to_notify(event))
        subject = f"[RareDerm] {case.number} waits for review"
        if case.revision_of_id:
            subject = f"[RareDerm] A revision of RareDerm #{case.revision_of_id} waits for review"
    elif event.to_status in DECISIONS and event.from_status == workflow.SUBMITTED:
        template = "curation/review/email/decision.txt"
        context["url"] = absolute_url(case.get_absolute_url())
        recipient = curator_to_notify(event)
        recipients = [recipient] if recipient.email and recipient.pk != event.actor_id else []
        subject = f"[RareDerm] {case.number}: {_DECISION_WORDS[event.to_status]}"
    else:
        return []
    messages = []
    for user in recipients:
        body = render_to_string(template, {**context, "recipient": user})
        messages.append(EmailMessage(subject, body, to=[user.email]))
    return messages


_DECISION_WORDS = {
    workflow.PUBLISHED: "approved and published",
    workflow.CHANGES_REQUESTED: "changes requested",
    workflow.REJECTED: "rejected",
}


def send_event_emails(event_id: int) -> int:
    """Send an event's emails over one connection; how many were sent.

    A vanished event (its case deleted) sends nothing. Mail-server errors
    (OSError, which includes smtplib's) propagate to the task, which retries.
    """
    event = (
        CaseEvent.objects.select_related(
            "case", "case__created_by", "case__final_diagnosis", "actor"
        )
        .filter(pk=event_id)
        .first()
    )
    if event is None:
        logger.info("case event %s no longer exists; no email", event_id)
        return 0
    messages = messages_for_event(event)
    if not messages:
        return 0
    with get_connection(fail_silently=False) as connection:
        return connection.send_messages(messages) or 0
