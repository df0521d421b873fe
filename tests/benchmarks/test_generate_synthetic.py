"""manage.py generate_synthetic: clearly synthetic, plausible, reproducible, removable."""

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from citations.models import Author, Citation
from curation.management.commands.generate_synthetic import (
    SYNTHETIC_PMID_MAX,
    SYNTHETIC_PMID_MIN,
    SYNTHETIC_USERNAME,
)
from curation.models import Case, CaseEvent, FusionFinding, IHCResult


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
def test_synthetic_cases_have_no_field_history_because_bulk_create_bypasses_it():
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
