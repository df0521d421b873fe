"""Every write to citations goes through these verb-named functions.

Views, tasks and management commands call them; none of them writes a
Citation or a FetchJob any other way.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.db import IntegrityError, models, transaction
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
    """Queue again jobs whose message was lost (broker down) or whose worker died."""
    now = now or timezone.now()
    stale_pending = FetchJob.objects.filter(state=FetchJob.State.PENDING).filter(
        models.Q(queued_at__isnull=True) | models.Q(queued_at__lt=now - REQUEUE_AFTER)
    )
    dead_running = FetchJob.objects.filter(
        state=FetchJob.State.RUNNING,
        started_at__lt=now - timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT + 60),
    )
    ids = sorted(
        set(stale_pending.values_list("pk", flat=True))
        | set(dead_running.values_list("pk", flat=True))
    )
    FetchJob.objects.filter(pk__in=ids).update(state=FetchJob.State.PENDING)
    for job_id in ids:
        queue_job(job_id)
    return ids


def _fail(items: list[FetchJobItem], message: str) -> None:
    for item in items:
        item.status = FetchJobItem.Status.FAILED
        item.error = message
        item.citation = None


def run_job(job_id: int) -> FetchJob | None:
    """Fetch every pending item of a job; each ends added, updated or failed with a reason.

    Idempotent: items already final are left alone, so running a job twice
    (a re-queued message, two workers) does no harm.
    """
    job = FetchJob.objects.filter(pk=job_id).first()
    if job is None or job.state == FetchJob.State.DONE:
        return job
    FetchJob.objects.filter(pk=job.pk).update(
        state=FetchJob.State.RUNNING, started_at=job.started_at or timezone.now()
    )
    pending = list(job.items.filter(status=FetchJobItem.Status.PENDING).order_by("position"))
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

    by_pmid: dict[int, list[FetchJobItem]] = {}
    for item in pending:
        if item.status == FetchJobItem.Status.PENDING and item.pmid is not None:
            by_pmid.setdefault(item.pmid, []).append(item)

    for batch in entrez.batches(by_pmid):
        items = [item for pmid in batch for item in by_pmid[pmid]]
        try:
            records, tries = entrez.fetch_articles(batch)
        except entrez.EntrezError as exc:
            for item in items:
                item.tries += settings.ENTREZ_MAX_TRIES
            _fail(items, str(exc))
            _mark_refresh_failed(batch, str(exc))
        else:
            for item in items:
                item.tries += tries
            _store_batch(batch, records, by_pmid)
        FetchJobItem.objects.bulk_update(
            items, ["pmid", "status", "error", "citation", "tries", "updated_at"]
        )

    FetchJob.objects.filter(pk=job.pk).update(
        state=FetchJob.State.DONE, finished_at=timezone.now()
    )
    job.refresh_from_db()
    return job


def _store_batch(batch, records, by_pmid) -> None:
    articles = {r.pmid: r for r in records if isinstance(r, pubmed.ParsedArticle)}
    deleted = {pmid for r in records if isinstance(r, pubmed.ParsedDeletion) for pmid in r.pmids}
    now = timezone.now()
    for pmid in batch:
        items = by_pmid[pmid]
        for item in items:
            item.updated_at = now
        record = articles.get(pmid)
        if record is not None:
            try:
                citation, created = store_article(record)
            except Exception as exc:  # a row PostgreSQL refuses must not stop the batch
                logger.exception("PMID %s could not be stored", pmid)
                _fail(items, f"PMID {pmid} could not be stored: {exc.__class__.__name__}: {exc}")
                continue
            for item in items:
                item.citation = citation
                item.error = ""
                item.status = FetchJobItem.Status.NEW if created else FetchJobItem.Status.UPDATED
                created = False  # a PMID asked twice (as PMID and DOI) is new once
        elif pmid in deleted:
            mark_deleted(pmid)
            _fail(items, f"PubMed has withdrawn PMID {pmid} (DeleteCitation).")
        else:
            _fail(items, f"PubMed has no record with PMID {pmid}.")


def _mark_refresh_failed(pmids: list[int], message: str) -> None:
    Citation.objects.filter(pmid__in=pmids).exclude(
        fetch_status=Citation.FetchStatus.DELETED
    ).update(
        fetch_status=Citation.FetchStatus.REFRESH_FAILED,
        fetch_error=message[:2000],
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


def _fit(model: type[models.Model], name: str, value):
    """Cut a string to its column's length: PubMed sometimes exceeds any sane size."""
    field = model._meta.get_field(name)
    max_length = getattr(field, "max_length", None)
    if max_length and isinstance(value, str) and len(value) > max_length:
        return value[: max_length - 1] + "…"
    return value


def _citation_values(record: pubmed.ParsedArticle) -> dict:
    values = {name: _fit(Citation, name, getattr(record, name)) for name in _CITATION_FIELDS}
    values["doi"] = (values["doi"] or "").lower()
    if len(values["doi"]) > 255:
        values["doi"] = ""
    values.update(
        fetch_status=Citation.FetchStatus.FETCHED, fetch_error="", fetched_at=timezone.now()
    )
    return values


def store_article(record: pubmed.ParsedArticle) -> tuple[Citation, bool]:
    """Insert or update the Citation of a parsed article, authors included; (row, created).

    Safe when two workers store the same PMID at once: the unique constraint on
    pmid decides who inserts, the other waits for that commit, then locks the
    row (SELECT ... FOR UPDATE) and updates it, so one row remains, updated.
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
        Author.objects.bulk_create(
            [
                Author(
                    citation=citation,
                    position=position,
                    **{name: _fit(Author, name, value) for name, value in asdict(author).items()},
                )
                for position, author in enumerate(record.authors)
            ]
        )
    return citation, created


def mark_deleted(pmid: int) -> bool:
    """PubMed withdrew a PMID: flag its Citation (kept: cases may cite it)."""
    return bool(
        Citation.objects.filter(pmid=pmid).update(
            fetch_status=Citation.FetchStatus.DELETED,
            fetch_error="PubMed withdrew this record (DeleteCitation).",
            updated_at=timezone.now(),
        )
    )


@dataclass
class ImportCounts:
    new: int = 0
    updated: int = 0
    failed: int = 0
    deleted: int = 0
    errors: list[str] | None = None


def import_pubmed_file(path: str | Path, counts: ImportCounts | None = None) -> ImportCounts:
    """Store every article of an efetch answer or a PubMed baseline file, streamed."""
    counts = counts or ImportCounts()
    counts.errors = counts.errors if counts.errors is not None else []
    records = pubmed.iter_records(path)
    while True:
        try:
            record = next(records)
        except StopIteration:
            break
        except pubmed.PubmedXMLError as exc:
            counts.failed += 1
            counts.errors.append(f"{path}: {exc}")
            break
        if isinstance(record, pubmed.ParsedDeletion):
            counts.deleted += sum(mark_deleted(pmid) for pmid in record.pmids)
            continue
        try:
            _, created = store_article(record)
        except Exception as exc:
            counts.failed += 1
            counts.errors.append(f"{path}: PMID {record.pmid}: {exc.__class__.__name__}: {exc}")
            continue
        if created:
            counts.new += 1
        else:
            counts.updated += 1
    return counts
