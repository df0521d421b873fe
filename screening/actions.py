"""Every write of screening: a paper becomes a candidate, a candidate gets a decision.

Views, commands and tasks (saved searches, citation chasing, suggestions)
call these; each writes its event rows (CandidateSource, ScreeningDecision)
in the same transaction as the change.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from accounts.roles import CURATOR, REVIEWER, has_role
from accounts.throttle import client_key as make_client_key
from citations import pubmed
from citations.actions.identifiers import parse_identifier
from citations.models import Citation, CitationLink
from config.text import stored_text
from screening.models import (
    Candidate,
    CandidateSource,
    DualSearch,
    ExclusionReason,
    ScreeningDecision,
    SearchCurator,
)

NEW = "new"  # a new candidate
DUPLICATE = "duplicate"  # already a candidate: the source is recorded on it
KNOWN = "known"  # the registry holds the paper already (a stored citation): no candidate


@dataclass
class Added:
    outcome: str
    candidate: Candidate | None = None
    citation: Citation | None = None


def _match(pmid: int | None, doi: str) -> Q:
    found = Q(pk__in=[])
    if pmid:
        found |= Q(pmid=pmid)
    if doi:
        found |= Q(doi=doi)
    return found


def add_candidate(
    *,
    kind: str,
    pmid: int | None = None,
    doi: str = "",
    citation: Citation | None = None,
    label: str = "",
    by=None,
    email: str = "",
    note: str = "",
    client_key: str = "",
    dual: bool = False,
) -> Added:
    """The paper as a candidate for screening, once, whatever finds it.

    Deduplicated by PMID and by DOI: against earlier candidates (the source is
    added to the one there is, marked duplicate) and against the stored
    citations (a paper RareDerm holds already is not screened again). A
    `citation` the caller has just stored for this paper (a saved search's
    fetch) is the candidate's citation, not a reason to skip it. `dual`: a new
    candidate is screened by two curators (its saved search's setting).
    """
    if citation is not None:
        pmid = pmid or citation.pmid
        doi = doi or citation.doi
    doi = pubmed.normalize_doi(doi) if doi else ""
    if not pmid and not doi:
        raise ValueError("a candidate needs a PMID or a DOI")
    source = {
        "kind": kind,
        "label": label[:300],
        "added_by": by,
        "email": email,
        "note": note,
        "client_key": client_key,
    }
    for _attempt in range(2):
        try:
            with transaction.atomic():
                existing = (
                    Candidate.objects.select_for_update().filter(_match(pmid, doi)).order_by("pk")
                )
                candidate = existing.first()
                if candidate is not None:
                    _fill_in(candidate, pmid, doi, citation)
                    # The same source again (a saved search's overlapping day, a double
                    # submit) is not recorded twice.
                    if not candidate.sources.filter(
                        kind=kind,
                        label=source["label"],
                        added_by=by,
                        email=email,
                        note=note,
                        client_key=client_key,
                    ).exists():
                        CandidateSource.objects.create(
                            candidate=candidate, duplicate=True, **source
                        )
                    return Added(DUPLICATE, candidate)
                if citation is None:
                    known = Citation.objects.filter(_match(pmid, doi)).order_by("pk").first()
                    if known is not None:
                        return Added(KNOWN, citation=known)
                candidate = Candidate.objects.create(
                    pmid=pmid, doi=doi, citation=citation, dual=dual
                )
                CandidateSource.objects.create(candidate=candidate, **source)
                return Added(NEW, candidate)
        except IntegrityError:
            # Another process added the same paper at the same moment: it is a duplicate now.
            continue
    raise RuntimeError("could not add the candidate")  # pragma: no cover


def _fill_in(candidate: Candidate, pmid, doi, citation) -> None:
    """A second source may know what the first did not (a DOI's PMID, the fetched record)."""
    fields = []
    if pmid and not candidate.pmid and not Candidate.objects.filter(pmid=pmid).exists():
        candidate.pmid = pmid
        fields.append("pmid")
    if doi and not candidate.doi and not Candidate.objects.filter(doi=doi).exists():
        candidate.doi = doi
        fields.append("doi")
    if citation is not None and candidate.citation_id is None:
        candidate.citation = citation
        fields.append("citation")
    if fields:
        candidate.save(update_fields=fields)


def decide_candidate(
    candidate: Candidate,
    decision: str,
    *,
    by,
    reason: ExclusionReason | None = None,
    assign_to=None,
    note: str = "",
) -> ScreeningDecision:
    """Include (assigned to a curator), exclude (with a reason) or mark maybe.

    ValidationError, naming the field, when the decision is incomplete; a later
    decision replaces an earlier one, which stays in the history.

    Dual screening (a candidate with `dual`, not yet decided): the first curator's
    decision is recorded and the paper waits for a second, different curator, who
    decides blind. The same decision (and, to exclude, the same reason) decides the
    paper; any other pair (maybe against anything else too) is a conflict, which only a
    reviewer settles (a decision that `settles`). Who may decide what lives here.
    """
    if not has_role(by, CURATOR):
        raise ValidationError("Only curators and reviewers screen papers.")
    if decision not in SCREENER_DECISIONS:
        raise ValidationError({"decision": "Choose include, exclude or maybe."})
    if decision == Candidate.Status.EXCLUDED:
        if reason is None:
            raise ValidationError({"reason": "Say why the paper is excluded."})
    else:
        reason = None
    if decision == Candidate.Status.INCLUDED:
        assign_to = assign_to or by
        if not has_role(assign_to, CURATOR):
            raise ValidationError({"assign_to": "Included papers go to a curator."})
    else:
        assign_to = None
    now = timezone.now()
    with transaction.atomic():
        locked = Candidate.objects.select_for_update().get(pk=candidate.pk)
        status, settles = decision, False
        if locked.status == Candidate.Status.CONFLICT:
            if not has_role(by, REVIEWER):
                raise ValidationError(
                    "The two screeners disagree on this paper: a reviewer settles it "
                    "(Screening, Conflicts)."
                )
            settles = True
        elif locked.dual and locked.status == Candidate.Status.NEW:
            earlier = list(locked.decisions.filter(settles=False).order_by("at", "pk"))
            if any(d.by_id == by.pk for d in earlier):
                raise ValidationError(
                    "You screened this paper already: in dual screening a second curator "
                    "decides it, without seeing yours."
                )
            if not earlier:
                status = Candidate.Status.NEW  # waits for the second screener
            elif not _agree(earlier[0], decision, reason):
                status = Candidate.Status.CONFLICT
        made = ScreeningDecision.objects.create(
            candidate=locked,
            decision=decision,
            reason=reason,
            assigned_to=assign_to,
            note=note,
            by=by,
            at=now,
            settles=settles,
        )
        decided = status in SCREENER_DECISIONS
        locked.status = status
        locked.assigned_to = assign_to if status == Candidate.Status.INCLUDED else None
        locked.decided_at = now if decided else None
        locked.save(update_fields=["status", "assigned_to", "decided_at"])
    candidate.status, candidate.assigned_to = locked.status, locked.assigned_to
    candidate.decided_at = locked.decided_at
    return made


SCREENER_DECISIONS = (
    Candidate.Status.INCLUDED,
    Candidate.Status.EXCLUDED,
    Candidate.Status.MAYBE,
)


def _agree(first: ScreeningDecision, decision: str, reason: ExclusionReason | None) -> bool:
    """Two screeners agree: the same decision, and to exclude, the same reason."""
    if first.decision != decision:
        return False
    return decision != Candidate.Status.EXCLUDED or first.reason_id == reason.pk


def set_search_curators(search, curators, *, by) -> None:
    """Reviewers: the curators a saved search notifies (its papers in their weekly digest);
    none: every curator. Each must be a curator."""
    if not has_role(by, REVIEWER):
        raise ValidationError("Only reviewers choose whom a saved search notifies.")
    curators = list(curators)
    not_curators = [u.get_username() for u in curators if not has_role(u, CURATOR)]
    if not_curators:
        raise ValidationError(f"Not curators: {', '.join(sorted(not_curators))}.")
    with transaction.atomic():
        SearchCurator.objects.filter(search=search).exclude(user__in=curators).delete()
        for user in curators:
            SearchCurator.objects.get_or_create(search=search, user=user)


def set_dual_screening(search, on: bool, *, by) -> None:
    """Reviewers: whether the papers a saved search finds from now on are screened by two
    curators (blind) or one. Papers already waiting keep how they arrived."""
    if not has_role(by, REVIEWER):
        raise ValidationError("Only reviewers choose how a saved search's papers are screened.")
    if on:
        DualSearch.objects.get_or_create(search=search, defaults={"set_by": by})
    else:
        DualSearch.objects.filter(search=search).delete()


def add_search_results(search, stored: dict) -> None:
    """A saved search's stored batch (citations.hooks): each record a candidate, once.

    Citations the batch created are the candidates' records; a record RareDerm
    held before is a duplicate of its candidate, or not screened (known).
    """
    created = {s.citation_id for s in stored.values() if s.created and s.citation_id}
    citations = Citation.objects.in_bulk(created)
    dual = DualSearch.objects.filter(search_id=search.pk).exists()
    for pmid, outcome in sorted(stored.items()):
        if not outcome.citation_id:
            continue
        add_candidate(
            kind=CandidateSource.Kind.SEARCH,
            pmid=pmid,
            citation=citations.get(outcome.citation_id),
            label=search.name,
            dual=dual,
        )


MAX_NOTE = 2000  # characters of a suggestion's note


class SuggestionRefused(Exception):
    """The suggestion cannot be taken; `errors` says why, by field ("__all__": the form)."""

    def __init__(self, errors: dict[str, str], *, throttled: bool = False):
        super().__init__("; ".join(errors.values()))
        self.errors = errors
        self.throttled = throttled


def suggest_paper(identifier: str, *, note: str = "", email: str = "", address: str = "") -> Added:
    """Anyone suggests a paper (PMID, DOI or link) for screening; Added says what became of it.

    The identifier grammar is citations' (parse_identifier); at most
    SUGGESTION_RATE_LIMIT suggestions per client address in SUGGESTION_RATE_MINUTES.
    """
    errors = {}
    found = parse_identifier(identifier)
    if found.error:
        errors["identifier"] = found.error
    elif found.pmcid:
        errors["identifier"] = (
            f"{found.pmcid} is a PubMed Central id: give the paper's PMID or DOI instead."
        )
    text = stored_text(note or "").strip()
    if len(text) > MAX_NOTE:
        errors["note"] = f"Keep the note under {MAX_NOTE} characters ({len(text)} now)."
    email = (email or "").strip()
    if email:
        try:
            validate_email(email)
        except ValidationError:
            errors["email"] = "This is not an e-mail address; leave it empty to stay anonymous."
    if errors:
        raise SuggestionRefused(errors)
    key = make_client_key(address) if address else ""
    if key:
        since = timezone.now() - timedelta(minutes=settings.SUGGESTION_RATE_MINUTES)
        recent = CandidateSource.objects.filter(
            kind=CandidateSource.Kind.SUGGESTION, client_key=key, created_at__gte=since
        ).count()
        if recent >= settings.SUGGESTION_RATE_LIMIT:
            raise SuggestionRefused(
                {
                    "__all__": f"You have suggested {recent} papers in the last "
                    f"{settings.SUGGESTION_RATE_MINUTES} minutes; please try again later. "
                    "Your suggestion is kept below."
                },
                throttled=True,
            )
    added = add_candidate(
        kind=CandidateSource.Kind.SUGGESTION,
        pmid=found.pmid,
        doi=found.doi,
        email=email,
        note=text,
        client_key=key,
    )
    if added.outcome == NEW and added.candidate.pmid and not added.candidate.citation_id:
        queue_fetch_candidate_records()
    return added


# What a chased paper's source says it is, by CitationLink.Relation.
CHASED_AS = {
    CitationLink.Relation.REFERENCE: "references of PMID {}",
    CitationLink.Relation.CITED_BY: "papers citing PMID {}",
    CitationLink.Relation.RELATED: "related to PMID {}",
}


def linked_pmids(citation: Citation, relation: str) -> list[int]:
    """The PMIDs PubMed links to a citation by `relation`, in PubMed's order.

    References: the stored XML's reference list, then those only elink named.
    """
    pmids = pubmed.reference_pmids(citation.raw_xml) if relation == "refs" else []
    stored = citation.links.filter(relation=relation).order_by("position")
    seen = set(pmids)
    for pmid in stored.values_list("pmid", flat=True):
        if pmid not in seen:
            seen.add(pmid)
            pmids.append(pmid)
    return pmids


DOIS_PER_RUN = 200  # esearch requests a run spends on DOI-only candidates, at most


def resolve_candidate_dois() -> dict[str, int]:
    """Ask PubMed (esearch `"<doi>"[doi]`, one request each) for the PMID of each candidate
    known by its DOI alone, oldest first, at most DOIS_PER_RUN a run.

    Found: the candidate gets the PMID (and the stored citation, if RareDerm has the
    paper), so fetch_candidate_records brings its record. Found but another candidate has
    that PMID: the same paper twice, so its sources join that candidate as duplicates and
    it goes (unless someone decided on it already: then it stays as it is). Not found:
    marked checked, so it is not asked for again. An NCBI fault stops the run; the rest
    wait for the next.
    """
    from citations import entrez

    counts = {"asked": 0, "found": 0, "merged": 0, "unknown": 0}
    waiting = Candidate.objects.filter(
        pmid__isnull=True, citation__isnull=True, doi_checked_at__isnull=True
    ).exclude(doi="")
    for candidate in list(waiting.order_by("created_at", "pk")[:DOIS_PER_RUN]):
        try:
            pmid = entrez.resolve_doi(candidate.doi)
        except ValueError:  # a DOI PubMed's search cannot be asked for
            pmid = None
        except entrez.EntrezError:
            break
        counts["asked"] += 1
        with transaction.atomic():
            locked = Candidate.objects.select_for_update().get(pk=candidate.pk)
            locked.doi_checked_at = timezone.now()
            other = (
                Candidate.objects.filter(pmid=pmid).exclude(pk=locked.pk).first() if pmid else None
            )
            if pmid is None:
                counts["unknown"] += 1
            elif other is not None:
                if not locked.decisions.exists():
                    locked.sources.update(candidate=other, duplicate=True)
                    locked.delete()
                    counts["merged"] += 1
                    continue
            else:
                locked.pmid = pmid
                locked.citation = Citation.objects.filter(pmid=pmid).first()
                counts["found"] += 1
            locked.save(update_fields=["doi_checked_at", "pmid", "citation"])
    return counts


def fetch_candidate_records() -> dict[str, int]:
    """Fetch the PubMed records of the candidates known by PMID alone; link their citations.

    First, candidates known by their DOI alone are looked up (resolve_candidate_dois).

    efetch in batches of at most 200 (citations.entrez.batches), each stored by
    citations' store_articles, so the inbox shows title, abstract, journal and
    year. Idempotent: a candidate with a citation is not asked for again. A
    PMID PubMed does not know stays without one. Stops at the first NCBI fault
    (EntrezError): the batches before it are kept, the rest wait for the next run.
    """
    from citations import entrez
    from citations.actions.storage import store_articles

    resolve_candidate_dois()
    pmids = list(
        Candidate.objects.filter(citation__isnull=True, pmid__isnull=False)
        .order_by("pmid")
        .values_list("pmid", flat=True)
    )
    counts = {"asked": len(pmids), "linked": 0, "requests": 0}
    for batch in entrez.batches(pmids):
        records, _ = entrez.fetch_articles(batch)
        counts["requests"] += 1
        articles = [r for r in records if isinstance(r, pubmed.ParsedArticle)]
        with transaction.atomic():
            stored = store_articles(articles)
            for pmid, outcome in stored.items():
                if outcome.citation_id:
                    counts["linked"] += Candidate.objects.filter(
                        pmid=pmid, citation__isnull=True
                    ).update(citation_id=outcome.citation_id)
    return counts


def queue_fetch_candidate_records() -> None:
    """After this transaction commits, fetch the records of PMID-only candidates."""
    if not settings.FETCH_CANDIDATE_RECORDS:
        return
    from config.celery import queue_after_commit

    queue_after_commit("screening.fetch_candidate_records")


def chase_references(citation: Citation, *, by, relation: str = "refs") -> dict[str, int]:
    """Send the papers linked to a citation (its references, citing or related papers)
    that RareDerm lacks to screening; the source names the paper and the relation.

    Counts by outcome (new, duplicate, known).
    """
    if not has_role(by, CURATOR):
        raise ValidationError("Only curators and reviewers send papers to screening.")
    if relation not in CHASED_AS:
        raise ValidationError(f"Unknown relation {relation!r}.")
    counts = {NEW: 0, DUPLICATE: 0, KNOWN: 0}
    for pmid in linked_pmids(citation, relation):
        added = add_candidate(
            kind=CandidateSource.Kind.REFERENCE,
            pmid=pmid,
            label=CHASED_AS[relation].format(citation.pmid),
            by=by,
        )
        counts[added.outcome] += 1
    if counts[NEW]:
        queue_fetch_candidate_records()
    return counts
