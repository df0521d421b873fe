"""In a real browser at a phone's width (390 CSS px, an iPhone 12-15): the case form and
the statistics page fit without sideways scrolling, and the search results come before
the facets, which wait behind a "Refine" button (issue 12, item 8)."""

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from curation.actions.submission import start_case
from curation.vocabularies import ensure_vocabularies
from tests.conftest import login
from tests.factories import CitationFactory, diagnosis, make_published_case, topography

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}

# Every element whose right edge passes the viewport's (what makes the page scroll
# sideways).
OVERFLOW = """(scrolling) => {
  const width = document.documentElement.clientWidth;
  const wide = [];
  for (const el of document.body.querySelectorAll('*')) {
    const box = el.getBoundingClientRect();
    if (box.width && box.right > width + 1 && !(scrolling && el.closest('.table-scroll'))) {
      const cls = typeof el.className === 'string' ? el.className.trim() : '';
      wide.push(el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
        (cls ? '.' + cls.split(/ +/).join('.') : '') + ' right=' + Math.round(box.right));
    }
  }
  return {scroll: document.documentElement.scrollWidth, width: width, wide: wide.slice(0, 8)};
}"""


@pytest.fixture(autouse=True)
def vocabularies(transactional_db):
    ensure_vocabularies()  # the live server's database is flushed between tests


def _fits(page, *, table_scroll=False):
    """Nothing sticks out to the right; with table_scroll, a table may scroll in its box."""
    found = page.evaluate(OVERFLOW, table_scroll)
    assert found["scroll"] <= found["width"], found
    assert found["wide"] == [], found


def test_the_case_form_fits_a_phone(page, live_server, curator):
    case = start_case(CitationFactory(pmid=35560368), by=curator)
    login(page, live_server, curator)
    page.set_viewport_size(PHONE)
    page.goto(f"{live_server.url}{reverse('curation:case_edit', args=[case.pk])}")
    page.get_by_role("button", name="Add an IHC result").click()
    page.locator("#id_ihc-0-marker").fill("ALK")
    page.locator("#id_ihc-0-result").select_option("positive")
    page.get_by_role("button", name="Add a fusion").click()
    page.locator("#id_fusion-0-written").fill("CARS-ALK")
    expect(page.locator("#fusion-0-resolution")).to_contain_text("Recorded as CARS1::ALK")
    _fits(page)
    # Every input of a row can be reached and typed into without scrolling sideways.
    page.locator("#id_ihc-0-as_reported").fill("ALK strongly positive")
    _fits(page)
    # Saved, so that no autosave is still running when the test's database is emptied.
    page.get_by_role("button", name="Save draft").click()
    expect(page.locator(".messages")).to_contain_text("Saved (version")
    _fits(page)


def test_the_statistics_page_fits_a_phone(page, live_server):
    make_published_case(final_diagnosis=diagnosis("inflammatory myofibroblastic tumor"))
    page.set_viewport_size(PHONE)
    page.goto(f"{live_server.url}{reverse('curation:stats')}")
    expect(page.locator("canvas").first).to_be_visible()
    _fits(page, table_scroll=True)


def test_on_a_phone_results_come_first_and_facets_wait_behind_refine(page, live_server):
    make_published_case(
        final_diagnosis=diagnosis("inflammatory myofibroblastic tumor"),
        topography=topography("C44.4"),
    )
    page.set_viewport_size(PHONE)
    page.goto(f"{live_server.url}{reverse('curation:search')}")
    results = page.get_by_role("heading", name="1 published case")
    expect(results).to_be_visible()
    facets = page.get_by_role("complementary", name="Refine")
    expect(facets).to_be_hidden()
    _fits(page)

    refine = page.get_by_role("button", name="Refine")
    expect(refine).to_have_attribute("aria-expanded", "false")
    refine.click()
    expect(refine).to_have_attribute("aria-expanded", "true")
    expect(facets).to_be_visible()
    result_top = page.locator(".result").first.bounding_box()["y"]
    assert facets.bounding_box()["y"] > result_top  # the results come first
    _fits(page)
    facets.get_by_role("link", name="C44.4").first.click()
    expect(page.locator(".active-filters")).to_contain_text("C44.4")

    # On a wide screen the facets stand beside the results, with no button.
    page.set_viewport_size({"width": 1280, "height": 900})
    expect(refine).to_be_hidden()
    expect(facets).to_be_visible()
    assert facets.bounding_box()["x"] < page.locator(".result").first.bounding_box()["x"]
