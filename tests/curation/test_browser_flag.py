"""In a real browser: a reader flags an error in the founding case, a curator turns the
flag into a revision, corrects the age, and submits it for review (issue 17)."""

import pytest
from django.core.management import call_command

from curation.models import Case, CaseFlag
from outbox.models import Email
from tests.conftest import login

pytestmark = pytest.mark.browser


def test_a_readers_flag_becomes_a_revision(page, live_server, transactional_db, curator):
    call_command("load_demo")
    case = Case.objects.published().get()

    # A reader (not logged in) reports the error from the case page.
    page.goto(live_server.url + case.get_absolute_url())
    page.get_by_text("Report an error in this case").click()
    page.get_by_label("What looks wrong?").fill("The age is 48 in the paper, not 38.")
    page.get_by_label("Your e-mail (optional)").fill("reader@example.org")
    page.get_by_role("button", name="Report the error").click()
    page.wait_for_load_state()
    assert "a curator will look at your report" in page.locator(".messages").inner_text()
    notice = page.locator("[data-field=open-flags]")
    assert "A reader has reported a possible error" in notice.inner_text()

    # A curator finds it in the queue and starts a revision from it.
    login(page, live_server, curator)
    page.goto(live_server.url + "/review/flags/")
    assert "The age is 48 in the paper" in page.locator("[data-field=flag-message]").inner_text()
    page.get_by_role("button", name="Start a revision").click()
    page.wait_for_load_state()
    flag = CaseFlag.objects.get()
    assert flag.status == "revision"
    assert page.url == f"{live_server.url}/curate/cases/{flag.revision_id}/"
    assert "correct the case in the revision" in page.locator(".messages").inner_text()

    # The curator corrects the age in the revision and submits it for review.
    page.locator("input[name=age]").fill("48")
    page.get_by_role("button", name="Submit for review").click()
    page.wait_for_load_state()
    revision = Case.objects.get(pk=flag.revision_id)
    assert (revision.status, revision.age) == ("submitted", 48)
    # The flagger is told; the public still sees version 1 and no open flag.
    assert Email.objects.filter(kind="flag", to__contains="reader@example.org").exists()
    page.goto(live_server.url + case.get_absolute_url())
    assert page.locator("[data-field=open-flags]").count() == 0
