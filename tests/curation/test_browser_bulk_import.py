"""In a real browser: a bulk import where one PMID is unknown to PubMed."""

import pytest
from playwright.sync_api import expect

from tests.conftest import login

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]


def test_a_bulk_import_shows_the_unknown_pmid_failing_and_the_others_ready_for_cases(
    page, live_server, curator, fake_eutils
):
    login(page, live_server, curator)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Bulk import").click()
    page.get_by_label("PMIDs or DOIs").fill("35560368\n12091962\n99999999\n11700088")
    page.get_by_role("button", name="Import").click()

    progress = page.locator("#job-progress")
    expect(progress).to_have_attribute("data-state", "done")
    expect(progress.locator("[data-done]")).to_have_text("4")
    expect(progress.locator("[data-failed]")).to_have_text("1 failed")
    unknown = progress.locator('tr[data-query="99999999"]')
    expect(unknown).to_have_attribute("data-status", "failed")
    expect(unknown).to_contain_text("PubMed has no record with PMID 99999999")
    for pmid in ("35560368", "12091962", "11700088"):
        row = progress.locator(f'tr[data-query="{pmid}"]')
        expect(row).to_have_attribute("data-status", "new")
        expect(row.get_by_role("link", name="Add cases")).to_be_visible()
    expect(progress.get_by_role("button", name="Retry failed")).to_be_visible()

    progress.locator('tr[data-query="35560368"]').get_by_role("link", name="Add cases").click()
    expect(page.get_by_role("heading", name="Cases of this report")).to_be_visible()
    expect(page.get_by_role("complementary", name="The paper")).to_contain_text("McCollum")
