"""Public provenance of a published case: who curated and reviewed it, and its versions.

The public sees published versions only: the first publication and every
approved revision, each with its date, the reviewer who approved it and what
changed (fields from the case's field history, rows from the rows' history as
they stood at each publication — django-simple-history's `as_of`). Names are
shown as each person chose (accounts.models.public_name).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.utils import timezone

from accounts.models import public_name
from curation import diff, workflow
from curation.models import Case, CaseEvent

_TICK = timedelta(microseconds=1)
# What a public version history lists: the record's fields, not the workflow's.
PUBLIC_FIELDS = frozenset(
    {*diff.DIFF_FIELDS, "evidence_grade", "diagnosis_review", "diagnosis_review_comment"}
)


@dataclass(frozen=True)
class Version:
    number: int
    published_at: datetime
    approved_by: str
    changes: list[diff.Change] = field(default_factory=list)


@dataclass(frozen=True)
class Provenance:
    curated_by: str
    curated_at: datetime | None
    reviewed_by: str
    published_at: datetime | None
    versions: list[Version]


def _published_records(case: Case) -> list:
    """The last field-history record of each published version, oldest first."""
    records = {}
    for record in (
        case.history.filter(status=workflow.PUBLISHED)
        .select_related("history_user__public_name")
        .order_by("history_date", "history_id")
    ):
        records.setdefault(record.version, [])
        records[record.version].append(record)
    # The first record of a version is its publication (who and when); the last one
    # holds its final state (a grade refreshed after the rows were copied, say).
    return [(versions[0], versions[-1]) for _v, versions in sorted(records.items())]


def provenance(case: Case) -> Provenance:
    published = _published_records(case)
    first_publication = (
        CaseEvent.objects.transitions()
        .filter(case=case, to_status=workflow.PUBLISHED)
        .select_related("actor__public_name")
        .order_by("created_at", "pk")
        .first()
    )
    # The rows of a version are copied after its case row is saved: a version's rows are
    # as they stood just before the next version was published (or now, for the last).
    ends = [first.history_date - _TICK for first, _last in published[1:]] + [timezone.now()]
    versions: list[Version] = []
    for i, (first, last) in enumerate(published):
        changes = []
        if i:
            previous = published[i - 1][1]
            changes = [
                change
                for change in diff.version_changes(case, previous.version, last.version)
                if change.field in PUBLIC_FIELDS
            ]
            changes += diff.rows_changes_between(case, ends[i - 1], ends[i])
        versions.append(
            Version(
                number=last.version,
                published_at=first.history_date,
                approved_by=public_name(first.history_user),
                changes=changes,
            )
        )
    return Provenance(
        curated_by=public_name(case.created_by),
        curated_at=case.submitted_at or case.created_at,
        reviewed_by=public_name(first_publication.actor) if first_publication else "",
        published_at=case.published_at,
        versions=list(reversed(versions)),
    )
