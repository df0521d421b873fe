"""Curation models, split by topic."""

from curation.models.case import Case, CaseQuerySet
from curation.models.events import CaseEvent
from curation.models.findings import FusionFinding, IHCResult
from curation.models.vocabulary import (
    Diagnosis,
    Gene,
    GeneResolution,
    GeneSymbol,
    Marker,
    Topography,
    is_gene_symbol,
    resolve_gene,
)

__all__ = [
    "Case",
    "CaseEvent",
    "CaseQuerySet",
    "Diagnosis",
    "FusionFinding",
    "Gene",
    "GeneResolution",
    "GeneSymbol",
    "IHCResult",
    "Marker",
    "Topography",
    "is_gene_symbol",
    "resolve_gene",
]
