"""manage.py generate_synthetic: clearly synthetic, plausible, reproducible, removable."""

import threading
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.db.models import Max
from django.urls import reverse

from citations.models import Author, Citation
from curation.management.commands.generate_synthetic import (
    SYNTHETIC_PMID_MAX,
    SYNTHETIC_PMID_MIN,
    SYNTHETIC_USERNAME,
)
from curation.models import Case, CaseEvent, ClinicalEvent, FusionFinding, IHCResult
from curation.synthetic import generator
from tests.factories import CitationFactory, make_published_case

SEARCH_URL = reverse("curation:search")


def generate(*args):
    out = StringIO()
    call_command("generate_synthetic", *args, stdout=out)
    return out.getvalue()


def snapshot():
    """What a user would see of the synthetic records, without database ids."""
    cases = (
        Case.objects.order_by("citation__pmid", "label")
        .select_related("citation", "final_diagnosis", "topography")
        .prefetch_related(
            "ihc_results__marker", "fusions__five_prime_gene", "fusions__three_prime_gene"
        )
    )
    return [
        (
            case.citation.pmid,
            case.citation.title,
            case.label,
            case.final_diagnosis.name,
            case.topography.code,
            str(case.age),
            case.sex,
            case.histology,
            case.published_at,
            [(r.marker.name, r.clone, r.result) for r in case.ihc_results.order_by("position")],
            [f.notation for f in case.fusions.all()],
        )
        for case in cases
    ]


@pytest.mark.django_db
def test_generate_creates_the_asked_numbers_of_published_cases_and_citations():
    output = generate("--cases", "120", "--citations", "50", "--seed", "3")

    assert "Created 120 synthetic cases" in output
    assert Case.objects.count() == 120
    assert Citation.objects.count() == 50
    assert set(Case.objects.values_list("status", flat=True)) == {Case.Status.PUBLISHED}
    assert not Case.objects.filter(published_at=None).exists()
    # Every citation reports at least one case; labels tell a series' cases apart.
    assert Citation.objects.filter(cases=None).count() == 0
    assert CaseEvent.objects.filter(to_status="published").count() == 120
    assert Author.objects.exists()


@pytest.mark.django_db
def test_synthetic_records_are_marked_and_in_the_reserved_pmid_range():
    generate("--cases", "40", "--seed", "1")

    pmids = list(Citation.objects.values_list("pmid", flat=True))
    assert len(pmids) == 20  # half the cases by default
    assert all(SYNTHETIC_PMID_MIN <= pmid <= SYNTHETIC_PMID_MAX for pmid in pmids)
    for citation in Citation.objects.all():
        assert citation.title.startswith("[SYNTHETIC] ")
        assert citation.journal == "Synthetic Journal of Dermatopathology"
        assert citation.doi == f"10.5555/rarederm-synthetic.{citation.pmid}"
    owner = get_user_model().objects.get(username=SYNTHETIC_USERNAME)
    assert not owner.is_active
    assert not owner.has_usable_password()
    assert set(Case.objects.values_list("created_by", flat=True)) == {owner.pk}


@pytest.mark.django_db
def test_findings_follow_the_diagnoses_like_a_real_registry():
    generate("--cases", "600", "--seed", "5")

    # ALK-fused tumours stain for ALK; melanomas for S100/SOX10; DFSP carries COL1A1::PDGFB.
    alk_fused = Case.objects.filter(fusions__three_prime_gene__symbol="ALK").distinct()
    assert alk_fused.exists()
    assert {c.final_diagnosis.name for c in alk_fused} == {"inflammatory myofibroblastic tumor"}
    stained = IHCResult.objects.filter(case__in=alk_fused, marker__name="ALK")
    assert stained.filter(result="positive").count() >= 0.8 * stained.count()
    melanoma_s100 = IHCResult.objects.filter(
        case__final_diagnosis__name="melanoma", marker__name="S100"
    )
    assert melanoma_s100.filter(result="positive").count() >= 0.9 * melanoma_s100.count()
    assert FusionFinding.objects.filter(
        five_prime_gene__symbol="COL1A1", three_prime_gene__symbol="PDGFB"
    ).exists()
    # Several diagnoses and sites, and a partner-unknown (break-apart) finding among the fusions.
    assert Case.objects.values("final_diagnosis").distinct().count() >= 10
    assert Case.objects.values("topography").distinct().count() >= 8
    assert FusionFinding.objects.filter(five_prime_gene=None).exists()
    # The three-facet search of the benchmark has hits: ALK fusion + C44.4 + ALK positive.
    assert Case.objects.filter(
        fusions__three_prime_gene__symbol="ALK",
        topography__code="C44.4",
        ihc_results__marker__name="ALK",
        ihc_results__result="positive",
    ).exists()


@pytest.mark.django_db
def test_the_same_seed_gives_the_same_records_and_another_seed_others():
    generate("--cases", "60", "--seed", "11")
    first = snapshot()
    generate("--delete")
    generate("--cases", "60", "--seed", "11")
    assert snapshot() == first
    generate("--delete")
    generate("--cases", "60", "--seed", "12")
    assert snapshot() != first


@pytest.mark.django_db
def test_delete_removes_every_synthetic_record_and_keeps_real_ones():
    call_command("load_demo", stdout=StringIO())
    generate("--cases", "30", "--seed", "2", "--allow-real-data")
    assert Case.objects.count() == 31

    output = generate("--delete")

    assert "Removed 30 synthetic cases and 15 synthetic citations" in output
    assert list(Citation.objects.values_list("pmid", flat=True)) == [35560368]
    assert Case.objects.count() == 1
    assert IHCResult.objects.count() == 1 and FusionFinding.objects.count() == 1
    assert CaseEvent.objects.count() == 1
    assert not Author.objects.filter(citation__pmid__gte=SYNTHETIC_PMID_MIN).exists()


@pytest.mark.django_db
def test_synthetic_cases_have_no_field_history_because_rows_are_written_without_save():
    generate("--cases", "10", "--seed", "1")
    assert Case.history.count() == 0
    assert IHCResult.history.count() == 0


@pytest.mark.django_db
def test_a_database_with_real_cases_is_refused_unless_asked():
    call_command("load_demo", stdout=StringIO())
    with pytest.raises(CommandError, match="holds 1 real case"):
        generate("--cases", "10")
    assert Citation.objects.count() == 1


@pytest.mark.django_db
def test_generating_twice_asks_to_delete_first():
    generate("--cases", "10")
    with pytest.raises(CommandError, match="already holds 5 synthetic citations"):
        generate("--cases", "10")
    assert Case.objects.count() == 10


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--cases", "-1"], "cannot be negative"),
        (["--cases", "5", "--citations", "0"], "Cases need citations"),
    ],
)
def test_nonsense_sizes_are_refused_with_a_reason(args, message):
    with pytest.raises(CommandError, match=message):
        generate(*args)
    assert Case.objects.count() == 0


@pytest.mark.django_db
def test_every_generated_row_loads_complete_and_valid_through_the_orm():
    generate("--cases", "80", "--citations", "30", "--seed", "4")

    cases = list(
        Case.objects.with_record().prefetch_related("events", "citation__authors").order_by("pk")
    )
    assert len(cases) == 80
    for case in cases:
        assert case.citation.title.startswith("[SYNTHETIC] ")
        assert case.citation.authors.all()
        assert case.final_diagnosis and case.topography
        assert len(case.ihc_results.all()) >= 2  # a panel's first two markers are always stained
        assert [(e.from_status, e.to_status) for e in case.events.all()] == [
            ("draft", "published")
        ]
        assert case.events.get().created_at == case.published_at
        if case.fusions.all():
            assert case.evidence_grade in {"A", "B"}
    for case in cases[::8]:
        case.full_clean()
        case.citation.full_clean()
        rows = [
            *case.citation.authors.all(),
            *case.ihc_results.all(),
            *case.fusions.all(),
            *case.clinical_events.all(),
            *case.events.all(),
        ]
        for row in rows:
            row.full_clean()
    # A breadth of rows, not only the first kinds.
    assert FusionFinding.objects.exists() and ClinicalEvent.objects.exists()
    assert Case.differentials.through.objects.exists()


@pytest.mark.django_db
def test_columns_the_generator_leaves_alone_hold_the_models_defaults():
    generate("--cases", "10", "--seed", "2")

    case = Case.objects.order_by("pk").first()
    assert case.version == 1
    assert case.source_depth == "" and case.grade_lowered_to == ""
    assert case.created_at is not None and case.updated_at is not None
    assert case.revision_of is None and case.depth_mm is None
    citation = case.citation
    assert citation.authors_complete is True and citation.retracted is False
    assert citation.mesh_terms == [] and citation.notices == []
    assert citation.publication_types == ["Journal Article", "Case Reports"]
    assert citation.fetch_status == "fetched"
    event = case.events.get()
    assert event.kind == CaseEvent.Kind.TRANSITION and event.role == ""
    ihc = case.ihc_results.order_by("position").first()
    assert ihc.extent == "" and ihc.as_reported == "" and ihc.clone_term is None


@pytest.mark.django_db
def test_records_created_after_generation_get_fresh_ids():
    generate("--cases", "30", "--seed", "3")
    largest_case = Case.objects.aggregate(n=Max("pk"))["n"]
    largest_citation = Citation.objects.aggregate(n=Max("pk"))["n"]

    # The ORM's inserts take their ids from the tables' own sequences.
    citation = CitationFactory()
    case = make_published_case(citation=citation)

    assert citation.pk > largest_citation
    assert case.pk > largest_case
    assert Case.objects.count() == 31


def test_the_full_text_search_finds_a_synthetic_case_by_a_word_of_its_histology(client, postgres):
    generate("--cases", "60", "--seed", "6")
    # The search_vector trigger fired for the rows COPY wrote.
    assert not Case.objects.filter(search_vector=None).exists()
    case = Case.objects.filter(histology__contains="eosinophils").order_by("pk").first()
    assert case is not None

    response = client.get(SEARCH_URL, {"q": "eosinophil"})  # stemmed: the plural matches

    found = [c.pk for c in response.context["cases"]]
    assert case.pk in found
    assert all("eosinophils" in c.histology for c in response.context["cases"])


@pytest.mark.django_db(transaction=True)
def test_parallel_writers_give_the_same_records_as_one(postgres, monkeypatch):
    # Outside a transaction, batches are written by several threads, each on its
    # own connection; each batch has its own random generator.
    monkeypatch.setattr(generator, "BATCH_CITATIONS", 20)
    threads = set()
    write = generator._write

    def recording_write(*args):
        threads.add(threading.get_ident())
        write(*args)

    monkeypatch.setattr(generator, "_write", recording_write)
    generator.generate(300, 120, 9, workers=1)
    one = snapshot()
    call_command("generate_synthetic", "--delete", stdout=StringIO())
    threads.clear()

    written = generator.generate(300, 120, 9, workers=3)

    assert len(threads) > 1
    assert written["cases"] == 300 and written["citations"] == 120
    assert snapshot() == one
