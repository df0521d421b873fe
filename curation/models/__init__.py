"""Curation models, split by topic."""

from curation.models.case import Case, CaseQuerySet
from curation.models.course import ClinicalEvent, Treatment
from curation.models.draft_input import CaseDraftInput
from curation.models.events import CaseEvent, VocabularyEdit
from curation.models.figure import Figure, OpenAccessFigure, OpenAccessPackage
from curation.models.findings import FusionFinding, IHCResult, MolecularFinding
from curation.models.flag import CaseFlag
from curation.models.proposals import TermProposal
from curation.models.release import Release, ReleaseCase
from curation.models.subscription import Subscription
from curation.models.vocabulary import (
    Clone,
    Diagnosis,
    DiagnosisCategory,
    DiagnosisFamily,
    Gene,
    GeneResolution,
    GeneSymbol,
    Marker,
    Topography,
    VocabularyVersion,
    is_gene_symbol,
    resolve_gene,
)

__all__ = [
    "Case",
    "CaseDraftInput",
    "CaseEvent",
    "CaseFlag",
    "CaseQuerySet",
    "ClinicalEvent",
    "Clone",
    "Diagnosis",
    "DiagnosisCategory",
    "DiagnosisFamily",
    "Figure",
    "FusionFinding",
    "Gene",
    "GeneResolution",
    "GeneSymbol",
    "IHCResult",
    "Marker",
    "MolecularFinding",
    "OpenAccessFigure",
    "OpenAccessPackage",
    "Release",
    "ReleaseCase",
    "Subscription",
    "TermProposal",
    "Topography",
    "Treatment",
    "VocabularyEdit",
    "VocabularyVersion",
    "is_gene_symbol",
    "resolve_gene",
]
