"""factory_boy factories for deep object graphs: citations, cases and their rows.

    from tests.factories import CaseFactory, CitationFactory, make_published_case

    case = CaseFactory()                      # a draft: ALK positive, CARS1::ALK, IMT, C44.4
    case = CaseFactory(ihc=[("SOX10", "negative"), ("CD34", "positive")], fusions=[])
    case = CaseFactory(fusions=["TPM3::ALK", "?::ROS1"])   # "?::X": partner unknown
    case = make_published_case(final_diagnosis=diagnosis("dermatofibroma"))

Vocabulary rows (genes, markers, diagnoses, topography) come from the data
migration, so the helpers `gene()`, `marker()`, `diagnosis()`, `topography()`
fetch them rather than invent new ones. tests/conftest.py
reloads them after a transactional test flushed the database.
Cases are written directly (not through curation.actions), so a factory-made
case has no CaseEvent; use `curation.actions.cases.transition` when a test is
about the workflow.
"""

from __future__ import annotations

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone
from factory.django import DjangoModelFactory

from citations.models import Author, Citation
from curation.actions.cases import refresh_grade
from curation.models import (
    Case,
    ClinicalEvent,
    Diagnosis,
    Figure,
    FusionFinding,
    Gene,
    IHCResult,
    Marker,
    MolecularFinding,
    Topography,
    Treatment,
    resolve_gene,
)
from curation.notation import parse_fusion


def gene(symbol: str) -> Gene:
    """The gene a symbol resolves to (approved, previous or alias: "CARS" gives CARS1)."""
    found = resolve_gene(symbol)
    if found.gene is None:
        raise LookupError(found.resolution.message)
    return found.gene


def marker(name: str) -> Marker:
    return Marker.objects.get(name__iexact=name)


def diagnosis(name: str) -> Diagnosis:
    return Diagnosis.objects.get(name__iexact=name)


def topography(code: str) -> Topography:
    return Topography.objects.get(code=code)


class UserFactory(DjangoModelFactory):
    """A curator with no usable password (tests log in the named users of conftest)."""

    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"factory_curator_{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.org")
    password = factory.PostGeneration(
        lambda user, create, extracted, **kw: user.set_unusable_password()
    )

    @factory.post_generation
    def role(self, create, extracted, **kwargs):
        if create:
            # get_or_create: a flushed (transactional) test database has no groups.
            group, _ = Group.objects.get_or_create(name=extracted or "curator")
            self.groups.add(group)
            self.save()


class CitationFactory(DjangoModelFactory):
    class Meta:
        model = Citation
        django_get_or_create = ("pmid",)
        skip_postgeneration_save = True

    pmid = factory.Sequence(lambda n: 39000000 + n)
    doi = factory.Sequence(lambda n: f"10.5555/rarederm.{n}")
    title = factory.Sequence(lambda n: f"A rare cutaneous spindle cell tumour: case report {n}.")
    journal = "Journal of cutaneous pathology"
    journal_iso = "J Cutan Pathol"
    volume = "49"
    issue = "9"
    pages = "795-801"
    year = 2022
    month = 9
    language = "eng"
    publication_types = factory.LazyFunction(lambda: ["Case Reports"])
    fetched_at = factory.LazyFunction(timezone.now)

    @factory.post_generation
    def authors(self, create, extracted, **kwargs):
        """authors=[("McCollum", "KJ"), ...]; two made-up authors by default."""
        if not create:
            return
        names = extracted if extracted is not None else [("Doe", "J"), ("Roe", "R")]
        for position, (last, initials) in enumerate(names):
            Author.objects.create(
                citation=self, position=position, last_name=last, initials=initials
            )


class CaseFactory(DjangoModelFactory):
    """A draft case; `ihc` and `fusions` build the child rows (see module docstring)."""

    class Meta:
        model = Case
        skip_postgeneration_save = True

    citation = factory.SubFactory(CitationFactory)
    created_by = factory.SubFactory(UserFactory)

    label = ""
    age = 38
    age_unit = Case.AgeUnit.YEARS
    sex = Case.Sex.FEMALE
    topography = factory.LazyFunction(lambda: topography("C44.4"))
    site_detail = "posterior scalp"
    laterality = Case.Laterality.LEFT
    final_diagnosis = factory.LazyFunction(lambda: diagnosis("inflammatory myofibroblastic tumor"))
    histology = "Spindle cells in fascicles with a lymphocytic background."
    status = Case.Status.DRAFT

    @factory.post_generation
    def ihc(self, create, extracted, **kwargs):
        """ihc=[("ALK", "positive"), ("SMA", "negative", {"clone": "1A4"}), ...]."""
        if not create:
            return
        rows = (
            extracted
            if extracted is not None
            else [("ALK", "positive", {"intensity": "strong", "extent": "diffuse"})]
        )
        for position, row in enumerate(rows):
            name, result, *extra = row
            IHCResult.objects.create(
                case=self,
                marker=marker(name),
                result=result,
                position=position,
                **(extra[0] if extra else {}),
            )

    @factory.post_generation
    def fusions(self, create, extracted, **kwargs):
        """fusions=["CARS1::ALK"] (the default), ["?::ROS1"], [("?::ALK", "fish_break_apart")],
        or [] for none (by RNA sequencing unless a method is given)."""
        if not create:
            return
        for position, item in enumerate(extracted if extracted is not None else ["CARS1::ALK"]):
            # "CARS1::ALK" (by RNA sequencing), or ("?::ALK", "fish_break_apart").
            text, method = (item, FusionFinding.Method.RNA_SEQ) if isinstance(item, str) else item
            parsed = parse_fusion(text)
            FusionFinding.objects.create(
                case=self,
                five_prime_gene=gene(parsed.five_prime) if parsed.five_prime else None,
                three_prime_gene=gene(parsed.three_prime),
                method=method,
                as_reported=text,
                position=position,
            )

    @factory.post_generation
    def molecular(self, create, extracted, **kwargs):
        """molecular=[("variant", "BRAF", {"hgvs_protein": "p.V600E", "method": "dna_panel"}),
        ("copy_number", "MDM2", {"copy_number": "amplification"})]; none by default."""
        if not create:
            return
        for position, (kind, symbol, extra) in enumerate(extracted or []):
            row = MolecularFinding(
                case=self,
                kind=kind,
                gene=gene(symbol) if symbol else None,
                position=position,
                **extra,
            )
            row.full_clean()
            row.save()

    @factory.post_generation
    def events(self, create, extracted, **kwargs):
        """events=[("local_recurrence", 14), ("distant_metastasis", 10, {"site": "lung"})]."""
        if not create:
            return
        for position, (kind, months, *extra) in enumerate(extracted or []):
            ClinicalEvent.objects.create(
                case=self,
                kind=kind,
                months=months,
                position=position,
                **(extra[0] if extra else {}),
            )

    @factory.post_generation
    def treatments(self, create, extracted, **kwargs):
        """treatments=[("wide_local_excision", {"margins": "negative"})]; none by default."""
        if not create:
            return
        for position, (kind, *extra) in enumerate(extracted or []):
            Treatment.objects.create(
                case=self, kind=kind, position=position, **(extra[0] if extra else {})
            )

    @factory.post_generation
    def grade(self, create, extracted, **kwargs):
        """The evidence grade of the rows just made, as curation.actions keeps it."""
        if create:
            refresh_grade(self)


def make_published_case(**kwargs) -> Case:
    """A published case (status, published_at and submitted_at set; no events)."""
    now = timezone.now()
    kwargs.setdefault("status", Case.Status.PUBLISHED)
    kwargs.setdefault("submitted_at", now)
    kwargs.setdefault("published_at", now)
    kwargs.setdefault("version", 3)
    return CaseFactory(**kwargs)


class FigureFactory(DjangoModelFactory):
    """A figure row of `case` whose files are not made (an original's name only): for
    tests of who sees which figure, not of the pictures (those attach real images)."""

    class Meta:
        model = Figure

    caption = "c"
    licence = "CC0-1.0"
    original = factory.Sequence(lambda n: f"figure-{n}/original.png")
    content_type = "image/png"
    width = 1
    height = 1
    sha256 = factory.Sequence(lambda n: f"{n:064x}")
    created_by = factory.LazyAttribute(lambda figure: figure.case.created_by)
