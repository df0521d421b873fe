"""In a real browser: a curator goes from PMID 35560368 to a submitted case record."""

import os
from pathlib import Path

import pytest
from playwright.sync_api import expect

from curation.models import Case, CaseEvent
from tests.conftest import login

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]


SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "screenshots" / "curator-case-form.png"


def test_the_whole_journey_from_a_pmid_to_a_submitted_case(
    page, live_server, curator, fake_eutils, tmp_path
):
    login(page, live_server, curator)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="New report").click()

    # 1. The PMID: the citation arrives (fetched from the fake E-utilities server).
    page.get_by_label("PMID, DOI or PubMed link").fill("PMID: 35560368")
    page.get_by_role("button", name="Find the paper").click()
    progress = page.locator("#job-progress")
    expect(progress).to_contain_text("Found 35560368 in PubMed")
    expect(progress).to_contain_text("McCollum")
    expect(progress.get_by_role("heading")).to_contain_text(
        "Cutaneous inflammatory myofibroblastic tumor with CARS-ALK fusion"
    )
    page.get_by_role("button", name="Add a case from this report").click()

    # 2. The case, with the abstract beside the form.
    expect(page.get_by_role("complementary", name="The paper")).to_contain_text("McCollum")
    page.locator("#id_label").fill("Case 1")
    page.locator("#id_age").fill("38")
    page.locator("#id_sex").select_option("female")
    page.locator("#id_final_diagnosis").fill("inflammatory myofibroblastic tumor (8825/1)")
    page.locator("#id_topography").fill("C44.4 Skin of scalp and neck")
    page.locator("#id_site_detail").fill("posterior scalp")
    page.locator("#id_histology").fill(
        "Fascicles of spindle cells in a lymphoplasmacytic background, dermis to subcutis."
    )

    page.get_by_role("button", name="Add an IHC result").click()
    page.locator("#id_ihc-0-marker").fill("ALK")
    page.locator("#id_ihc-0-clone").fill("D5F3")
    page.locator("#id_ihc-0-result").select_option("positive")
    page.locator("#id_ihc-0-intensity").select_option("strong")
    page.locator("#id_ihc-0-extent").select_option("diffuse")

    page.get_by_role("button", name="Add a fusion").click()
    page.locator("#id_fusion-0-written").fill("CARS-ALK")
    page.locator("#id_fusion-0-method").select_option("rna_seq")
    resolution = page.locator("#fusion-0-resolution")
    # Resolved on the spot, while typing (htmx), before any save.
    expect(resolution).to_contain_text("CARS → CARS1, previous symbol")
    expect(resolution).to_contain_text("Recorded as CARS1::ALK")

    # The README's picture: the filled form, the abstract beside it.
    page.locator("#id_fusion-0-written").blur()
    # UPDATE_SCREENSHOTS=1 refreshes the committed picture; otherwise it goes to tmp.
    page.set_viewport_size({"width": 1280, "height": 1560})
    page.evaluate("window.scrollTo(0, 0)")
    target = SCREENSHOT if os.environ.get("UPDATE_SCREENSHOTS") == "1" else tmp_path / "form.png"
    target.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(target))
    assert target.stat().st_size > 50_000  # a real, filled page, not a blank one
    page.set_viewport_size({"width": 1280, "height": 900})

    # 3. Save, reload: everything is still there.
    page.get_by_role("button", name="Save draft").click()
    expect(page.locator(".messages")).to_contain_text("Saved (version")
    page.reload()
    expect(page.locator("#id_age")).to_have_value("38")
    expect(page.locator("#id_final_diagnosis")).to_have_value(
        "inflammatory myofibroblastic tumor (8825/1)"
    )
    expect(page.locator("#id_ihc-0-marker")).to_have_value("ALK")
    expect(page.locator("#id_fusion-0-written")).to_have_value("CARS-ALK")
    expect(page.locator("#fusion-0-resolution")).to_contain_text("Recorded as CARS1::ALK")

    # 4. Submit — with a double click: it is submitted once.
    page.get_by_role("button", name="Submit for review").dblclick()
    expect(page.get_by_role("heading", level=1)).to_contain_text("CARS1::ALK")
    case = Case.objects.get(label="Case 1")
    assert case.status == Case.Status.SUBMITTED
    assert CaseEvent.objects.filter(case=case, to_status="submitted").count() == 1
    (fusion,) = case.fusions.all()
    assert (fusion.notation, fusion.as_reported) == ("CARS1::ALK", "CARS-ALK")
    assert case.ihc_results.get().marker.name == "ALK"


def test_autosave_keeps_what_was_typed_without_pressing_save(page, live_server, curator):
    from curation.actions.submission import start_case
    from tests.factories import CitationFactory

    case = start_case(CitationFactory(), by=curator)
    login(page, live_server, curator)
    page.goto(f"{live_server.url}/curate/cases/{case.pk}/")
    page.locator("#id_notes").fill("Typed, then the tab was closed.")
    # Leaving the tab (visibilitychange) saves at once; the interval would too.
    page.evaluate(
        "Object.defineProperty(document, 'visibilityState', "
        "{value: 'hidden', configurable: true});"
        "document.dispatchEvent(new Event('visibilitychange'))"
    )
    expect(page.locator("[data-autosave-status]")).to_contain_text("Autosaved at")
    case.refresh_from_db()
    assert case.notes == "Typed, then the tab was closed."
    # The page knows the new version: an explicit save right after is no conflict.
    page.locator("#id_notes").fill("And then edited again.")
    page.get_by_role("button", name="Save draft").click()
    expect(page.locator(".messages")).to_contain_text("Saved (version")
    case.refresh_from_db()
    assert case.notes == "And then edited again."
