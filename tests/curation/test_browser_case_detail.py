"""In a real browser: the founding case from load_demo, on a desktop and a phone."""

import pytest
from django.core.management import call_command

from curation.models import Case

pytestmark = pytest.mark.browser


@pytest.fixture
def founding_case(transactional_db):
    call_command("load_demo")
    return Case.objects.published().get()


def test_the_founding_case_page_shows_its_summary_and_links(page, live_server, founding_case):
    page.goto(live_server.url + founding_case.get_absolute_url())
    heading = page.get_by_role("heading", level=1)
    assert heading.inner_text() == "Inflammatory myofibroblastic tumor with CARS1::ALK"
    summary = page.locator(".summary-list")
    assert "38 years, female" in summary.inner_text()
    assert "ALK+" in summary.inner_text()
    assert "(reported as CARS-ALK)" in summary.inner_text()
    pubmed = page.get_by_role("link", name="PubMed 35560368")
    assert pubmed.get_attribute("href") == "https://pubmed.ncbi.nlm.nih.gov/35560368/"
    assert page.get_by_role("table").first.get_by_role("row").count() == 2  # header + ALK


def test_the_case_page_fits_a_phone_screen(page, live_server, founding_case):
    page.set_viewport_size({"width": 375, "height": 740})
    page.goto(live_server.url + founding_case.get_absolute_url())
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0


def test_a_draft_is_a_404_in_the_browser_too(page, live_server, founding_case):
    from tests.factories import CaseFactory

    draft = CaseFactory()
    response = page.goto(live_server.url + draft.get_absolute_url())
    assert response.status == 404
