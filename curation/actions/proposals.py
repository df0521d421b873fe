"""Terms proposed from the case form: record them, and let a reviewer decide.

A curator who meets a diagnosis, marker, clone or gene the vocabulary lacks
proposes it where they are (the case form); the case keeps the proposal as its
pending value (`TermProposal`, with the rest of the IHC or fusion row it
belongs to). A reviewer then either accepts it (`accept_proposal`: the term
joins the vocabulary) or maps it to an existing term (`map_proposal`); either
way the case takes the term in the same transaction: its diagnosis is set, or
its IHC result or fusion row is recorded, the case's version bumped and the
change recorded in its history under the reviewer's name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from curation.actions.cases import CaseActionError
from curation.models import (
    Case,
    Clone,
    Diagnosis,
    DiagnosisFamily,
    FusionFinding,
    Gene,
    IHCResult,
    Marker,
    TermProposal,
)
from curation.models.vocabulary import ICDO_MORPHOLOGY_RE

__all__ = [
    "AlreadyResolved",
    "PendingTerm",
    "ProposalRefused",
    "accept_proposal",
    "map_proposal",
    "record_proposals",
]

Kind = TermProposal.Kind
Field = TermProposal.Field
# Case fields whose pending value is a proposal (one at a time per field).
CASE_FIELD_PROPOSALS = (Field.FINAL_DIAGNOSIS, Field.INITIAL_DIAGNOSIS)


class ProposalRefused(CaseActionError):
    """The decision cannot be made; the message says why."""


class AlreadyResolved(ProposalRefused):
    """Someone decided this proposal already."""


@dataclass(frozen=True)
class PendingTerm:
    """A proposal the case form collected, before it is stored."""

    kind: str
    field: str
    text: str
    code: str = ""
    source_url: str = ""
    marker: Marker | None = None
    row: dict = field(default_factory=dict)


def record_proposals(case: Case, *, by, pending: list[PendingTerm], withdrawn=(), fields=None):
    """Store the form's new proposals on a (locked) case; drop the withdrawn ones.

    A case field holds one pending value: a new proposal for the final diagnosis
    replaces the pending one, and choosing a diagnosis from the list drops it.
    Returns True if anything changed. Called by save_draft inside its transaction.
    """
    changed = False
    mine = TermProposal.objects.pending().filter(case=case)
    if withdrawn:
        changed |= mine.filter(pk__in=list(withdrawn)).delete()[0] > 0
    for name in CASE_FIELD_PROPOSALS:
        new = [p for p in pending if p.field == name]
        if fields is not None and fields.get(name) is not None:
            # A diagnosis chosen from the list replaces the pending one.
            changed |= mine.filter(field=name).delete()[0] > 0
        elif new:
            stale = mine.filter(field=name).exclude(text__iexact=new[0].text[:200])
            changed |= stale.delete()[0] > 0
    for term in pending:
        # The same proposal posted again (an autosave, then the Save button) is kept once.
        same = mine.filter(field=term.field, kind=term.kind, text__iexact=term.text[:200])
        if term.marker is not None:
            same = same.filter(marker=term.marker)
        if any(p.row == term.row for p in same):
            continue
        TermProposal.objects.create(
            case=case,
            proposed_by=by,
            kind=term.kind,
            field=term.field,
            text=term.text[:200],
            code=term.code[:40],
            source_url=term.source_url,
            marker=term.marker,
            row=term.row,
        )
        changed = True
    return changed


def _check_reviewer(by, proposal: TermProposal) -> None:
    from curation.permissions import may_decide_term

    if not may_decide_term(by, proposal):
        raise ProposalRefused(
            "Only a reviewer decides on proposed terms, and not on their own proposal."
        )


def _lock(proposal: TermProposal) -> TermProposal:
    locked = TermProposal.objects.select_for_update().get(pk=proposal.pk)
    if locked.status != TermProposal.Status.PENDING:
        raise AlreadyResolved(f"This proposal was already {locked.get_status_display().lower()}.")
    return locked


@transaction.atomic
def accept_proposal(
    proposal: TermProposal,
    *,
    by,
    name: str = "",
    code: str = "",
    family: DiagnosisFamily | None = None,
    gene: Gene | None = None,
    symbol: str = "",
) -> TermProposal:
    """Add the proposed term to its vocabulary (as `name`, default the proposed text)
    and give it to the case. A diagnosis needs its WHO family; a gene its HGNC ID."""
    _check_reviewer(by, proposal)
    locked = _lock(proposal)
    name = " ".join((name or locked.text).split())
    code = (code or "").strip()
    try:
        if locked.kind == Kind.DIAGNOSIS:
            if family is None:
                raise ProposalRefused("Choose the WHO family the new diagnosis belongs to.")
            if code and not re.match(ICDO_MORPHOLOGY_RE, code):
                raise ProposalRefused(
                    f"“{code}” is not an ICD-O-3.2 code: write it as 8825/1 (or leave it empty)."
                )
            if Diagnosis.objects.filter(name__iexact=name).exists():
                raise ProposalRefused(f"“{name}” is already a diagnosis: map the proposal to it.")
            term = Diagnosis(name=name, icdo3_code=code, family=family, source=_source(locked))
            term.full_clean()
            term.save()
            locked.diagnosis = term
        elif locked.kind == Kind.MARKER:
            if Marker.objects.filter(name__iexact=name).exists():
                raise ProposalRefused(f"“{name}” is already a marker: map the proposal to it.")
            term = Marker(name=name, gene=gene, source=_source(locked))
            term.full_clean()
            term.save()
            locked.marker_term = term
        elif locked.kind == Kind.CLONE:
            if locked.marker.clones.filter(name__iexact=name).exists():
                raise ProposalRefused(f"{locked.marker} already has the clone {name}: map to it.")
            term = Clone(marker=locked.marker, name=name, source=_source(locked))
            term.full_clean()
            term.save()
            locked.clone_term = term
        else:
            hgnc_id = code or locked.code
            term = Gene(hgnc_id=hgnc_id, symbol=symbol or name, name="", source=_source(locked))
            term.full_clean()
            term.save()
            locked.gene = term
    except ValidationError as exc:
        raise ProposalRefused(" ".join(exc.messages)) from exc
    return _resolve(locked, by, TermProposal.Status.ACCEPTED)


@transaction.atomic
def map_proposal(proposal: TermProposal, *, by, term) -> TermProposal:
    """Resolve the proposal to an existing term of its vocabulary."""
    _check_reviewer(by, proposal)
    locked = _lock(proposal)
    expected = {
        Kind.DIAGNOSIS: (Diagnosis, "diagnosis"),
        Kind.MARKER: (Marker, "marker_term"),
        Kind.CLONE: (Clone, "clone_term"),
        Kind.GENE: (Gene, "gene"),
    }[locked.kind]
    if not isinstance(term, expected[0]):
        raise ProposalRefused(f"Map a proposed {locked.get_kind_display().lower()} to one.")
    if locked.kind == Kind.CLONE and term.marker_id != locked.marker_id:
        raise ProposalRefused(f"{term} is a clone of another marker than {locked.marker}.")
    setattr(locked, expected[1], term)
    return _resolve(locked, by, TermProposal.Status.MAPPED)


def _source(proposal: TermProposal) -> str:
    who = proposal.proposed_by.get_username()
    link = f" ({proposal.source_url})" if proposal.source_url else ""
    return f"Proposed by {who} from case {proposal.case_id}{link}"[:500]


def _resolve(proposal: TermProposal, by, status: str) -> TermProposal:
    proposal.status = status
    proposal.decided_by = by
    proposal.decided_at = timezone.now()
    proposal.save()
    case = Case.objects.select_for_update().get(pk=proposal.case_id)
    _apply(proposal, case, by)
    case.version += 1
    case._history_user = by
    case._change_reason = f"term proposal {proposal.pk} {status}"
    case.save()
    return proposal


def _apply(proposal: TermProposal, case: Case, by) -> None:
    """Give the case what the proposal now names."""
    if proposal.field in CASE_FIELD_PROPOSALS:
        if getattr(case, f"{proposal.field}_id") is None:
            setattr(case, proposal.field, proposal.diagnosis)
        return
    row = dict(proposal.row)
    if proposal.field == Field.IHC_MARKER:
        result = IHCResult(
            case=case,
            marker=proposal.marker_term,
            position=case.ihc_results.count(),
            **{k: row[k] for k in _IHC_ROW if k in row},
        )
        _save(result, by)
    elif proposal.field == Field.IHC_CLONE:
        for result in case.ihc_results.filter(marker=proposal.marker, clone__iexact=proposal.text):
            result.clone_term = proposal.clone_term
            result.clone = proposal.clone_term.name
            _save(result, by)
    else:
        other = Gene.objects.filter(pk=row.get("other_gene")).first()
        five, three = (
            (proposal.gene, other)
            if proposal.field == Field.FUSION_FIVE
            else (other, proposal.gene)
        )
        if three is None:
            return
        finding = FusionFinding(
            case=case,
            five_prime_gene=five,
            three_prime_gene=three,
            position=case.fusions.count(),
            **{k: row[k] for k in _FUSION_ROW if k in row},
        )
        _save(finding, by)


_IHC_ROW = ("clone", "result", "extent", "intensity", "pattern", "percent_cells", "as_reported")
_FUSION_ROW = ("five_prime_exon", "three_prime_exon", "method", "as_reported")


def _save(row, by) -> None:
    row.full_clean()
    row._history_user = by
    row.save()
