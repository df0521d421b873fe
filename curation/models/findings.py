"""What a case's tests found: IHC results, gene fusions and other molecular findings."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from simple_history.models import HistoricalRecords

from curation import molecular
from curation.notation import NotationError, format_fusion, parse_fusion


class IHCResult(models.Model):
    class Result(models.TextChoices):
        POSITIVE = "positive", "Positive"
        NEGATIVE = "negative", "Negative"
        EQUIVOCAL = "equivocal", "Equivocal"
        NOT_REPORTED = "not_reported", "Not reported"  # stained, result not given
        NOT_PERFORMED = "not_performed", "Not performed"  # the paper says it was not done

    class Extent(models.TextChoices):
        DIFFUSE = "diffuse", "Diffuse"
        PATCHY = "patchy", "Patchy"
        FOCAL = "focal", "Focal"

    class Pattern(models.TextChoices):
        # The staining pattern is a controlled list: for ALK it hints at the partner
        # (nuclear and cytoplasmic with NPM1, membranous with EML4...).
        MEMBRANOUS = "membranous", "Membranous"
        CYTOPLASMIC = "cytoplasmic", "Cytoplasmic (smooth)"
        CYTOPLASMIC_GRANULAR = "cytoplasmic_granular", "Cytoplasmic granular"
        MEMBRANOUS_CYTOPLASMIC = "membranous_cytoplasmic", "Membranous and cytoplasmic"
        NUCLEAR = "nuclear", "Nuclear"
        NUCLEAR_CYTOPLASMIC = "nuclear_cytoplasmic", "Nuclear and cytoplasmic"
        NUCLEAR_MEMBRANOUS = "nuclear_membranous", "Nuclear membranous"
        PERINUCLEAR_DOT = "perinuclear_dot", "Perinuclear / dot-like"
        LOSS = "loss", "Loss of expression (nuclear)"
        OTHER = "other", "Other (see as reported)"

    class Intensity(models.TextChoices):
        STRONG = "strong", "Strong"
        MODERATE = "moderate", "Moderate"
        WEAK = "weak", "Weak"
        VARIABLE = "variable", "Variable"

    case = models.ForeignKey("curation.Case", on_delete=models.CASCADE, related_name="ihc_results")
    marker = models.ForeignKey("curation.Marker", on_delete=models.PROTECT, related_name="results")
    # The clone as the curator entered it; `clone_term` is set when it is one of the
    # marker's known clones (the controlled list), else the text is an "other" clone.
    clone = models.CharField(max_length=100, blank=True, help_text="e.g. 5A4, D5F3, ALK1.")
    clone_term = models.ForeignKey(
        "curation.Clone",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="results",
        verbose_name="clone (controlled list)",
    )
    result = models.CharField(max_length=20, choices=Result.choices)
    extent = models.CharField(max_length=10, choices=Extent.choices, blank=True)
    intensity = models.CharField(max_length=10, choices=Intensity.choices, blank=True)
    pattern = models.CharField(
        "staining pattern", max_length=100, choices=Pattern.choices, blank=True
    )
    percent_cells = models.PositiveSmallIntegerField("% cells", null=True, blank=True)
    as_reported = models.TextField(blank=True, help_text="The paper's words.")
    # Order on the case page (as in the paper's table).
    position = models.PositiveSmallIntegerField(default=0)

    history = HistoricalRecords()

    class Meta:
        verbose_name = "IHC result"
        constraints = [
            models.CheckConstraint(
                condition=Q(percent_cells__isnull=True) | Q(percent_cells__lte=100),
                name="curation_ihcresult_percent_range",
                violation_error_message="The percentage of cells is between 0 and 100.",
            ),
            models.CheckConstraint(
                condition=Q(
                    result__in=[
                        "positive",
                        "negative",
                        "equivocal",
                        "not_reported",
                        "not_performed",
                    ]
                ),
                name="curation_ihcresult_result_valid",
            ),
        ]
        indexes = [
            # Search: cases positive for a marker (WHERE marker_id = ... AND result = ...).
            models.Index(fields=["marker", "result"], name="curation_ihc_marker_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.marker}: {self.get_result_display().lower()}"

    @property
    def summary(self) -> str:
        """“positive, strong, diffuse” — what the result table and summary show."""
        parts = [self.get_result_display().lower()]
        if self.intensity:
            parts.append(self.get_intensity_display().lower())
        if self.extent:
            parts.append(self.get_extent_display().lower())
        if self.percent_cells is not None:
            parts.append(f"{self.percent_cells}% of cells")
        return ", ".join(parts)


class FusionFindingQuerySet(models.QuerySet):
    def matching(self, text: str):
        """Findings matching a fusion as any paper writes it.

        `CARS-ALK`, `CARS/ALK`, `CARS1-ALK` and `CARS1::ALK` all find
        CARS1::ALK: the text is parsed, each partner resolved (approved >
        previous > alias symbol); an ambiguous partner matches any of its
        candidates, an unknown one matches nothing. `?::ALK` or
        `ALK rearrangement` finds every ALK finding, partner known or not.
        """
        from curation.models.vocabulary import is_gene_symbol, resolve_gene

        try:
            parsed = parse_fusion(text, is_symbol=is_gene_symbol)
        except NotationError:
            return self.none()
        query = self
        partners = [("three_prime_gene", parsed.three_prime)]
        if parsed.five_prime is not None:
            partners.append(("five_prime_gene", parsed.five_prime))
        for field, symbol in partners:
            found = resolve_gene(symbol)
            genes = [found.gene] if found.gene else found.candidates
            if not genes:
                return self.none()
            query = query.filter(**{f"{field}__in": genes})
        return query


class FusionFinding(models.Model):
    # One controlled list of methods for every molecular finding (curation/molecular.py).
    Method = models.TextChoices(
        "Method", [(code.upper(), (code, label)) for code, label in molecular.METHOD_CHOICES]
    )

    class PartnerStatus(models.TextChoices):
        KNOWN = "known", "Partner known"
        UNKNOWN = "unknown", "Partner unknown (e.g. break-apart FISH)"
        MULTIPLE = "multiple", "Several partners reported"

    case = models.ForeignKey("curation.Case", on_delete=models.CASCADE, related_name="fusions")
    # Null: the partner is unknown (a break-apart FISH shows only the rearranged gene).
    five_prime_gene = models.ForeignKey(
        "curation.Gene",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="fusions_as_five_prime",
        verbose_name="5' gene",
    )
    three_prime_gene = models.ForeignKey(
        "curation.Gene",
        on_delete=models.PROTECT,
        related_name="fusions_as_three_prime",
        verbose_name="3' gene",
    )
    partner_status = models.CharField(
        max_length=10, choices=PartnerStatus.choices, default=PartnerStatus.KNOWN
    )
    five_prime_transcript = models.CharField(
        "5' transcript",
        max_length=20,
        blank=True,
        help_text="RefSeq accession with its version (NM_…).",
    )
    three_prime_transcript = models.CharField(
        "3' transcript",
        max_length=20,
        blank=True,
        help_text="RefSeq accession with its version (NM_…).",
    )
    five_prime_exon = models.CharField("5' exon", max_length=20, blank=True)
    three_prime_exon = models.CharField("3' exon", max_length=20, blank=True)
    breakpoint = models.CharField(
        "breakpoint as reported", max_length=300, blank=True, help_text="The paper's words."
    )
    method = models.CharField(max_length=30, choices=Method.choices, blank=True)
    assay = models.CharField(
        "assay as reported",
        max_length=200,
        blank=True,
        help_text="The paper's name for the test, e.g. “targeted RNA sequencing”.",
    )
    as_reported = models.CharField(
        "as reported", max_length=200, blank=True, help_text="As the paper wrote it: CARS-ALK."
    )
    position = models.PositiveSmallIntegerField(default=0)

    history = HistoricalRecords()
    objects = FusionFindingQuerySet.as_manager()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(five_prime_gene__isnull=True)
                | ~Q(five_prime_gene=F("three_prime_gene")),
                name="curation_fusionfinding_partners_differ",
            ),
            # A known partner is a gene; an unknown or multiple one is not recorded as one.
            models.CheckConstraint(
                condition=Q(partner_status="known", five_prime_gene__isnull=False)
                | Q(partner_status__in=["unknown", "multiple"], five_prime_gene__isnull=True),
                name="curation_fusionfinding_partner_status",
                violation_error_message="A known partner is a gene; an unknown one is none.",
            ),
            # An exon of the 5' partner means nothing when the partner is not known.
            models.CheckConstraint(
                condition=Q(five_prime_gene__isnull=False)
                | Q(five_prime_exon="", five_prime_transcript=""),
                name="curation_fusionfinding_no_exon_without_partner",
                violation_error_message=(
                    "An exon or transcript of the 5' partner needs a known partner."
                ),
            ),
        ]
        indexes = [
            # Fusion search: WHERE three_prime_gene_id IN (...) AND five_prime_gene_id IN (...).
            models.Index(
                fields=["three_prime_gene", "five_prime_gene"], name="curation_fusion_genes_idx"
            ),
        ]

    def __str__(self) -> str:
        return self.notation

    def save(self, *args, **kwargs):
        self._derive_partner_status()
        super().save(*args, **kwargs)

    def _derive_partner_status(self) -> None:
        # No 5' gene means the partner is not known (unless several were reported).
        if self.five_prime_gene_id is None and self.partner_status == self.PartnerStatus.KNOWN:
            self.partner_status = self.PartnerStatus.UNKNOWN
        if self.five_prime_gene_id is not None:
            self.partner_status = self.PartnerStatus.KNOWN

    def clean(self):
        self._derive_partner_status()
        errors = {}
        for name in ("five_prime_transcript", "three_prime_transcript"):
            message = molecular.transcript_error(getattr(self, name))
            if message:
                errors[name] = message
        if self.five_prime_gene_id is None and (
            self.five_prime_exon or self.five_prime_transcript
        ):
            errors["five_prime_exon"] = (
                "An exon or transcript of the 5' partner needs a known partner: "
                "the partner of this fusion is not known."
            )
        if errors:
            raise ValidationError(errors)

    @property
    def partner_unknown(self) -> bool:
        return self.five_prime_gene_id is None

    @property
    def notation(self) -> str:
        """HGNC notation, `CARS1::ALK`; `?::ALK` when the partner is unknown."""
        five = self.five_prime_gene.symbol if self.five_prime_gene_id else None
        return format_fusion(five, self.three_prime_gene.symbol)

    @property
    def display(self) -> str:
        """What pages show: `CARS1::ALK`, or `ALK rearrangement (partner unknown)`."""
        if self.partner_status == self.PartnerStatus.MULTIPLE:
            return f"{self.three_prime_gene.symbol} rearrangement (several partners reported)"
        if self.partner_unknown:
            return f"{self.three_prime_gene.symbol} rearrangement (partner unknown)"
        return self.notation

    @property
    def exons(self) -> str:
        """“exon 2 :: exon 20” (“?” where not reported); "" when neither is."""
        if not (self.five_prime_exon or self.three_prime_exon):
            return ""
        return f"exon {self.five_prime_exon or '?'} :: exon {self.three_prime_exon or '?'}"


class MolecularFinding(models.Model):
    """A molecular finding that is not a fusion: a sequence variant, a copy-number
    change, or another finding (TERT promoter, methylation class...)."""

    class Kind(models.TextChoices):
        VARIANT = "variant", "Sequence variant"
        COPY_NUMBER = "copy_number", "Copy-number change"
        OTHER = "other", "Other"

    class CopyNumber(models.TextChoices):
        AMPLIFICATION = "amplification", "Amplification"
        GAIN = "gain", "Gain"
        LOSS = "loss", "Loss (heterozygous deletion)"
        HOMOZYGOUS_DELETION = "homozygous_deletion", "Homozygous deletion"
        DELETION = "deletion", "Deletion, not specified"

    Method = FusionFinding.Method

    case = models.ForeignKey(
        "curation.Case", on_delete=models.CASCADE, related_name="molecular_findings"
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    gene = models.ForeignKey(
        "curation.Gene",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="molecular_findings",
    )
    # HGVS, normalised by curation.molecular (p. three-letter; c. upper-case bases).
    hgvs_protein = models.CharField("HGVS protein", max_length=100, blank=True)
    hgvs_cdna = models.CharField("HGVS cDNA", max_length=100, blank=True)
    transcript = models.CharField(
        max_length=20,
        blank=True,
        help_text="RefSeq accession with its version, e.g. NM_004333.6 (BRAF).",
    )
    copy_number = models.CharField(
        "copy-number change", max_length=20, choices=CopyNumber.choices, blank=True
    )
    description = models.CharField(
        max_length=300,
        blank=True,
        help_text="For other findings: e.g. a TERT promoter variant, a methylation class.",
    )
    method = models.CharField(max_length=30, choices=Method.choices, blank=True)
    assay = models.CharField(
        "assay as reported",
        max_length=200,
        blank=True,
        help_text="The paper's name for the test, e.g. “targeted DNA panel (NGS)”.",
    )
    as_reported = models.CharField(max_length=300, blank=True, help_text="The paper's words.")
    position = models.PositiveSmallIntegerField(default=0)

    history = HistoricalRecords()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=~Q(kind="variant")
                | (Q(gene__isnull=False) & (~Q(hgvs_protein="") | ~Q(hgvs_cdna=""))),
                name="curation_molecularfinding_variant_complete",
                violation_error_message="A sequence variant needs its gene and an HGVS change.",
            ),
            models.CheckConstraint(
                condition=~Q(kind="copy_number") | (Q(gene__isnull=False) & ~Q(copy_number="")),
                name="curation_molecularfinding_copy_number_complete",
                violation_error_message="A copy-number change needs its gene and the change.",
            ),
            models.CheckConstraint(
                condition=~Q(kind="other") | ~Q(description=""),
                name="curation_molecularfinding_other_described",
                violation_error_message="Describe the finding.",
            ),
            models.CheckConstraint(
                condition=Q(kind__in=["variant", "copy_number", "other"]),
                name="curation_molecularfinding_kind_valid",
            ),
        ]
        indexes = [
            # Search and facets: cases with a finding in a gene (WHERE gene_id = ...).
            models.Index(fields=["gene", "kind"], name="curation_molfind_gene_idx"),
        ]

    def __str__(self) -> str:
        return self.display

    def clean(self):
        """HGVS normalised (or refused with what to type), RefSeq form checked."""
        errors = {}
        for name, parse in (
            ("hgvs_protein", molecular.parse_protein),
            ("hgvs_cdna", molecular.parse_cdna),
        ):
            value = getattr(self, name)
            if value:
                try:
                    setattr(self, name, parse(value))
                except molecular.HGVSError as exc:
                    errors[name] = str(exc)
        message = molecular.transcript_error(self.transcript)
        if message:
            errors["transcript"] = message
        if self.kind == self.Kind.VARIANT:
            if not self.gene_id:
                errors.setdefault("gene", "Give the gene of the variant, e.g. BRAF.")
            if not (self.hgvs_protein or self.hgvs_cdna) and not errors:
                errors["hgvs_protein"] = "Give the change: p.V600E, or c.1799T>A, or both."
        elif self.kind == self.Kind.COPY_NUMBER:
            if not self.gene_id:
                errors.setdefault("gene", "Give the gene, e.g. MDM2 or CDKN2A.")
            if not self.copy_number:
                errors["copy_number"] = "Choose the change: amplification, gain, loss, deletion."
        elif self.kind == self.Kind.OTHER and not self.description:
            errors["description"] = "Describe the finding, e.g. a TERT promoter variant."
        if errors:
            raise ValidationError(errors)

    @property
    def display(self) -> str:
        """`BRAF p.V600E`, `MDM2 amplification`, `TERT promoter variant`."""
        symbol = self.gene.symbol if self.gene_id else ""
        if self.kind == self.Kind.VARIANT:
            change = molecular.protein_short(self.hgvs_protein) or self.hgvs_cdna
            return f"{symbol} {change}".strip()
        if self.kind == self.Kind.COPY_NUMBER:
            return f"{symbol} {self.get_copy_number_display().lower()}".strip()
        return " ".join(p for p in (symbol, self.description) if p)
