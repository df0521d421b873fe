"""The audit trail of a case's life: one row per status transition or comment."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from curation import workflow


class CaseEventQuerySet(models.QuerySet):
    def transitions(self):
        return self.filter(kind=CaseEvent.Kind.TRANSITION)

    def comments(self):
        return self.filter(kind=CaseEvent.Kind.COMMENT)

    def submissions(self):
        """Every time someone sent the case to review (a submission or a resubmission)."""
        return self.transitions().filter(to_status=workflow.SUBMITTED)

    def submitter_id(self, case, *, before=None) -> int | None:
        """Who made the case's latest submission (before the event `before`, if given).

        The one answer to "whose submission is this?": a reviewer who only
        commented on it did not submit it. One query.
        """
        submissions = self.submissions().filter(case=case)
        if before is not None:
            submissions = submissions.filter(created_at__lte=before.created_at).exclude(
                pk=before.pk
            )
        return (
            submissions.order_by("-created_at", "-pk").values_list("actor_id", flat=True).first()
        )


class CaseEvent(models.Model):
    STATUS_CHOICES = [(s, s.replace("_", " ")) for s in workflow.STATUSES]

    class Kind(models.TextChoices):
        TRANSITION = "transition", "Status change"
        COMMENT = "comment", "Comment"

    case = models.ForeignKey("curation.Case", on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.TRANSITION)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="case_events",
    )
    # The actor's role at the time (accounts.roles.primary_role), kept even if
    # their groups change later.
    role = models.CharField(max_length=20, blank=True)
    # A comment records the status the case had when it was written (both fields).
    from_status = models.CharField(max_length=20, choices=STATUS_CHOICES)
    to_status = models.CharField(max_length=20, choices=STATUS_CHOICES)
    comment = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = CaseEventQuerySet.as_manager()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(kind="comment", from_status=F("to_status"))
                | (Q(kind="transition") & ~Q(from_status=F("to_status"))),
                name="curation_caseevent_kind_matches_statuses",
                violation_error_message=(
                    "A comment keeps the case's status; a transition changes it."
                ),
            ),
        ]
        indexes = [
            # A case's timeline: WHERE case_id = ... ORDER BY created_at.
            models.Index(fields=["case", "created_at"], name="curation_caseevent_case_idx"),
            # The activity feed: ORDER BY created_at DESC.
            models.Index(fields=["-created_at"], name="curation_caseevent_recent_idx"),
        ]

    def __str__(self) -> str:
        who = self.actor.get_username() if self.actor_id else "system"
        if self.is_comment:
            return f"{who}: comment ({self.to_status})"
        return f"{who}: {self.from_status} → {self.to_status}"

    @property
    def is_comment(self) -> bool:
        return self.kind == self.Kind.COMMENT


class VocabularyEdit(models.Model):
    """One change to a vocabulary term in the admin: who, when, and the term before and after.

    Vocabularies are what every case is coded with: an edit (a renamed
    diagnosis, a corrected ICD-O code, a new clone) changes what published
    cases say, so each one is kept and shown in the activity log.
    """

    class Action(models.TextChoices):
        ADDED = "added", "added"
        CHANGED = "changed", "changed"
        DELETED = "deleted", "deleted"

    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    action = models.CharField(max_length=10, choices=Action.choices)
    vocabulary = models.CharField(max_length=50, help_text="The term's kind: diagnosis, gene…")
    term_id = models.BigIntegerField()
    term = models.CharField(max_length=300, help_text="The term's name when it was edited.")
    before = models.JSONField(default=dict, blank=True)
    after = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ("-created_at", "-pk")

    def __str__(self) -> str:
        return f"{self.vocabulary} “{self.term}” {self.action}"

    @property
    def changes(self) -> list[tuple[str, object, object]]:
        """(field, before, after) for every field whose value differs."""
        names = list(dict.fromkeys([*self.before, *self.after]))
        return [
            (name, self.before.get(name), self.after.get(name))
            for name in names
            if self.before.get(name) != self.after.get(name)
        ]
