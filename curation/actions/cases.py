"""Writes to case records: create, edit (optimistically locked), child rows, transitions.

Every function here runs in one transaction, locks the case row
(`select_for_update`) before it reads the version, and bumps the version
when it changes anything, so that two people editing the same case never
overwrite each other silently: the second gets `Conflict`.

Who may edit: the curator who created the case, while it is a draft or
changes were requested (workflow.EDITABLE). Status changes go through
`transition()` only.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.roles import CURATOR, has_role, primary_role
from curation import molecular, notifications, permissions, workflow
from curation.models import (
    Case,
    CaseEvent,
    ClinicalEvent,
    FusionFinding,
    IHCResult,
    MolecularFinding,
    Treatment,
)
from curation.models.vocabulary import GeneResolution, is_gene_symbol, resolve_gene
from curation.notation import FusionNotation, parse_fusion
from curation.workflow import TransitionError

__all__ = [
    "CASE_FIELDS",
    "ROW_KINDS",
    "CaseActionError",
    "Conflict",
    "FusionResolution",
    "NotEditable",
    "TransitionError",
    "add_fusion",
    "add_ihc_result",
    "create_case",
    "refresh_grade",
    "replace_fusions",
    "replace_ihc_results",
    "replace_rows",
    "resolve_fusion_text",
    "transition",
    "update_case",
]


class CaseActionError(Exception):
    """A write that was refused; the message is meant for the user."""


class Conflict(CaseActionError):
    """The case changed since the form was loaded (optimistic locking)."""

    def __init__(self, case: Case, expected_version: int):
        self.case = case
        self.expected_version = expected_version
        self.current_version = case.version
        super().__init__(
            f"Someone else saved this case while you were editing it (you edited version "
            f"{expected_version}, it is now version {case.version}). Your changes were not "
            "saved: reload the case, then make them again."
        )


class NotEditable(CaseActionError):
    """The case cannot be edited by this user in its current status."""


# The fields of a case that create_case / update_case may set. Workflow fields
# (status, version, dates, created_by, revision_of) are set only by the actions.
CASE_FIELDS = frozenset(
    {
        "label",
        "source_depth",
        "age",
        "age_unit",
        "sex",
        "topography",
        "site_detail",
        "laterality",
        "size_mm",
        "clinical_presentation",
        "duration",
        "clinical_diagnosis",
        "initial_diagnosis",
        "final_diagnosis",
        "diagnosis_as_reported",
        "reported_diagnosis",
        "differentials_as_reported",
        "histology",
        "histology_pattern",
        "cell_type",
        "inflammatory_background",
        "depth",
        "depth_mm",
        "epidermal_involvement",
        "mitoses",
        "mitoses_unit",
        "necrosis",
        "lymphovascular_invasion",
        "perineural_invasion",
        "focality",
        "treatment",
        "follow_up_months",
        "outcome",
        "notes",
        "grade_lowered_to",
        "grade_lowered_reason",
    }
)
M2M_FIELDS = frozenset({"other_citations", "differentials"})
IHC_FIELDS = frozenset(
    {
        "marker",
        "clone",
        "clone_term",
        "result",
        "extent",
        "intensity",
        "pattern",
        "percent_cells",
        "as_reported",
    }
)
FUSION_FIELDS = frozenset(
    {
        "five_prime_gene",
        "three_prime_gene",
        "partner_status",
        "five_prime_transcript",
        "three_prime_transcript",
        "five_prime_exon",
        "three_prime_exon",
        "breakpoint",
        "method",
        "assay",
        "as_reported",
    }
)
MOLECULAR_FIELDS = frozenset(
    {
        "kind",
        "gene",
        "hgvs_protein",
        "hgvs_cdna",
        "transcript",
        "copy_number",
        "description",
        "method",
        "assay",
        "as_reported",
    }
)
TREATMENT_FIELDS = frozenset({"kind", "agent", "margins", "months", "as_reported"})
EVENT_FIELDS = frozenset({"kind", "months", "site", "as_reported"})


@dataclass(frozen=True)
class RowKind:
    """One kind of child row of a case: its model, the case's name for them, the
    fields the actions set, and what one is called in messages."""

    model: type
    related_name: str
    fields: frozenset[str]
    noun: str

    def rows(self, case: Case) -> list:
        return list(getattr(case, self.related_name).order_by("position", "pk"))

    @property
    def attnames(self) -> tuple[str, ...]:
        """The columns a copy of a row takes (foreign keys by id: no query)."""
        return tuple(sorted(self.model._meta.get_field(f).attname for f in self.fields))


# Every kind of child row, in the order the case page shows them. The actions,
# the revision copy, the draft save and the diff all go through this table.
ROW_KINDS: dict[str, RowKind] = {
    "ihc": RowKind(IHCResult, "ihc_results", IHC_FIELDS, "An IHC result"),
    "fusion": RowKind(FusionFinding, "fusions", FUSION_FIELDS, "A fusion finding"),
    "molecular": RowKind(
        MolecularFinding, "molecular_findings", MOLECULAR_FIELDS, "A molecular finding"
    ),
    "treatment": RowKind(Treatment, "treatments", TREATMENT_FIELDS, "A treatment"),
    "event": RowKind(ClinicalEvent, "clinical_events", EVENT_FIELDS, "A clinical event"),
}


def _check_fields(fields: Iterable[str], allowed: frozenset[str], what: str) -> None:
    unknown = sorted(set(fields) - allowed)
    if unknown:
        raise TypeError(f"{what} has no editable field(s) {', '.join(unknown)}")


# -- create and edit ----------------------------------------------------------


@transaction.atomic
def create_case(*, citation, by, revision_of: Case | None = None, **fields) -> Case:
    """A new draft case from `citation`, created by `by` (a curator)."""
    if not has_role(by, CURATOR):
        raise NotEditable("Only a curator may create a case.")
    _check_fields(fields, CASE_FIELDS | M2M_FIELDS, "A case")
    m2m = {name: fields.pop(name) for name in list(fields) if name in M2M_FIELDS}
    case = Case(citation=citation, created_by=by, revision_of=revision_of, **fields)
    _apply_grade(case, check_lowering=True)
    case.full_clean()
    case._history_user = by
    case.save()
    if m2m:
        _set_m2m(case, m2m, by)
    return case


@transaction.atomic
def update_case(case: Case, *, by, expected_version: int, **fields) -> Case:
    """Change fields of an editable case; `Conflict` if it changed since `expected_version`."""
    _check_fields(fields, CASE_FIELDS | M2M_FIELDS, "A case")
    locked = _lock_for_edit(case, by, expected_version)
    m2m = {name: fields.pop(name) for name in list(fields) if name in M2M_FIELDS}
    for name, value in fields.items():
        setattr(locked, name, value)
    locked.version += 1
    _apply_grade(locked, check_lowering="grade_lowered_to" in fields)
    locked.full_clean()
    locked._history_user = by
    if m2m:
        # simple-history snapshots the M2M state on save: set it first.
        for name, values in m2m.items():
            getattr(locked, name).set(values)
    locked.save()
    _refresh(case, locked)
    return locked


def _set_m2m(case: Case, m2m: dict, by) -> None:
    for name, values in m2m.items():
        getattr(case, name).set(values)
    # Save again so that the history snapshot includes the M2M values.
    case._history_user = by
    case.save(update_fields=["updated_at"])


def _lock_for_edit(case: Case, by, expected_version: int) -> Case:
    locked = Case.objects.select_for_update().get(pk=case.pk)
    if locked.version != expected_version:
        raise Conflict(locked, expected_version)
    if locked.status not in workflow.EDITABLE:
        raise NotEditable(
            f"This case is {locked.get_status_display().lower()} and cannot be edited"
            + ("; propose a revision instead." if locked.status == Case.Status.PUBLISHED else ".")
        )
    if locked.created_by_id != by.pk:
        raise NotEditable("Only the curator who wrote this case may edit it.")
    return locked


def _bump(locked: Case, by) -> None:
    locked.version += 1
    _apply_grade(locked)
    locked._history_user = by
    locked.save(update_fields=["version", "evidence_grade", "updated_at"])


# -- evidence grade -----------------------------------------------------------


def supported_grade(case: Case) -> str:
    """The grade the case's saved findings support (curation.molecular.supported_grade)."""
    if case.pk is None:
        return "D"
    methods = [
        *case.fusions.values_list("method", flat=True),
        *case.molecular_findings.values_list("method", flat=True),
    ]
    return molecular.supported_grade(methods, case.ihc_results.values_list("result", flat=True))


def _apply_grade(case: Case, *, check_lowering: bool = False) -> None:
    supported = supported_grade(case)
    if check_lowering:
        message = molecular.lowering_error(supported, case.grade_lowered_to)
        if message:
            raise ValidationError({"grade_lowered_to": message})
    case.evidence_grade = molecular.effective_grade(supported, case.grade_lowered_to)


def refresh_grade(case: Case, by=None) -> Case:
    """Store the grade a case's findings support now (after rows were copied onto it)."""
    before = case.evidence_grade
    _apply_grade(case)
    if case.evidence_grade != before:
        case._history_user = by
        case.save(update_fields=["evidence_grade", "updated_at"])
    return case


def _refresh(case: Case, locked: Case) -> None:
    """Bring the caller's object up to date with what was saved."""
    if case is not locked:
        case.refresh_from_db()


# -- child rows ---------------------------------------------------------------


@transaction.atomic
def add_ihc_result(case: Case, *, by, expected_version: int, **fields) -> IHCResult:
    _check_fields(fields, IHC_FIELDS, "An IHC result")
    locked = _lock_for_edit(case, by, expected_version)
    position = locked.ihc_results.count()
    row = _save_child(IHCResult(case=locked, position=position, **fields), by)
    _bump(locked, by)
    _refresh(case, locked)
    return row


@transaction.atomic
def replace_rows(case: Case, kind: str, *, by, expected_version: int, rows: list[dict]) -> list:
    """Replace all rows of one kind (ROW_KINDS: "ihc", "fusion", "molecular",
    "treatment", "event") of a case with `rows` (dicts of its fields), in order."""
    row_kind = ROW_KINDS[kind]
    for row in rows:
        _check_fields(row, row_kind.fields, row_kind.noun)
    locked = _lock_for_edit(case, by, expected_version)
    _delete_children(getattr(locked, row_kind.related_name).all(), by)
    saved = [
        _save_child(row_kind.model(case=locked, position=i, **row), by)
        for i, row in enumerate(rows)
    ]
    _bump(locked, by)
    _refresh(case, locked)
    return saved


def replace_ihc_results(
    case: Case, *, by, expected_version: int, rows: list[dict]
) -> list[IHCResult]:
    """Replace all IHC results of a case with `rows` (dicts of IHC fields), in order."""
    return replace_rows(case, "ihc", by=by, expected_version=expected_version, rows=rows)


@transaction.atomic
def add_fusion(case: Case, *, by, expected_version: int, **fields) -> FusionFinding:
    _check_fields(fields, FUSION_FIELDS, "A fusion finding")
    locked = _lock_for_edit(case, by, expected_version)
    position = locked.fusions.count()
    row = _save_child(FusionFinding(case=locked, position=position, **fields), by)
    _bump(locked, by)
    _refresh(case, locked)
    return row


def replace_fusions(
    case: Case, *, by, expected_version: int, rows: list[dict]
) -> list[FusionFinding]:
    return replace_rows(case, "fusion", by=by, expected_version=expected_version, rows=rows)


def _save_child(row, by):
    row.full_clean()
    row._history_user = by
    row.save()
    return row


def _delete_children(queryset, by) -> None:
    # One by one, so that each deletion is recorded in the history with its user.
    for row in queryset:
        row._history_user = by
        row.delete()


@dataclass(frozen=True)
class FusionResolution:
    """A fusion as written, with each partner resolved (or not) against the genes."""

    parsed: FusionNotation
    five_prime: GeneResolution | None  # None: partner unknown
    three_prime: GeneResolution

    @property
    def resolved(self) -> bool:
        return self.three_prime.gene is not None and (
            self.five_prime is None or self.five_prime.gene is not None
        )

    @property
    def messages(self) -> list[str]:
        """What the curator should know or decide (alias used, ambiguous, unknown)."""
        return [
            r.resolution.message
            for r in (self.five_prime, self.three_prime)
            if r is not None and r.resolution.message
        ]

    def as_fields(self) -> dict:
        """Fields for add_fusion / replace_fusions; only when `resolved`."""
        if not self.resolved:
            raise ValueError("resolve the partners first: " + " ".join(self.messages))
        five = self.five_prime.gene if self.five_prime else None
        return {
            "five_prime_gene": five,
            "three_prime_gene": self.three_prime.gene,
            "partner_status": "known" if five else "unknown",
            "as_reported": self.parsed.written,
        }


def resolve_fusion_text(text: str) -> FusionResolution:
    """Parse `CARS-ALK` and resolve its partners; raises notation.NotationError."""
    parsed = parse_fusion(text, is_symbol=is_gene_symbol)
    five = resolve_gene(parsed.five_prime) if parsed.five_prime is not None else None
    return FusionResolution(parsed, five, resolve_gene(parsed.three_prime))


# -- the state machine --------------------------------------------------------


@transaction.atomic
def transition(
    case: Case, to_status: str, by, comment: str = "", *, expected_version: int | None = None
) -> Case:
    """Move a case to `to_status` as `by`, writing a CaseEvent in the same transaction.

    Raises workflow.TransitionError (not allowed: wrong status, wrong person,
    own submission, missing comment) or Conflict (the case changed since
    `expected_version`, when given).
    """
    locked = Case.objects.select_for_update().get(pk=case.pk)
    if expected_version is not None and locked.version != expected_version:
        raise Conflict(locked, expected_version)
    comment = (comment or "").strip()
    from_status = locked.status
    permissions.check_transition(by, locked, to_status, comment)
    now = timezone.now()
    locked.status = to_status
    locked.version += 1
    if to_status == workflow.SUBMITTED:
        locked.submitted_at = now
    if to_status == workflow.PUBLISHED:
        locked.published_at = now
    locked._history_user = by
    locked._change_reason = f"{from_status} -> {to_status}"
    locked.save()
    event = CaseEvent.objects.create(
        case=locked,
        actor=by,
        role=primary_role(by),
        from_status=from_status,
        to_status=to_status,
        comment=comment,
        created_at=now,
    )
    # Emails (reviewers on a submission, the curator on a decision) are
    # outbox rows of this transaction, sent once it commits.
    notifications.queue_event_emails(event)
    _refresh(case, locked)
    return locked
