"""Emails about a case's life: to reviewers when it is submitted, to its curator on a decision.

Actions call `queue_event_emails(event)` inside their transaction: the
e-mails are written to the outbox (outbox.actions) in that same transaction,
so a rolled-back decision mails nobody and a committed one cannot lose its
e-mails, whatever the broker does; the outbox sends them after the commit, at
least once, retrying while the mail server fails. A broker or mail server
that is down never undoes or blocks the decision.
"""

from __future__ import annotations

import logging

from django.contrib.auth import get_user_model
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse

from accounts.roles import REVIEWER
from config.site import absolute_url
from curation import workflow
from curation.models import CaseEvent
from outbox.actions import queue_emails

logger = logging.getLogger(__name__)

DECISIONS = (workflow.PUBLISHED, workflow.CHANGES_REQUESTED, workflow.REJECTED)


def queue_event_emails(event: CaseEvent) -> list[int]:
    """Write this event's e-mails (if it has any) to the outbox, in the current transaction.

    Idempotent: each e-mail is keyed by event and recipient, so writing an
    event's e-mails twice writes them once. Returns the outbox ids written.
    """
    emails = emails_for_event(event)
    if not emails:
        return []
    keys = [f"case-event:{event.pk}:user:{user.pk}" for user, _ in emails]
    return queue_emails(
        [message for _, message in emails], kind=f"case {event.to_status}", keys=keys
    )


def queue_emails_of_event_id(event_id: int) -> int:
    """Write the e-mails of a committed event by its id (a message queued by an older release)."""
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
    with transaction.atomic():
        return len(queue_event_emails(event))


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


def emails_for_event(event: CaseEvent) -> list[tuple]:
    """(recipient, email) for each person this event concerns, one e-mail each so that
    addresses stay private; none for a comment."""
    if event.is_comment:
        return []  # on the timeline, not in anyone's inbox
    case = event.case
    context = {"event": event, "case": case, "actor": event.actor}
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
    emails = []
    for user in recipients:
        body = render_to_string(template, {**context, "recipient": user})
        emails.append((user, EmailMessage(subject, body, to=[user.email])))
    return emails


_DECISION_WORDS = {
    workflow.PUBLISHED: "approved and published",
    workflow.CHANGES_REQUESTED: "changes requested",
    workflow.REJECTED: "rejected",
}
