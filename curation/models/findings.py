"""What a case's tests found: IHC results and gene fusions (child rows of a case)."""

from __future__ import annotations

from django.db import models
from django.db.models import F, Q
from simple_history.models import HistoricalRecords

from curation.notation import NotationError, format_fusion, parse_fusion


class IHCResult(models.Model):
    class Result(models.TextChoices):
        POSITIVE = "positive", "Positive"
        NEGATIVE = "negative", "Negative"
        EQUIVOCAL = "equivocal", "Equivocal"
        NOT_REPORTED = "not_reported", "Not reported"

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
                condition=Q(result__in=["positive", "negative", "equivocal", "not_reported"]),
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
    class Method(models.TextChoices):
        RNA_SEQ = "rna_seq", "RNA sequencing"
        DNA_NGS = "dna_ngs", "DNA next-generation sequencing"
        FISH_BREAK_APART = "fish_break_apart", "FISH (break-apart probe)"
        RT_PCR = "rt_pcr", "RT-PCR"
        OTHER = "other", "Other"

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
    five_prime_exon = models.CharField("5' exon", max_length=20, blank=True)
    three_prime_exon = models.CharField("3' exon", max_length=20, blank=True)
    method = models.CharField(max_length=20, choices=Method.choices, blank=True)
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
        ]
        indexes = [
            # Fusion search: WHERE three_prime_gene_id IN (...) AND five_prime_gene_id IN (...).
            models.Index(
                fields=["three_prime_gene", "five_prime_gene"], name="curation_fusion_genes_idx"
            ),
        ]

    def __str__(self) -> str:
        return self.notation

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
        if self.partner_unknown:
            return f"{self.three_prime_gene.symbol} rearrangement (partner unknown)"
        return self.notation
