"""In a real browser: search "scalp", filter ALK positive, open the founding case, export CSV."""

import csv
import os
import shutil
from pathlib import Path

import pytest
from django.core.management import call_command

from curation.models import Case
from curation.vocabularies import ensure_vocabularies
from tests.curation.searchdata import build_registry
from tests.factories import CitationFactory, diagnosis, make_published_case, topography

pytestmark = pytest.mark.browser


@pytest.fixture(autouse=True)
def vocabularies(transactional_db):
    # The live server's database is flushed after each test: the vocabularies of the
    # data migration may be gone.
    ensure_vocabularies()


SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "screenshots" / "search.png"


def _scalp_melanoma():
    """A second scalp case, ALK negative: the ALK filter must remove it."""
    return make_published_case(
        citation=CitationFactory(pmid=31000100, title="Spindle cell melanoma of the scalp"),
        final_diagnosis=diagnosis("spindle cell melanoma"),
        topography=topography("C44.4"),
        site_detail="vertex of the scalp",
        age=81,
        sex=Case.Sex.MALE,
        ihc=[("S100", "positive"), ("SOX10", "positive"), ("ALK", "negative")],
        fusions=[],
    )


def test_a_pathologist_finds_the_founding_case_and_exports_it(page, live_server, tmp_path):
    call_command("load_demo", stdout=open(os.devnull, "w"))  # noqa: SIM115
    founding = Case.objects.get(citation__pmid=35560368)
    melanoma = _scalp_melanoma()

    page.goto(live_server.url + "/")
    page.get_by_label("Search published cases").fill("scalp")
    page.get_by_role("button", name="Search").last.click()
    page.wait_for_url("**/search/?q=scalp")
    results = page.locator(".result-list > li")
    assert results.count() == 2
    assert page.get_by_role("heading", name="2 published cases").is_visible()

    page.locator('[data-facet="ihc"]').get_by_role("link", name="ALK positive").click()
    page.wait_for_url("**ihc=ALK%3Apositive**")
    assert results.count() == 1
    assert page.get_by_text("CARS1::ALK").first.is_visible()
    assert page.locator(".chip", has_text="ALK positive").is_visible()
    filtered_url = page.url

    results.get_by_role("link", name="Inflammatory myofibroblastic tumor").click()
    page.wait_for_url(f"**{founding.get_absolute_url()}")
    assert "CARS1::ALK" in page.content()

    # The back button returns to the same filtered search: the state is in the URL.
    page.go_back()
    page.wait_for_url(filtered_url)
    assert results.count() == 1

    with page.expect_download() as download_info:
        page.get_by_role("link", name="CSV", exact=True).click()
    download = download_info.value
    assert download.suggested_filename.endswith(".csv")
    path = tmp_path / "cases.csv"
    download.save_as(path)
    rows = list(csv.DictReader(path.open(encoding="utf-8-sig")))
    assert [int(r["case_id"]) for r in rows] == [founding.pk]
    assert rows[0]["fusions"] == "CARS1::ALK"
    assert rows[0]["pmid"] == "35560368"
    assert str(melanoma.pk) not in {r["case_id"] for r in rows}


def test_the_search_page_reads_well_at_1280_pixels(page, live_server, tmp_path):
    """Screenshot for the README (docs/screenshots/search.png with UPDATE_SCREENSHOTS=1)."""
    build_registry()
    _scalp_melanoma()
    for site, detail, age in (("C44.7", "knee", 52), ("C49.2", "thigh", 33)):
        make_published_case(
            topography=topography(site),
            site_detail=detail,
            laterality="",
            age=age,
            fusions=["TPM4::ALK"],
            sex=Case.Sex.MALE,
        )
    page.set_viewport_size({"width": 1280, "height": 1000})
    page.goto(live_server.url + "/search/?ihc=ALK%3Apositive&sort=year")
    assert page.get_by_role("heading", name="5 published cases").is_visible()
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0
    facets = page.locator(".facets")
    results = page.locator(".results")
    # Facets beside the results, not above them, at this width.
    assert (
        facets.bounding_box()["x"] + facets.bounding_box()["width"] <= results.bounding_box()["x"]
    )
    shot = tmp_path / "search.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    if os.environ.get("UPDATE_SCREENSHOTS") == "1":
        SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(shot, SCREENSHOT)


def test_the_search_page_fits_a_phone_screen(page, live_server):
    build_registry()
    page.set_viewport_size({"width": 375, "height": 740})
    page.goto(live_server.url + "/search/?q=spindle&profile=ALK%2B+S100-")
    assert page.get_by_role("heading", name="Literature summary for ALK+ S100-").is_visible()
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0
