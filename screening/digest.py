"""The weekly digest e-mail to curators: the papers that came into screening in the past
week and still wait for a decision, and the papers included for them to curate.

A saved search that names curators (SearchCurator) notifies them only: its papers are in
their digests, not in the others'. A paper no such search found is in everyone's.

Written to the outbox (outbox.actions.queue_emails) like every other e-mail of the
project, one per curator (addresses stay private), keyed by curator and ISO week so that
beat running the task twice in a week writes each digest once. Nothing new: no e-mail.
"""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.core.mail import EmailMessage
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from accounts.roles import CURATOR, has_role
from config import oneclick
from config.site import absolute_url
from outbox.actions import queue_emails
from screening.models import Candidate, CandidateSource, DigestOptOut, SearchCurator

PURPOSE = "screening-digest"

WEEK = timedelta(days=7)


def digest_emails(now=None) -> tuple[list[EmailMessage], list[str]]:
    """(e-mails, outbox keys) of this week's digests."""
    now = now or timezone.now()
    since = now - WEEK
    year, week, _ = now.isocalendar()
    awaiting = Candidate.objects.filter(status=Candidate.Status.NEW, created_at__gte=since)
    audience = _audiences(awaiting)
    first_sources = list(
        CandidateSource.objects.filter(candidate__in=awaiting, duplicate=False)
        .values_list("candidate_id", "kind", "label")
        .order_by("kind", "label", "candidate_id")
    )
    kinds = dict(CandidateSource.Kind.choices)
    included = (
        Candidate.objects.filter(status=Candidate.Status.INCLUDED, decided_at__gte=since)
        .select_related("citation")
        .order_by("decided_at", "pk")
    )
    users = (
        get_user_model()
        .objects.filter(is_active=True, screening_digest_off__isnull=True)
        .exclude(email="")
        .order_by("pk")
    )
    emails, keys = [], []
    for user in users:
        if not has_role(user, CURATOR):
            continue
        mine = [c for c in included if c.assigned_to_id == user.pk]
        theirs = [
            (kind, label)
            for candidate_id, kind, label in first_sources
            if audience.get(candidate_id) is None or user.pk in audience[candidate_id]
        ]
        awaiting_count = len(theirs)
        if not awaiting_count and not mine:
            continue
        sources = [
            (kinds.get(kind, kind), label, n) for (kind, label), n in Counter(theirs).items()
        ]
        body = render_to_string(
            "screening/email/digest.txt",
            {
                "recipient": user,
                "awaiting": awaiting_count,
                "sources": sources,
                "mine": mine,
                "inbox_url": absolute_url(reverse("screening:inbox")),
                "stop_url": stop_url(user),
                "settings_url": absolute_url(reverse("screening:digest")),
            },
        )
        subject = f"[RareDerm] Screening this week: {awaiting_count} new, {len(mine)} for you"
        emails.append(
            EmailMessage(
                subject,
                body,
                to=[user.email],
                headers=oneclick.list_unsubscribe_headers(stop_url(user)),
            )
        )
        keys.append(f"screening-digest:{user.pk}:{year}-W{week:02d}")
    return emails, keys


def _audiences(awaiting) -> dict[int, set[int]]:
    """Candidate id -> the curators its saved searches name (any of its sources, duplicates
    too); a candidate no naming search found is absent (everyone's)."""
    named: dict[str, set[int]] = {}
    for name, user_id in SearchCurator.objects.values_list("search__name", "user_id"):
        named.setdefault(name, set()).add(user_id)
    audience: dict[int, set[int]] = {}
    found = CandidateSource.objects.filter(
        candidate__in=awaiting, kind=CandidateSource.Kind.SEARCH, label__in=list(named)
    ).values_list("candidate_id", "label")
    for candidate_id, label in found:
        audience.setdefault(candidate_id, set()).update(named[label])
    return audience


def stop_url(user) -> str:
    """The one-click link that stops `user`'s weekly digest (config.oneclick)."""
    token = oneclick.token(PURPOSE, {"u": user.pk})
    return absolute_url(reverse("screening:digest_stop", args=[token]))


def set_digest(user, on: bool) -> None:
    """Turn a curator's weekly digest on or off."""
    if on:
        DigestOptOut.objects.filter(user=user).delete()
    else:
        DigestOptOut.objects.get_or_create(user=user)


def queue_weekly_digest(now=None) -> int:
    """Write this week's digests to the outbox; returns how many were written."""
    emails, keys = digest_emails(now)
    with transaction.atomic():
        return len(queue_emails(emails, kind="screening-digest", keys=keys))
