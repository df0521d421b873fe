"""PRISMA counts of screening: identified (by source), duplicates removed, screened,
excluded by reason, included, maybe. A handful of queries whatever the numbers.

The identities hold by construction and are tested: identified - duplicates =
records (one candidate per paper); records = awaiting + screened; screened =
excluded + included + maybe. In dual screening a paper is screened once it has its
final decision: awaiting counts the papers with no decision, those waiting for their
second screener, and those whose screeners disagree until a reviewer settles them
(`conflicts`, a part of awaiting). Last, the cases curated from the included papers
and those published (counted by curation through screening.hooks).
"""

from __future__ import annotations

from django.db.models import Count, OuterRef, Subquery

from screening.models import Candidate, CandidateSource, ScreeningDecision


def prisma_counts(search: str | None = None) -> dict:
    """Overall, or for one saved search (by its name): then its records are the papers it
    found first (its non-duplicate sources), so the same identities hold per search."""
    sources = CandidateSource.objects.all()
    candidates = Candidate.objects.all()
    if search is not None:
        sources = sources.filter(kind=CandidateSource.Kind.SEARCH, label=search)
        candidates = candidates.filter(
            pk__in=sources.filter(duplicate=False).values("candidate_id")
        )
    by_kind = dict(sources.values_list("kind").annotate(n=Count("pk")).order_by("kind"))
    identified = [(label, by_kind.get(kind, 0)) for kind, label in CandidateSource.Kind.choices]
    searches = list(
        sources.filter(kind=CandidateSource.Kind.SEARCH)
        .values_list("label")
        .annotate(n=Count("pk"))
        .order_by("label")
    )
    duplicates = sources.filter(duplicate=True).count()
    status = dict(candidates.values_list("status").annotate(n=Count("pk")).order_by())
    latest_reason = Subquery(
        ScreeningDecision.objects.filter(candidate=OuterRef("pk"))
        .order_by("-at", "-pk")
        .values("reason__label")[:1]
    )
    reasons = list(
        candidates.filter(status=Candidate.Status.EXCLUDED)
        .annotate(reason=latest_reason)
        .values_list("reason")
        .annotate(n=Count("pk"))
        .order_by("-n", "reason")
    )
    from screening.hooks import count_included

    included_papers = candidates.filter(
        status=Candidate.Status.INCLUDED, citation__isnull=False
    ).values("citation_id")
    curated = {"cases_curated": 0, "cases_published": 0, **count_included(included_papers)}
    excluded = status.get(Candidate.Status.EXCLUDED, 0)
    included = status.get(Candidate.Status.INCLUDED, 0)
    maybe = status.get(Candidate.Status.MAYBE, 0)
    return {
        "search": search,
        "identified": identified,
        "identified_total": sum(n for _, n in identified),
        "searches": searches,
        "duplicates": duplicates,
        "records": sum(status.values()),
        "awaiting": status.get(Candidate.Status.NEW, 0) + status.get(Candidate.Status.CONFLICT, 0),
        "conflicts": status.get(Candidate.Status.CONFLICT, 0),
        "screened": excluded + included + maybe,
        "excluded": excluded,
        "excluded_by_reason": reasons,
        "included": included,
        "maybe": maybe,
        # From the included papers (counted by curation, screening.hooks): cases written
        # (drafts to published, not revisions) and cases published.
        **curated,
    }
