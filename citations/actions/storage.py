"""Storing parsed PubMed articles as Citation rows: one, a batch, or a whole file."""

from __future__ import annotations

import logging
import random
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import IntegrityError, InterfaceError, OperationalError, models, transaction
from django.db.models.signals import post_save
from django.utils import timezone

from citations import pubmed
from citations.models import Author, Citation

logger = logging.getLogger(__name__)

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
    "notices",
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
