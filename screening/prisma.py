"""PRISMA counts of screening: identified (by source), duplicates removed, screened,
excluded by reason, included, maybe. A handful of queries whatever the numbers.

The identities hold by construction and are tested: identified - duplicates =
records (one candidate per paper); records = awaiting + screened; screened =
excluded + included + maybe.
"""

from __future__ import annotations

from django.db.models import Count, OuterRef, Subquery

from screening.models import Candidate, CandidateSource, ScreeningDecision


def prisma_counts() -> dict:
    by_kind = dict(
        CandidateSource.objects.values_list("kind").annotate(n=Count("pk")).order_by("kind")
    )
    identified = [(label, by_kind.get(kind, 0)) for kind, label in CandidateSource.Kind.choices]
    searches = list(
        CandidateSource.objects.filter(kind=CandidateSource.Kind.SEARCH)
        .values_list("label")
        .annotate(n=Count("pk"))
        .order_by("label")
    )
    duplicates = CandidateSource.objects.filter(duplicate=True).count()
    status = dict(Candidate.objects.values_list("status").annotate(n=Count("pk")).order_by())
    latest_reason = Subquery(
        ScreeningDecision.objects.filter(candidate=OuterRef("pk"))
        .order_by("-at", "-pk")
        .values("reason__label")[:1]
    )
    reasons = list(
        Candidate.objects.filter(status=Candidate.Status.EXCLUDED)
        .annotate(reason=latest_reason)
        .values_list("reason")
        .annotate(n=Count("pk"))
        .order_by("-n", "reason")
    )
    excluded = status.get(Candidate.Status.EXCLUDED, 0)
    included = status.get(Candidate.Status.INCLUDED, 0)
    maybe = status.get(Candidate.Status.MAYBE, 0)
    return {
        "identified": identified,
        "identified_total": sum(n for _, n in identified),
        "searches": searches,
        "duplicates": duplicates,
        "records": sum(status.values()),
        "awaiting": status.get(Candidate.Status.NEW, 0),
        "screened": excluded + included + maybe,
        "excluded": excluded,
        "excluded_by_reason": reasons,
        "included": included,
        "maybe": maybe,
    }
