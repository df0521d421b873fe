"""In a real browser: autosave keeps what is valid and the text of what is not, so a
browser crash loses at most the last 15 seconds (issue 12, item 6)."""

import pytest
from playwright.sync_api import expect

from curation.actions.submission import start_case
from curation.views.curate import AUTOSAVE_SECONDS
from tests.conftest import login
from tests.factories import CitationFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]


def test_an_invalid_row_does_not_stop_autosave_and_survives_a_crash(page, live_server, curator):
    case = start_case(CitationFactory(), by=curator)
    login(page, live_server, curator)
    page.clock.install()  # the page's timers run on a clock the test moves
    page.goto(f"{live_server.url}/curate/cases/{case.pk}/")
    page.locator("#id_histology").fill("Spindle cells in fascicles.")
    page.get_by_role("button", name="Add an IHC result").click()
    page.locator("#id_ihc-0-marker").fill("ALK")
    page.locator("#id_ihc-0-result").select_option("positive")
    page.get_by_role("button", name="Add an IHC result").click()
    page.locator("#id_ihc-1-marker").fill("SMAA")  # a typo: not in the marker list
    page.locator("#id_ihc-1-result").select_option("positive")

    assert AUTOSAVE_SECONDS <= 15
    page.clock.run_for(AUTOSAVE_SECONDS * 1000)  # nobody pressed Save
    status = page.locator("[data-autosave-status]")
    expect(status).to_contain_text("Autosaved what is valid")
    expect(status).to_contain_text("IHC result row 2 (Marker): “SMAA” is not in the marker list")

    case.refresh_from_db()
    assert case.histology == "Spindle cells in fascicles."
    assert [r.marker.name for r in case.ihc_results.all()] == ["ALK"]

    # The browser crashes (no unload handlers, nothing more sent); the curator comes back.
    context = page.context
    page.close(run_before_unload=False)
    again = context.new_page()
    again.goto(f"{live_server.url}/curate/cases/{case.pk}/")
    expect(again.locator("[data-unsaved]")).to_contain_text("Not everything you typed is saved")
    expect(again.locator("[data-unsaved]")).to_contain_text("IHC result row 2 (Marker)")
    expect(again.locator("#id_histology")).to_have_value("Spindle cells in fascicles.")
    expect(again.locator("#id_ihc-0-marker")).to_have_value("ALK")
    expect(again.locator("#id_ihc-1-marker")).to_have_value("SMAA")

    # Corrected and saved: everything is in the case, nothing is left over.
    again.locator("#id_ihc-1-marker").fill("SMA")
    again.get_by_role("button", name="Save draft").click()
    expect(again.locator(".messages")).to_contain_text("Saved (version")
    expect(again.locator("[data-unsaved]")).to_have_count(0)
    assert [r.marker.name for r in case.ihc_results.order_by("position")] == ["ALK", "SMA"]
