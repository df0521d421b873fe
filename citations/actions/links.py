"""Citation chasing: store what PubMed links to a citation (elink), all or nothing."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from citations import entrez
from citations.models import Citation, CitationLink

RELATIONS = {
    entrez.REFERENCES: CitationLink.Relation.REFERENCE,
    entrez.CITED_BY: CitationLink.Relation.CITED_BY,
    entrez.RELATED: CitationLink.Relation.RELATED,
}


def chase_citation(citation_id: int) -> dict[str, int]:
    """Fetch a citation's references, citing papers and related articles; store them.

    The three elink answers are all checked before one row is written, and the
    citation's links are replaced in one transaction: an NCBI fault leaves the
    links stored before untouched (EntrezError, for the task to report).
    Returns how many links of each relation are stored.
    """
    citation = Citation.objects.get(pk=citation_id)
    try:
        chased = entrez.chase(citation.pmid)
    except entrez.EntrezError as exc:
        # Said on the citation's page until a fetch succeeds; the links stay as they were.
        Citation.objects.filter(pk=citation.pk).update(
            links_error=str(exc)[:2000], links_error_at=timezone.now()
        )
        raise
    return store_links(citation, chased)


def store_links(citation: Citation, chased: dict[str, list[tuple[int, int | None]]]) -> dict:
    now = timezone.now()
    rows = [
        CitationLink(
            citation=citation,
            relation=RELATIONS[linkname],
            pmid=pmid,
            score=score,
            position=position,
            fetched_at=now,
        )
        for linkname, links in chased.items()
        for position, (pmid, score) in enumerate(links)
    ]
    with transaction.atomic():
        CitationLink.objects.filter(citation=citation).delete()
        CitationLink.objects.bulk_create(rows)
        Citation.objects.filter(pk=citation.pk).update(links_error="", links_error_at=None)
    return {RELATIONS[name]: len(links) for name, links in chased.items()}


def queue_chase(citation: Citation) -> None:
    """Chase the citation's links on a worker, once the current transaction commits."""
    from config.celery import queue_after_commit

    queue_after_commit("citations.chase_citation", citation.pk)
