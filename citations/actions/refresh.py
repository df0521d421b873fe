"""The retraction and correction watch: every cited PMID fetched again, what changed recorded.

A run (RefreshRun) efetches the citations it checks in batches of REFRESH_BATCH
(200, NCBI's most per efetch) through citations.entrez, so the deployment's one
rate limit and its retries apply. Oldest check first (Citation.fetched_at): a run
that fails part-way (an NCBI fault after every retry, a cut-short answer) stops with
NCBI's message and keeps the batches stored before it, and the next run starts with
the PMIDs this one did not reach.

Each batch, in one transaction: the articles stored (store_articles), one
CitationChange per notice PubMed lists that was not recorded before (RetractionIn,
ErratumIn, ExpressionOfConcernIn: pubmed.WATCHED_NOTICES) and one per citation whose
metadata changed (the fields, old and new), and the listeners of citations.hooks told
(curation mails the curators and reviewers of the cases whose paper was retracted).

Notices are compared with the ones recorded as changes, not with the row: a notice that
arrived with another fetch (a bulk import) is still recorded, and its listeners told,
at the next run.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from functools import reduce
from operator import or_

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from citations import entrez, hooks, pubmed
from citations.actions.identifiers import parse_identifier
from citations.actions.storage import _citation_values, store_articles
from citations.models import Citation, CitationChange, RefreshRun

logger = logging.getLogger(__name__)

REFRESH_BATCH = 200
# A run still "running" after this long died with its worker: another may start.
STALE_RUN = timedelta(hours=2)
NOTICE_KINDS = {
    pubmed.RETRACTION: CitationChange.Kind.RETRACTION,
    pubmed.ERRATUM: CitationChange.Kind.ERRATUM,
    pubmed.EXPRESSION_OF_CONCERN: CitationChange.Kind.CONCERN,
}
# The metadata compared (Citation columns, as storage writes them), and the authors.
WATCHED_FIELDS = (
    "doi",
    "pmcid",
    "title",
    "journal",
    "journal_iso",
    "volume",
    "issue",
    "pages",
    "year",
    "publication_types",
)


def cited_citations():
    """The citations the watch re-fetches: those citations.hooks says are cited (all by
    default), except those PubMed withdrew."""
    conditions = [condition() for condition in hooks.cited_citation_filters]
    citations = Citation.objects.all()
    if conditions:
        cited = Citation.objects.filter(reduce(or_, conditions)).values("pk")
        citations = citations.filter(pk__in=cited)
    return citations.exclude(fetch_status=Citation.FetchStatus.DELETED)


def request_refresh(pmids=(), *, source: str = "", queue: bool = True) -> RefreshRun:
    """Write a run (of these PMIDs, else of every cited one) and queue it after the commit.

    ValueError, naming them, for what is not a PMID or a PMID RareDerm has not stored.
    """
    wanted: list[int] = []
    for text in pmids:
        identifier = parse_identifier(str(text))
        if identifier.error or not identifier.pmid:
            raise ValueError(identifier.error or f"“{text}” is not a PMID.")
        wanted.append(identifier.pmid)
    wanted = sorted(set(wanted))
    unknown = sorted(
        set(wanted) - set(Citation.objects.filter(pmid__in=wanted).values_list("pmid", flat=True))
    )
    if unknown:
        raise ValueError(
            "Not in RareDerm, so not refreshed (fetch them first with fetch_pubmed): "
            + ", ".join(f"PMID {pmid}" for pmid in unknown)
        )
    run = RefreshRun.objects.create(pmids=wanted, source=source[:100])
    if queue:
        from config.celery import queue_after_commit

        queue_after_commit("citations.run_refresh", run.pk)
    return run


def live_runs(now=None):
    """The runs a live worker has: running, and started less than STALE_RUN ago."""
    now = now or timezone.now()
    return RefreshRun.objects.filter(
        state=RefreshRun.State.RUNNING, started_at__gt=now - STALE_RUN
    )


def start_refresh(source: str = "beat") -> RefreshRun | None:
    """A run of every cited PMID, here and now (beat's monthly task)."""
    return run_refresh(request_refresh(source=source, queue=False).pk)


def run_refresh(run_id: int, *, now=None) -> RefreshRun | None:
    """Run a refresh once; the row says what happened. None if it is running elsewhere.

    Idempotent: a run that finished is returned as it is. A run that finds another
    one running fails at once, saying so (two runs would fetch everything twice).
    """
    now = now or timezone.now()
    with transaction.atomic():
        run = RefreshRun.objects.select_for_update().get(pk=run_id)
        if run.state in (RefreshRun.State.DONE, RefreshRun.State.FAILED):
            return run
        live = live_runs(now)
        if run.state == RefreshRun.State.RUNNING and live.filter(pk=run.pk).exists():
            return None  # a second message for a run a live worker has
        other = live.exclude(pk=run.pk).order_by("pk").first()
        if other is not None:
            run.state = RefreshRun.State.FAILED
            run.error = (
                f"Refresh {other.pk} was running (since {other.started_at:%Y-%m-%d %H:%M} UTC)."
            )
            run.finished_at = now
            run.save()
            return run
        run.state = RefreshRun.State.RUNNING
        run.started_at = now
        run.save(update_fields=["state", "started_at"])
    citations = Citation.objects.filter(pmid__in=run.pmids) if run.pmids else cited_citations()
    pmids = list(
        citations.order_by(F("fetched_at").asc(nulls_first=True), "pmid").values_list(
            "pmid", flat=True
        )
    )
    run.requested = len(pmids)
    run.save(update_fields=["requested"])
    try:
        for batch in entrez.batches(pmids, REFRESH_BATCH):
            _refresh_batch(run, batch)
    except entrez.EntrezError as exc:
        run.state = RefreshRun.State.FAILED
        run.error = str(exc)
        logger.warning("citation refresh %s failed: %s", run.pk, exc)
    else:
        run.state = RefreshRun.State.DONE
    run.finished_at = timezone.now()
    run.save()
    return run


def _notice_key(notice: dict) -> tuple:
    return (notice.get("type"), notice.get("source"), notice.get("pmid"))


def _author_names(authors) -> list[str]:
    return [
        author.collective_name or " ".join(p for p in (author.last_name, author.initials) if p)
        for author in authors
    ]


def metadata_changes(row: Citation, record: pubmed.ParsedArticle) -> dict[str, list]:
    """{field: [stored, PubMed's now]} for each watched field that differs."""
    new = _citation_values(record)
    changed = {}
    for name in WATCHED_FIELDS:
        before, after = getattr(row, name), new[name]
        if before != after:
            changed[name] = [before, after]
    before = _author_names(row.authors.all())
    after = _author_names(record.authors)
    if before != after:
        changed["authors"] = [before, after]
    return changed


def _refresh_batch(run: RefreshRun, pmids: list[int]) -> None:
    records, tries = entrez.fetch_articles(pmids)
    run.requests += tries
    articles = {r.pmid: r for r in records if isinstance(r, pubmed.ParsedArticle)}
    for record in records:
        if isinstance(record, pubmed.ParsedFailure):
            logger.warning("citation refresh %s: %s", run.pk, record.reason)
    with transaction.atomic():
        rows = {row.pmid: row for row in Citation.objects.with_authors().filter(pmid__in=articles)}
        recorded: dict[int, set] = {}
        for pmid, details in CitationChange.objects.filter(
            citation__pmid__in=list(articles), kind__in=list(NOTICE_KINDS.values())
        ).values_list("citation__pmid", "details"):
            recorded.setdefault(pmid, set()).add(_notice_key(details))
        diffs = {
            pmid: metadata_changes(rows[pmid], record)
            for pmid, record in articles.items()
            if pmid in rows
        }
        stored = store_articles(articles.values())
        found_at = timezone.now()
        changes = []
        for pmid, record in articles.items():
            outcome = stored.get(pmid)
            if outcome is None or outcome.error:
                continue
            for notice in record.notices:
                if _notice_key(notice) not in recorded.get(pmid, set()):
                    changes.append(
                        CitationChange(
                            citation_id=outcome.citation_id,
                            run=run,
                            kind=NOTICE_KINDS[notice["type"]],
                            details=notice,
                            found_at=found_at,
                        )
                    )
            if diffs.get(pmid):
                changes.append(
                    CitationChange(
                        citation_id=outcome.citation_id,
                        run=run,
                        kind=CitationChange.Kind.METADATA,
                        details=diffs[pmid],
                        found_at=found_at,
                    )
                )
        changes = CitationChange.objects.bulk_create(changes)
        if changes:
            for listener in hooks.citation_change_listeners:
                listener(changes)
        checked = sum(1 for s in stored.values() if not s.error)
        run.checked += checked
        run.missing += len(pmids) - checked
        run.changed += len(changes)
        run.save(update_fields=["requests", "checked", "missing", "changed"])
