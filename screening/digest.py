"""The weekly digest e-mail to curators: the papers that came into screening in the past
week and still wait for a decision, and the papers included for them to curate.

Written to the outbox (outbox.actions.queue_emails) like every other e-mail of the
project, one per curator (addresses stay private), keyed by curator and ISO week so that
beat running the task twice in a week writes each digest once. Nothing new: no e-mail.
"""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import Count
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from accounts.roles import CURATOR, has_role
from config.site import absolute_url
from outbox.actions import queue_emails
from screening.models import Candidate, CandidateSource

WEEK = timedelta(days=7)


def digest_emails(now=None) -> tuple[list[EmailMessage], list[str]]:
    """(e-mails, outbox keys) of this week's digests."""
    now = now or timezone.now()
    since = now - WEEK
    year, week, _ = now.isocalendar()
    awaiting = Candidate.objects.filter(status=Candidate.Status.NEW, created_at__gte=since)
    awaiting_count = awaiting.count()
    by_source = list(
        CandidateSource.objects.filter(candidate__in=awaiting, duplicate=False)
        .values_list("kind", "label")
        .annotate(n=Count("pk"))
        .order_by("kind", "label")
    )
    kinds = dict(CandidateSource.Kind.choices)
    sources = [(kinds.get(kind, kind), label, n) for kind, label, n in by_source]
    included = (
        Candidate.objects.filter(status=Candidate.Status.INCLUDED, decided_at__gte=since)
        .select_related("citation")
        .order_by("decided_at", "pk")
    )
    users = get_user_model().objects.filter(is_active=True).exclude(email="").order_by("pk")
    emails, keys = [], []
    for user in users:
        if not has_role(user, CURATOR):
            continue
        mine = [c for c in included if c.assigned_to_id == user.pk]
        if not awaiting_count and not mine:
            continue
        body = render_to_string(
            "screening/email/digest.txt",
            {
                "recipient": user,
                "awaiting": awaiting_count,
                "sources": sources,
                "mine": mine,
                "inbox_url": absolute_url(reverse("screening:inbox")),
            },
        )
        subject = f"[RareDerm] Screening this week: {awaiting_count} new, {len(mine)} for you"
        emails.append(EmailMessage(subject, body, to=[user.email]))
        keys.append(f"screening-digest:{user.pk}:{year}-W{week:02d}")
    return emails, keys


def queue_weekly_digest(now=None) -> int:
    """Write this week's digests to the outbox; returns how many were written."""
    emails, keys = digest_emails(now)
    with transaction.atomic():
        return len(queue_emails(emails, kind="screening-digest", keys=keys))
