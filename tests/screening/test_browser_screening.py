"""In a real browser: a reviewer screens with the keyboard (m, j, e, i), the entity's terms
are marked, and the included paper reaches its curator's To curate list and report page."""

import pytest
from playwright.sync_api import expect

from screening.actions import add_candidate
from screening.models import Candidate
from tests.conftest import login
from tests.factories import CitationFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _candidate(pmid, title):
    citation = CitationFactory(
        pmid=pmid,
        title=title,
        abstract=[{"label": "", "category": "", "text": f"{title} ALK was positive."}],
    )
    return add_candidate(kind="search", citation=citation, label="cutaneous IMT").candidate


def test_a_reviewer_screens_with_the_keyboard_and_the_curator_starts_the_report(
    page, live_server, reviewer, curator
):
    maybe = _candidate(1001, "First: an inflammatory myofibroblastic tumor of the scalp.")
    excluded = _candidate(1002, "Second: a review of lung tumours.")
    included = _candidate(1003, "Third: a cutaneous IMT in a child.")
    login(page, live_server, reviewer)
    page.goto(f"{live_server.url}/screening/")
    first = page.locator("article.candidate").first
    expect(first).to_be_focused()
    expect(first.locator("mark").first).to_have_text("inflammatory myofibroblastic tumor")
    page.keyboard.press("m")  # the focused (first) paper: maybe
    expect(page.locator("article.candidate")).to_have_count(2)
    expect(page.get_by_text("PMID 1001: maybe.")).to_be_visible()

    second = page.locator(f"#candidate-{excluded.pk}")
    expect(second).to_be_focused()
    page.keyboard.press("j")
    expect(page.locator(f"#candidate-{included.pk}")).to_be_focused()
    page.keyboard.press("k")
    expect(second).to_be_focused()
    second.get_by_label("Reason to exclude").select_option(label="Not a case report")
    second.focus()
    page.keyboard.press("e")
    expect(page.get_by_text("PMID 1002: excluded.")).to_be_visible()

    third = page.locator(f"#candidate-{included.pk}")
    third.get_by_label("Curator").select_option(label=curator.username)
    third.focus()
    page.keyboard.press("i")
    expect(
        page.get_by_text(f"PMID 1003: included, assigned to {curator.username}.")
    ).to_be_visible()
    expect(page.get_by_text("Nothing here.")).to_be_visible()

    statuses = dict(Candidate.objects.values_list("pk", "status"))
    assert statuses == {maybe.pk: "maybe", excluded.pk: "exclude", included.pk: "include"}
    assert Candidate.objects.get(pk=excluded.pk).decisions.get().reason.label == (
        "Not a case report"
    )

    page.context.clear_cookies()
    login(page, live_server, curator)
    page.get_by_role("link", name="To curate").click()
    expect(page.get_by_text("Third: a cutaneous IMT in a child.")).to_be_visible()
    page.get_by_role("button", name="Start the report").click()
    expect(page).to_have_url(f"{live_server.url}/curate/reports/1003/")
