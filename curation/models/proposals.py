"""Terms a curator proposed from the case form, waiting for a reviewer.

A curator who meets a diagnosis, marker, clone or gene that is not in the
vocabulary proposes it on the spot (name, code, source link); the case keeps
the proposal as its pending value. A reviewer then accepts it (the term joins
the vocabulary and the case takes it) or maps it to an existing term
(curation.actions.proposals).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q


class TermProposalQuerySet(models.QuerySet):
    def pending(self):
        return self.filter(status=TermProposal.Status.PENDING)


class TermProposal(models.Model):
    class Kind(models.TextChoices):
        DIAGNOSIS = "diagnosis", "Diagnosis"
        MARKER = "marker", "IHC marker"
        CLONE = "clone", "Antibody clone"
        GENE = "gene", "Gene"

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting for a reviewer"
        ACCEPTED = "accepted", "Accepted into the vocabulary"
        MAPPED = "mapped", "Mapped to an existing term"

    class Field(models.TextChoices):
        # Where on the case the pending value sits.
        FINAL_DIAGNOSIS = "final_diagnosis", "Final diagnosis"
        INITIAL_DIAGNOSIS = "initial_diagnosis", "Initial diagnosis"
        IHC_MARKER = "ihc_marker", "IHC result: marker"
        IHC_CLONE = "ihc_clone", "IHC result: clone"
        FUSION_FIVE = "fusion_five", "Fusion: 5' gene"
        FUSION_THREE = "fusion_three", "Fusion: 3' gene"

    kind = models.CharField(max_length=10, choices=Kind.choices)
    field = models.CharField(max_length=20, choices=Field.choices)
    case = models.ForeignKey("curation.Case", on_delete=models.CASCADE, related_name="proposals")
    text = models.CharField("proposed term", max_length=200)
    code = models.CharField(
        max_length=40, blank=True, help_text="ICD-O-3.2 code of a diagnosis, HGNC ID of a gene."
    )
    source_url = models.URLField("source link", max_length=500, blank=True)
    note = models.TextField(blank=True)
    # A clone proposal names its marker.
    marker = models.ForeignKey(
        "curation.Marker", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # The rest of the IHC or fusion row the pending term belongs to (result,
    # intensity... or the fusion as written and its other partner), so that
    # the row is recorded once the term is resolved.
    row = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="term_proposals"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="term_decisions",
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    # What it became: the term accepted or mapped to.
    diagnosis = models.ForeignKey(
        "curation.Diagnosis", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    marker_term = models.ForeignKey(
        "curation.Marker", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    clone_term = models.ForeignKey(
        "curation.Clone", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    gene = models.ForeignKey(
        "curation.Gene", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    objects = TermProposalQuerySet.as_manager()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(status="pending", decided_at__isnull=True)
                | (~Q(status="pending") & Q(decided_at__isnull=False)),
                name="curation_termproposal_decided_has_date",
            ),
            models.CheckConstraint(
                condition=~Q(kind="clone") | Q(marker__isnull=False),
                name="curation_termproposal_clone_has_marker",
            ),
        ]
        indexes = [
            # The review queue and a case's pending values: WHERE status = 'pending' (AND case_id).
            models.Index(fields=["status", "case"], name="curation_proposal_pending_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} “{self.text}” ({self.get_status_display().lower()})"

    @property
    def resolved_term(self):
        return self.diagnosis or self.marker_term or self.clone_term or self.gene

    @property
    def row_summary(self) -> str:
        """The row a pending marker or gene belongs to, in words."""
        if self.field == self.Field.IHC_MARKER:
            parts = [self.row.get("result", "")]
            parts += [self.row.get(k, "") for k in ("intensity", "extent")]
            return ", ".join(p for p in parts if p)
        if self.field in (self.Field.FUSION_FIVE, self.Field.FUSION_THREE):
            return self.row.get("as_reported", "")
        return ""
