"""In a real browser: a case's whole trip through review, and a revision's diff.

The draft is made by the factory (creating it through "New report" needs the
fake NCBI server and is the curator-workflow tests' business); every step
after that is a click: the curator submits on the case form, the reviewer
requests changes from the queue with a comment, the curator reads it on the
timeline, fixes the case and resubmits, the reviewer approves, and the
public sees the case.
"""

import os
import shutil
from pathlib import Path

import pytest
from django.db.models import F
from django.urls import reverse

from citations.models import Citation
from curation import workflow
from curation.actions.cases import replace_ihc_results, transition, update_case
from curation.actions.review import start_revision
from curation.models import Case, CaseEvent
from tests.conftest import login
from tests.factories import CaseFactory, make_published_case, marker

pytestmark = pytest.mark.browser


def _log_out(page):
    page.get_by_role("navigation", name="Main").get_by_role("button", name="Log out").click()
    page.wait_for_load_state()


def test_submit_send_back_fix_resubmit_approve_and_the_public_sees_it(
    page, live_server, transactional_db, curator, reviewer
):
    case = CaseFactory(created_by=curator, site_detail="scalp")
    public_url = live_server.url + case.get_absolute_url()

    # The curator submits from the case form.
    login(page, live_server, curator)
    page.goto(live_server.url + reverse("curation:case_edit", args=[case.pk]))
    page.get_by_role("button", name="Submit for review").click()
    page.wait_for_load_state()
    assert "Submitted for review" in page.locator(".messages").inner_text()
    _log_out(page)

    # The reviewer finds it in the queue (the count is in the navigation).
    login(page, live_server, reviewer)
    nav = page.get_by_role("navigation", name="Main")
    assert nav.get_by_label("1 waiting").is_visible()
    nav.get_by_role("link", name="Review queue").click()
    page.get_by_role("link", name=f"RareDerm #{case.pk}", exact=True).click()
    page.get_by_label("Request changes").check()
    page.get_by_role("button", name="Record decision").click()
    # No comment: refused, nothing lost, the reason next to the field.
    assert "a comment is required" in page.locator(".decision").inner_text()
    page.get_by_label("Comment for the curator").fill(
        "Which part of the scalp? The paper says posterior."
    )
    page.get_by_role("button", name="Record decision").click()
    assert "sent back to its curator" in page.locator(".messages").inner_text()
    assert Case.objects.get(pk=case.pk).status == workflow.CHANGES_REQUESTED
    _log_out(page)

    # The curator reads the comment on the timeline, fixes the case, resubmits.
    login(page, live_server, curator)
    page.goto(public_url)
    timeline = page.locator("#timeline")
    assert "Which part of the scalp? The paper says posterior." in timeline.inner_text()
    assert "reviewer" in timeline.inner_text()
    timeline.get_by_label("Add a comment").fill("Fixed: posterior scalp.")
    timeline.get_by_role("button", name="Comment").click()
    assert "Fixed: posterior scalp." in page.locator("#timeline").inner_text()
    page.goto(live_server.url + reverse("curation:case_edit", args=[case.pk]))
    page.get_by_label("Site detail").fill("posterior scalp")
    page.get_by_role("button", name="Submit for review").click()
    page.wait_for_load_state()
    fixed = Case.objects.get(pk=case.pk)
    assert (fixed.status, fixed.site_detail) == (workflow.SUBMITTED, "posterior scalp")
    _log_out(page)

    # The reviewer approves.
    login(page, live_server, reviewer)
    page.goto(live_server.url + reverse("curation:review_case", args=[case.pk]))
    page.get_by_label("Approve and publish").check()
    page.get_by_role("button", name="Record decision").click()
    assert "approved and published" in page.locator(".messages").inner_text()
    _log_out(page)

    # The public sees the case, without its timeline.
    page.goto(public_url)
    assert (
        "Inflammatory myofibroblastic tumor with CARS1::ALK"
        in page.get_by_role("heading", level=1).inner_text()
    )
    assert "posterior scalp" in page.locator("[data-field=site]").inner_text()
    assert page.locator("#timeline").count() == 0
    assert list(
        CaseEvent.objects.filter(case=case)
        .exclude(from_status=F("to_status"))
        .order_by("created_at", "pk")
        .values_list("to_status", flat=True)
    ) == ["submitted", "changes_requested", "submitted", "published"]


def test_a_reviewer_reads_a_revision_as_a_diff_and_approves_it(
    page, live_server, transactional_db, curator, curator2, reviewer, tmp_path
):
    published = make_published_case(created_by=curator, size_mm=15, treatment="Complete excision.")
    Citation.objects.filter(pk=published.citation_id).update(
        title="Cutaneous inflammatory myofibroblastic tumor with <i>CARS1::ALK</i> fusion.",
        abstract=[
            {
                "label": "BACKGROUND",
                "category": "BACKGROUND",
                "text": "Inflammatory myofibroblastic tumor rarely arises in the skin.",
            },
            {
                "label": "CASE",
                "category": "METHODS",
                "text": "A 38-year-old woman had a 12 mm nodule of the posterior scalp; "
                "RNA sequencing found a <i>CARS1::ALK</i> fusion.",
            },
        ],
    )
    revision = start_revision(published, curator2)
    update_case(
        revision,
        by=curator2,
        expected_version=revision.version,
        size_mm=12,
        treatment="Complete excision; no recurrence at 12 months.",
    )
    replace_ihc_results(
        revision,
        by=curator2,
        expected_version=revision.version,
        rows=[
            {"marker": marker("ALK"), "result": "positive", "clone": "D5F3"},
            {"marker": marker("SMA"), "result": "negative"},
        ],
    )
    transition(revision, workflow.SUBMITTED, curator2)

    login(page, live_server, reviewer)
    page.goto(live_server.url + reverse("curation:review_case", args=[revision.pk]))
    assert "rarely arises in the skin" in page.locator("aside.abstract").inner_text()
    assert page.get_by_role("link", name="Review this case").count() == 0
    diff = page.locator("section.diff")
    assert f"What this revision changes in RareDerm #{published.pk}" in diff.inner_text()
    size_row = diff.locator("tr[data-diff=field]", has_text="Size (mm)")
    assert size_row.locator(".before").inner_text() == "15"
    assert size_row.locator(".after").inner_text() == "12"
    assert diff.locator("tr[data-diff=ihc]", has_text="SMA").locator(".after").inner_text() == (
        "negative"
    )
    shot = tmp_path / "review-page.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000
    if os.environ.get("RAREDERM_SCREENSHOTS"):  # refresh docs/screenshots on purpose only
        target = Path(os.environ["RAREDERM_SCREENSHOTS"]) / "review-page.png"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(shot, target)

    page.get_by_label("Approve and publish").check()
    page.get_by_role("button", name="Record decision").click()
    assert "approved and published" in page.locator(".messages").inner_text()
    _log_out(page)
    page.goto(live_server.url + published.get_absolute_url())
    assert "no recurrence at 12 months" in page.content()
    assert "SMA" in page.locator("[data-field=ihc]").inner_text()
