"""Submitting a case: what a reviewer needs, errors next to the fields, exactly once."""

import threading

import pytest
from django.db import connection
from django.urls import reverse

from curation import workflow
from curation.actions.cases import Conflict
from curation.actions.submission import Incomplete, start_case, submit_case
from curation.models import Case, CaseEvent
from tests.curation.curate_forms import case_post, edit_url, founding_case, log_in
from tests.factories import CaseFactory, CitationFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def draft(curator):
    return start_case(CitationFactory(pmid=35560368), by=curator)


@pytest.fixture
def client_(client, curator):
    return log_in(client, curator)


COMPLETE = {
    "ihc": [{"marker": "ALK", "result": "positive"}],
    "fusions": [{"written": "CARS-ALK"}],
    **founding_case(),
}


def test_a_complete_case_is_submitted_with_an_event_and_becomes_read_only(client_, curator, draft):
    response = client_.post(edit_url(draft), case_post(draft, action="submit", **COMPLETE))
    assert response["Location"] == reverse("curation:case_detail", args=[draft.pk])
    draft.refresh_from_db()
    assert draft.status == workflow.SUBMITTED and draft.submitted_at
    event = CaseEvent.objects.get(case=draft)
    assert (event.actor, event.from_status, event.to_status) == (curator, "draft", "submitted")
    # Read-only for its author now.
    follow = client_.get(edit_url(draft), follow=True)
    assert "read-only for you" in follow.content.decode()
    before = draft.version
    client_.post(edit_url(draft), case_post(draft, histology="changed after submitting"))
    draft.refresh_from_db()
    assert draft.version == before and draft.histology != "changed after submitting"


def test_an_incomplete_case_is_saved_but_not_submitted_and_errors_sit_by_the_fields(
    client_, draft
):
    response = client_.post(
        edit_url(draft), case_post(draft, action="submit", histology="Only histology so far.")
    )
    assert response.status_code == 422
    page = response.content.decode()
    assert "Saved as a draft, but not submitted" in page
    assert "Choose the final diagnosis before submitting." in page
    assert "Choose the site (ICD-O-3 topography) before submitting." in page
    assert "Record at least one finding" in page
    # The errors are next to their fields.
    diagnosis_block = page.split('data-field="final_diagnosis"')[1].split('data-field="')[0]
    assert "Choose the final diagnosis before submitting." in diagnosis_block
    draft.refresh_from_db()
    assert draft.status == workflow.DRAFT
    assert draft.histology == "Only histology so far."  # nothing typed was lost
    # The page now carries the saved version: completing and submitting is no conflict.
    assert f'name="version" value="{draft.version}"' in page
    client_.post(edit_url(draft), case_post(draft, action="submit", **COMPLETE))
    draft.refresh_from_db()
    assert draft.status == workflow.SUBMITTED


def test_one_finding_is_enough_a_fusion_alone_will_do(client_, draft):
    data = case_post(draft, action="submit", fusions=[{"written": "CARS-ALK"}], **founding_case())
    client_.post(edit_url(draft), data)
    draft.refresh_from_db()
    assert draft.status == workflow.SUBMITTED


def test_double_clicking_submit_submits_once(client_, draft):
    data = case_post(draft, action="submit", **COMPLETE)
    first = client_.post(edit_url(draft), data)
    second = client_.post(edit_url(draft), data)  # the same form, posted again
    assert first.status_code == second.status_code == 302
    assert second["Location"] == reverse("curation:case_detail", args=[draft.pk])
    assert CaseEvent.objects.filter(case=draft, to_status="submitted").count() == 1
    page = client_.get(second["Location"]).content.decode()
    assert "submitted for review (once)" in page


def test_submit_case_refuses_a_stale_version(curator):
    case = CaseFactory(created_by=curator)
    submit_case(case, by=curator, expected_version=case.version)
    with pytest.raises(Conflict):
        submit_case(case, by=curator, expected_version=1)
    assert CaseEvent.objects.filter(case=case).count() == 1


def test_submit_case_lists_everything_missing(curator, draft):
    with pytest.raises(Incomplete) as info:
        submit_case(draft, by=curator, expected_version=draft.version)
    assert set(info.value.errors) == {"final_diagnosis", "topography", "findings"}


def test_another_curator_cannot_submit_my_draft(client, curator2, draft):
    log_in(client, curator2)
    response = client.post(edit_url(draft), case_post(draft, action="submit", **COMPLETE))
    assert response.status_code == 404
    assert Case.objects.get(pk=draft.pk).status == workflow.DRAFT


def test_a_case_sent_back_can_be_edited_and_resubmitted(client_, curator, reviewer):
    case = CaseFactory(created_by=curator)
    submit_case(case, by=curator, expected_version=case.version)
    from curation.actions.cases import transition

    transition(case, workflow.CHANGES_REQUESTED, reviewer, "Give the <clone>.")
    case.refresh_from_db()
    page = client_.get(edit_url(case)).content.decode()
    assert "Changes requested by rosa_reviewer" in page
    assert "Give the &lt;clone&gt;." in page  # the reviewer's words, escaped
    data = case_post(
        case,
        action="submit",
        ihc=[{"marker": "ALK", "result": "positive", "clone": "D5F3"}],
        fusions=[{"written": "CARS1::ALK"}],
        **founding_case(),
    )
    client_.post(edit_url(case), data)
    case.refresh_from_db()
    assert case.status == workflow.SUBMITTED
    assert case.ihc_results.get().clone == "D5F3"


@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_submissions_make_one_event(postgres, curator):
    """Two requests at once (a double click on a slow line): the row lock lets one through."""
    case = CaseFactory(created_by=curator)
    version = case.version
    outcomes = []
    barrier = threading.Barrier(2)

    def submit():
        try:
            barrier.wait(timeout=5)
            submit_case(Case.objects.get(pk=case.pk), by=curator, expected_version=version)
            outcomes.append("submitted")
        except Conflict:
            outcomes.append("conflict")
        finally:
            connection.close()

    threads = [threading.Thread(target=submit) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)
    assert sorted(outcomes) == ["conflict", "submitted"]
    assert CaseEvent.objects.filter(case=case, to_status="submitted").count() == 1
