"""In a real browser, on the vocabularies a fresh database is migrated with (0008):
the three cases issue 13 says a curator could not record, and a term proposed
from the form and accepted by a reviewer."""

import pytest
from playwright.sync_api import expect

from curation.models import Case, DiagnosisFamily, TermProposal
from tests.conftest import login
from tests.factories import CitationFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]


def _new_case(page, live_server, pmid, label):
    page.goto(f"{live_server.url}/curate/reports/{pmid}/")
    page.locator("input[name=label]").fill(label)
    page.get_by_role("button", name="Add a case").click()
    expect(page.get_by_role("complementary", name="The paper")).to_be_visible()


def _fusion(page, written, resolved, notation):
    page.get_by_role("button", name="Add a fusion").click()
    page.locator("#id_fusion-0-written").fill(written)
    page.locator("#id_fusion-0-method").select_option("rna_seq")
    resolution = page.locator("#fusion-0-resolution")
    expect(resolution).to_contain_text(resolved)
    expect(resolution).to_contain_text(f"Recorded as {notation}")


@pytest.mark.parametrize(
    ("label", "diagnosis", "stored", "marker", "written", "resolved", "notation"),
    [
        (
            "EFH",
            "epithelioid fibrous histiocytoma (8830/0)",
            "epithelioid fibrous histiocytoma",
            "ALK",
            "SQSTM1-ALK",
            "SQSTM1 (approved symbol)",
            "SQSTM1::ALK",
        ),
        (
            "Hidradenoma",
            "hidradenoma (8402/0)",
            "hidradenoma",
            "CK7",
            "CRTC1-MAML2",
            "CRTC1 (approved symbol)",
            "CRTC1::MAML2",
        ),
        (
            "Spitz",
            "atypical Spitz tumour",
            "Spitz melanocytoma",
            "pan-TRK",
            "NPM-ALK",
            "NPM → NPM1, alias",
            "NPM1::ALK",
        ),
    ],
)
def test_a_curator_records_the_cases_the_old_vocabulary_could_not_hold(
    page, live_server, curator, label, diagnosis, stored, marker, written, resolved, notation
):
    citation = CitationFactory()
    login(page, live_server, curator)
    _new_case(page, live_server, citation.pmid, label)
    page.locator("#id_age").fill("30")
    page.locator("#id_final_diagnosis").fill(diagnosis)
    page.locator("#id_topography").fill(
        "C51.0 Labium majus" if label == "Hidradenoma" else "C44.6"
    )
    page.get_by_role("button", name="Add an IHC result").click()
    page.locator("#id_ihc-0-marker").fill(marker)
    page.locator("#id_ihc-0-result").select_option("positive")
    page.locator("#id_ihc-0-pattern").select_option("cytoplasmic")
    _fusion(page, written, resolved, notation)
    page.get_by_role("button", name="Save draft").click()
    expect(page.locator(".messages")).to_contain_text("Saved (version")

    page.get_by_role("button", name="Submit for review").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(notation)
    case = Case.objects.get(label=label)
    assert case.status == Case.Status.SUBMITTED
    assert case.final_diagnosis.name == stored
    (fusion,) = case.fusions.all()
    assert (fusion.notation, fusion.as_reported) == (notation, written)
    assert case.ihc_results.get().get_pattern_display() == "Cytoplasmic (smooth)"


def test_a_missing_diagnosis_is_proposed_from_the_form_and_a_reviewer_accepts_it(
    page, live_server, curator, reviewer
):
    citation = CitationFactory()
    login(page, live_server, curator)
    _new_case(page, live_server, citation.pmid, "Case 1")
    page.locator("#id_final_diagnosis").fill("cutaneous syncytial myoepithelioma-like tumour")
    page.locator("#id_topography").fill("C44.7")
    page.get_by_role("button", name="Add an IHC result").click()
    page.locator("#id_ihc-0-marker").fill("EMA")
    page.locator("#id_ihc-0-result").select_option("positive")
    page.get_by_role("button", name="Save draft").click()
    # Not in the list: the form offers to propose it, on the same page.
    proposal_box = page.get_by_label(
        "Propose “cutaneous syncytial myoepithelioma-like tumour” as a new diagnosis"
    )
    expect(proposal_box).to_be_visible()
    proposal_box.check()
    page.locator("#id_final_diagnosis_source").fill("https://example.org/paper")
    page.get_by_role("button", name="Save draft").click()
    expect(page.locator("[data-pending=final_diagnosis]")).to_contain_text(
        "cutaneous syncytial myoepithelioma-like tumour"
    )
    page.get_by_role("button", name="Submit for review").click()
    case = Case.objects.get(label="Case 1")
    assert case.status == Case.Status.SUBMITTED and case.final_diagnosis is None

    page.context.clear_cookies()
    login(page, live_server, reviewer)
    page.goto(f"{live_server.url}/review/{case.pk}/")
    item = page.locator(f"[data-proposal='{TermProposal.objects.get().pk}']")
    family = DiagnosisFamily.objects.get(
        name="Tumours with apocrine and eccrine differentiation, benign"
    )
    item.locator("select[name=family]").select_option(value=str(family.pk))
    item.get_by_role("button", name="Accept into the vocabulary").click()
    expect(page.locator(".messages")).to_contain_text("accepted into the vocabulary")
    case.refresh_from_db()
    assert case.final_diagnosis.name == "cutaneous syncytial myoepithelioma-like tumour"
    assert case.final_diagnosis.family.name.startswith("Tumours with apocrine")
