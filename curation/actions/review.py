"""The review workflow: reviewers decide, anyone on a case's team comments, curators revise.

Decisions (`approve_case`, `request_changes`, `reject_case`) lock the case
row, check that it is still waiting for a decision, then go through
`cases.transition()`, which checks the rules and writes the event in the same
transaction. Two reviewers deciding at once: the second waits for the first's
lock, then finds the case decided and gets `AlreadyDecided` — never a second
event.

A published case changes only through a revision (`start_revision`): a draft
copy (fields, differentials, other citations, IHC, fusion and figure rows) that goes
through the same review. Approving it applies the copy onto the published
case, which keeps its id and URL; its version goes up and its field history
records the change. The revision row is then deleted: its events move to the
published case, so the whole story stays on one timeline, and its own field
history stays in the history tables.

Emails are written to the outbox in the same transaction as the event
(curation.notifications, called by transition() and by the revision
approval) and sent after the commit, never inside it.
"""

from __future__ import annotations

from django.conf import settings
from django.db import transaction

from accounts.roles import CURATOR, REVIEWER, has_role, primary_role
from config.text import stored_text
from curation import notifications, permissions, workflow
from curation.actions.cases import (
    CASE_FIELDS,
    ROW_KINDS,
    CaseActionError,
    Conflict,
    NotEditable,
    TransitionError,
    refresh_grade,
    transition,
)
from curation.models import Case, CaseEvent, Figure, TermProposal

__all__ = [
    "COMMENT_MAX_LENGTH",
    "AlreadyDecided",
    "CommentRefused",
    "Conflict",
    "RevisionExists",
    "TransitionError",
    "approve_case",
    "comment_on_case",
    "reject_case",
    "report_same_patient",
    "request_changes",
    "start_revision",
]

COMMENT_MAX_LENGTH = 5000
OPEN_STATUSES = (workflow.DRAFT, workflow.SUBMITTED, workflow.CHANGES_REQUESTED)
# Case fields are copied by column name, so that a foreign key costs no query.
_COPY_ATTNAMES = tuple(sorted(Case._meta.get_field(name).attname for name in CASE_FIELDS))
_M2M = ("other_citations", "differentials")

# A figure's copy shares its files (they are named by their content).
_FIGURE_COPY = tuple(
    f.attname for f in Figure._meta.concrete_fields if f.name not in ("id", "case", "created_at")
)


class AlreadyDecided(CaseActionError):
    """Someone decided on this case first (or it is not waiting for a decision)."""


class RevisionExists(CaseActionError):
    """The published case already has an open revision; `revision` is it."""

    def __init__(self, message: str, revision: Case):
        self.revision = revision
        super().__init__(message)


class CommentRefused(CaseActionError):
    """An empty, too long, or not allowed comment."""


# -- decisions -----------------------------------------------------------------


def approve_case(
    case: Case,
    by,
    comment: str = "",
    *,
    expected_version: int | None = None,
    diagnosis_review: str = "",
    diagnosis_review_comment: str = "",
):
    """Publish a submitted case (or apply a submitted revision onto its published case).

    Returns the published case: for a revision, the original (the revision is gone).
    A case whose proposed terms are still pending is not published: its values are
    not settled until a reviewer decides them (curation.actions.proposals).
    `diagnosis_review`: whether the reviewer agrees with the current diagnosis the
    curator assigned (Case.DiagnosisReview; a disagreement needs its reason), recorded
    on the published case in the same transaction.
    """
    pending = TermProposal.objects.pending().filter(case=case).count()
    if pending:
        raise TransitionError(
            f"This case has {pending} proposed term{'s' if pending > 1 else ''} waiting: "
            "accept or map them (under “Proposed terms”) before publishing it."
        )
    reason = stored_text(diagnosis_review_comment)
    if diagnosis_review not in ("", *Case.DiagnosisReview.values):
        raise TransitionError("Say whether you agree with the diagnosis, or leave it empty.")
    if diagnosis_review == Case.DiagnosisReview.DISAGREES and not reason:
        raise TransitionError("Say why you do not agree with the diagnosis.")
    with transaction.atomic():
        decided = _decide(case, workflow.PUBLISHED, by, comment, expected_version)
        if diagnosis_review:
            decided.diagnosis_review = diagnosis_review
            decided.diagnosis_review_comment = reason
            decided._history_user = by
            decided.save(
                update_fields=["diagnosis_review", "diagnosis_review_comment", "updated_at"]
            )
        _chase_first_published(decided)
    return decided


def _chase_first_published(case: Case) -> None:
    """A paper's first published case: chase its references, citing and related papers."""
    from citations.actions.links import queue_chase

    if not settings.CHASE_ON_PUBLISH:
        return
    published = Case.objects.filter(citation_id=case.citation_id, status=workflow.PUBLISHED)
    if (
        case.status == workflow.PUBLISHED
        and published.count() == 1
        and not case.citation.links.exists()
    ):
        queue_chase(case.citation)


def request_changes(case: Case, by, comment: str, *, expected_version: int | None = None):
    return _decide(case, workflow.CHANGES_REQUESTED, by, comment, expected_version)


def reject_case(case: Case, by, comment: str, *, expected_version: int | None = None):
    return _decide(case, workflow.REJECTED, by, comment, expected_version)


def _decide(case: Case, to_status: str, by, comment: str, expected_version: int | None) -> Case:
    comment = stored_text(comment)
    rule = workflow.TRANSITIONS[(workflow.SUBMITTED, to_status)]
    if not has_role(by, REVIEWER):
        raise TransitionError(f"Only a reviewer may {rule.verb} a case.")
    with transaction.atomic():
        # revision_of never changes, so it can be read before the lock; which
        # rows to lock (and in which order) depends on it.
        original_id = (
            Case.objects.filter(pk=case.pk).values_list("revision_of_id", flat=True).first()
        )
        if original_id is not None and to_status == workflow.PUBLISHED:
            decided = _approve_revision(case.pk, original_id, by, comment, expected_version)
        else:
            locked = _lock_undecided(case.pk, expected_version)
            # transition() writes the event and queues its emails.
            decided = transition(locked, to_status, by, comment)
    if decided.pk == case.pk:
        case.refresh_from_db()
    return decided


def _lock_undecided(pk: int, expected_version: int | None) -> Case:
    """The case, locked, if it is still waiting for a decision; AlreadyDecided otherwise."""
    locked = Case.objects.select_for_update().filter(pk=pk).first()
    if locked is None:
        raise AlreadyDecided(
            "This case has already been decided: it was a revision and has been applied "
            "to the published case."
        )
    if locked.status != workflow.SUBMITTED:
        last = (
            CaseEvent.objects.transitions()
            .filter(case=locked)
            .select_related("actor")
            .order_by("-created_at", "-pk")
            .first()
        )
        who = f" by {last.actor.get_username()}" if last and last.actor_id else ""
        raise AlreadyDecided(
            f"This case has already been decided{who}: it is now "
            f"“{locked.get_status_display().lower()}”. Nothing was changed."
        )
    if expected_version is not None and locked.version != expected_version:
        raise Conflict(locked, expected_version)
    return locked


def _approve_revision(
    revision_pk: int, original_pk: int, by, comment: str, expected_version: int | None
) -> Case:
    # Lock order: the published case, then its revision (start_revision locks
    # the published case too), so two approvals queue up instead of deadlocking.
    original = Case.objects.select_for_update().get(pk=original_pk)
    revision = _lock_undecided(revision_pk, expected_version)
    permissions.check_transition(by, revision, workflow.PUBLISHED, comment)
    if original.status != workflow.PUBLISHED:  # pragma: no cover - no move leaves "published"
        raise TransitionError("The case this revision changes is no longer published.")

    for attname in _COPY_ATTNAMES:
        setattr(original, attname, getattr(revision, attname))
    original.version += 1
    original._history_user = by
    original._change_reason = f"revision (case {revision.pk}) approved"
    for name in _M2M:
        # simple-history snapshots M2M values on save, and records an M2M
        # change with the in-memory row: set them after the version bump.
        getattr(original, name).set(getattr(revision, name).all())
    original.full_clean(validate_constraints=False)
    original.save()
    _copy_children(revision, original, by, replace=True)

    # The revision's story becomes part of the published case's record.
    CaseEvent.objects.filter(case=revision).update(case=original)
    event = CaseEvent.objects.create(
        case=original,
        actor=by,
        role=primary_role(by),
        from_status=workflow.SUBMITTED,
        to_status=workflow.PUBLISHED,
        comment=_revision_note(revision, original, comment),
    )
    revision._history_user = by
    revision._change_reason = f"applied to case {original.pk}"
    revision.delete()
    notifications.queue_event_emails(event)
    return original


def _revision_note(revision: Case, original: Case, comment: str) -> str:
    note = f"Revision ({revision.number}) approved and applied: now version {original.version}."
    comment = (comment or "").strip()
    return f"{note}\n{comment}" if comment else note


def _copy_children(source: Case, target: Case, by, *, replace: bool) -> None:
    """Copy every kind of child row (ROW_KINDS) from source to target (replacing target's,
    if asked), and the figures; the target's evidence grade follows its new rows."""
    if replace:
        _apply_figures(source, target)
    else:
        for row in source.figures.order_by("position", "pk"):
            Figure.objects.create(case=target, **{f: getattr(row, f) for f in _FIGURE_COPY})
    for kind in ROW_KINDS.values():
        model, related = kind.model, kind.related_name
        columns = (*kind.attnames, "position")
        if replace:
            # One by one, so that each deletion is in the history with its user.
            for row in getattr(target, related).all():
                row._history_user = by
                row.delete()
        for row in getattr(source, related).order_by("position", "pk"):
            copy = model(case=target, **{c: getattr(row, c) for c in columns})
            copy._history_user = by
            copy.save()
    refresh_grade(target, by)


def _apply_figures(revision: Case, original: Case) -> None:
    """The revision's figures onto the published case. A figure the revision kept (the
    same file) keeps its row, so its address (/figures/<id>/...) stays the same;
    added ones are new rows, removed ones go."""
    published = {}
    for row in original.figures.order_by("position", "pk"):
        published.setdefault(row.sha256, row)
    kept = []
    for row in revision.figures.order_by("position", "pk"):
        values = {f: getattr(row, f) for f in _FIGURE_COPY}
        current = published.pop(row.sha256, None)
        if current is None:
            current = Figure(case=original)
        for name, value in values.items():
            setattr(current, name, value)
        current.save()
        kept.append(current.pk)
    original.figures.exclude(pk__in=kept).delete()


# -- revisions -------------------------------------------------------------------


@transaction.atomic
def start_revision(published_case: Case, by) -> Case:
    """A draft copy of a published case for `by` to edit; the public keeps the original."""
    if not has_role(by, CURATOR):
        raise NotEditable("Only a curator may propose a revision.")
    original = Case.objects.select_for_update().get(pk=published_case.pk)
    if original.status != workflow.PUBLISHED or original.revision_of_id:
        raise NotEditable("Only a published case can be revised.")
    open_revision = (
        original.revisions.filter(status__in=OPEN_STATUSES).select_related("created_by").first()
    )
    if open_revision is not None:
        mine = open_revision.created_by_id == by.pk
        raise RevisionExists(
            f"{original.number} already has an open revision ({open_revision.number})"
            + (
                " — yours: continue there."
                if mine
                else f" by {open_revision.created_by.get_username()}: one at a time."
            ),
            open_revision,
        )
    revision = Case(
        citation_id=original.citation_id,
        created_by=by,
        revision_of=original,
        **{attname: getattr(original, attname) for attname in _COPY_ATTNAMES},
    )
    revision._history_user = by
    revision._change_reason = f"revision of case {original.pk} (version {original.version})"
    revision.save()
    for name in _M2M:
        getattr(revision, name).set(getattr(original, name).all())
    revision.save(update_fields=["updated_at"])  # history snapshot with the M2M values
    _copy_children(original, revision, by, replace=False)
    return revision


@transaction.atomic
def report_same_patient(published_case: Case, citation, by) -> Case:
    """Add `citation` as another report of a published case's patient: a revision of the
    case (the curator's open one, or a new one) with the paper among its other reports,
    reviewed like any revision. The patient stays one case: counted once everywhere."""
    if (
        citation.pk == published_case.citation_id
        or published_case.other_citations.filter(pk=citation.pk).exists()
    ):
        raise CaseActionError(f"{citation} is already a report of {published_case.number}.")
    try:
        revision = start_revision(published_case, by)
    except RevisionExists as exc:
        if exc.revision.created_by_id != by.pk or exc.revision.status not in workflow.EDITABLE:
            raise
        revision = exc.revision
    others = list(revision.other_citations.all())
    if citation in others:
        raise CaseActionError(
            f"{citation} is already a report of this patient in your revision "
            f"{revision.number}: continue there."
        )
    from curation.actions.cases import update_case

    return update_case(
        revision, by=by, expected_version=revision.version, other_citations=[*others, citation]
    )


# -- comments ----------------------------------------------------------------------


@transaction.atomic
def comment_on_case(case: Case, by, text: str) -> CaseEvent:
    """A comment on a case's timeline, by its author or a reviewer who can see it.

    A comment is a CaseEvent of kind "comment" (it records the case's status
    and changes nothing) and is on the record like every decision. Drafts
    take no comments (nobody else can see them, and a draft with events is no
    longer a never-submitted draft that its curator may discard).
    """
    text = stored_text(text)
    if not text:
        raise CommentRefused("Write something first: the comment was empty.")
    if len(text) > COMMENT_MAX_LENGTH:
        raise CommentRefused(
            f"A comment can be at most {COMMENT_MAX_LENGTH} characters; this one has {len(text)}."
        )
    locked = Case.objects.visible_to(by).select_for_update().filter(pk=case.pk).first()
    if locked is not None and locked.status == workflow.DRAFT and locked.created_by_id == by.pk:
        # Nobody else can see a draft; its notes go in the case's own fields.
        raise CommentRefused("A draft is private: comments open once it is submitted.")
    if locked is None or not permissions.may_comment(by, locked):
        raise CommentRefused("Only the case's curator and reviewers may comment on it.")
    return CaseEvent.objects.create(
        case=locked,
        kind=CaseEvent.Kind.COMMENT,
        actor=by,
        role=primary_role(by),
        from_status=locked.status,
        to_status=locked.status,
        comment=text,
    )
