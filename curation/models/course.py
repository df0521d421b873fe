"""The clinical course of a case: treatments, then events in time (child rows of a case).

Times are months from diagnosis, as the paper gives them; a time the paper does
not give stays empty. What the timeline may hold (no recurrence after the last
follow-up, nothing after death) is one rule, curation/course.py.
"""

from __future__ import annotations

from decimal import Decimal

from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from curation import course


def _months(value) -> str:
    if value is None:
        return ""
    value = value.normalize() if isinstance(value, Decimal) else value
    return f"{value:f}" if isinstance(value, Decimal) else str(value)


class Treatment(models.Model):
    Kind = models.TextChoices(
        "Kind", [(code.upper(), (code, label)) for code, label in course.TREATMENT_KINDS]
    )

    class Margins(models.TextChoices):
        NEGATIVE = "negative", "Negative (clear)"
        CLOSE = "close", "Close"
        POSITIVE = "positive", "Positive (involved)"

    case = models.ForeignKey("curation.Case", on_delete=models.CASCADE, related_name="treatments")
    kind = models.CharField(max_length=30, choices=Kind.choices)
    agent = models.CharField(
        max_length=200, blank=True, help_text="For systemic therapy: e.g. crizotinib."
    )
    margins = models.CharField(max_length=10, choices=Margins.choices, blank=True)
    months = models.DecimalField(
        "months from diagnosis", max_digits=6, decimal_places=1, null=True, blank=True
    )
    as_reported = models.CharField(max_length=300, blank=True, help_text="The paper's words.")
    position = models.PositiveSmallIntegerField(default=0)

    history = HistoricalRecords()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(months__isnull=True) | Q(months__gte=0),
                name="curation_treatment_months_nonnegative",
                violation_error_message="Months from diagnosis cannot be negative.",
            ),
            models.CheckConstraint(
                condition=~Q(kind="systemic") | ~Q(agent=""),
                name="curation_treatment_systemic_has_agent",
                violation_error_message="Name the agent of a systemic therapy (e.g. crizotinib).",
            ),
        ]
        indexes = [
            # Facet and filter: cases treated by a kind of treatment.
            models.Index(fields=["kind", "case"], name="curation_treatment_kind_idx"),
        ]

    def __str__(self) -> str:
        return self.display

    @property
    def display(self) -> str:
        """“Systemic therapy (crizotinib), margins negative, at 3 months”."""
        text = self.get_kind_display()
        if self.agent:
            text += f" ({self.agent})"
        if self.margins:
            text += f", margins {self.margins}"
        if self.months is not None:
            text += f", at {_months(self.months)} months"
        return text


class ClinicalEvent(models.Model):
    """Something that happened after diagnosis: recurrence, metastasis, death."""

    Kind = models.TextChoices(
        "Kind", [(code.upper(), (code, label)) for code, label in course.EVENT_KINDS]
    )

    DEATHS = frozenset({Kind.DEATH_OF_DISEASE, Kind.DEATH_OTHER_CAUSE})
    METASTASES = frozenset({Kind.REGIONAL_METASTASIS, Kind.DISTANT_METASTASIS, Kind.METASTASIS})

    case = models.ForeignKey(
        "curation.Case", on_delete=models.CASCADE, related_name="clinical_events"
    )
    kind = models.CharField(max_length=30, choices=Kind.choices)
    months = models.DecimalField(
        "months from diagnosis",
        max_digits=6,
        decimal_places=1,
        null=True,
        blank=True,
        help_text="Empty when the paper does not say when.",
    )
    site = models.CharField(
        max_length=200, blank=True, help_text="For a metastasis: where (e.g. lung)."
    )
    as_reported = models.CharField(max_length=300, blank=True, help_text="The paper's words.")
    position = models.PositiveSmallIntegerField(default=0)

    history = HistoricalRecords()

    class Meta:
        verbose_name = "clinical event"
        constraints = [
            models.CheckConstraint(
                condition=Q(months__isnull=True) | Q(months__gte=0),
                name="curation_clinicalevent_months_nonnegative",
                violation_error_message="Months from diagnosis cannot be negative.",
            ),
        ]
        indexes = [
            # Facet and filter, and recurrence rates: cases with an event of a kind.
            models.Index(fields=["kind", "case"], name="curation_clinevent_kind_idx"),
        ]

    def __str__(self) -> str:
        return self.display

    @property
    def display(self) -> str:
        """“Distant metastasis (lung) at 14 months”; “Local recurrence (time not reported)”."""
        text = self.get_kind_display()
        if self.site:
            text += f" ({self.site})"
        if self.months is None:
            return text + " (time not reported)"
        return text + f" at {_months(self.months)} months"
