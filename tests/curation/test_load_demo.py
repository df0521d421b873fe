"""manage.py load_demo: the founding case, published, idempotent."""

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from citations.models import Citation
from curation.models import Case, CaseEvent, FusionFinding, IHCResult

pytestmark = pytest.mark.django_db


def _snapshot():
    return (
        list(Citation.objects.order_by("pk").values()),
        list(Case.objects.order_by("pk").values()),
        list(IHCResult.objects.order_by("pk").values()),
        list(FusionFinding.objects.order_by("pk").values()),
        list(CaseEvent.objects.order_by("pk").values()),
        list(Case.history.order_by("pk").values_list("history_id", flat=True)),
        list(get_user_model().objects.order_by("pk").values()),
    )


def test_load_demo_publishes_the_founding_case_as_the_paper_describes_it(client):
    call_command("load_demo")
    case = Case.objects.published().get()
    assert case.citation.pmid == 35560368
    assert case.citation.doi == "10.1111/cup.14261"
    assert (case.age, case.age_unit, case.sex) == (38, "years", "female")
    assert (case.topography.code, case.site_detail, case.laterality) == (
        "C44.4",
        "posterior scalp",
        "left",
    )
    assert case.initial_diagnosis.name == "dermatofibroma"
    assert (case.final_diagnosis.name, case.final_diagnosis.icdo3_code) == (
        "inflammatory myofibroblastic tumor",
        "8825/1",
    )
    assert (case.cell_type, case.depth, case.epidermal_involvement) == (
        "spindle",
        "dermis",
        "none",
    )
    ihc = case.ihc_results.get()
    assert (ihc.marker.name, ihc.result, ihc.intensity, ihc.extent, ihc.clone) == (
        "ALK",
        "positive",
        "strong",
        "diffuse",
        "",
    )
    fusion = case.fusions.get()
    assert (fusion.notation, fusion.as_reported, fusion.method, fusion.assay) == (
        "CARS1::ALK",
        "CARS-ALK",
        "targeted_rna_panel",
        "targeted RNA sequencing",  # the abstract's words, kept whole
    )
    # Sequencing found the defining fusion: grade A, curated from the abstract only.
    assert (case.evidence_grade, case.source_depth) == ("A", "abstract")
    assert sorted(d.name for d in case.differentials.all()) == [
        "atypical fibroxanthoma",
        "dermatofibroma",  # the abstract's "fibrous histiocytoma", a synonym
        "melanoma",
    ]
    assert "poorly differentiated carcinoma" in case.differentials_as_reported
    # Not in the paper's abstract, so not recorded.
    assert (case.treatment, case.outcome, case.follow_up_months, case.size_mm) == (
        "",
        "",
        None,
        None,
    )
    page = client.get(case.get_absolute_url()).content.decode()
    assert "Inflammatory myofibroblastic tumor with CARS1::ALK" in page
    assert "McCollum KJ, et al." in page


def test_a_founding_case_loaded_before_the_new_record_is_brought_up_to_date_once():
    call_command("load_demo")
    case = Case.objects.get(citation__pmid=35560368)
    # As an older load_demo left it: no source depth, method "RNA sequencing", no assay.
    Case.objects.filter(pk=case.pk).update(source_depth="", differentials_as_reported="")
    case.differentials.clear()
    case.fusions.update(method="rna_seq", assay="")
    call_command("load_demo")
    case.refresh_from_db()
    assert case.source_depth == "abstract"
    assert case.fusions.get().assay == "targeted RNA sequencing"
    assert case.differentials.count() == 3
    before = _snapshot()
    call_command("load_demo")
    assert _snapshot() == before


def test_running_load_demo_twice_changes_nothing():
    call_command("load_demo")
    before = _snapshot()
    call_command("load_demo")
    assert _snapshot() == before


def test_the_demo_owner_cannot_log_in(client):
    call_command("load_demo")
    owner = Case.objects.get().created_by
    assert owner.username == "rarederm-demo"
    assert not owner.has_usable_password()
    assert not owner.is_active
    assert not client.login(username="rarederm-demo", password="")


def test_load_demo_records_how_the_case_was_published():
    call_command("load_demo")
    event = CaseEvent.objects.get()
    assert (event.from_status, event.to_status) == ("draft", "published")
    assert "load_demo" in event.comment
