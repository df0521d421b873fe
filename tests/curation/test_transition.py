"""The state machine: curation.workflow's table and actions.cases.transition."""

import pytest

from curation import workflow
from curation.actions.cases import Conflict, TransitionError, transition, update_case
from curation.models import Case, CaseEvent
from tests.factories import CaseFactory

# -- the table, without a database --------------------------------------------


def _check(frm, to, **who):
    defaults = {"is_author": False, "is_curator": True, "is_reviewer": True, "comment": ""}
    return workflow.check_transition(frm, to, **{**defaults, **who})


@pytest.mark.parametrize(
    "frm, to",
    [
        ("draft", "published"),
        ("draft", "rejected"),
        ("published", "draft"),
        ("rejected", "submitted"),
        ("changes_requested", "published"),
        ("submitted", "submitted"),
        ("draft", "nonsense"),
    ],
)
def test_moves_outside_the_table_are_refused(frm, to):
    with pytest.raises(workflow.TransitionError, match="cannot go from"):
        _check(frm, to, is_author=True, comment="because")


def _targets(status):
    return [to for (frm, to) in workflow.TRANSITIONS if frm == status]


def test_the_table_lists_where_each_status_may_go():
    assert _targets("draft") == ["submitted"]
    assert sorted(_targets("submitted")) == [
        "changes_requested",
        "published",
        "rejected",
    ]
    assert _targets("published") == []


def test_rejecting_or_requesting_changes_needs_a_comment_but_publishing_does_not():
    for to in ("rejected", "changes_requested"):
        with pytest.raises(workflow.TransitionError, match="comment is required"):
            _check("submitted", to, comment="   ")
        _check("submitted", to, comment="Fusion partner not supported by the figure.")
    _check("submitted", "published")


# -- transition() on the database ----------------------------------------------


@pytest.fixture
def submitted(curator):
    case = CaseFactory(created_by=curator)
    transition(case, "submitted", curator)
    return case


@pytest.mark.django_db
def test_the_author_submits_and_an_event_records_who_role_and_when(curator):
    case = CaseFactory(created_by=curator)
    transition(case, "submitted", curator)
    assert (case.status, case.version) == ("submitted", 2)
    assert case.submitted_at is not None
    event = CaseEvent.objects.get(case=case)
    assert (event.actor, event.role, event.from_status, event.to_status) == (
        curator,
        "curator",
        "draft",
        "submitted",
    )
    assert event.created_at == case.submitted_at


@pytest.mark.django_db
def test_another_curator_cannot_submit_someone_elses_draft(curator, curator2):
    case = CaseFactory(created_by=curator)
    with pytest.raises(TransitionError, match="Only the curator who wrote"):
        transition(case, "submitted", curator2)
    case.refresh_from_db()
    assert case.status == "draft"
    assert not CaseEvent.objects.exists()


@pytest.mark.django_db
def test_a_reviewer_publishes_anothers_submission(submitted, reviewer):
    transition(submitted, "published", reviewer)
    assert submitted.status == "published"
    assert submitted.published_at is not None
    assert submitted in Case.objects.published()
    assert CaseEvent.objects.filter(case=submitted).latest("created_at").role == "reviewer"


@pytest.mark.django_db
def test_a_curator_cannot_publish(submitted, curator2):
    with pytest.raises(TransitionError, match="Only a reviewer"):
        transition(submitted, "published", curator2)


@pytest.mark.django_db
def test_nobody_decides_on_their_own_submission_not_even_an_admin(admin, reviewer):
    for author in (reviewer, admin):
        case = CaseFactory(created_by=author)
        transition(case, "submitted", author)
        for to, comment in (("published", ""), ("rejected", "no"), ("changes_requested", "fix")):
            with pytest.raises(TransitionError, match="own submission"):
                transition(case, to, author, comment)
        case.refresh_from_db()
        assert case.status == "submitted"


@pytest.mark.django_db
def test_reject_without_a_comment_is_refused_and_writes_no_event(submitted, reviewer):
    with pytest.raises(TransitionError, match="comment is required"):
        transition(submitted, "rejected", reviewer, "  ")
    assert CaseEvent.objects.filter(case=submitted).count() == 1


@pytest.mark.django_db
def test_changes_requested_goes_back_to_the_author_who_edits_and_resubmits(
    submitted, curator, reviewer, reviewer2
):
    transition(submitted, "changes_requested", reviewer, "Add the ALK clone.")
    update_case(submitted, by=curator, expected_version=submitted.version, notes="Clone 5A4.")
    transition(submitted, "submitted", curator)
    transition(submitted, "published", reviewer2)
    events = list(
        CaseEvent.objects.filter(case=submitted)
        .order_by("created_at", "pk")
        .values_list("from_status", "to_status", "comment")
    )
    assert events == [
        ("draft", "submitted", ""),
        ("submitted", "changes_requested", "Add the ALK clone."),
        ("changes_requested", "submitted", ""),
        ("submitted", "published", ""),
    ]
    assert submitted.version == 6


@pytest.mark.django_db
def test_a_stale_decision_is_a_conflict(submitted, curator, reviewer):
    with pytest.raises(Conflict):
        transition(submitted, "published", reviewer, expected_version=1)
    transition(submitted, "published", reviewer, expected_version=submitted.version)


@pytest.mark.django_db
def test_each_transition_leaves_a_history_record_with_the_reason(submitted, reviewer):
    transition(submitted, "rejected", reviewer, "Not a cutaneous primary.")
    latest = submitted.history.latest()
    assert latest.history_change_reason == "submitted -> rejected"
    assert latest.history_user == reviewer
    assert latest.status == "rejected"
