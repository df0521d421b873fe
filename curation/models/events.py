"""The audit trail of a case's life: one row per status transition."""

from django.conf import settings
from django.db import models
from django.utils import timezone

from curation import workflow


class CaseEvent(models.Model):
    STATUS_CHOICES = [(s, s.replace("_", " ")) for s in workflow.STATUSES]

    case = models.ForeignKey("curation.Case", on_delete=models.CASCADE, related_name="events")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="case_events",
    )
    # The actor's role at the time (curation.roles.primary_role), kept even if
    # their groups change later.
    role = models.CharField(max_length=20, blank=True)
    from_status = models.CharField(max_length=20, choices=STATUS_CHOICES)
    to_status = models.CharField(max_length=20, choices=STATUS_CHOICES)
    comment = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            # A case's timeline: WHERE case_id = ... ORDER BY created_at.
            models.Index(fields=["case", "created_at"], name="curation_caseevent_case_idx"),
            # The activity feed: ORDER BY created_at DESC.
            models.Index(fields=["-created_at"], name="curation_caseevent_recent_idx"),
        ]

    def __str__(self) -> str:
        who = self.actor.get_username() if self.actor_id else "system"
        return f"{who}: {self.from_status} → {self.to_status}"
