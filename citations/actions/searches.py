"""Saved PubMed searches: add one (checked with PubMed first), run one.

A run asks esearch for the records added (entry date) since the last good
run, on NCBI's history server, and fetches them from there in batches of at
most 200: one esearch plus ceil(n / 200) efetch requests. Each batch is stored
as citations and handed to the listeners of citations.hooks (screening makes
candidates of them) in one transaction. An NCBI fault fails the run with its
message and leaves `covered_until` where it was, so the next run asks for the
same days again: nothing is skipped, and what was stored is not stored twice.
"""

from __future__ import annotations

import math
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from citations import entrez, hooks, pubmed
from citations.actions.storage import store_articles
from citations.models import SavedSearch, SavedSearchRun

CONFIRM_ABOVE = 10_000  # a query matching more asks for confirmation
BATCH = 200
# A run still "running" after this long died with its worker: another may start.
STALE_RUN = timedelta(hours=1)
SCHEDULE_DAYS = {SavedSearch.Schedule.DAILY: 1, SavedSearch.Schedule.WEEKLY: 7}


def _check_search(
    name: str, query: str, schedule: str, *, confirm_large: bool, instance=None
) -> tuple[str, str]:
    """The cleaned name and query, or ValidationError (by field) with NCBI's words.

    PubMed is asked (strictly: ErrorList and WarningList) unless the query is the one
    `instance` has already; a query matching more than CONFIRM_ABOVE needs confirm_large.
    """
    name, query = name.strip(), " ".join(query.split())
    if not name:
        raise ValidationError({"name": "Give the search a name."})
    if not query:
        raise ValidationError({"query": "Give the PubMed query."})
    if schedule not in SavedSearch.Schedule.values:
        raise ValidationError({"schedule": f"Schedule {schedule!r}: choose daily or weekly."})
    others = SavedSearch.objects.filter(name=name)
    if instance is not None:
        others = others.exclude(pk=instance.pk)
    if others.exists():
        raise ValidationError({"name": f"A saved search is called {name!r} already."})
    if instance is not None and instance.query == query:
        return name, query
    try:
        answer = entrez.search_history(query, strict=True)
    except entrez.QueryRejected as exc:
        raise ValidationError({"query": str(exc)}) from None
    except entrez.EntrezError as exc:
        raise ValidationError({"query": f"PubMed could not be asked: {exc}. Try again."}) from None
    if answer["count"] > CONFIRM_ABOVE and not confirm_large:
        raise ValidationError(
            {
                "query": f"The query matches {answer['count']:,} records (more than "
                f"{CONFIRM_ABOVE:,}): confirm to save it anyway, or narrow it."
            }
        )
    return name, query


def add_saved_search(
    name: str,
    query: str,
    *,
    schedule: str = "weekly",
    by=None,
    confirm_large: bool = False,
    enabled: bool = True,
) -> SavedSearch:
    """Save a query after PubMed accepted it; ValidationError (by field) with NCBI's words if not.

    A query that matches more than CONFIRM_ABOVE records needs confirm_large.
    """
    name, query = _check_search(name, query, schedule, confirm_large=confirm_large)
    return SavedSearch.objects.create(
        name=name, query=query, schedule=schedule, enabled=enabled, created_by=by
    )


def change_saved_search(
    search: SavedSearch,
    *,
    name: str,
    query: str,
    schedule: str,
    confirm_large: bool = False,
) -> SavedSearch:
    """Rename, reschedule or re-word a saved search; a new query is checked with PubMed first.

    The runs so far (covered_until) are kept: a new wording applies from the next run on.
    """
    name, query = _check_search(
        name, query, schedule, confirm_large=confirm_large, instance=search
    )
    search.name, search.query, search.schedule = name, query, schedule
    search.save(update_fields=["name", "query", "schedule"])
    return search


def set_saved_search_enabled(search: SavedSearch, enabled: bool) -> SavedSearch:
    """Enable (it runs when due) or disable (it never runs) a saved search."""
    search.enabled = enabled
    search.save(update_fields=["enabled"])
    return search


def due_searches(now=None):
    """Enabled searches whose schedule says they should run again."""
    now = now or timezone.now()
    due = []
    for search in SavedSearch.objects.filter(enabled=True).order_by("name"):
        days = SCHEDULE_DAYS[search.schedule]
        if search.last_run_at is None or now - search.last_run_at >= timedelta(days=days):
            due.append(search)
    return due


def _ncbi_day(day) -> str:
    return day.strftime("%Y/%m/%d")


def run_saved_search(search_id: int, *, now=None) -> SavedSearchRun | None:
    """Run a saved search once; the run row says what happened. None if another run is on."""
    now = now or timezone.now()
    with transaction.atomic():
        search = SavedSearch.objects.select_for_update().get(pk=search_id)
        running = search.runs.filter(
            state=SavedSearchRun.State.RUNNING, started_at__gt=now - STALE_RUN
        )
        if running.exists():
            return None
        run = SavedSearchRun.objects.create(
            search=search,
            mindate=search.covered_until,
            maxdate=now.date(),
            started_at=now,
        )
    try:
        _run(search, run)
    except entrez.EntrezError as exc:
        run.state = SavedSearchRun.State.FAILED
        run.error = str(exc)
    else:
        run.state = SavedSearchRun.State.DONE
        search.covered_until = run.maxdate
    run.finished_at = timezone.now()
    with transaction.atomic():
        run.save()
        search.last_run_at = now
        search.save(update_fields=["covered_until", "last_run_at"])
    return run


def _run(search: SavedSearch, run: SavedSearchRun) -> None:
    dates = {}
    if run.mindate is not None:
        # From the last run's last day on (that day again: records entered later
        # that day); a record seen twice is stored once and screened once.
        dates = {"mindate": _ncbi_day(run.mindate), "maxdate": _ncbi_day(run.maxdate)}
    answer = entrez.search_history(search.query, **dates)
    run.found, run.requests = answer["count"], answer["tries"]
    run.save(update_fields=["found", "requests"])
    for number in range(math.ceil(run.found / BATCH)):
        records, tries = entrez.fetch_history(
            answer["webenv"], answer["query_key"], number * BATCH, BATCH
        )
        run.requests += tries
        articles = [r for r in records if isinstance(r, pubmed.ParsedArticle)]
        run.failed += sum(isinstance(r, pubmed.ParsedFailure) for r in records)
        with transaction.atomic():
            stored = store_articles(articles)
            for listener in hooks.saved_search_listeners:
                listener(search, stored)
        run.fetched += len(articles)
        run.added += sum(s.created for s in stored.values())
        run.failed += sum(bool(s.error) for s in stored.values())
        run.save(update_fields=["requests", "fetched", "added", "failed"])
