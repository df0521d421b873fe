"""The review page (curation.views.review.review_case): the case, its abstract, a revision's
diff and the decision form."""

import pytest
from django.urls import reverse

from citations.models import Citation
from curation import workflow
from curation.actions.cases import replace_fusions, replace_ihc_results, transition, update_case
from curation.actions.review import approve_case, start_revision
from curation.models import Case, CaseEvent
from tests.factories import CaseFactory, gene, make_published_case, marker

pytestmark = pytest.mark.django_db


def _url(case):
    return reverse("curation:review_case", args=[case.pk])


@pytest.fixture
def submitted(curator):
    case = CaseFactory(created_by=curator)
    Citation.objects.filter(pk=case.citation_id).update(
        abstract=[
            {
                "label": "BACKGROUND",
                "category": "BACKGROUND",
                "text": "IMT rarely arises in skin.",
            },
            {"label": "RESULTS", "category": "RESULTS", "text": "RNA-seq found <i>CARS1</i>."},
        ]
    )
    transition(case, workflow.SUBMITTED, curator)
    return case


def test_the_review_page_shows_the_case_beside_its_abstract(client, reviewer, submitted):
    client.force_login(reviewer)
    response = client.get(_url(submitted))
    assert response.status_code == 200
    page = response.content.decode()
    assert f"Review RareDerm #{submitted.pk}" in page and "CARS1::ALK" in page
    assert "IMT rarely arises in skin." in page
    assert "RNA-seq found <i>CARS1</i>." in page
    assert 'name="decision"' in page and "Record decision" in page


def test_a_reviewer_approves_and_the_case_is_published(client, reviewer, submitted):
    client.force_login(reviewer)
    response = client.post(
        _url(submitted), {"decision": "approve", "comment": "", "version": submitted.version}
    )
    assert response.status_code == 302
    assert response.url == reverse("curation:review_queue")
    submitted.refresh_from_db()
    assert submitted.status == workflow.PUBLISHED
    assert "approved and published" in client.get(response.url).content.decode()


def test_requesting_changes_without_a_comment_keeps_the_form_and_says_why(
    client, reviewer, submitted
):
    client.force_login(reviewer)
    response = client.post(
        _url(submitted),
        {"decision": "request_changes", "comment": "  ", "version": submitted.version},
    )
    assert response.status_code == 400
    assert "a comment is required" in response.content.decode()
    submitted.refresh_from_db()
    assert submitted.status == workflow.SUBMITTED


def test_a_second_reviewer_is_told_the_case_was_already_decided(
    client, reviewer, reviewer2, submitted
):
    version = submitted.version
    approve_case(submitted, reviewer)
    client.force_login(reviewer2)
    response = client.post(
        _url(submitted),
        {"decision": "reject", "comment": "Not convinced.", "version": version},
        follow=True,
    )
    page = response.content.decode()
    assert "already been decided" in page
    assert "Nothing was changed" in page
    submitted.refresh_from_db()
    assert submitted.status == workflow.PUBLISHED
    assert not CaseEvent.objects.filter(case=submitted, to_status=workflow.REJECTED).exists()


def test_a_stale_page_is_refused_with_a_reload_message(client, curator, reviewer, submitted):
    from curation.actions.review import request_changes

    stale = submitted.version
    request_changes(submitted, reviewer, "Add the clone.")
    transition(submitted, workflow.SUBMITTED, curator)
    client.force_login(reviewer)
    response = client.post(
        _url(submitted), {"decision": "approve", "comment": "ok", "version": stale}
    )
    assert response.status_code == 400
    assert "reload" in response.content.decode()
    assert Case.objects.get(pk=submitted.pk).status == workflow.SUBMITTED


def test_the_author_sees_no_decision_form_on_their_own_submission(client, reviewer, reviewer2):
    case = CaseFactory(created_by=reviewer)
    transition(case, workflow.SUBMITTED, reviewer)
    client.force_login(reviewer)
    page = client.get(_url(case)).content.decode()
    assert "another reviewer decides" in page
    assert "Record decision" not in page
    response = client.post(_url(case), {"decision": "approve", "version": case.version})
    assert response.status_code == 400
    assert "own submission" in response.content.decode()
    assert Case.objects.get(pk=case.pk).status == workflow.SUBMITTED


@pytest.mark.parametrize(
    "data",
    [
        {"decision": "publish-everything", "version": "1"},
        {"decision": "approve", "version": "not a number"},
        {"decision": "approve"},
    ],
)
def test_a_forged_decision_is_refused_and_changes_nothing(client, reviewer, submitted, data):
    client.force_login(reviewer)
    response = client.post(_url(submitted), data)
    assert response.status_code == 400
    assert Case.objects.get(pk=submitted.pk).status == workflow.SUBMITTED


# -- a revision ------------------------------------------------------------------------


@pytest.fixture
def revision(curator, curator2):
    published = make_published_case(created_by=curator, size_mm=15, treatment="Excision.")
    revision = start_revision(published, curator2)
    update_case(
        revision,
        by=curator2,
        expected_version=revision.version,
        size_mm=12,
        treatment="",
        site_detail="vertex",
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
    replace_fusions(
        revision,
        by=curator2,
        expected_version=revision.version,
        rows=[{"five_prime_gene": gene("TPM3"), "three_prime_gene": gene("ALK")}],
    )
    transition(revision, workflow.SUBMITTED, curator2)
    return revision


def _rows(response, kind):
    return [(c.label, c.before, c.after) for c in response.context["diff"][kind]]


def test_a_revision_shows_a_field_by_field_diff_with_ihc_and_fusion_rows(
    client, reviewer, revision
):
    client.force_login(reviewer)
    response = client.get(_url(revision))
    assert response.status_code == 200
    assert _rows(response, "fields") == [
        ("Site detail", "posterior scalp", "vertex"),
        ("Size (mm)", "15", "12"),
        ("Treatment as reported", "Excision.", ""),
    ]
    assert _rows(response, "ihc") == [
        (
            "ALK",
            "positive, strong, diffuse",
            "positive; clone D5F3",
        ),
        ("SMA", "", "negative"),
    ]
    assert [
        (label, bool(before), bool(after)) for label, before, after in _rows(response, "fusions")
    ] == [
        ("CARS1::ALK", True, False),
        ("TPM3::ALK", False, True),
    ]
    page = response.content.decode()
    assert f"What this revision changes in RareDerm #{revision.revision_of_id}" in page
    assert "<del>posterior scalp</del>" in page and "<ins>vertex</ins>" in page


def test_the_review_page_of_a_revision_has_a_fixed_query_budget(
    client, reviewer, revision, django_assert_max_num_queries
):
    client.force_login(reviewer)
    # Molecular findings, treatments and events: one query each for the revision's record
    # and for its published case in the diff (25 before they existed).
    with django_assert_max_num_queries(31):
        assert client.get(_url(revision)).status_code == 200


def test_approving_a_revision_from_the_page_updates_the_public_case(
    client, reviewer, reviewer2, revision
):
    original_id = revision.revision_of_id
    client.force_login(reviewer)
    response = client.post(_url(revision), {"decision": "approve", "version": revision.version})
    assert response.status_code == 302
    public = client.get(reverse("curation:case_detail", args=[original_id]))
    assert "TPM3::ALK" in public.content.decode()
    # The second reviewer's stale tab: told, sent to the published case.
    client.force_login(reviewer2)
    late = client.post(
        _url(revision), {"decision": "approve", "version": revision.version}, follow=True
    )
    assert "already been decided" in late.content.decode()
    assert late.redirect_chain[-1][0] == reverse("curation:review_case", args=[original_id])


def test_drafts_are_not_found_on_the_review_page(client, curator, reviewer):
    draft = CaseFactory(created_by=curator)
    client.force_login(reviewer)
    assert client.get(_url(draft)).status_code == 404
    assert client.get(reverse("curation:review_case", args=[999999])).status_code == 404
