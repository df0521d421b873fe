"""Error flags: anyone may report a possible error in a published case (issue 17)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q


class CaseFlagQuerySet(models.QuerySet):
    def open(self):
        return self.filter(status=CaseFlag.Status.OPEN)


class CaseFlag(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", "Open"
        REVISION = "revision", "Resolved: a revision was started"
        DISMISSED = "dismissed", "Dismissed"

    case = models.ForeignKey("curation.Case", on_delete=models.CASCADE, related_name="flags")
    message = models.TextField(help_text="What is wrong, e.g. “the age is 48 in the paper”.")
    email = models.EmailField(blank=True, help_text="Optional: to be told what was done.")
    # SHA-256 of the client's address with the secret key: enough to count a
    # client's flags for the rate limit, without keeping the address.
    client_key = models.CharField(max_length=64, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    reason = models.TextField(blank=True, help_text="Why it was dismissed.")
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="flags_resolved",
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    revision = models.ForeignKey(
        "curation.Case",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="flags_revised",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = CaseFlagQuerySet.as_manager()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["open", "revision", "dismissed"]),
                name="curation_caseflag_status_valid",
            ),
            models.CheckConstraint(
                condition=~Q(status="dismissed") | ~Q(reason=""),
                name="curation_caseflag_dismissed_has_reason",
                violation_error_message="Say why the flag is dismissed.",
            ),
        ]
        indexes = [
            # The curators' queue and the case page: WHERE status = 'open' (AND case_id = ...).
            models.Index(fields=["status", "case"], name="curation_caseflag_open_idx"),
            # The rate limit: a client's flags since a time.
            models.Index(fields=["client_key", "created_at"], name="curation_caseflag_rate_idx"),
        ]

    def __str__(self) -> str:
        return f"Flag {self.pk} on case {self.case_id} ({self.status})"
