"""In a real browser (issue 15): search `IMT`, open its entity page, compare its stains
with epithelioid fibrous histiocytoma's, download the review table as DOCX and read it
back with python-docx."""

import os
import shutil
from pathlib import Path

import pytest
from docx import Document

from curation.vocabularies import ensure_vocabularies
from tests.curation.searchdata import build_registry
from tests.factories import diagnosis, make_published_case, topography

pytestmark = pytest.mark.browser

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
IMT = "inflammatory-myofibroblastic-tumor"
EFH = "epithelioid-fibrous-histiocytoma"


@pytest.fixture(autouse=True)
def vocabularies(transactional_db):
    # The live server's database is flushed after each test: the vocabularies of the
    # data migration may be gone.
    ensure_vocabularies()


def _registry():
    cases = build_registry()  # three published IMTs (and a draft IMT that must not show)
    efh = diagnosis("epithelioid fibrous histiocytoma")
    for i, alk in enumerate(("positive", "positive", "negative")):
        make_published_case(
            final_diagnosis=efh,
            topography=topography("C44.7"),
            age=40 + i,
            fusions=[],
            ihc=[("ALK", alk), ("EMA", "positive"), ("SMA", "negative")],
        )
    return cases


def test_a_pathologist_goes_from_imt_to_its_stains_and_the_review_table(
    page, live_server, tmp_path
):
    cases = _registry()
    imts = {cases[name].pk for name in ("scalp_imt", "trunk_imt", "infant")}

    page.goto(live_server.url + "/")
    page.get_by_label("Search published cases").fill("IMT")
    page.get_by_role("button", name="Search").last.click()
    page.wait_for_url("**/search/?q=IMT")
    assert page.get_by_role("heading", name="3 published cases").is_visible()
    search_url = page.url

    # The words name a diagnosis: its entity page is one click away.
    page.locator("[data-named]").get_by_role(
        "link", name="Inflammatory myofibroblastic tumor"
    ).click()
    page.wait_for_url(f"**/diagnoses/{IMT}/")
    assert (
        page.locator('[data-field="counts"]')
        .inner_text()
        .startswith("3 published cases from 3 papers")
    )
    alk = page.locator('[data-table="ihc"] tr', has_text="ALK")
    assert "100% (3/3)" in alk.inner_text()

    page.get_by_role("link", name="Compare its stains with other diagnoses").click()
    page.wait_for_url(f"**/stains/?dx={IMT}")
    assert page.get_by_text("Choose one to 3 more diagnoses to compare with").is_visible()
    page.locator("#dx-choice").select_option([IMT, EFH])
    page.get_by_role("button", name="Compare").click()
    # The form sends the diagnoses in the WHO tree's order.
    page.wait_for_url(lambda url: f"dx={IMT}" in url and f"dx={EFH}" in url)
    table = page.locator('[data-table="stains"]')
    headers = table.locator("thead th").all_inner_texts()
    assert sorted(headers[1:3]) == [
        "epithelioid fibrous histiocytoma",
        "inflammatory myofibroblastic tumor",
    ]
    # SMA: IMT 1 of 2 positive, EFH 0 of 3; ALK: 3 of 3 and 2 of 3.
    sma = table.locator('tr[data-marker="SMA"]').inner_text()
    assert "50 points" in sma
    ranked = table.locator("tbody tr").evaluate_all("rows => rows.map(r => r.dataset.marker)")
    assert ranked.index("SMA") < ranked.index("ALK")
    assert "not a diagnosis" in page.content().lower()

    # Back to the search, and the review table of its cases as a Word document.
    page.goto(search_url)
    page.get_by_role("link", name="Review table").click()
    page.wait_for_url("**/search/summary/?q=IMT")
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Word (DOCX)").click()
    download = download_info.value
    assert download.suggested_filename.endswith(".docx")
    path = tmp_path / "review.docx"
    download.save_as(path)

    document = Document(str(path))
    table1, cases_table = document.tables
    summary = {row.cells[0].text: row.cells[1].text for row in table1.rows[1:]}
    assert summary["Cases"] == "3"
    assert summary["Papers"] == "3"
    assert summary["IHC: ALK"] == "100% positive (3/3 tested)"
    numbers = {row.cells[1].text for row in cases_table.rows[1:]}
    assert numbers == {f"RareDerm #{pk}" for pk in imts}
    assert cases_table.rows[0].cells[0].text == "Ref."
    references = [p.text for p in document.paragraphs if p.text[:3] in ("1. ", "2. ", "3. ")]
    assert len(references) == 3
    assert any(
        "Cutaneous inflammatory myofibroblastic tumor with CARS-ALK fusion" in r
        for r in references
    )


# The README's pictures of the answer pages: (file, address, what must be on it).
PICTURES = [
    ("diagnoses.png", "/diagnoses/", f'[data-diagnosis="{IMT}"]'),
    (f"diagnosis-{IMT}.png", f"/diagnoses/{IMT}/", '[data-table="ihc"]'),
    (
        "stains.png",
        f"/stains/?dx={IMT}&dx={EFH}&dx=dermatofibrosarcoma-protuberans",
        '[data-table="stains"] tr[data-marker="SMA"]',
    ),
    (
        "profile-differential.png",
        "/search/?profile=ALK%28%2B%29+SMA+focal%2B+S100+neg+SOX10-",
        f'table.differential tr[data-diagnosis="{IMT}"]',
    ),
    ("results-table.png", "/search/?view=table&sort=-year", 'th[data-column="follow_up"]'),
    ("review-table.png", "/search/summary/?q=IMT", "text=Table 1. Cohort summary"),
]


@pytest.mark.parametrize("name, address, selector", PICTURES)
def test_the_answer_pages_read_well_at_1280_pixels(
    page, live_server, tmp_path, name, address, selector
):
    """The README's screenshots (docs/screenshots/, refreshed with UPDATE_SCREENSHOTS=1):
    each page shows what it is for and fits the width."""
    _registry()
    for site, age, alk in (("C44.1", 61, "negative"), ("C49.2", 27, "positive")):
        make_published_case(
            final_diagnosis=diagnosis("dermatofibrosarcoma protuberans"),
            topography=topography(site),
            age=age,
            fusions=["COL1A1::PDGFB"],
            ihc=[("CD34", "positive"), ("ALK", alk), ("SMA", "negative"), ("S100", "negative")],
            follow_up_months=24,
            outcome="ned",
        )
    page.set_viewport_size({"width": 1280, "height": 900})
    response = page.goto(live_server.url + address)
    assert response.status == 200
    assert page.locator(selector).first.is_visible()
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0
    shot = tmp_path / name
    page.screenshot(path=str(shot), full_page=False)
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    if os.environ.get("UPDATE_SCREENSHOTS") == "1":
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(shot, SCREENSHOTS / name)


@pytest.mark.parametrize(
    "address",
    ["/search/?view=table", "/search/?profile=ALK%2B+SMA%2B+S100-+SOX10-"],
)
def test_the_table_and_the_differential_fit_a_phone_screen(page, live_server, address):
    """They scroll sideways inside their box; the page itself never does."""
    _registry()
    page.set_viewport_size({"width": 375, "height": 740})
    response = page.goto(live_server.url + address)
    assert response.status == 200
    assert page.locator("table").first.is_visible()
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0
