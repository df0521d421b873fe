"""load_demo: the founding CARS1::ALK case, published. Idempotent."""

from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from citations.models import Citation
from curation import workflow
from curation.actions.cases import refresh_grade
from curation.models import (
    Case,
    CaseEvent,
    Diagnosis,
    FusionFinding,
    Gene,
    IHCResult,
    Marker,
    Topography,
)

DEMO_DIR = Path(__file__).resolve().parents[2] / "demo"
FOUNDING_PMID = 35560368
FOUNDING_XML = DEMO_DIR / f"pubmed_{FOUNDING_PMID}.xml"
# Owner of the demo records; it cannot log in (unusable password, inactive).
DEMO_USERNAME = "rarederm-demo"

# What the abstract of PMID 35560368 says beyond the first record: read from the
# abstract only; the differentials are those it names (fibrous histiocytoma,
# atypical fibroxanthoma, melanoma, poorly differentiated carcinoma — the last is not
# a term of the vocabulary, so it is kept in the paper's words only).
ABSTRACT_FIELDS = {
    "source_depth": Case.SourceDepth.ABSTRACT,
    "diagnosis_as_reported": "cutaneous inflammatory myofibroblastic tumor",
    "differentials_as_reported": (
        "fibrous histiocytoma, atypical fibroxanthoma, melanoma, poorly differentiated carcinoma"
    ),
}
FUSION_FIELDS = {
    "method": FusionFinding.Method.TARGETED_RNA_PANEL,
    "assay": "targeted RNA sequencing",
}
DIFFERENTIALS = ("fibrous histiocytoma", "atypical fibroxanthoma", "melanoma")


def _differentials() -> list[Diagnosis]:
    """The abstract's differentials that are vocabulary terms (name or synonym)."""
    from curation.forms.fields import Diagnoses

    vocabulary = Diagnoses()
    return [vocabulary.find(name) for name in DIFFERENTIALS if vocabulary.find(name)]


class Command(BaseCommand):
    help = (
        "Load the demo data: the citation of PMID 35560368 (from the recorded XML) and its "
        "case, published. Running it again changes nothing."
    )

    def handle(self, *args, **options):
        citation = Citation.objects.filter(pmid=FOUNDING_PMID).first()
        if citation is None:
            call_command("import_pubmed_xml", str(FOUNDING_XML), stdout=self.stdout)
            citation = Citation.objects.filter(pmid=FOUNDING_PMID).first()
            if citation is None:
                raise CommandError(f"{FOUNDING_XML} did not give PMID {FOUNDING_PMID}.")
        case, created = self._founding_case(citation)
        verb = "Loaded" if created else "Already there:"
        self.stdout.write(f"{verb} the founding case, {case.get_absolute_url()}")

    @transaction.atomic
    def _founding_case(self, citation: Citation) -> tuple[Case, bool]:
        user = self._demo_user()
        existing = (
            Case.objects.filter(citation=citation, revision_of__isnull=True).order_by("pk").first()
        )
        if existing is not None:
            self._bring_up_to_date(existing, user)
            return existing, False
        now = timezone.now()
        # Only what the paper says (abstract of PMID 35560368); the rest stays empty.
        case = Case(
            citation=citation,
            age=38,
            age_unit=Case.AgeUnit.YEARS,
            sex=Case.Sex.FEMALE,
            topography=Topography.objects.get(code="C44.4"),
            site_detail="posterior scalp",
            laterality=Case.Laterality.LEFT,
            clinical_presentation="Painless, slow-growing nodule.",
            initial_diagnosis=Diagnosis.objects.get(name__iexact="dermatofibroma"),
            final_diagnosis=Diagnosis.objects.get(
                name__iexact="inflammatory myofibroblastic tumor"
            ),
            **ABSTRACT_FIELDS,
            reported_diagnosis=Diagnosis.objects.get(
                name__iexact="inflammatory myofibroblastic tumor"
            ),
            histology=(
                "Ill-defined dermal nodule of spindled cells without connection or infiltration "
                "of the epidermis; at high power the cells were arranged in fascicles with a "
                "prominent background of lymphocytic infiltrate."
            ),
            histology_pattern="fascicles",
            cell_type=Case.CellType.SPINDLE,
            inflammatory_background="prominent lymphocytic infiltrate",
            depth=Case.Depth.DERMIS,
            epidermal_involvement=Case.EpidermalInvolvement.NONE,
            status=Case.Status.PUBLISHED,
            submitted_at=now,
            published_at=now,
            created_by=user,
        )
        case.full_clean()
        case._history_user = user
        case.save()
        ihc = IHCResult(
            case=case,
            marker=Marker.objects.get(name="ALK"),
            result=IHCResult.Result.POSITIVE,
            intensity=IHCResult.Intensity.STRONG,
            extent=IHCResult.Extent.DIFFUSE,
            as_reported="strong diffuse immunoreactivity for anaplastic lymphoma kinase (ALK)",
        )
        fusion = FusionFinding(
            case=case,
            five_prime_gene=Gene.objects.get(symbol="CARS1"),
            three_prime_gene=Gene.objects.get(symbol="ALK"),
            as_reported="CARS-ALK",
            **FUSION_FIELDS,
        )
        for row in (ihc, fusion):
            row.full_clean()
            row._history_user = user
            row.save()
        case.differentials.set(_differentials())
        refresh_grade(case, user)
        # The audit trail says how this case came to be published.
        CaseEvent.objects.create(
            case=case,
            actor=user,
            role="",
            from_status=workflow.DRAFT,
            to_status=workflow.PUBLISHED,
            comment="Demo data loaded by manage.py load_demo.",
            created_at=now,
        )
        return case, True

    def _bring_up_to_date(self, case: Case, user) -> None:
        """A founding case loaded before the record held the abstract's method, assay and
        differentials gets them (once: only while it is still the demo's, unchanged)."""
        if case.created_by_id != user.pk or case.source_depth:
            return
        for name, value in ABSTRACT_FIELDS.items():
            setattr(case, name, value)
        case.reported_diagnosis = case.final_diagnosis
        case.version += 1
        case._history_user = user
        case._change_reason = "load_demo: the record re-entered from the paper's abstract"
        case.differentials.set(_differentials())
        case.save()
        for fusion in case.fusions.filter(as_reported="CARS-ALK"):
            for name, value in FUSION_FIELDS.items():
                setattr(fusion, name, value)
            fusion._history_user = user
            fusion.save()
        refresh_grade(case, user)

    def _demo_user(self):
        User = get_user_model()
        user, created = User.objects.get_or_create(
            username=DEMO_USERNAME, defaults={"is_active": False}
        )
        if created or user.has_usable_password():
            user.set_unusable_password()
            user.save(update_fields=["password"])
        return user
