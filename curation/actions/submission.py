"""The curator's side of a case's life: start a draft, save it, find duplicates, submit.

Built on curation.actions.cases: every write goes through create_case /
update_case / replace_ihc_results / replace_fusions / transition, which lock
the row, check the version (optimistic locking) and record who changed what
(django-simple-history, with the user) or the status change (CaseEvent), in
the same transaction as the change.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from django.db import transaction
from django.db.models import Q

from curation import workflow
from curation.actions.cases import (
    CASE_FIELDS,
    ROW_KINDS,
    CaseActionError,
    Conflict,
    NotEditable,
    create_case,
    replace_rows,
    transition,
    update_case,
)
from curation.models import (
    Case,
    CaseDraftInput,
    CaseEvent,
    FusionFinding,
    TermProposal,
)

__all__ = [
    "COPIED_FIELDS",
    "Duplicates",
    "Incomplete",
    "SaveResult",
    "discard_draft",
    "find_duplicates",
    "link_other_report",
    "missing_for_submission",
    "save_draft",
    "start_case",
    "submit_case",
]

# What "copy from previous case" carries over: what the cases of one series
# share (the diagnosis, the stains, the method), not the patient.
COPIED_FIELDS = (
    "final_diagnosis",
    "initial_diagnosis",
    "clinical_diagnosis",
    "histology",
    "histology_pattern",
    "cell_type",
    "inflammatory_background",
    "depth",
    "epidermal_involvement",
    "treatment",
)


class Incomplete(CaseActionError):
    """A submission lacks what a reviewer needs; `errors` maps field -> message."""

    def __init__(self, errors: dict[str, str]):
        self.errors = errors
        super().__init__(" ".join(errors.values()))


def missing_for_submission(
    case: Case, *, pending=None, has_rows: bool | None = None
) -> dict[str, str]:
    """What a reviewer needs and this (saved) case lacks, field by field; {} when complete.

    A pending proposal counts (the case keeps it as its value). `pending` (the
    case's pending proposals) and `has_rows` (it has IHC or fusion rows) spare
    the queries when the caller has them at hand.
    """
    errors: dict[str, str] = {}
    if not case.citation_id:
        errors["citation"] = "A case needs the citation it comes from."
    if pending is None:
        pending = TermProposal.objects.pending().filter(case=case)
    pending = {p.field for p in pending}
    if not case.final_diagnosis_id and TermProposal.Field.FINAL_DIAGNOSIS not in pending:
        errors["final_diagnosis"] = "Choose the final diagnosis before submitting."
    if not case.topography_id:
        errors["topography"] = "Choose the site (ICD-O-3 topography) before submitting."
    row_pending = pending & {
        TermProposal.Field.IHC_MARKER,
        TermProposal.Field.FUSION_FIVE,
        TermProposal.Field.FUSION_THREE,
    }
    if has_rows is None:
        has_rows = (
            case.ihc_results.exists() or case.fusions.exists() or case.molecular_findings.exists()
        )
    if not (has_rows or row_pending):
        errors["findings"] = (
            "Record at least one finding (an IHC result, a fusion or another molecular "
            "finding) before submitting."
        )
    return errors


# -- drafts ---------------------------------------------------------------------


@transaction.atomic
def start_case(citation, *, by, label: str = "", copy_from: Case | None = None) -> Case:
    """A new draft of `citation`; with `copy_from`, the series' shared fields and rows copied.

    `copy_from` must be a case `by` may see (their own, or published); the
    caller checks that.
    """
    fields: dict = {"label": label}
    if copy_from is not None:
        fields.update({name: getattr(copy_from, name) for name in COPIED_FIELDS})
    case = create_case(citation=citation, by=by, **fields)
    if copy_from is not None:
        # The series shares its stains and molecular method; not the patient's course.
        for kind in ("ihc", "fusion", "molecular"):
            row_kind = ROW_KINDS[kind]
            rows = [_row_values(r, row_kind.fields) for r in row_kind.rows(copy_from)]
            if rows:
                replace_rows(case, kind, by=by, expected_version=case.version, rows=rows)
        differentials = list(copy_from.differentials.all())
        if differentials:
            update_case(case, by=by, expected_version=case.version, differentials=differentials)
    return case


@dataclass
class SaveResult:
    case: Case
    changed: bool


@transaction.atomic
def save_draft(
    case: Case,
    *,
    by,
    expected_version: int,
    fields: dict,
    ihc_rows: list[dict] | None = None,
    fusion_rows: list[dict] | None = None,
    molecular_rows: list[dict] | None = None,
    treatment_rows: list[dict] | None = None,
    event_rows: list[dict] | None = None,
    proposals: list | None = None,
    withdrawn: tuple = (),
) -> SaveResult:
    """Save what the case form holds; a save that changes nothing writes nothing.

    Raises Conflict (someone saved since `expected_version`) or NotEditable
    (not the author's, or not a draft / changes-requested case). An autosave
    and an explicit save are the same call.
    """
    locked = Case.objects.select_for_update().get(pk=case.pk)
    if locked.version != expected_version:
        raise Conflict(locked, expected_version)
    if locked.created_by_id != by.pk:
        raise NotEditable("Only the curator who wrote this case may edit it.")
    if locked.status not in workflow.EDITABLE:
        raise NotEditable(
            f"This case is {locked.get_status_display().lower()} and cannot be edited."
        )
    changed_fields = {
        name: value
        for name, value in fields.items()
        if name in CASE_FIELDS and _comparable(getattr(locked, name)) != _comparable(value)
    }
    for name in ("other_citations", "differentials"):
        if name in fields:
            old = set(getattr(locked, name).values_list("pk", flat=True))
            if old != {obj.pk for obj in fields[name]}:
                changed_fields[name] = list(fields[name])
    unknown = set(fields) - CASE_FIELDS - {"other_citations", "differentials"}
    if unknown:
        raise TypeError(f"A case has no editable field(s) {', '.join(sorted(unknown))}")

    changed = False
    # Rows first: a lowered grade in the fields is checked against the findings saved.
    posted_rows = {
        "ihc": ihc_rows,
        "fusion": fusion_rows,
        "molecular": molecular_rows,
        "treatment": treatment_rows,
        "event": event_rows,
    }
    for kind, rows in posted_rows.items():
        row_kind = ROW_KINDS[kind]
        if rows is not None and _rows_differ(row_kind.rows(locked), rows, row_kind.fields):
            replace_rows(locked, kind, by=by, expected_version=locked.version, rows=rows)
            locked.refresh_from_db()
            changed = True
    if changed_fields:
        locked = update_case(locked, by=by, expected_version=locked.version, **changed_fields)
        changed = True
    if proposals or withdrawn or "final_diagnosis" in fields or "initial_diagnosis" in fields:
        from curation.actions.proposals import record_proposals

        if record_proposals(
            locked, by=by, pending=proposals or [], withdrawn=withdrawn, fields=fields
        ):
            changed = True
    if case is not locked:
        case.refresh_from_db()
    return SaveResult(case, changed)


# Posted names that are the form's machinery, not what the curator typed.
NOT_TYPED = frozenset({"csrfmiddlewaretoken", "action", "version", "version_override"})


def keep_unsaved_input(case: Case, posted, *, version: int) -> None:
    """Keep the case form as posted (a QueryDict) while some of it could not be saved,
    against the case version it was saved on; `posted=None` (all saved) forgets it."""
    if posted is None:
        CaseDraftInput.objects.filter(case=case).delete()
        return
    data = {name: posted.getlist(name) for name in posted if name not in NOT_TYPED}
    CaseDraftInput.objects.update_or_create(case=case, defaults={"version": version, "data": data})


def _row_values(row, names) -> dict:
    return {name: getattr(row, name) for name in names}


def _comparable(value):
    """Model instances by pk, numbers as Decimal, None and "" kept apart."""
    if hasattr(value, "_meta"):
        return ("pk", value.pk)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return Decimal(str(value))
    if isinstance(value, Decimal):
        return value.normalize()
    return value


def _rows_differ(saved: list, rows: list[dict], names) -> bool:
    if len(saved) != len(rows):
        return True
    for old, new in zip(saved, rows, strict=True):
        for name in names:
            if _comparable(getattr(old, name)) != _comparable(new.get(name, _default(old, name))):
                return True
    return False


def _default(row, name):
    field_ = row._meta.get_field(name)
    if field_.null:
        return None
    return "" if field_.get_internal_type() in ("CharField", "TextField") else None


@transaction.atomic
def link_other_report(case: Case, citation, *, by, expected_version: int) -> Case:
    """Record that `citation` reports the same patient as `case` (other_citations)."""
    if citation.pk == case.citation_id:
        raise CaseActionError("That is this case's own citation.")
    current = list(case.other_citations.all())
    if citation in current:
        return case
    return update_case(
        case, by=by, expected_version=expected_version, other_citations=[*current, citation]
    )


@transaction.atomic
def discard_draft(case: Case, *, by, expected_version: int) -> None:
    """Delete a draft that was never submitted (a case started by mistake)."""
    locked = Case.objects.select_for_update().get(pk=case.pk)
    if locked.version != expected_version:
        raise Conflict(locked, expected_version)
    if locked.created_by_id != by.pk:
        raise NotEditable("Only the curator who wrote this case may discard it.")
    if locked.status != workflow.DRAFT or CaseEvent.objects.filter(case=locked).exists():
        raise NotEditable("Only a draft that was never submitted can be discarded.")
    # Recorded in the field history (a "-" record with the user) by simple-history.
    children = [row for kind in ROW_KINDS.values() for row in kind.rows(locked)]
    for row in [*children, locked]:
        row._history_user = by
        row.delete()


# -- submission -----------------------------------------------------------------


@transaction.atomic
def submit_case(case: Case, *, by, expected_version: int) -> Case:
    """Send a complete draft (or a case sent back) to review; Incomplete says what is missing.

    The version guard makes a double submission harmless: the second request
    carries the version the first one already moved on from, and is refused.
    """
    locked = Case.objects.select_for_update().get(pk=case.pk)
    if locked.version != expected_version:
        raise Conflict(locked, expected_version)
    if locked.status in workflow.EDITABLE:
        missing = missing_for_submission(locked)
        if missing:
            raise Incomplete(missing)
    return transition(locked, workflow.SUBMITTED, by, expected_version=expected_version)


# -- duplicates -----------------------------------------------------------------


@dataclass
class Duplicates:
    # Other cases of the same citation with the same label (the same case twice).
    same_label: list[Case] = field(default_factory=list)
    # Cases in other papers with the same age, sex, site and fusion.
    same_patient: list[Case] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.same_label or self.same_patient)


DUPLICATES_SHOWN = 10


def find_duplicates(case: Case, *, user) -> Duplicates:
    """Cases that may be this one reported again, among those `user` may see (≤ 3 queries)."""
    found = Duplicates()
    visible = Case.objects.visible_to(user).exclude(pk=case.pk).filter(revision_of__isnull=True)
    if case.revision_of_id:
        visible = visible.exclude(pk=case.revision_of_id)
    related = ("citation", "final_diagnosis", "topography", "created_by")
    if case.label.strip():
        found.same_label = list(
            visible.filter(citation_id=case.citation_id, label__iexact=case.label.strip())
            .select_related(*related)
            .order_by("pk")[:DUPLICATES_SHOWN]
        )
    pairs = list(case.fusions.values_list("five_prime_gene_id", "three_prime_gene_id"))
    if case.age is None or not case.sex or not case.topography_id or not pairs:
        return found
    same_fusion = Q()
    for five, three in pairs:
        same_fusion |= Q(five_prime_gene_id=five, three_prime_gene_id=three)
    found.same_patient = list(
        visible.exclude(citation_id=case.citation_id)
        .filter(
            age=case.age,
            age_unit=case.age_unit,
            sex=case.sex,
            topography_id=case.topography_id,
            pk__in=FusionFinding.objects.filter(same_fusion).values("case_id"),
        )
        .select_related(*related)
        .order_by("pk")[:DUPLICATES_SHOWN]
    )
    return found


def duplicate_label_message(citation_id: int, label: str, *, author_id, exclude_pk=None) -> str:
    """Why `label` cannot be used for another case of this paper by author_id ("" if it can).

    Labels are unique per paper among cases (not revisions). The clashing case
    is named when the author may see it (published, or their own); another
    curator's draft is private, so its existence is told but never its number.
    """
    if not label:
        return ""
    clash = (
        Case.objects.filter(citation_id=citation_id, label=label, revision_of__isnull=True)
        .exclude(pk=exclude_pk)
        .only("pk", "status", "created_by_id", "label")
        .first()
    )
    if clash is None:
        return ""
    if clash.is_published or clash.created_by_id == author_id:
        return (
            f"This paper already has a case labelled “{label}” ({clash.number}): "
            "give this one the paper's own label, e.g. Case 2."
        )
    return (
        f"“{label}”: another curator's draft of this paper already uses that label; "
        "give this one the paper's own label, e.g. Case 2."
    )
