"""The review workflow's actions: every allowed and forbidden move, revisions, comments."""

import pytest

from curation import workflow
from curation.actions.cases import Conflict, NotEditable, TransitionError, transition
from curation.actions.review import (
    COMMENT_MAX_LENGTH,
    AlreadyDecided,
    CommentRefused,
    RevisionExists,
    approve_case,
    comment_on_case,
    reject_case,
    request_changes,
    start_revision,
)
from curation.diff import version_changes
from curation.models import Case, CaseEvent
from tests.factories import CaseFactory, diagnosis, gene, marker

pytestmark = pytest.mark.django_db

DECIDE = {
    workflow.PUBLISHED: lambda case, by, comment="", **kw: approve_case(case, by, comment, **kw),
    workflow.CHANGES_REQUESTED: lambda case, by, comment="", **kw: request_changes(
        case, by, comment, **kw
    ),
    workflow.REJECTED: lambda case, by, comment="", **kw: reject_case(case, by, comment, **kw),
}


def _case_in(status, curator, reviewer):
    """A case by `curator` brought to `status` through the real transitions."""
    case = CaseFactory(created_by=curator)
    path = {
        workflow.DRAFT: [],
        workflow.SUBMITTED: [(workflow.SUBMITTED, curator)],
        workflow.CHANGES_REQUESTED: [
            (workflow.SUBMITTED, curator),
            (workflow.CHANGES_REQUESTED, reviewer),
        ],
        workflow.PUBLISHED: [(workflow.SUBMITTED, curator), (workflow.PUBLISHED, reviewer)],
        workflow.REJECTED: [(workflow.SUBMITTED, curator), (workflow.REJECTED, reviewer)],
    }[status]
    for to, by in path:
        transition(case, to, by, "a reason")
    return case


# -- every decision from every status --------------------------------------------


@pytest.mark.parametrize("decision", list(DECIDE))
def test_a_reviewer_decides_a_submitted_case_and_the_event_says_who_what_and_why(
    decision, curator, reviewer
):
    case = _case_in(workflow.SUBMITTED, curator, reviewer)
    DECIDE[decision](case, reviewer, "Checked against figure 2.")
    case.refresh_from_db()
    assert case.status == decision
    assert case.version == 3
    event = CaseEvent.objects.filter(case=case).order_by("-created_at", "-pk").first()
    assert (event.actor, event.role, event.from_status, event.to_status, event.comment) == (
        reviewer,
        "reviewer",
        workflow.SUBMITTED,
        decision,
        "Checked against figure 2.",
    )


@pytest.mark.parametrize(
    "status",
    [workflow.DRAFT, workflow.CHANGES_REQUESTED, workflow.PUBLISHED, workflow.REJECTED],
)
@pytest.mark.parametrize("decision", list(DECIDE))
def test_only_a_submitted_case_can_be_decided(status, decision, curator, reviewer, reviewer2):
    case = _case_in(status, curator, reviewer)
    events_before = CaseEvent.objects.filter(case=case).count()
    with pytest.raises(AlreadyDecided, match="Nothing was changed"):
        DECIDE[decision](case, reviewer2, "Late opinion.")
    case.refresh_from_db()
    assert case.status == status
    assert CaseEvent.objects.filter(case=case).count() == events_before


@pytest.mark.parametrize("decision", list(DECIDE))
def test_curators_cannot_decide_even_on_someone_elses_case(decision, curator, curator2, reviewer):
    case = _case_in(workflow.SUBMITTED, curator, reviewer)
    with pytest.raises(TransitionError, match="Only a reviewer"):
        DECIDE[decision](case, curator2, "Looks fine to me.")
    case.refresh_from_db()
    assert case.status == workflow.SUBMITTED


@pytest.mark.parametrize("decision", list(DECIDE))
def test_a_reviewer_cannot_decide_on_their_own_submission(decision, reviewer, reviewer2):
    case = _case_in(workflow.SUBMITTED, reviewer, reviewer2)
    with pytest.raises(TransitionError, match="Nobody decides on their own submission"):
        DECIDE[decision](case, reviewer, "Mine, and good.")
    case.refresh_from_db()
    assert case.status == workflow.SUBMITTED


@pytest.mark.parametrize("decision", [workflow.CHANGES_REQUESTED, workflow.REJECTED])
def test_sending_back_or_rejecting_without_a_comment_is_refused(decision, curator, reviewer):
    case = _case_in(workflow.SUBMITTED, curator, reviewer)
    with pytest.raises(TransitionError, match="comment is required"):
        DECIDE[decision](case, reviewer, "   \n ")
    case.refresh_from_db()
    assert case.status == workflow.SUBMITTED


def test_approving_needs_no_comment(curator, reviewer):
    case = _case_in(workflow.SUBMITTED, curator, reviewer)
    approve_case(case, reviewer)
    assert case.status == workflow.PUBLISHED and case.published_at is not None


def test_a_decision_on_a_page_older_than_the_case_is_refused(curator, reviewer):
    case = _case_in(workflow.SUBMITTED, curator, reviewer)
    seen = case.version
    request_changes(case, reviewer, "Add the clone.")
    transition(case, workflow.SUBMITTED, curator)  # resubmitted: a new version to look at
    with pytest.raises(Conflict, match="reload"):
        approve_case(case, reviewer, expected_version=seen)
    case.refresh_from_db()
    assert case.status == workflow.SUBMITTED


def test_the_already_decided_message_names_who_decided(curator, reviewer, reviewer2):
    case = _case_in(workflow.SUBMITTED, curator, reviewer)
    approve_case(case, reviewer)
    with pytest.raises(AlreadyDecided, match=f"by {reviewer.username}.*published"):
        reject_case(case, reviewer2, "Too late.")


def test_the_round_trip_curator_resubmits_after_changes_and_a_reviewer_approves(curator, reviewer):
    case = _case_in(workflow.SUBMITTED, curator, reviewer)
    request_changes(case, reviewer, "The ALK clone is missing.")
    transition(case, workflow.SUBMITTED, curator)
    approve_case(case, reviewer, "Thanks.")
    assert list(
        CaseEvent.objects.filter(case=case)
        .order_by("created_at", "pk")
        .values_list("from_status", "to_status")
    ) == [
        ("draft", "submitted"),
        ("submitted", "changes_requested"),
        ("changes_requested", "submitted"),
        ("submitted", "published"),
    ]


# -- revisions ---------------------------------------------------------------------


@pytest.fixture
def published(curator, reviewer):
    case = _case_in(workflow.PUBLISHED, curator, reviewer)
    case.differentials.set([diagnosis("dermatofibroma")])
    return case


def test_a_revision_is_a_draft_copy_with_fields_differentials_and_rows(published, curator2):
    revision = start_revision(published, curator2)
    assert revision.pk != published.pk
    assert (revision.status, revision.revision_of, revision.created_by) == (
        workflow.DRAFT,
        published,
        curator2,
    )
    assert revision.final_diagnosis == published.final_diagnosis
    assert revision.site_detail == "posterior scalp"
    assert list(revision.differentials.all()) == [diagnosis("dermatofibroma")]
    assert [(r.marker.name, r.result) for r in revision.ihc_results.all()] == [("ALK", "positive")]
    assert [f.notation for f in revision.fusions.all()] == ["CARS1::ALK"]
    # The original is untouched and still what the public sees.
    published.refresh_from_db()
    assert published.status == workflow.PUBLISHED
    assert Case.objects.published().filter(pk=published.pk).exists()
    assert not Case.objects.published().filter(pk=revision.pk).exists()
    # A fresh draft: no events yet (its curator may still discard it).
    assert not CaseEvent.objects.filter(case=revision).exists()


def test_only_one_open_revision_at_a_time(published, curator, curator2):
    first = start_revision(published, curator2)
    with pytest.raises(RevisionExists, match=f"RareDerm #{first.pk}") as caught:
        start_revision(published, curator)
    assert caught.value.revision == first


def test_only_published_cases_can_be_revised(curator, reviewer):
    for status in (workflow.DRAFT, workflow.SUBMITTED, workflow.REJECTED):
        case = _case_in(status, curator, reviewer)
        with pytest.raises(NotEditable, match="Only a published case"):
            start_revision(case, curator)


def test_a_reader_without_a_role_cannot_start_a_revision(published, reader):
    with pytest.raises(NotEditable, match="Only a curator"):
        start_revision(published, reader)


def _submitted_revision(published, curator2):
    from curation.actions.cases import replace_fusions, replace_ihc_results, update_case

    revision = start_revision(published, curator2)
    update_case(
        revision,
        by=curator2,
        expected_version=revision.version,
        site_detail="vertex of the scalp",
        size_mm=12,
        differentials=[diagnosis("dermatofibroma"), diagnosis("nodular fasciitis")],
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
        rows=[
            {"five_prime_gene": gene("TPM3"), "three_prime_gene": gene("ALK"), "method": "rna_seq"}
        ],
    )
    transition(revision, workflow.SUBMITTED, curator2)
    return revision


def test_a_reviewer_who_commented_on_a_submitted_revision_may_still_approve_it(
    published, curator2, reviewer
):
    revision = _submitted_revision(published, curator2)
    comment_on_case(revision, reviewer, "Is the size in the pathology report?")
    result = approve_case(revision, reviewer, "It is.")
    assert result.pk == published.pk
    published.refresh_from_db()
    assert published.site_detail == "vertex of the scalp"


def test_a_reviewer_who_commented_on_a_submitted_case_may_still_decide_it(curator, reviewer):
    case = _case_in(workflow.SUBMITTED, curator, reviewer)
    comment_on_case(case, reviewer, "Which clone?")
    request_changes(case, reviewer, "Add the clone.")
    case.refresh_from_db()
    assert case.status == workflow.CHANGES_REQUESTED


def test_comments_and_transitions_are_two_kinds_of_events(curator, reviewer):
    case = _case_in(workflow.SUBMITTED, curator, reviewer)
    comment_on_case(case, curator, "Figure 2 shows the stain.")
    kinds = list(case.events.order_by("created_at", "pk").values_list("kind", flat=True))
    assert kinds == [CaseEvent.Kind.TRANSITION, CaseEvent.Kind.COMMENT]
    assert CaseEvent.objects.submitter_id(case) == curator.pk


def test_approving_a_revision_applies_it_to_the_published_case_which_keeps_its_url(
    published, curator2, reviewer
):
    url = published.get_absolute_url()
    version = published.version
    revision = _submitted_revision(published, curator2)
    result = approve_case(revision, reviewer, "Size from the pathology report.")
    assert result.pk == published.pk
    published.refresh_from_db()
    assert published.get_absolute_url() == url
    assert published.status == workflow.PUBLISHED
    assert published.version == version + 1
    assert published.site_detail == "vertex of the scalp"
    assert published.size_mm == 12
    assert {d.name.lower() for d in published.differentials.all()} == {
        "dermatofibroma",
        "nodular fasciitis",
    }
    assert [(r.marker.name, r.result, r.clone) for r in published.ihc_results.all()] == [
        ("ALK", "positive", "D5F3"),
        ("SMA", "negative", ""),
    ]
    assert [f.notation for f in published.fusions.all()] == ["TPM3::ALK"]
    # The revision is closed: gone, with its story moved onto the published case.
    assert not Case.objects.filter(pk=revision.pk).exists()
    story = list(
        CaseEvent.objects.filter(case=published)
        .order_by("created_at", "pk")
        .values_list("actor__username", "from_status", "to_status")
    )
    assert story[-2:] == [
        (curator2.username, "draft", "submitted"),
        (reviewer.username, "submitted", "published"),
    ]
    last = CaseEvent.objects.filter(case=published).order_by("-created_at", "-pk").first()
    assert "Revision" in last.comment and "Size from the pathology report." in last.comment
    # The field history records the change, by the reviewer, with a diff.
    changed = {c.field for c in version_changes(published, version, version + 1)}
    assert {"site_detail", "size_mm", "differentials"} <= changed
    assert {h.history_user for h in published.history.filter(version=version + 1)} == {reviewer}
    # Only one published case: the public never saw two.
    assert Case.objects.published().filter(citation=published.citation).count() == 1


def test_a_revision_sent_back_or_rejected_leaves_the_published_case_alone(
    published, curator2, reviewer
):
    before = (published.version, published.site_detail)
    revision = _submitted_revision(published, curator2)
    request_changes(revision, reviewer, "Where does the size come from?")
    transition(revision, workflow.SUBMITTED, curator2)
    reject_case(revision, reviewer, "The paper does not say.")
    published.refresh_from_db()
    assert (published.version, published.site_detail) == before
    revision.refresh_from_db()
    assert revision.status == workflow.REJECTED
    # A rejected revision no longer blocks a new one.
    assert start_revision(published, curator2).revision_of == published


def test_approving_an_already_applied_revision_says_so(published, curator2, reviewer, reviewer2):
    revision = _submitted_revision(published, curator2)
    approve_case(revision, reviewer)
    version = Case.objects.get(pk=published.pk).version
    with pytest.raises(AlreadyDecided, match="already been decided"):
        approve_case(revision, reviewer2)
    assert Case.objects.get(pk=published.pk).version == version
    assert (
        CaseEvent.objects.filter(case=published, to_status=workflow.PUBLISHED)
        .exclude(from_status=workflow.PUBLISHED)
        .count()
        == 2
    )


def test_the_curator_of_a_revision_cannot_approve_it_even_as_a_reviewer(published, reviewer2):
    revision = _submitted_revision(published, reviewer2)
    with pytest.raises(TransitionError, match="own submission"):
        approve_case(revision, reviewer2)


# -- comments ----------------------------------------------------------------------


def test_the_author_and_a_reviewer_comment_without_changing_the_case(curator, reviewer):
    case = _case_in(workflow.SUBMITTED, curator, reviewer)
    version = case.version
    comment_on_case(case, reviewer, "Is the SMA really negative? Figure 3 looks focal.")
    comment_on_case(case, curator, "Yes: the text says negative.")
    comments = list(
        CaseEvent.objects.filter(case=case, from_status=workflow.SUBMITTED, to_status="submitted")
        .order_by("created_at", "pk")
        .values_list("actor__username", "role", "comment")
    )
    assert comments == [
        (reviewer.username, "reviewer", "Is the SMA really negative? Figure 3 looks focal."),
        (curator.username, "curator", "Yes: the text says negative."),
    ]
    case.refresh_from_db()
    assert (case.status, case.version) == (workflow.SUBMITTED, version)


def test_a_reviewer_who_commented_may_still_decide(curator, reviewer):
    case = _case_in(workflow.SUBMITTED, curator, reviewer)
    comment_on_case(case, reviewer, "Checking the figures first.")
    approve_case(case, reviewer)
    assert case.status == workflow.PUBLISHED


def test_the_author_commenting_cannot_then_decide_their_own_case(reviewer, reviewer2):
    case = _case_in(workflow.SUBMITTED, reviewer, reviewer2)
    comment_on_case(case, reviewer2, "Question.")
    comment_on_case(case, reviewer, "Answer.")
    with pytest.raises(TransitionError, match="own submission"):
        approve_case(case, reviewer)


def test_another_curator_cannot_comment_and_nobody_comments_on_a_private_draft(
    curator, curator2, reviewer
):
    submitted = _case_in(workflow.SUBMITTED, curator, reviewer)
    draft = _case_in(workflow.DRAFT, curator, reviewer)
    with pytest.raises(CommentRefused, match="curator and reviewers"):
        comment_on_case(submitted, curator2, "Drive-by remark.")
    with pytest.raises(CommentRefused):
        comment_on_case(draft, reviewer, "Peeking at a draft.")
    with pytest.raises(CommentRefused, match="draft is private"):
        comment_on_case(draft, curator, "Note to self.")
    assert not CaseEvent.objects.filter(comment__in=["Drive-by remark.", "Peeking at a draft."])


@pytest.mark.parametrize("text", ["", "   \n\t", "x" * (COMMENT_MAX_LENGTH + 1)])
def test_empty_or_overlong_comments_are_refused_with_a_reason(text, curator, reviewer):
    case = _case_in(workflow.SUBMITTED, curator, reviewer)
    with pytest.raises(CommentRefused, match=r"empty|at most"):
        comment_on_case(case, curator, text)


def test_a_hostile_comment_is_stored_as_text(curator, reviewer):
    case = _case_in(workflow.SUBMITTED, curator, reviewer)
    event = comment_on_case(case, reviewer, "<script>alert(1)</script>\x00?")
    assert event.comment == "<script>alert(1)</script>?"
