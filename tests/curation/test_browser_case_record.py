"""In a real browser (issue 14, "done means"): on the demo registry `make run` loads, a
curator enters a case series of three — recurrence at 14 months, BRAF V600E by a DNA
panel — and adds a second paper of the founding case's patient as another report."""

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from curation.models import Case
from tests.conftest import login
from tests.factories import CitationFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _add_case(page, live_server, pmid, label, copy=False):
    page.goto(f"{live_server.url}/curate/reports/{pmid}/")
    page.locator("#new-label").fill(label)
    if not copy:
        page.locator("#copy-from").select_option("") if page.locator(
            "#copy-from"
        ).count() else None
    page.get_by_role("button", name="Add a case").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(label)


def test_a_case_series_with_course_and_variant_and_a_patient_in_two_papers(
    page, live_server, curator
):
    call_command("load_demo")  # what `make run` loads: the founding case, published
    founding = Case.objects.get(citation__pmid=35560368)
    series = CitationFactory(pmid=39100001, title="Three cutaneous spindle cell tumours")
    follow_up = CitationFactory(pmid=39100002, title="Cutaneous IMT: ten years on")
    login(page, live_server, curator)

    # Case 1, in full.
    _add_case(page, live_server, series.pmid, "Case 1")
    page.locator("#id_source_depth").select_option("full_text")
    page.locator("#id_age").fill("52")
    page.locator("#id_sex").select_option("male")
    page.locator("#id_final_diagnosis").fill("spindle cell melanoma")
    page.locator("#id_topography").fill("C44.4 Skin of scalp and neck")
    page.locator("#id_differentials").fill("atypical fibroxanthoma; dermatofibroma")
    page.get_by_role("button", name="Add an IHC result").click()
    page.locator("#id_ihc-0-marker").fill("SOX10")
    page.locator("#id_ihc-0-result").select_option("positive")
    page.get_by_role("button", name="Add a variant, copy-number change or other finding").click()
    page.locator("#id_molecular-0-kind").select_option("variant")
    page.locator("#id_molecular-0-gene").fill("BRAF")
    page.locator("#id_molecular-0-hgvs_protein").fill("V600E")
    page.locator("#id_molecular-0-method").select_option("dna_panel")
    page.locator("#id_molecular-0-assay").fill("targeted DNA sequencing panel")
    page.get_by_role("button", name="Add a treatment").click()
    page.locator("#id_treatment-0-kind").select_option("wide_local_excision")
    page.locator("#id_treatment-0-margins").select_option("negative")
    page.get_by_role("button", name="Add an event").click()
    page.locator("#id_event-0-kind").select_option("local_recurrence")
    page.locator("#id_event-0-months").fill("14")
    # First an impossible course: the last follow-up before the recurrence.
    page.locator("#id_follow_up_months").fill("10")
    page.locator("#id_outcome").select_option("awd")
    page.get_by_role("button", name="Save draft").click()
    expect(page.locator("#id_event-0-months-error")).to_contain_text(
        "is after the last follow-up (10 months)"
    )
    expect(page.locator("#id_event-0-months")).to_have_value("14")  # kept as typed
    page.locator("#id_follow_up_months").fill("36")
    page.get_by_role("button", name="Save draft").click()
    expect(page.locator(".messages")).to_contain_text("Saved (version")
    expect(page.locator("[data-grade]")).to_contain_text("Evidence grade now: A")
    expect(page.locator("#id_molecular-0-hgvs_protein")).to_have_value("p.Val600Glu")
    case1 = Case.objects.get(citation=series, label="Case 1")
    page.get_by_role("button", name="Submit for review").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Spindle cell melanoma")
    expect(page.locator("[data-field=events]")).to_contain_text("Local recurrence at 14 months")
    expect(page.locator("[data-table=molecular]")).to_contain_text("BRAF p.V600E")

    # Cases 2 and 3: copied from the one before (diagnosis, stains, variant), then the patient.
    for label, age in (("Case 2", "47"), ("Case 3", "61")):
        _add_case(page, live_server, series.pmid, label, copy=True)
        expect(page.locator("#id_molecular-0-gene")).to_have_value("BRAF")
        page.locator("#id_age").fill(age)
        page.locator("#id_sex").select_option("female")
        page.locator("#id_topography").fill("C44.6 Skin of upper limb and shoulder")
        page.get_by_role("button", name="Save draft").click()
        expect(page.locator(".messages")).to_contain_text("Saved (version")
    cases = Case.objects.filter(citation=series).order_by("label")
    assert [(c.label, c.evidence_grade) for c in cases] == [
        ("Case 1", "A"),
        ("Case 2", "A"),
        ("Case 3", "A"),
    ]
    assert case1.clinical_events.get().months == 14

    # The founding case's patient, reported again: a revision of the published case.
    page.goto(f"{live_server.url}/curate/reports/{follow_up.pmid}/")
    page.locator("#same-patient-case").fill(str(founding.pk))
    page.get_by_role("button", name="Add this paper as another report of that case").click()
    expect(page.locator(".messages")).to_contain_text("as another report of the same patient")
    revision = Case.objects.get(revision_of=founding)
    assert list(revision.other_citations.values_list("pmid", flat=True)) == [39100002]
    page.get_by_role("button", name="Submit for review").click()
    expect(page.locator(".messages")).to_contain_text("Submitted for review")
    assert Case.objects.published().filter(citation__pmid=35560368).count() == 1
