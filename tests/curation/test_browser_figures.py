"""In a real browser: a curator uploads a figure to a published case, its web copies
appear, a reviewer sees it in the revision's diff and approves, and the public gallery
shows it with its licence."""

import pytest
from django.urls import reverse

from curation.models import Case, Figure
from tests.conftest import login
from tests.factories import CaseFactory, make_published_case
from tests.figure_files import jpeg, renamed_executable, stored_files

pytestmark = pytest.mark.browser


def _log_out(page):
    page.get_by_role("navigation", name="Main").get_by_role("button", name="Log out").click()
    page.wait_for_load_state()


def _image_loaded(img, timeout: float = 10_000) -> bool:
    """The picture arrived and decoded (waiting for it: on a loaded machine a thumbnail
    may still be on its way when the page's load event has fired)."""
    try:
        img.evaluate(
            """(el, timeout) => new Promise((resolve, reject) => {
                const ok = () => el.complete && el.naturalWidth > 0;
                if (ok()) return resolve(true);
                const start = Date.now();
                const poll = setInterval(() => {
                    if (ok()) { clearInterval(poll); resolve(true); }
                    else if (Date.now() - start > timeout) {
                        clearInterval(poll);
                        reject("timeout");
                    }
                }, 50);
            })""",
            timeout,
        )
    except Exception:
        return False
    return True


def test_upload_review_approve_and_the_public_gallery_shows_the_figure(
    page, live_server, transactional_db, curator, curator2, reviewer, figure_storage, tmp_path
):
    published = make_published_case(created_by=curator)
    public_url = live_server.url + published.get_absolute_url()
    good = tmp_path / "fig2b.jpg"
    good.write_bytes(jpeg(size=(1200, 900)))
    hostile = tmp_path / "figure.png"
    hostile.write_bytes(renamed_executable())

    # Another curator adds a figure from the case page; it goes into a revision.
    login(page, live_server, curator2)
    page.goto(public_url)
    page.get_by_role("link", name="Add a figure (through a revision)").click()
    page.get_by_label("Image file").set_input_files(str(hostile))
    page.get_by_label("Caption").fill("ALK: granular cytoplasmic staining of the spindle cells.")
    page.get_by_label("Licence").select_option("CC-BY-4.0")
    page.get_by_role("button", name="Add the figure").click()
    # A program named .png: refused beside the file field, what was typed kept, nothing stored.
    assert "Windows program" in page.locator("[data-field=file]").inner_text()
    assert page.get_by_label("Caption").input_value().startswith("ALK: granular")
    assert stored_files(figure_storage) == [] and not Figure.objects.exists()

    page.get_by_label("Image file").set_input_files(str(good))
    page.get_by_label("Panel label").fill("2B")
    page.get_by_label("Stain").fill("ALK")
    page.get_by_label("Original magnification").fill("x400")
    page.get_by_label("Credit line").fill("Smith et al., J Cutan Pathol 2022")
    page.get_by_label("Licence").select_option("CC-BY-4.0")
    page.get_by_role("button", name="Add the figure").click()
    assert "added to your revision" in page.locator(".messages").inner_text()
    revision = Case.objects.get(revision_of=published)
    thumbnail = page.locator("figure img").first
    assert _image_loaded(thumbnail)  # the web copies were made
    assert not Figure.objects.filter(case=published).exists()

    # The public does not see it yet.
    page.goto(public_url)
    assert "granular cytoplasmic" not in page.content()

    # The curator submits the revision.
    page.goto(live_server.url + reverse("curation:case_edit", args=[revision.pk]))
    page.get_by_role("button", name="Submit for review").click()
    page.wait_for_load_state()
    _log_out(page)

    # The reviewer sees the figure in the diff and beside the record, and approves.
    login(page, live_server, reviewer)
    page.goto(live_server.url + reverse("curation:review_case", args=[revision.pk]))
    row = page.locator("tr[data-diff=figure]")
    assert "Figure 2B" in row.inner_text() and "added" in row.inner_text()
    assert "ALK (IHC)" in row.locator(".after").inner_text()
    assert _image_loaded(page.locator("figure img").first)
    page.get_by_label("Approve and publish").check()
    page.get_by_role("button", name="Record decision").click()
    assert "approved and published" in page.locator(".messages").inner_text()
    _log_out(page)

    # The public gallery: the picture, its caption, credit and licence badge.
    page.goto(public_url)
    gallery = page.locator("section[aria-labelledby=figures-title]")
    text = gallery.inner_text()
    assert "Figure 2B" in text and "ALK (IHC)" in text and "\u00d7400" in text
    assert "Smith et al., J Cutan Pathol 2022" in text
    badge = gallery.get_by_role("link", name="CC BY 4.0")
    assert badge.get_attribute("href") == "https://creativecommons.org/licenses/by/4.0/"
    assert _image_loaded(gallery.locator("img").first)
    page.screenshot(path=str(tmp_path / "gallery.png"), full_page=True)


def test_a_large_figure_opens_in_the_deep_zoom_viewer(
    page, live_server, transactional_db, curator, figure_storage
):
    """OpenSeadragon draws the tiles, and the page's CSP has nothing to complain about."""
    from curation.actions.figures import attach_figure

    case = CaseFactory(created_by=curator)
    attach_figure(
        case,
        by=curator,
        data=jpeg(size=(3000, 1000)),
        caption="Whole section, H&E.",
        licence="CC-BY-4.0",
    )
    Case.objects.filter(pk=case.pk).update(status="published", published_at=case.created_at)
    violations = []
    page.on(
        "console",
        lambda message: (
            violations.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    page.goto(live_server.url + case.get_absolute_url())
    page.get_by_role("link", name="zoom in").click()
    with page.expect_response(lambda r: "/zoom_files/" in r.url and r.status == 200):
        page.wait_for_selector("#zoom canvas")
    assert page.locator("#zoom canvas").first.is_visible()
    assert violations == []
