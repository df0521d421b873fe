"""In a real browser, under the Content-Security-Policy: the pages still work
(htmx polls a job's progress, Chart.js draws the statistics, the curator's
form script runs) and the browser reports no violation of the policy."""

import pytest
from django.urls import reverse

from citations.actions import request_fetch
from citations.models import FetchJob
from curation import workflow
from curation.actions.cases import transition
from tests.conftest import login
from tests.factories import CaseFactory, make_published_case

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Every violation the page sees, recorded before any of its own scripts run.
RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__cspViolations.push(e.violatedDirective + " " + (e.blockedURI || "inline"));
});
"""


@pytest.fixture
def watched(page):
    """The page, with every CSP violation (event or console message) collected."""
    page.context.add_init_script(RECORD_VIOLATIONS)
    console = []
    page.on(
        "console",
        lambda msg: console.append(msg.text) if "Content Security Policy" in msg.text else None,
    )

    def violations():
        return console + page.evaluate("window.__cspViolations || []")

    page.violations = violations
    return page


def _visit(page, url):
    response = page.goto(url)
    assert response.ok, (url, response.status)
    assert "script-src 'self'" in response.headers["content-security-policy"]
    page.wait_for_load_state("load")
    assert page.violations() == [], url


def test_public_pages_and_the_statistics_chart_work_under_the_policy(watched, live_server):
    case = make_published_case()
    base = live_server.url
    for path in [
        "/",
        reverse("curation:search") + "?q=ALK",
        reverse("curation:case_detail", args=[case.pk]),
        reverse("curation:gene", args=["ALK"]),
        reverse("citations:list"),
        reverse("citations:detail", args=[case.citation.pmid]),
    ]:
        _visit(watched, base + path)
        assert watched.evaluate("typeof window.htmx") == "object"

    _visit(watched, base + reverse("curation:stats"))
    # Chart.js (from static/) drew on every chart's canvas.
    canvases = watched.locator("canvas[data-chart]")
    assert canvases.count() > 0
    drawn = watched.evaluate(
        "Array.from(document.querySelectorAll('canvas[data-chart]'))"
        ".map(c => !!Chart.getChart(c) && c.width > 0)"
    )
    assert drawn and all(drawn), drawn
    assert watched.violations() == []


def test_htmx_follows_a_job_and_the_curator_and_review_pages_work_under_the_policy(
    watched, live_server, curator, reviewer, admin
):
    base = live_server.url
    job = request_fetch(["35560368"], by=curator, queue=False)
    login(watched, live_server, curator)
    assert watched.violations() == []
    _visit(watched, base + reverse("citations:job", args=[job.pk]))
    progress = watched.locator("#job-progress")
    assert progress.get_attribute("data-state") == "pending"
    # htmx polls every second: the page follows the job when it finishes.
    FetchJob.objects.filter(pk=job.pk).update(state=FetchJob.State.DONE)
    watched.locator('#job-progress[data-state="done"]').wait_for()
    assert watched.violations() == []

    draft = CaseFactory(created_by=curator)
    _visit(watched, base + reverse("curation:case_edit", args=[draft.pk]))
    _visit(watched, base + reverse("curation:report", args=[draft.citation.pmid]))
    _visit(watched, base + reverse("curation:my_drafts"))

    submitted = CaseFactory(created_by=curator)
    transition(submitted, workflow.SUBMITTED, curator)
    watched.context.clear_cookies()
    login(watched, live_server, reviewer)
    _visit(watched, base + reverse("curation:review_queue"))
    _visit(watched, base + reverse("curation:review_case", args=[submitted.pk]))

    watched.context.clear_cookies()
    login(watched, live_server, admin)
    _visit(watched, base + reverse("curation:activity"))
    _visit(watched, base + "/admin/")
    _visit(watched, base + reverse("admin:citations_citation_change", args=[draft.citation.pk]))
    _visit(watched, base + reverse("admin:curation_case_change", args=[submitted.pk]))


def test_a_script_in_a_citation_does_not_run_in_the_browser(watched, live_server):
    from citations.models import Citation

    case = make_published_case()
    # Written past Citation.save (as a raw import might): only the filter stands in the way.
    Citation.objects.filter(pk=case.citation.pk).update(
        title=(
            '<img src=x onerror="window.__pwned=1">A <i>title</i><script>window.__pwned=2</script>'
        ),
        abstract=[{"label": "", "text": '<svg onload="window.__pwned=3"></svg>Text'}],
    )
    for path in [
        reverse("citations:list"),
        reverse("citations:detail", args=[case.citation.pmid]),
        reverse("curation:case_detail", args=[case.pk]),
    ]:
        _visit(watched, live_server.url + path)
        assert watched.evaluate("window.__pwned === undefined"), path
        if path.startswith("/citations/"):
            # PubMed's own markup still works.
            assert watched.locator("a i, h1 i", has_text="title").count() >= 1, path
