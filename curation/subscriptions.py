"""Readers' subscriptions (issue 17 §4): the new and revised published cases a search finds,
in a daily or weekly digest e-mail, with one-click unsubscribe links.

A subscription is a search page query string; what its digest lists is what that search
finds (the search engine's `filtered`, retracted papers left out as everywhere), among
the cases published or revised (a CaseEvent to "published") since its last digest.
A subscription to a diagnosis is `dx=<id>`, to a gene or a marker `q=<name>` (the word
search covers genes and markers in the structured record). One e-mail per reader and day
at most, through the outbox, keyed by reader and day; nothing new, no e-mail.

Unsubscribe links are signed (no login needed, no expiry): one per subscription in the
body, and one for all of a reader's subscriptions in `List-Unsubscribe` with
`List-Unsubscribe-Post` (RFC 8058), so that a mail program's button works in one click.
"""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage
from django.db import transaction
from django.http import QueryDict
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from config import oneclick
from config.site import absolute_url
from curation import workflow
from curation.models import Case, CaseEvent, Subscription
from curation.search.engine import Resolved, filtered
from curation.search.params import SearchParams
from outbox.actions import queue_emails

PURPOSE = "subscriptions"
PERIODS = {
    Subscription.Frequency.DAILY: timedelta(days=1),
    Subscription.Frequency.WEEKLY: timedelta(days=7),
}
# Beat runs the digest once a day: a subscription is due a little before its period
# is over, so that a run a few minutes early does not put it off by a whole period.
SLACK = timedelta(hours=1)
# Parameters that change how a search shows its cases, not which: not kept.
NOT_KEPT = ("page", "per_page", "sort", "view", "cols", "nocache")
MAX_CASES_LISTED = 50  # per subscription and digest; the e-mail links the whole search
MAX_SUBSCRIPTIONS = 50  # per reader


def clean_query(query: str) -> str:
    """The query string of a search, without what only changes its display."""
    data = QueryDict(query, mutable=True)
    for name in NOT_KEPT:
        data.pop(name, None)
    return data.urlencode()


def matching(query: str):
    """The published cases the search finds (ValidationError if it cannot be read)."""
    params = SearchParams.from_query(QueryDict(query))
    resolved = Resolved(params)
    if resolved.errors:
        raise ValidationError(" ".join(resolved.errors))
    return filtered(params, resolved)


def subscribe(user, kind: str, query: str, label: str, frequency: str) -> Subscription:
    """Subscribe `user` (anyone signed in) to what the search `query` finds."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        raise ValidationError("Log in to subscribe.")
    if not user.email:
        raise ValidationError("Your account has no e-mail address to send digests to.")
    if kind not in Subscription.Kind.values:
        raise ValidationError("Subscribe to a diagnosis, a gene, a marker or a search.")
    if frequency not in Subscription.Frequency.values:
        raise ValidationError("Choose a daily or a weekly digest.")
    query = clean_query(query)
    matching(query)  # a search that cannot be read is refused now, not at the digest
    if Subscription.objects.filter(user=user).exclude(query=query).count() >= MAX_SUBSCRIPTIONS:
        raise ValidationError(f"You have {MAX_SUBSCRIPTIONS} subscriptions: remove one first.")
    subscription, _ = Subscription.objects.update_or_create(
        user=user,
        query=query,
        defaults={"kind": kind, "label": label.strip()[:300] or query, "frequency": frequency},
    )
    return subscription


def unsubscribe_token(user, subscription: Subscription | None = None) -> str:
    """A signed token that removes one subscription (or all of the user's)."""
    return oneclick.token(PURPOSE, {"u": user.pk, "s": subscription.pk if subscription else None})


def read_unsubscribe_token(token: str) -> tuple[int, int | None]:
    """(user id, subscription id or None for all); ValidationError for a forged token."""
    data = oneclick.read(PURPOSE, token)
    try:
        return int(data["u"]), (int(data["s"]) if data["s"] is not None else None)
    except (KeyError, TypeError, ValueError):
        raise ValidationError(oneclick.REFUSED) from None


def unsubscribe(token: str) -> int:
    """Remove what the token names; how many subscriptions were removed (0: gone already)."""
    user_id, subscription_id = read_unsubscribe_token(token)
    removed = Subscription.objects.filter(user_id=user_id)
    if subscription_id is not None:
        removed = removed.filter(pk=subscription_id)
    return removed.delete()[0]


def _due(subscription: Subscription, now) -> bool:
    if subscription.last_sent_at is None:
        return now - subscription.created_at >= PERIODS[subscription.frequency] - SLACK
    return now - subscription.last_sent_at >= PERIODS[subscription.frequency] - SLACK


def digest_emails(now=None) -> tuple[list[EmailMessage], list[str], list[int]]:
    """(e-mails, outbox keys, the subscriptions whose window they close) of this run."""
    now = now or timezone.now()
    due = [
        s
        for s in Subscription.objects.select_related("user").order_by("user_id", "pk")
        if s.user.is_active and s.user.email and _due(s, now)
    ]
    by_user: dict[int, list] = {}
    for subscription in due:
        since = subscription.last_sent_at or subscription.created_at
        published = CaseEvent.objects.filter(
            to_status=workflow.PUBLISHED, created_at__gte=since, created_at__lt=now
        ).values("case_id")
        cases = list(
            matching(subscription.query)
            .filter(pk__in=published)
            .select_related("final_diagnosis", "citation")
            .order_by("-updated_at", "-pk")[: MAX_CASES_LISTED + 1]
        )
        by_user.setdefault(subscription.user_id, []).append((subscription, cases))
    emails, keys = [], []
    users = get_user_model().objects.in_bulk(list(by_user))
    for user_id, items in by_user.items():
        items = [(s, cases) for s, cases in items if cases]
        if not items:
            continue
        user = users[user_id]
        sections = [
            {
                "subscription": s,
                "cases": [
                    (c, absolute_url(c.get_absolute_url())) for c in cases[:MAX_CASES_LISTED]
                ],
                "more": len(cases) > MAX_CASES_LISTED,
                "search_url": absolute_url(reverse("curation:search")) + "?" + s.query,
                "unsubscribe_url": absolute_url(
                    reverse("curation:unsubscribe", args=[unsubscribe_token(user, s)])
                ),
            }
            for s, cases in items
        ]
        every = absolute_url(reverse("curation:unsubscribe", args=[unsubscribe_token(user)]))
        total = sum(len(section["cases"]) for section in sections)
        body = render_to_string(
            "curation/email/subscriptions.txt",
            {
                "recipient": user,
                "sections": sections,
                "unsubscribe_all": every,
                "manage_url": absolute_url(reverse("curation:subscriptions")),
            },
        )
        emails.append(
            EmailMessage(
                f"[RareDerm] {total} new or revised case{'s' if total != 1 else ''} "
                "for your subscriptions",
                body,
                to=[user.email],
                headers=oneclick.list_unsubscribe_headers(every),
            )
        )
        keys.append(f"subscriptions:{user.pk}:{now:%Y-%m-%d}")
    return emails, keys, [s.pk for s in due]


def queue_subscription_digests(now=None) -> int:
    """Write the digests due now to the outbox and move their windows; how many written."""
    now = now or timezone.now()
    emails, keys, due = digest_emails(now)
    with transaction.atomic():
        written = queue_emails(emails, kind="subscription digest", keys=keys)
        Subscription.objects.filter(pk__in=due).update(last_sent_at=now)
    return len(written)


def case_label(case: Case) -> str:
    """How a case is named in a digest: new, or revised with its version."""
    return "new" if case.version == 1 else f"revised, version {case.version}"
