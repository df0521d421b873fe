"""Controlled vocabularies: diagnoses, topography, genes, IHC markers.

Loaded by a data migration from curation/vocabularies/*.json and editable by
reviewers in the admin. Genes can be completed from HGNC's complete set with
`manage.py import_hgnc FILE`.
"""

from __future__ import annotations

from typing import NamedTuple

from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower

from curation.symbols import (
    INVALID,
    GeneRecord,
    Resolution,
    check_symbol,
    choose,
    symbol_key,
)


class VocabularyVersion(models.Model):
    """Which edition of which code list a shipped vocabulary follows, and where it was checked.

    One row per vocabulary, written by the loader from the `source` block of
    its JSON file (curation/vocabularies/*.json); shown in the README and the
    admin so that a reader knows what "8825/1" means (ICD-O-3.2, not 3.0).
    """

    class Name(models.TextChoices):
        DIAGNOSIS = "diagnosis", "Diagnoses"
        TOPOGRAPHY = "topography", "Topography"
        GENE = "gene", "Genes"
        MARKER = "marker", "IHC markers"

    vocabulary = models.CharField(max_length=20, choices=Name.choices)
    code_system = models.CharField(max_length=100, help_text="e.g. ICD-O-3.2, HGNC.")
    version = models.CharField(max_length=200)
    # [{"name": ..., "edition": ..., "url": ...}]: every list the terms were checked against.
    sources = models.JSONField(default=list, blank=True)
    loaded_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["vocabulary"], name="curation_vocabularyversion_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_vocabulary_display()}: {self.code_system} {self.version}"


class DiagnosisCategory(models.Model):
    """The top level of the WHO arrangement, e.g. "Melanocytic tumours"."""

    name = models.CharField(max_length=200)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        verbose_name_plural = "diagnosis categories"
        constraints = [
            models.UniqueConstraint(Lower("name"), name="curation_diagnosiscategory_name_unique"),
        ]

    def __str__(self) -> str:
        return self.name


class DiagnosisFamily(models.Model):
    """A WHO family of entities, e.g. "Spitz tumours" or "Myofibroblastic tumours"."""

    category = models.ForeignKey(
        DiagnosisCategory, on_delete=models.PROTECT, related_name="families"
    )
    name = models.CharField(max_length=200)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        verbose_name_plural = "diagnosis families"
        constraints = [
            models.UniqueConstraint(Lower("name"), name="curation_diagnosisfamily_name_unique"),
        ]

    def __str__(self) -> str:
        return self.name


# ICD-O behaviour digits (the digit after the slash).
BEHAVIOURS = {
    "0": "benign",
    "1": "uncertain or borderline",
    "2": "in situ",
    "3": "malignant",
    "6": "metastatic",
    "9": "malignant, uncertain whether primary or metastatic",
}
ICDO_MORPHOLOGY_RE = r"^[0-9]{4}/[012369]$"


class Diagnosis(models.Model):
    """A diagnosis as the WHO classification names it: an entity, or a subtype of one.

    `synonyms` and `older_names` are the same entity under other names (a
    curator typing one gets this diagnosis); `search_terms` are wider or
    related terms (inflammatory pseudotumour for IMT) that find this
    diagnosis's cases in a search but never resolve a curator's entry.
    """

    class Rank(models.TextChoices):
        ENTITY = "entity", "Entity"
        SUBTYPE = "subtype", "Subtype"

    name = models.CharField(max_length=200)
    # ICD-O-3.2 morphology code with behaviour, e.g. "8825/1"; "" when it could
    # not be checked against the ICD-O-3.2 list (never guessed).
    icdo3_code = models.CharField("ICD-O-3.2 morphology", max_length=6, blank=True)
    family = models.ForeignKey(
        DiagnosisFamily,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="diagnoses",
        help_text="Empty only for a term a reviewer accepted before placing it.",
    )
    rank = models.CharField(max_length=10, choices=Rank.choices, default=Rank.ENTITY)
    parent = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="subtypes",
        help_text="The entity of a subtype.",
    )
    synonyms = models.JSONField(default=list, blank=True)
    older_names = models.JSONField(default=list, blank=True)
    search_terms = models.JSONField(default=list, blank=True)
    # Where the code was checked when it differs from the vocabulary's source
    # (VocabularyVersion), e.g. the ICD-O-3.2 term it was matched to.
    source = models.CharField(max_length=500, blank=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        verbose_name_plural = "diagnoses"
        constraints = [
            models.UniqueConstraint(Lower("name"), name="curation_diagnosis_name_unique"),
            models.CheckConstraint(
                condition=Q(icdo3_code="") | Q(icdo3_code__regex=ICDO_MORPHOLOGY_RE),
                name="curation_diagnosis_icdo3_format",
                violation_error_message="An ICD-O-3.2 morphology code is written 8825/1 "
                "(four digits, a slash, a behaviour digit 0, 1, 2, 3, 6 or 9).",
            ),
            models.CheckConstraint(
                condition=Q(rank="entity", parent__isnull=True)
                | Q(rank="subtype", parent__isnull=False),
                name="curation_diagnosis_subtype_has_parent",
                violation_error_message="A subtype names its entity; an entity has no parent.",
            ),
        ]
        indexes = [
            # Search and statistics by family: WHERE family_id IN (...), GROUP BY family_id.
            models.Index(fields=["family"], name="curation_dx_family_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.icdo3_code})" if self.icdo3_code else self.name

    @property
    def behaviour(self) -> str:
        """ "malignant", "benign"...: the ICD-O behaviour digit in words; "" without a code."""
        return BEHAVIOURS.get(self.icdo3_code[-1:], "") if self.icdo3_code else ""

    def resolving_names(self) -> list[str]:
        """Every name a curator may type for this diagnosis (not its search terms)."""
        return [self.name, *(self.synonyms or []), *(self.older_names or [])]


class Topography(models.Model):
    code = models.CharField("ICD-O-3 topography", max_length=5)
    name = models.CharField(max_length=200)

    class Meta:
        verbose_name_plural = "topography"
        constraints = [
            models.UniqueConstraint(fields=["code"], name="curation_topography_code_unique"),
            models.CheckConstraint(
                condition=Q(code__regex=r"^C[0-9]{2}\.[0-9]$"),
                name="curation_topography_code_format",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class Gene(models.Model):
    # "HGNC:427"; "" only for a gene entered by hand whose id is not yet known.
    hgnc_id = models.CharField("HGNC ID", max_length=20, blank=True)
    symbol = models.CharField("approved symbol", max_length=40)
    name = models.CharField("approved name", max_length=300, blank=True)
    previous_symbols = models.JSONField(default=list, blank=True)
    alias_symbols = models.JSONField(default=list, blank=True)
    # Where the symbol was checked, when it differs from the vocabulary's source.
    source = models.CharField(max_length=500, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(Lower("symbol"), name="curation_gene_symbol_unique"),
            models.UniqueConstraint(
                fields=["hgnc_id"], condition=~Q(hgnc_id=""), name="curation_gene_hgnc_id_unique"
            ),
            models.CheckConstraint(
                condition=Q(hgnc_id="") | Q(hgnc_id__regex=r"^HGNC:[0-9]+$"),
                name="curation_gene_hgnc_id_format",
            ),
        ]

    def __str__(self) -> str:
        return self.symbol

    def save(self, *args, **kwargs):
        super().save(*args, **kwargs)
        # Keep the lookup table in step with the symbols (admin edits included).
        self.lookup.all().delete()
        GeneSymbol.objects.bulk_create(symbol_rows(GeneSymbol, self))

    def as_record(self) -> GeneRecord:
        return GeneRecord(
            self.hgnc_id,
            self.symbol,
            self.name,
            tuple(self.previous_symbols or ()),
            tuple(self.alias_symbols or ()),
        )


class GeneSymbol(models.Model):
    """Every symbol of a gene (approved, previous, alias) keyed for lookup.

    Derived from Gene (rebuilt on save and by import_hgnc): it lets the
    resolver fetch the few candidates of one symbol with an indexed query
    instead of scanning 40,000 genes' JSON lists.
    """

    class Kind(models.TextChoices):
        APPROVED = "approved", "Approved symbol"
        PREVIOUS = "previous", "Previous symbol"
        ALIAS = "alias", "Alias"

    gene = models.ForeignKey(Gene, on_delete=models.CASCADE, related_name="lookup")
    # Upper-cased, normalised symbol (curation.symbols.symbol_key).
    key = models.CharField(max_length=40)
    kind = models.CharField(max_length=10, choices=Kind.choices)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["gene", "key", "kind"], name="curation_genesymbol_unique"
            ),
        ]
        indexes = [
            # The resolver: WHERE key = 'CARS'.
            models.Index(fields=["key"], name="curation_genesymbol_key_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.key} ({self.kind})"


def symbol_rows(symbol_model, gene) -> list:
    """The lookup rows of one gene; takes the model so migrations can use it."""
    rows, seen = [], set()
    for kind, symbols in (
        ("approved", [gene.symbol]),
        ("previous", gene.previous_symbols or []),
        ("alias", gene.alias_symbols or []),
    ):
        for symbol in symbols:
            key = symbol_key(str(symbol))[:40]
            if key and (key, kind) not in seen:
                seen.add((key, kind))
                rows.append(symbol_model(gene=gene, key=key, kind=kind))
    return rows


class Marker(models.Model):
    """An immunohistochemistry marker; the antibody clone is recorded per result."""

    name = models.CharField(max_length=100)
    gene = models.ForeignKey(
        Gene, on_delete=models.PROTECT, null=True, blank=True, related_name="markers"
    )
    synonyms = models.JSONField(default=list, blank=True)
    # Where the marker-gene link was checked, when it differs from the vocabulary's source.
    source = models.CharField(max_length=500, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(Lower("name"), name="curation_marker_name_unique"),
        ]

    def __str__(self) -> str:
        return self.name


class Clone(models.Model):
    """An antibody clone of one marker (ALK: ALK1, 5A4, D5F3), with where it is documented."""

    marker = models.ForeignKey(Marker, on_delete=models.PROTECT, related_name="clones")
    name = models.CharField(max_length=100)
    source = models.CharField(max_length=500, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                "marker", Lower("name"), name="curation_clone_marker_name_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.marker} {self.name}"


class GeneResolution(NamedTuple):
    """A resolution with the Gene rows behind it (`gene` only when certain)."""

    resolution: Resolution
    gene: Gene | None
    candidates: list[Gene]


def resolve_gene(text: str) -> GeneResolution:
    """Resolve a symbol as written in a paper against the database (one query)."""
    symbol, error = check_symbol(text)
    if error:
        return GeneResolution(Resolution(symbol[:40], INVALID, message=error), None, [])
    rows = list(GeneSymbol.objects.filter(key=symbol.upper()).select_related("gene"))
    by_kind: dict[str, list[GeneRecord]] = {"approved": [], "previous": [], "alias": []}
    genes: dict[str, Gene] = {}
    for row in rows:
        by_kind[row.kind].append(row.gene.as_record())
        genes[row.gene.symbol] = row.gene
    resolution = choose(symbol, by_kind["approved"], by_kind["previous"], by_kind["alias"])
    return GeneResolution(
        resolution,
        genes[resolution.gene.symbol] if resolution.gene else None,
        [genes[c.symbol] for c in resolution.candidates],
    )


def is_gene_symbol(text: str) -> bool:
    return GeneSymbol.objects.filter(key=symbol_key(text)).exists()
