"""The case record: one patient as reported in a paper."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.contrib.postgres.search import SearchVectorField
from django.db import models
from django.db.models import Q
from django.urls import reverse
from simple_history.models import HistoricalRecords

from accounts.roles import REVIEWER, has_role
from curation import workflow


class CaseQuerySet(models.QuerySet):
    def published(self):
        return self.filter(status=Case.Status.PUBLISHED)

    def visible_to(self, user):
        """What a user may look at: the public sees published cases only.

        A curator also sees the cases they created; a reviewer also sees every
        case that has been submitted at least once (not others' private drafts).
        """
        if not getattr(user, "is_authenticated", False):
            return self.published()
        visible = Q(status=Case.Status.PUBLISHED) | Q(created_by=user)
        if has_role(user, REVIEWER):
            visible |= Q(
                status__in=[
                    Case.Status.SUBMITTED,
                    Case.Status.CHANGES_REQUESTED,
                    Case.Status.REJECTED,
                ]
            )
        return self.filter(visible)

    def with_fusion(self, text: str):
        """Cases with a fusion matching `text` as any paper writes it (CARS-ALK...)."""
        from curation.models.findings import FusionFinding

        matching = FusionFinding.objects.matching(text).filter(case=models.OuterRef("pk"))
        return self.filter(models.Exists(matching))


class Case(models.Model):
    class Status(models.TextChoices):
        DRAFT = workflow.DRAFT, "Draft"
        SUBMITTED = workflow.SUBMITTED, "Submitted for review"
        CHANGES_REQUESTED = workflow.CHANGES_REQUESTED, "Changes requested"
        PUBLISHED = workflow.PUBLISHED, "Published"
        REJECTED = workflow.REJECTED, "Rejected"

    class AgeUnit(models.TextChoices):
        YEARS = "years", "years"
        MONTHS = "months", "months"
        WEEKS = "weeks", "weeks"
        DAYS = "days", "days"

    class Sex(models.TextChoices):
        FEMALE = "female", "Female"
        MALE = "male", "Male"

    class Laterality(models.TextChoices):
        LEFT = "left", "Left"
        RIGHT = "right", "Right"
        MIDLINE = "midline", "Midline"
        BILATERAL = "bilateral", "Bilateral"

    class CellType(models.TextChoices):
        SPINDLE = "spindle", "Spindle cells"
        EPITHELIOID = "epithelioid", "Epithelioid cells"
        MIXED = "mixed", "Spindle and epithelioid cells"
        PLEOMORPHIC = "pleomorphic", "Pleomorphic cells"
        ROUND = "round", "Round cells"
        OTHER = "other", "Other"

    class Depth(models.TextChoices):
        DERMIS = "dermis", "Dermis"
        DERMIS_SUBCUTIS = "dermis_subcutis", "Dermis and subcutis"
        SUBCUTIS = "subcutis", "Subcutis"
        DEEP = "deep", "Beyond the subcutis (fascia, muscle)"

    class EpidermalInvolvement(models.TextChoices):
        NONE = "none", "No connection to or infiltration of the epidermis"
        CONNECTION = "connection", "Connected to the epidermis"
        INFILTRATION = "infiltration", "Infiltrates the epidermis"
        ULCERATION = "ulceration", "Ulcerated"

    class Outcome(models.TextChoices):
        NED = "ned", "No evidence of disease"
        RECURRENCE = "recurrence", "Local recurrence"
        METASTASIS = "metastasis", "Metastasis"
        AWD = "awd", "Alive with disease"
        DOD = "dod", "Died of disease"
        DOC = "doc", "Died of other causes"

    # -- the source ----------------------------------------------------------
    citation = models.ForeignKey(
        "citations.Citation", on_delete=models.PROTECT, related_name="cases"
    )
    other_citations = models.ManyToManyField(
        "citations.Citation",
        blank=True,
        related_name="other_cases",
        help_text="Other reports of the same patient.",
    )
    label = models.CharField(
        "label in the paper", max_length=100, blank=True, help_text="e.g. “Case 2”."
    )

    # -- the patient ---------------------------------------------------------
    age = models.DecimalField(max_digits=5, decimal_places=1, null=True, blank=True)
    age_unit = models.CharField(max_length=10, choices=AgeUnit.choices, blank=True)
    sex = models.CharField(max_length=10, choices=Sex.choices, blank=True)

    # -- the lesion ----------------------------------------------------------
    topography = models.ForeignKey(
        "curation.Topography",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="cases",
    )
    site_detail = models.CharField(max_length=200, blank=True, help_text="e.g. “posterior scalp”.")
    laterality = models.CharField(max_length=10, choices=Laterality.choices, blank=True)
    size_mm = models.DecimalField(
        "size (mm)",
        max_digits=6,
        decimal_places=1,
        null=True,
        blank=True,
        help_text="Greatest dimension.",
    )
    clinical_presentation = models.TextField(blank=True)
    duration = models.CharField(max_length=200, blank=True, help_text="As reported.")
    clinical_diagnosis = models.CharField(
        "clinical diagnosis",
        max_length=300,
        blank=True,
        help_text="The clinician's impression, as written.",
    )
    initial_diagnosis = models.ForeignKey(
        "curation.Diagnosis",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="initial_in_cases",
        help_text="The first (clinical or pathological) diagnosis, if it was revised.",
    )
    final_diagnosis = models.ForeignKey(
        "curation.Diagnosis",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="cases",
    )
    differentials = models.ManyToManyField(
        "curation.Diagnosis",
        blank=True,
        related_name="differential_in_cases",
        verbose_name="differential diagnoses considered",
    )

    # -- histology -----------------------------------------------------------
    histology = models.TextField("histology (description)", blank=True)
    histology_pattern = models.CharField("architecture / pattern", max_length=200, blank=True)
    cell_type = models.CharField(max_length=20, choices=CellType.choices, blank=True)
    inflammatory_background = models.CharField(max_length=200, blank=True)
    depth = models.CharField(max_length=20, choices=Depth.choices, blank=True)
    epidermal_involvement = models.CharField(
        max_length=20, choices=EpidermalInvolvement.choices, blank=True
    )

    # -- treatment and outcome -----------------------------------------------
    treatment = models.TextField(blank=True)
    follow_up_months = models.DecimalField(
        "follow-up (months)", max_digits=6, decimal_places=1, null=True, blank=True
    )
    outcome = models.CharField(max_length=20, choices=Outcome.choices, blank=True)
    notes = models.TextField(blank=True)

    # -- search --------------------------------------------------------------
    # Full-text document (citation title A, case text B, abstract and notes C),
    # written by PostgreSQL triggers so that no code path can forget it
    # (migration 0004_search_vector_and_facet_indexes; curation/search/fulltext.py). A GIN index
    # on it, created on PostgreSQL only, serves `search_vector @@ query`.
    # Always NULL on SQLite, where search falls back to icontains.
    search_vector = SearchVectorField(null=True, editable=False)

    # -- workflow ------------------------------------------------------------
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.DRAFT)
    # Optimistic locking: every write through curation.actions bumps it, and a
    # write that was prepared against an older version is refused.
    version = models.PositiveIntegerField(default=1)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="cases_created"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    published_at = models.DateTimeField(null=True, blank=True)
    # A revision draft of a published case: the public keeps seeing the
    # published one until the revision is approved.
    revision_of = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="revisions"
    )

    history = HistoricalRecords(
        m2m_fields=[other_citations, differentials], excluded_fields=["search_vector"]
    )
    objects = CaseQuerySet.as_manager()

    class Meta:
        permissions = [("review_case", "Can publish, send back or reject a submitted case")]
        constraints = [
            # A revision repeats its original's label, hence the condition.
            models.UniqueConstraint(
                fields=["citation", "label"],
                condition=~Q(label="") & Q(revision_of__isnull=True),
                name="curation_case_label_unique",
                violation_error_message="This paper already has a case with this label.",
            ),
            models.UniqueConstraint(
                fields=["revision_of"],
                condition=Q(
                    revision_of__isnull=False,
                    status__in=[workflow.DRAFT, workflow.SUBMITTED, workflow.CHANGES_REQUESTED],
                ),
                name="curation_case_one_open_revision",
                violation_error_message="This case already has an open revision.",
            ),
            models.CheckConstraint(
                condition=Q(age__isnull=True) | Q(age__gte=0),
                name="curation_case_age_nonnegative",
                violation_error_message="Age cannot be negative.",
            ),
            models.CheckConstraint(
                condition=Q(age__isnull=True) | ~Q(age_unit=""),
                name="curation_case_age_has_unit",
                violation_error_message="Give the unit of the age (years, months...).",
            ),
            models.CheckConstraint(
                condition=Q(size_mm__isnull=True) | Q(size_mm__gte=0),
                name="curation_case_size_nonnegative",
                violation_error_message="Size cannot be negative.",
            ),
            models.CheckConstraint(
                condition=Q(follow_up_months__isnull=True) | Q(follow_up_months__gte=0),
                name="curation_case_follow_up_nonnegative",
                violation_error_message="Follow-up cannot be negative.",
            ),
            models.CheckConstraint(
                condition=Q(follow_up_months__isnull=True) | ~Q(outcome=""),
                name="curation_case_follow_up_needs_outcome",
                violation_error_message="Give the outcome at follow-up, or leave follow-up empty.",
            ),
            models.CheckConstraint(
                condition=Q(status__in=workflow.STATUSES), name="curation_case_status_valid"
            ),
            models.CheckConstraint(
                condition=~Q(status=workflow.PUBLISHED) | Q(published_at__isnull=False),
                name="curation_case_published_has_date",
            ),
        ]
        indexes = [
            # Published cases, newest first (home page, case lists, feeds).
            models.Index(fields=["status", "-published_at"], name="curation_case_pub_idx"),
            # Search facets and filters over published cases
            # (curation/search/engine.py, compute_facets):
            # WHERE status = 'published' GROUP BY final_diagnosis_id (and the dx filter)
            models.Index(fields=["status", "final_diagnosis"], name="curation_case_dx_idx"),
            # ... GROUP BY topography_id / WHERE topography_id IN (...)
            models.Index(fields=["status", "topography"], name="curation_case_topo_idx"),
            # ... GROUP BY sex, outcome; and the age band facet and "sort by age".
            models.Index(fields=["status", "sex"], name="curation_case_sex_idx"),
            models.Index(fields=["status", "outcome"], name="curation_case_outcome_idx"),
            models.Index(fields=["status", "age_unit", "age"], name="curation_case_age_idx"),
        ]

    def __str__(self) -> str:
        return self.reference

    def get_absolute_url(self) -> str:
        return reverse("curation:case_detail", args=[self.pk])

    # One way of naming a case on every page, e-mail and export: the
    # registry's number, then the label the paper gave it.
    @property
    def number(self) -> str:
        """“RareDerm #7”."""
        return f"RareDerm #{self.pk}" if self.pk else "RareDerm (new case)"

    @property
    def label_in_paper(self) -> str:
        """'"Case 2" in the paper' (with typographic quotes); "" when the paper gave none."""
        return f"“{self.label}” in the paper" if self.label else ""

    @property
    def reference(self) -> str:
        """'RareDerm #7 · "Case 2" in the paper' (with typographic quotes)."""
        return " · ".join(part for part in (self.number, self.label_in_paper) if part)

    @property
    def is_published(self) -> bool:
        return self.status == self.Status.PUBLISHED

    @property
    def age_display(self) -> str:
        """“38 years”; “18 months”; "" when not reported."""
        if self.age is None:
            return ""
        age = self.age.normalize() if isinstance(self.age, Decimal) else self.age
        value = f"{age:f}" if isinstance(age, Decimal) else str(age)
        unit = self.get_age_unit_display()
        if value == "1" and unit.endswith("s"):
            unit = unit[:-1]
        return f"{value} {unit}".strip()

    @property
    def site_display(self) -> str:
        parts = [
            self.get_laterality_display().lower() if self.laterality else "",
            self.site_detail,
        ]
        return " ".join(p for p in parts if p)
