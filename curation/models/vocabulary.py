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


class Diagnosis(models.Model):
    name = models.CharField(max_length=200)
    # ICD-O-3 morphology code with behaviour, e.g. "8825/1"; "" when not certain.
    icdo3_code = models.CharField("ICD-O-3 morphology", max_length=6, blank=True)
    synonyms = models.JSONField(default=list, blank=True)

    class Meta:
        verbose_name_plural = "diagnoses"
        constraints = [
            models.UniqueConstraint(Lower("name"), name="curation_diagnosis_name_unique"),
            models.CheckConstraint(
                condition=Q(icdo3_code="") | Q(icdo3_code__regex=r"^[0-9]{4}/[0-9]$"),
                name="curation_diagnosis_icdo3_format",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.icdo3_code})" if self.icdo3_code else self.name


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

    class Meta:
        constraints = [
            models.UniqueConstraint(Lower("name"), name="curation_marker_name_unique"),
        ]

    def __str__(self) -> str:
        return self.name


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
