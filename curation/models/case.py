"""The case record: one patient as reported in a paper."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.contrib.postgres.search import SearchVectorField
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.db.models.functions import Coalesce
from django.urls import reverse
from simple_history.models import HistoricalRecords

from accounts.roles import REVIEWER, has_role
from curation import molecular, workflow
from curation.models.vocabulary import Diagnosis

# A case whose primary paper PubMed marks retracted (citations' retraction watch).
PAPER_RETRACTED = Q(citation__retracted=True)


class CaseQuerySet(models.QuerySet):
    def published(self):
        return self.filter(status=Case.Status.PUBLISHED)

    def counted(self, *, retracted: bool = False):
        """The published cases that statistics, summaries, entity pages, stain tables and
        the search count: a case whose primary paper PubMed marks retracted is left out,
        unless `retracted` (the search's `retracted=include`) brings it back.

        The one place of this rule (README, "Retraction and correction watch").
        """
        cases = self.published()
        return cases if retracted else cases.exclude(PAPER_RETRACTED)

    def left_out(self):
        """The published cases `counted` leaves out by default."""
        return self.published().filter(PAPER_RETRACTED)

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

    def with_record(self):
        """Every field and every kind of row of the cases, as their pages and the API show
        them, in a fixed number of queries (one per kind of row)."""
        from curation.models.course import ClinicalEvent, Treatment
        from curation.models.findings import FusionFinding, IHCResult, MolecularFinding

        def ordered(model):
            return model.objects.order_by("position", "pk")

        return self.select_related(
            "citation",
            "topography",
            "final_diagnosis__family",
            "initial_diagnosis",
            "reported_diagnosis",
            "created_by__public_name",
        ).prefetch_related(
            models.Prefetch(
                "ihc_results", queryset=ordered(IHCResult).select_related("marker__gene")
            ),
            models.Prefetch(
                "fusions",
                queryset=ordered(FusionFinding).select_related(
                    "five_prime_gene", "three_prime_gene"
                ),
            ),
            models.Prefetch(
                "molecular_findings", queryset=ordered(MolecularFinding).select_related("gene")
            ),
            models.Prefetch("treatments", queryset=ordered(Treatment)),
            models.Prefetch("clinical_events", queryset=ordered(ClinicalEvent)),
            models.Prefetch("differentials", queryset=Diagnosis.objects.order_by("name")),
        )

    def with_open_flags(self):
        """Each case with `open_flags`: how many readers' error flags are open (a subquery)."""
        from curation.models.flag import CaseFlag

        count = (
            CaseFlag.objects.open()
            .filter(case=models.OuterRef("pk"))
            .order_by()
            .values("case")
            .annotate(n=models.Count("pk"))
            .values("n")
        )
        return self.annotate(open_flags=Coalesce(models.Subquery(count), models.Value(0)))

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
        # The status at the last follow-up; what happened before it (recurrence,
        # metastasis) is a ClinicalEvent with its time.
        NED = "ned", "No evidence of disease"
        AWD = "awd", "Alive with disease"
        DOD = "dod", "Died of disease"
        DOC = "doc", "Died of other causes"

    class SourceDepth(models.TextChoices):
        ABSTRACT = "abstract", "Abstract only"
        FULL_TEXT = "full_text", "Full text"
        FULL_TEXT_FIGURES = "full_text_figures", "Full text and figures"

    class Presence(models.TextChoices):
        PRESENT = "present", "Present"
        ABSENT = "absent", "Absent"

    class MitosesUnit(models.TextChoices):
        PER_MM2 = "per_mm2", "per mm²"
        PER_10_HPF = "per_10_hpf", "per 10 HPF"

    class Focality(models.TextChoices):
        SOLITARY = "solitary", "Solitary"
        MULTIFOCAL = "multifocal", "Multifocal"

    class DiagnosisReview(models.TextChoices):
        AGREES = "agrees", "The reviewer agrees with the current diagnosis"
        DISAGREES = "disagrees", "The reviewer does not agree"

    Grade = models.TextChoices(
        "Grade", [(code, (code, label)) for code, label in molecular.GRADE_CHOICES]
    )

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
    source_depth = models.CharField(
        "curated from",
        max_length=20,
        choices=SourceDepth.choices,
        blank=True,
        help_text="What the curator read: the abstract only, the full text, or its figures too.",
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
    differentials_as_reported = models.TextField(
        "differential diagnoses as reported",
        blank=True,
        help_text="The paper's list, including terms the vocabulary does not hold.",
    )
    # The diagnosis the paper gave, beside the current (WHO 5th edition) one above:
    # older papers call an EFH "dermatofibroma", an ALK Spitz tumour "Spitz naevus".
    diagnosis_as_reported = models.CharField(
        "diagnosis as reported", max_length=300, blank=True, help_text="The paper's words."
    )
    reported_diagnosis = models.ForeignKey(
        "curation.Diagnosis",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="reported_in_cases",
        verbose_name="diagnosis as reported (term)",
    )
    diagnosis_review = models.CharField(
        "reviewer on the current diagnosis",
        max_length=10,
        choices=DiagnosisReview.choices,
        blank=True,
    )
    diagnosis_review_comment = models.TextField("reviewer's reason", blank=True)

    # -- histology -----------------------------------------------------------
    histology = models.TextField("histology (description)", blank=True)
    histology_pattern = models.CharField("architecture / pattern", max_length=200, blank=True)
    cell_type = models.CharField(max_length=20, choices=CellType.choices, blank=True)
    inflammatory_background = models.CharField(max_length=200, blank=True)
    depth = models.CharField(max_length=20, choices=Depth.choices, blank=True)
    depth_mm = models.DecimalField(
        "depth (mm)", max_digits=5, decimal_places=1, null=True, blank=True
    )
    epidermal_involvement = models.CharField(
        max_length=20, choices=EpidermalInvolvement.choices, blank=True
    )
    mitoses = models.DecimalField("mitoses", max_digits=6, decimal_places=1, null=True, blank=True)
    mitoses_unit = models.CharField(
        "mitoses per", max_length=12, choices=MitosesUnit.choices, blank=True
    )
    necrosis = models.CharField(max_length=10, choices=Presence.choices, blank=True)
    lymphovascular_invasion = models.CharField(max_length=10, choices=Presence.choices, blank=True)
    perineural_invasion = models.CharField(max_length=10, choices=Presence.choices, blank=True)
    focality = models.CharField(
        "multifocality", max_length=12, choices=Focality.choices, blank=True
    )

    # -- treatment and outcome -----------------------------------------------
    treatment = models.TextField("treatment as reported", blank=True)
    follow_up_months = models.DecimalField(
        "last follow-up (months)", max_digits=6, decimal_places=1, null=True, blank=True
    )
    outcome = models.CharField(
        "status at last follow-up", max_length=20, choices=Outcome.choices, blank=True
    )
    notes = models.TextField(blank=True)

    # -- evidence ------------------------------------------------------------
    # The grade the findings support (curation/molecular.supported_grade), or lower
    # when a curator lowered it with a reason; kept current by curation.actions on
    # every write (so that search, facets and exports read a column).
    evidence_grade = models.CharField(
        max_length=1, choices=Grade.choices, default="D", editable=False
    )
    grade_lowered_to = models.CharField(
        "grade lowered to", max_length=1, choices=Grade.choices, blank=True
    )
    grade_lowered_reason = models.TextField("why the grade was lowered", blank=True)

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
                condition=Q(grade_lowered_to="") | ~Q(grade_lowered_reason=""),
                name="curation_case_lowered_grade_has_reason",
                violation_error_message="Say why the grade was lowered.",
            ),
            models.CheckConstraint(
                condition=Q(evidence_grade__in=molecular.GRADES),
                name="curation_case_grade_valid",
            ),
            models.CheckConstraint(
                condition=Q(mitoses__isnull=True) | ~Q(mitoses_unit=""),
                name="curation_case_mitoses_have_unit",
                violation_error_message="Say whether mitoses are per mm² or per 10 HPF.",
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
            # ... GROUP BY evidence_grade, source_depth (and their filters).
            models.Index(fields=["status", "evidence_grade"], name="curation_case_grade_idx"),
            models.Index(fields=["status", "source_depth"], name="curation_case_source_idx"),
        ]

    def __str__(self) -> str:
        return self.reference

    def get_absolute_url(self) -> str:
        return reverse("curation:case_detail", args=[self.pk])

    def clean(self):
        # A rule of the form and the actions (not a database constraint: cases migrated
        # from the old "recurrence" outcome have a follow-up and no status until a
        # curator gives it, migration 0016).
        if self.follow_up_months is not None and not self.outcome:
            raise ValidationError(
                {"outcome": "Give the status at the last follow-up, or leave follow-up empty."}
            )

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
