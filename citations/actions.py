"""Every write to citations goes through these verb-named functions.

Views, tasks and management commands call them; none of them writes a
Citation or a FetchJob any other way.
"""

from __future__ import annotations

import logging
import random
import re
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.db import IntegrityError, InterfaceError, OperationalError, models, transaction
from django.db.models.signals import post_save
from django.utils import timezone

from citations import entrez, pubmed
from citations.models import Author, Citation, FetchJob, FetchJobItem

logger = logging.getLogger(__name__)

MAX_IDENTIFIERS = 20_000
# A pending job whose message is older than this is queued again by the sweep.
REQUEUE_AFTER = timedelta(minutes=2)

_PMID_RE = re.compile(
    r"^(?:pmid\s*:?\s*|https?://(?:www\.)?(?:pubmed\.ncbi\.nlm\.nih\.gov|ncbi\.nlm\.nih\.gov/pubmed)/)?"
    r"(\d{1,12})/?$",
    re.IGNORECASE,
)


@dataclass
class Identifier:
    query: str
    pmid: int | None = None
    doi: str = ""
    error: str = ""


def parse_identifier(text: str) -> Identifier:
    """'PMID: 35560368', a PubMed URL, a DOI or a DOI URL; anything else is an error."""
    raw = (text or "").strip()
    match = _PMID_RE.match(raw)
    if match:
        pmid = int(match.group(1))
        if pmid > 0:
            return Identifier(query=str(pmid), pmid=pmid)
    doi = pubmed.normalize_doi(raw)
    if doi and len(doi) <= 255:
        return Identifier(query=doi, doi=doi)
    shown = raw if len(raw) <= 60 else raw[:57] + "..."
    return Identifier(
        query=raw[:255],
        error=f"“{shown}” is neither a PMID (a positive whole number) nor a DOI (10.xxxx/...).",
    )


def split_identifiers(text: str) -> list[str]:
    """PMIDs/DOIs pasted as lines, commas, semicolons or spaces."""
    return [part for part in re.split(r"[\s,;]+", text or "") if part]


# -- fetch jobs ------------------------------------------------------------------


def request_fetch(
    identifiers: Iterable[str], *, by=None, source: str = "", queue: bool = True
) -> FetchJob:
    """Record a request to fetch PMIDs/DOIs, then queue it once the row is committed.

    Identifiers that are neither PMID nor DOI become failed items at once, with
    the reason; repeats are asked for once. Raises ValueError on an empty or
    oversized request.
    """
    parsed: list[Identifier] = []
    seen: set[str] = set()
    for text in identifiers:
        if not str(text).strip():
            continue
        identifier = parse_identifier(str(text))
        if identifier.query in seen:
            continue
        seen.add(identifier.query)
        parsed.append(identifier)
    if not parsed:
        raise ValueError("Give at least one PMID or DOI.")
    if len(parsed) > MAX_IDENTIFIERS:
        raise ValueError(f"At most {MAX_IDENTIFIERS:,} PMIDs or DOIs per request.")

    with transaction.atomic():
        job = FetchJob.objects.create(
            requested_by=by if getattr(by, "is_authenticated", False) else None,
            source=source[:100],
        )
        FetchJobItem.objects.bulk_create(
            [
                FetchJobItem(
                    job=job,
                    position=position,
                    query=identifier.query,
                    pmid=identifier.pmid,
                    status=FetchJobItem.Status.FAILED
                    if identifier.error
                    else FetchJobItem.Status.PENDING,
                    error=identifier.error,
                )
                for position, identifier in enumerate(parsed)
            ],
            batch_size=1000,
        )
        if any(not identifier.error for identifier in parsed):
            if queue:  # queue=False: the caller runs the job itself (fetch_pubmed --sync)
                transaction.on_commit(lambda: queue_job(job.pk))
        else:
            job.state = FetchJob.State.DONE
            job.finished_at = timezone.now()
            job.save(update_fields=["state", "finished_at"])
    return job


def queue_job(job_id: int) -> None:
    """Hand a committed job to the broker; if that fails the sweep tries again."""
    from citations.tasks import run_fetch_job

    FetchJob.objects.filter(pk=job_id).update(queued_at=timezone.now())
    try:
        run_fetch_job.delay(job_id)
    except Exception:
        # The broker is down: the job row stays pending and the periodic sweep
        # queues it again, so the request is not lost.
        logger.exception("could not queue fetch job %s; the sweep will retry", job_id)


def retry_failed(job: FetchJob, *, by=None) -> int:
    """Put a job's failed items back to pending and queue the job; returns how many."""
    with transaction.atomic():
        job = FetchJob.objects.select_for_update().get(pk=job.pk)
        failed = job.items.filter(status=FetchJobItem.Status.FAILED)
        # A PMID typed wrong stays wrong: only well-formed identifiers are retried.
        retried = [
            item.pk
            for item in failed.only("pk", "query")
            if not parse_identifier(item.query).error
        ]
        if not retried:
            return 0
        FetchJobItem.objects.filter(pk__in=retried).update(
            status=FetchJobItem.Status.PENDING, error="", updated_at=timezone.now()
        )
        job.state = FetchJob.State.PENDING
        job.finished_at = None
        job.error = ""
        job.save(update_fields=["state", "finished_at", "error"])
        transaction.on_commit(lambda: queue_job(job.pk))
    logger.info("fetch job %s: %d failed item(s) retried by %s", job.pk, len(retried), by)
    return len(retried)


def requeue_stalled_jobs(now=None) -> list[int]:
    """Queue again jobs whose messages were lost (broker down) or whose worker died.

    A job is stalled when none of its items moved for a while: a pending job
    REQUEUE_AFTER after it was queued (the message never arrived), a running
    one a task time limit after its batches were queued (a batch cannot take
    longer). Queuing it again queues its pending items again; an item already
    fetched is not fetched twice.
    """
    now = now or timezone.now()

    def stalled(state: str, quiet: timedelta):
        cutoff = now - quiet
        return (
            FetchJob.objects.filter(state=state)
            .filter(models.Q(queued_at__isnull=True) | models.Q(queued_at__lt=cutoff))
            .exclude(
                models.Exists(
                    FetchJobItem.objects.filter(job=models.OuterRef("pk"), updated_at__gte=cutoff)
                )
            )
        )

    running_quiet = timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT + 60)
    ids = sorted(
        set(stalled(FetchJob.State.PENDING, REQUEUE_AFTER).values_list("pk", flat=True))
        | set(stalled(FetchJob.State.RUNNING, running_quiet).values_list("pk", flat=True))
    )
    for job_id in ids:
        queue_job(job_id)
    return ids


def _fail(items: list[FetchJobItem], message: str) -> None:
    for item in items:
        item.status = FetchJobItem.Status.FAILED
        item.error = message
        item.citation = None


def start_job(job_id: int) -> list[list[int]]:
    """Mark a job running, turn its DOIs into PMIDs; the ids of its pending items in batches.

    Each batch holds the items of at most ENTREZ_BATCH_SIZE (≤ 200) distinct
    PMIDs: one efetch. A PMID asked twice (as a PMID and as a DOI) is in one
    batch with both its items. Returns [] for a job finished or deleted.
    """
    job = FetchJob.objects.filter(pk=job_id).first()
    if job is None or job.state == FetchJob.State.DONE:
        return []
    FetchJob.objects.filter(pk=job.pk).update(
        state=FetchJob.State.RUNNING, started_at=job.started_at or timezone.now()
    )
    # job_id is loaded too: a deferred one would cost a query per item.
    pending = list(
        FetchJobItem.objects.filter(job_id=job.pk, status=FetchJobItem.Status.PENDING)
        .only("pk", "job_id", "query", "pmid", "status", "error", "tries")
        .order_by("position")
    )
    # DOIs first: each becomes a PMID (one esearch each) or a failed item.
    for item in pending:
        if item.pmid is None:
            identifier = parse_identifier(item.query)
            item.tries += 1
            try:
                if identifier.error:
                    raise ValueError(identifier.error)
                item.pmid = entrez.resolve_doi(identifier.doi)
                if item.pmid is None:
                    _fail([item], f"PubMed has no article with the DOI {identifier.doi}.")
            except (entrez.EntrezError, ValueError) as exc:
                _fail([item], str(exc))
            item.save(update_fields=["pmid", "status", "error", "tries", "updated_at"])

    by_pmid: dict[int, list[int]] = {}
    for item in pending:
        if item.status == FetchJobItem.Status.PENDING and item.pmid is not None:
            by_pmid.setdefault(item.pmid, []).append(item.pk)
    return [[pk for pmid in batch for pk in by_pmid[pmid]] for batch in entrez.batches(by_pmid)]


def finish_job_if_done(job_id: int) -> bool:
    """Mark a job done once none of its items is pending; True if it is done.

    Called after each batch commits: the last batch to commit sees every
    other's outcome, so a job shared by several workers ends exactly once.
    """
    if FetchJobItem.objects.filter(job_id=job_id, status=FetchJobItem.Status.PENDING).exists():
        return False
    FetchJob.objects.filter(pk=job_id).exclude(state=FetchJob.State.DONE).update(
        state=FetchJob.State.DONE, finished_at=timezone.now()
    )
    return True


def dispatch_job(job_id: int) -> int:
    """The task path: queue one task per batch, so every worker takes a share of the job.

    Returns the number of batches queued. A batch the broker refuses is left
    pending, and the sweep queues the job again.
    """
    from citations.tasks import fetch_job_batch

    batches = start_job(job_id)
    if not batches:
        finish_job_if_done(job_id)
        return 0
    # No transaction is open in a worker, so the items are committed already.
    FetchJob.objects.filter(pk=job_id).update(queued_at=timezone.now())
    for number, item_ids in enumerate(batches):
        try:
            fetch_job_batch.delay(job_id, item_ids)
        except Exception:
            logger.exception(
                "could not queue batch %d of fetch job %s; the sweep will retry", number, job_id
            )
            return number
    return len(batches)


def run_job(job_id: int) -> FetchJob | None:
    """Fetch every pending item of a job in this process (fetch_pubmed --sync).

    Idempotent: items already final are left alone, so running a job twice
    (a re-queued message, two workers) does no harm.
    """
    for item_ids in start_job(job_id):
        run_batch(job_id, item_ids)
    finish_job_if_done(job_id)
    return FetchJob.objects.filter(pk=job_id).first()


def run_batch(job_id: int, item_ids: list[int]) -> None:
    """Fetch and store one batch of a job's items (one efetch, one transaction).

    Idempotent and safe to run twice at once: only the items still pending are
    fetched, the citations are upserted, and the items end with the same outcome.
    """
    items = list(
        FetchJobItem.objects.filter(
            job_id=job_id, pk__in=item_ids, status=FetchJobItem.Status.PENDING
        )
        .exclude(pmid=None)
        .only("pk", "job_id", "pmid", "status", "error", "citation_id", "tries")
        .order_by("position")
    )
    by_pmid: dict[int, list[FetchJobItem]] = {}
    for item in items:
        by_pmid.setdefault(item.pmid, []).append(item)
    pmids = list(by_pmid)
    if pmids:
        try:
            records, tries = entrez.fetch_articles(pmids)
        except entrez.EntrezError as exc:
            for item in items:
                item.tries += settings.ENTREZ_MAX_TRIES
                item.updated_at = timezone.now()
            _fail(items, str(exc))
            with transaction.atomic():
                _mark_refresh_failed(pmids, str(exc))
                _save_items(items)
        else:
            for item in items:
                item.tries += tries
            with transaction.atomic():
                _store_batch(pmids, records, by_pmid)
                _save_items(items)
    finish_job_if_done(job_id)


def _save_items(items: list[FetchJobItem]) -> None:
    """Write the outcomes of a batch's items: one UPDATE per kind of outcome.

    Most items of a batch end alike (added, tries 1), so a few UPDATEs do
    (bulk_update's CASE per row and field cost 1.4 ms per item); each item's
    citation is the one stored under its PMID.
    """
    groups: dict[tuple, list[int]] = {}
    for item in items:
        key = (item.status, item.error, item.tries, item.citation_id is not None)
        groups.setdefault(key, []).append(item.pk)
    now = timezone.now()
    citation_of_pmid = models.Subquery(
        Citation.objects.filter(pmid=models.OuterRef("pmid")).values("pk")[:1]
    )
    for (status, error, tries, stored), pks in groups.items():
        FetchJobItem.objects.filter(pk__in=pks).update(
            status=status,
            error=error,
            tries=tries,
            updated_at=now,
            citation=citation_of_pmid if stored else None,
        )


def _store_batch(pmids, records, by_pmid) -> None:
    articles = [r for r in records if isinstance(r, pubmed.ParsedArticle) and r.pmid in by_pmid]
    deleted = {pmid for r in records if isinstance(r, pubmed.ParsedDeletion) for pmid in r.pmids}
    unreadable = {
        r.pmid: r.reason
        for r in records
        if isinstance(r, pubmed.ParsedFailure) and r.pmid in by_pmid
    }
    stored_pmids = {r.pmid for r in articles}
    outcomes = store_articles(articles)
    # A record PubMed holds but we cannot read: a stored copy is kept, marked.
    _mark_refresh_failed([p for p in unreadable if p not in stored_pmids], unreadable)
    withdrawn = [pmid for pmid in pmids if pmid not in outcomes and pmid in deleted]
    mark_all_deleted(withdrawn)
    now = timezone.now()
    for pmid in pmids:
        items = by_pmid[pmid]
        for item in items:
            item.updated_at = now
        outcome = outcomes.get(pmid)
        if outcome is not None and outcome.error:
            _fail(items, outcome.error)
        elif outcome is not None:
            created = outcome.created
            for item in items:
                item.citation_id = outcome.citation_id
                item.error = outcome.note
                item.status = FetchJobItem.Status.NEW if created else FetchJobItem.Status.UPDATED
                created = False  # a PMID asked twice (as PMID and DOI) is new once
        elif pmid in unreadable:
            _fail(items, unreadable[pmid])
        elif pmid in deleted:
            _fail(items, f"PubMed has withdrawn PMID {pmid} (DeleteCitation).")
        else:
            _fail(items, f"PubMed has no record with PMID {pmid}.")


def _mark_refresh_failed(pmids: list[int], message: str | dict[int, str]) -> None:
    """Stored citations of these PMIDs could not be refreshed (one message, or one per PMID)."""
    messages = message if isinstance(message, dict) else dict.fromkeys(pmids, message)
    by_message: dict[str, list[int]] = {}
    for pmid in pmids:
        by_message.setdefault(messages[pmid][:2000], []).append(pmid)
    for text, group in by_message.items():
        Citation.objects.filter(pmid__in=group).exclude(
            fetch_status=Citation.FetchStatus.DELETED
        ).update(
            fetch_status=Citation.FetchStatus.REFRESH_FAILED,
            fetch_error=text,
            updated_at=timezone.now(),
        )


# -- storing articles ---------------------------------------------------------------

_CITATION_FIELDS = [
    "doi",
    "pmcid",
    "title",
    "abstract",
    "copyright",
    "journal",
    "journal_iso",
    "volume",
    "issue",
    "pages",
    "year",
    "month",
    "day",
    "season",
    "medline_date",
    "epub_date",
    "language",
    "publication_types",
    "mesh_terms",
    "keywords",
    "authors_complete",
    "retracted",
    "raw_xml",
]
# What an upsert of a PMID already stored rewrites (created_at stays).
_UPSERT_FIELDS = [*_CITATION_FIELDS, "fetch_status", "fetch_error", "fetched_at", "updated_at"]
_AUTHOR_FIELDS = list(pubmed.ParsedAuthor.__dataclass_fields__)
# Articles stored per transaction by import_pubmed_file (memory: ~10 MB of records).
IMPORT_BATCH = 500


def _max_lengths(model: type[models.Model]) -> dict[str, int]:
    return {
        field.name: field.max_length
        for field in model._meta.concrete_fields
        if getattr(field, "max_length", None)
    }


_MAX_LENGTHS = {Citation: _max_lengths(Citation), Author: _max_lengths(Author)}


def _fit(model: type[models.Model], name: str, value):
    """Cut a string to its column's length: PubMed sometimes exceeds any sane size."""
    max_length = _MAX_LENGTHS[model].get(name)
    if max_length and isinstance(value, str) and len(value) > max_length:
        return value[: max_length - 1] + "…"
    return value


def _citation_values(record: pubmed.ParsedArticle, now=None) -> dict:
    values = {name: _fit(Citation, name, getattr(record, name)) for name in _CITATION_FIELDS}
    values["doi"] = (values["doi"] or "").lower()
    if len(values["doi"]) > 255:
        values["doi"] = ""
    values.update(
        fetch_status=Citation.FetchStatus.FETCHED,
        fetch_error="",
        fetched_at=now or timezone.now(),
    )
    return values


def _authors_of(citation_id: int, record: pubmed.ParsedArticle) -> list[Author]:
    return [
        Author(
            citation_id=citation_id,
            position=position,
            **{name: _fit(Author, name, getattr(author, name)) for name in _AUTHOR_FIELDS},
        )
        for position, author in enumerate(record.authors)
    ]


def _doi_note(doi: str, owner: int) -> str:
    return f"Stored without its DOI {doi}: PubMed gives that DOI to PMID {owner} too."


def store_article(record: pubmed.ParsedArticle) -> tuple[Citation, bool]:
    """Insert or update the Citation of a parsed article, authors included; (row, created).

    Safe when two workers store the same PMID at once: the unique constraint on
    pmid decides who inserts, the other waits for that commit, then locks the
    row (SELECT ... FOR UPDATE) and updates it, so one row remains, updated.
    The batch path, store_articles, falls back on this one article at a time.
    """
    values = _citation_values(record)
    with transaction.atomic():
        if values["doi"] and (
            Citation.objects.filter(doi=values["doi"]).exclude(pmid=record.pmid).exists()
        ):
            # Two PMIDs claiming one DOI (a PubMed duplicate): keep the first owner's.
            logger.warning(
                "PMID %s: DOI %s already belongs to another PMID", record.pmid, values["doi"]
            )
            values["doi"] = ""
        citation = Citation.objects.select_for_update().filter(pmid=record.pmid).first()
        created = False
        if citation is None:
            try:
                with transaction.atomic():
                    citation = Citation.objects.create(pmid=record.pmid, **values)
                    created = True
            except IntegrityError:
                citation = Citation.objects.select_for_update().filter(pmid=record.pmid).first()
                if citation is None:
                    # Not the PMID: a DOI claimed by another row meanwhile.
                    values["doi"] = ""
                    citation = Citation.objects.create(pmid=record.pmid, **values)
                    created = True
        if not created:
            for name, value in values.items():
                setattr(citation, name, value)
            citation.save()
            citation.authors.all().delete()
        Author.objects.bulk_create(_authors_of(citation.pk, record))
    return citation, created


@dataclass
class Stored:
    """What became of one article of a batch: its row, or why there is none."""

    pmid: int
    citation_id: int | None = None
    created: bool = False
    error: str = ""  # set: nothing was stored for this PMID
    note: str = ""  # stored, with a remark (a DOI another PMID holds)


def store_articles(records: Iterable[pubmed.ParsedArticle]) -> dict[int, Stored]:
    """Insert or update the Citations of many parsed articles at once; outcome by PMID.

    One transaction and a handful of statements for the whole batch: the DOIs
    other PMIDs hold (one SELECT), an upsert of every citation (INSERT ... ON
    CONFLICT (pmid) DO UPDATE), their ids (one SELECT), their authors replaced
    (one DELETE, one INSERT). Rows are written in PMID order, so two workers
    storing overlapping batches wait for each other instead of deadlocking; the
    upsert locks each row, so one set of authors remains, the last writer's.

    A PMID given twice is stored once (its last record). If the batch cannot be
    written as a whole (a DOI claimed by another worker meanwhile, a value the
    database refuses), each article is stored alone with store_article, and
    the ones that still fail get an error: the others are kept.
    """
    by_pmid = {record.pmid: record for record in records}
    if not by_pmid:
        return {}
    try:
        for attempt in range(1, BULK_TRIES + 1):
            try:
                with transaction.atomic():
                    return _store_bulk([by_pmid[pmid] for pmid in sorted(by_pmid)])
            except OperationalError as exc:
                # PostgreSQL ends one of two transactions that wait for each
                # other (a deadlock, a serialization failure): that one is
                # simply run again. Anything else means the database is gone.
                if _pgcode(exc) not in _RETRYABLE_PGCODES or attempt == BULK_TRIES:
                    raise
                logger.warning("batch store: %s; try %d of %d", exc, attempt + 1, BULK_TRIES)
                time.sleep(random.uniform(0.05, 0.3) * attempt)  # noqa: S311 - jitter
    except (OperationalError, InterfaceError):
        raise  # the database is gone: no point trying each article
    except Exception as exc:
        logger.warning(
            "batch of %d articles not stored at once (%s: %s); storing one by one",
            len(by_pmid),
            exc.__class__.__name__,
            exc,
        )
    outcomes = {}
    for pmid in sorted(by_pmid):
        try:
            with transaction.atomic():
                citation, created = store_article(by_pmid[pmid])
        except (OperationalError, InterfaceError):
            raise
        except Exception as exc:  # a row the database refuses must not stop the batch
            logger.exception("PMID %s could not be stored", pmid)
            outcomes[pmid] = Stored(
                pmid, error=f"PMID {pmid} could not be stored: {exc.__class__.__name__}: {exc}"
            )
            continue
        note = ""
        doi = (by_pmid[pmid].doi or "").lower()
        if doi and not citation.doi:
            owner = Citation.objects.filter(doi=doi).values_list("pmid", flat=True).first()
            note = _doi_note(doi, owner) if owner else ""
        outcomes[pmid] = Stored(pmid, citation.pk, created, note=note)
    return outcomes


BULK_TRIES = 3
# deadlock_detected, serialization_failure
_RETRYABLE_PGCODES = {"40P01", "40001"}


def _pgcode(exc: BaseException) -> str | None:
    return getattr(exc.__cause__, "pgcode", None)


def _store_bulk(records: list[pubmed.ParsedArticle]) -> dict[int, Stored]:
    now = timezone.now()
    values = {record.pmid: _citation_values(record, now) for record in records}
    outcomes = {pmid: Stored(pmid) for pmid in values}
    # A DOI held by another PMID (a PubMed duplicate) stays with its first owner.
    wanted: dict[str, int] = {}
    for pmid, row in values.items():
        doi = row["doi"]
        if doi and doi in wanted:
            outcomes[pmid].note = _doi_note(doi, wanted[doi])
            row["doi"] = ""
        elif doi:
            wanted[doi] = pmid
    if wanted:
        held = Citation.objects.filter(doi__in=list(wanted)).values_list("doi", "pmid")
        for doi, owner in held:
            pmid = wanted[doi]
            if owner != pmid:
                logger.warning("PMID %s: DOI %s already belongs to PMID %s", pmid, doi, owner)
                outcomes[pmid].note = _doi_note(doi, owner)
                values[pmid]["doi"] = ""
    # Which rows the upsert inserts: only an insert writes fetch_error (it is
    # left out of the update), so a row carrying this batch's own mark is new.
    # Exact even when another worker inserts the same PMID a moment earlier.
    mark = f"storing {uuid.uuid4().hex}"
    citations = [
        Citation(pmid=pmid, **dict(row, fetch_error=mark)) for pmid, row in values.items()
    ]
    Citation.objects.bulk_create(
        citations,
        update_conflicts=True,
        unique_fields=["pmid"],
        update_fields=[name for name in _UPSERT_FIELDS if name != "fetch_error"],
    )
    rows = Citation.objects.filter(pmid__in=list(values)).values_list("pmid", "pk", "fetch_error")
    for pmid, pk, fetch_error in rows:
        outcomes[pmid].citation_id = pk
        outcomes[pmid].created = fetch_error == mark
    # The mark, and an earlier refresh's error, are cleared in one statement.
    ids = [outcome.citation_id for outcome in outcomes.values()]
    Citation.objects.filter(pk__in=ids).exclude(fetch_error="").update(fetch_error="")
    old = [outcome.citation_id for outcome in outcomes.values() if not outcome.created]
    if old:
        Author.objects.filter(citation_id__in=old).delete()
    # bulk_create sends no post_save: send it, as save() would (the search
    # cache forgets pages showing a cited citation that changed).
    for citation in citations:
        citation.pk = outcomes[citation.pmid].citation_id
        citation.fetch_error = ""
        post_save.send(
            sender=Citation,
            instance=citation,
            created=outcomes[citation.pmid].created,
            update_fields=None,
            raw=False,
            using=citation._state.db,
        )
    Author.objects.bulk_create(
        [
            author
            for record in records
            for author in _authors_of(outcomes[record.pmid].citation_id, record)
        ],
        batch_size=2000,
    )
    return outcomes


def mark_deleted(pmid: int) -> bool:
    """PubMed withdrew a PMID: flag its Citation (kept: cases may cite it)."""
    return bool(mark_all_deleted([pmid]))


def mark_all_deleted(pmids: Iterable[int]) -> int:
    """PubMed withdrew these PMIDs: flag their Citations; returns how many were stored."""
    pmids = list(pmids)
    if not pmids:
        return 0
    return Citation.objects.filter(pmid__in=pmids).update(
        fetch_status=Citation.FetchStatus.DELETED,
        fetch_error="PubMed withdrew this record (DeleteCitation).",
        updated_at=timezone.now(),
    )


@dataclass
class ImportCounts:
    new: int = 0
    updated: int = 0
    failed: int = 0
    deleted: int = 0
    errors: list[str] | None = None


def import_pubmed_file(
    path: str | Path, counts: ImportCounts | None = None, *, batch_size: int | None = None
) -> ImportCounts:
    """Store every article of an efetch answer or a PubMed baseline file, streamed.

    Articles are stored batch_size at a time, one transaction each (memory is
    bounded by one batch); a DeleteCitation is applied in file order.
    """
    counts = counts or ImportCounts()
    counts.errors = counts.errors if counts.errors is not None else []
    batch_size = batch_size or IMPORT_BATCH
    batch: list[pubmed.ParsedArticle] = []

    def flush() -> None:
        seen: set[int] = set()
        outcomes = store_articles(batch)
        for record in batch:
            outcome = outcomes[record.pmid]
            if outcome.error:
                counts.failed += 1
                counts.errors.append(f"{path}: {outcome.error}")
            elif outcome.created and record.pmid not in seen:
                counts.new += 1
            else:
                counts.updated += 1  # stored before, or given twice in the file
            seen.add(record.pmid)
        batch.clear()

    records = pubmed.iter_records(path, max_element_chars=settings.PUBMED_MAX_ARTICLE_CHARS)
    while True:
        try:
            record = next(records)
        except StopIteration:
            break
        except pubmed.PubmedXMLError as exc:
            counts.failed += 1
            counts.errors.append(f"{path}: {exc}")
            break
        if isinstance(record, pubmed.ParsedFailure):
            counts.failed += 1
            counts.errors.append(f"{path}: {record.reason}")
            continue
        if isinstance(record, pubmed.ParsedDeletion):
            flush()
            counts.deleted += mark_all_deleted(record.pmids)
            continue
        batch.append(record)
        if len(batch) >= batch_size:
            flush()
    flush()
    return counts
