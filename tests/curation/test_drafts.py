"""Drafts: starting cases from a report, copying the previous case, "My drafts", discarding."""

import pytest
from django.urls import reverse

from curation import workflow
from curation.actions.cases import transition
from curation.actions.submission import save_draft, start_case
from curation.models import Case
from tests.curation.curate_forms import case_post, edit_url, founding_case, log_in
from tests.factories import CaseFactory, CitationFactory, diagnosis, make_published_case

pytestmark = pytest.mark.django_db


@pytest.fixture
def citation():
    return CitationFactory(pmid=35560368)


@pytest.fixture
def client_(client, curator):
    return log_in(client, curator)


def test_adding_a_case_creates_a_draft_of_the_curator_and_opens_its_form(
    client_, curator, citation
):
    response = client_.post(reverse("curation:case_new", args=[35560368]), {"label": "Case 1"})
    case = Case.objects.get()
    assert response["Location"] == edit_url(case)
    assert (case.created_by, case.status, case.label, case.citation) == (
        curator,
        "draft",
        "Case 1",
        citation,
    )


def test_the_report_page_lists_its_cases_and_suggests_the_next_label(
    client_, curator, citation, django_assert_max_num_queries
):
    for n in (1, 2):
        start_case(citation, by=curator, label=f"Case {n}")
    make_published_case(citation=citation, label="Case 3")
    with django_assert_max_num_queries(10):
        page = client_.get(reverse("curation:report", args=[35560368])).content.decode()
    assert page.count('data-case="') == 3
    assert 'value="Case 4"' in page
    assert "Copy the shared fields" in page


def test_a_label_already_used_in_the_paper_is_refused_with_a_message(client_, curator, citation):
    start_case(citation, by=curator, label="Case 1")
    response = client_.post(
        reverse("curation:case_new", args=[35560368]), {"label": "Case 1"}, follow=True
    )
    assert "already has a case labelled “Case 1”" in response.content.decode()
    assert Case.objects.count() == 1


def test_copy_from_previous_case_carries_the_shared_fields_and_rows_not_the_patient(
    client_, curator, citation
):
    first = start_case(citation, by=curator, label="Case 1")
    client_.post(
        edit_url(first),
        case_post(
            first,
            ihc=[{"marker": "ALK", "result": "positive"}],
            fusions=[{"written": "CARS-ALK"}],
            **founding_case(label="Case 1"),
        ),
    )
    client_.post(
        reverse("curation:case_new", args=[35560368]),
        {"label": "Case 2", "copy_from": str(first.pk)},
    )
    second = Case.objects.get(label="Case 2")
    assert second.final_diagnosis == diagnosis("inflammatory myofibroblastic tumor")
    assert second.histology.startswith("Spindle cells")
    assert [r.marker.name for r in second.ihc_results.all()] == ["ALK"]
    assert [f.notation for f in second.fusions.all()] == ["CARS1::ALK"]
    # The patient is not the same: age, sex and site are left to fill in.
    assert (second.age, second.sex, second.topography) == (None, "", None)


def test_copying_another_curators_private_draft_is_not_found(client_, curator2, citation):
    other = start_case(citation, by=curator2, label="Case 1")
    response = client_.post(
        reverse("curation:case_new", args=[35560368]), {"label": "Case 2", "copy_from": other.pk}
    )
    assert response.status_code == 404
    assert Case.objects.count() == 1


def test_my_drafts_lists_only_my_editable_cases_and_my_cases_waiting(
    client_, curator, curator2, citation, django_assert_max_num_queries
):
    mine = start_case(citation, by=curator, label="Case 1")
    waiting = CaseFactory(created_by=curator, citation=citation, label="Case 2")
    transition(waiting, workflow.SUBMITTED, curator)
    theirs = start_case(citation, by=curator2, label="Case 3")
    make_published_case(created_by=curator, label="done")
    for n in range(5):  # the budget does not grow with the list
        CaseFactory(created_by=curator, label=f"extra {n}")
    with django_assert_max_num_queries(8):
        page = client_.get(reverse("curation:my_drafts")).content.decode()
    assert f'data-case="{mine.pk}"' in page
    assert f'data-case="{theirs.pk}"' not in page
    assert "Waiting for review" in page and f"RareDerm #{waiting.pk}" in page
    assert "done" not in page
    assert page.count('data-case="') == 6


def test_my_drafts_shows_cases_sent_back_and_rejected_with_the_reviewers_comment(
    client_, curator, reviewer, citation, django_assert_max_num_queries
):
    sent_back = CaseFactory(created_by=curator, citation=citation, label="Case 1")
    transition(sent_back, workflow.SUBMITTED, curator)
    transition(sent_back, workflow.CHANGES_REQUESTED, reviewer, "Add the ALK clone.")
    rejected = CaseFactory(created_by=curator, citation=citation, label="Case 2")
    transition(rejected, workflow.SUBMITTED, curator)
    transition(rejected, workflow.REJECTED, reviewer, "Not a cutaneous tumour.")
    for n in range(4):  # the budget does not grow with the list
        extra = CaseFactory(created_by=curator, label=f"extra {n}")
        transition(extra, workflow.SUBMITTED, curator)
        transition(extra, workflow.REJECTED, reviewer, f"reason {n}")
    with django_assert_max_num_queries(9):
        page = client_.get(reverse("curation:my_drafts")).content.decode()
    assert f'data-case="{sent_back.pk}"' in page
    assert "Add the ALK clone." in page
    assert "Rejected" in page and f"RareDerm #{rejected.pk}" in page
    assert "Not a cutaneous tumour." in page
    assert all(f"reason {n}" in page for n in range(4))
    assert page.count(reviewer.get_username()) >= 6


def test_a_saved_draft_survives_a_new_session(client, curator, citation):
    case = start_case(citation, by=curator)
    save_draft(
        case,
        by=curator,
        expected_version=case.version,
        fields={"histology": "Typed before the server restarted."},
    )
    log_in(client, curator)  # a fresh session, as after a restart
    page = client.get(edit_url(case)).content.decode()
    assert "Typed before the server restarted." in page


def test_a_never_submitted_draft_can_be_discarded_by_its_author(client_, curator, citation):
    case = start_case(citation, by=curator)
    response = client_.post(
        reverse("curation:case_discard", args=[case.pk]), {"version": case.version}
    )
    assert response["Location"] == reverse("curation:report", args=[35560368])
    assert not Case.objects.filter(pk=case.pk).exists()
    assert (
        case.history.model.objects.filter(id=case.pk, history_type="-").get().history_user
        == curator
    )


def test_a_draft_sent_back_for_changes_cannot_be_discarded(client_, curator, reviewer, citation):
    case = CaseFactory(created_by=curator, citation=citation)
    transition(case, workflow.SUBMITTED, curator)
    transition(case, workflow.CHANGES_REQUESTED, reviewer, "Add the clone.")
    case.refresh_from_db()
    client_.post(reverse("curation:case_discard", args=[case.pk]), {"version": case.version})
    assert Case.objects.filter(pk=case.pk).exists()


def test_save_draft_writes_nothing_when_nothing_changed(curator, citation):
    case = start_case(citation, by=curator)
    result = save_draft(case, by=curator, expected_version=1, fields={"label": ""}, ihc_rows=[])
    assert result.changed is False
    assert case.history.count() == 1
