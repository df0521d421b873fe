"""screening.actions.decide_candidate: include for a curator, exclude with a reason, maybe."""

import pytest
from django.core.exceptions import ValidationError

from screening.actions import add_candidate, decide_candidate
from screening.models import Candidate, ExclusionReason, ScreeningDecision

pytestmark = pytest.mark.django_db


@pytest.fixture
def candidate():
    return add_candidate(kind="search", pmid=35560368, label="cutaneous IMT").candidate


def test_including_assigns_the_paper_to_the_chosen_curator(candidate, reviewer, curator):
    decision = decide_candidate(candidate, "include", by=reviewer, assign_to=curator)
    candidate.refresh_from_db()
    assert (candidate.status, candidate.assigned_to) == ("include", curator)
    assert (decision.by, decision.assigned_to, decision.reason) == (reviewer, curator, None)


def test_including_without_a_curator_assigns_it_to_the_screener(candidate, curator):
    decide_candidate(candidate, "include", by=curator)
    candidate.refresh_from_db()
    assert candidate.assigned_to == curator


def test_excluding_needs_a_reason_and_changes_nothing_without_one(candidate, curator):
    with pytest.raises(ValidationError) as caught:
        decide_candidate(candidate, "exclude", by=curator)
    assert caught.value.message_dict == {"reason": ["Say why the paper is excluded."]}
    candidate.refresh_from_db()
    assert candidate.status == Candidate.Status.NEW
    assert not ScreeningDecision.objects.exists()


def test_a_later_decision_replaces_the_earlier_one_which_stays_in_the_history(
    candidate, curator, curator2
):
    reason = ExclusionReason.objects.get(label="Not a case report")
    decide_candidate(candidate, "maybe", by=curator)
    decide_candidate(candidate, "exclude", by=curator2, reason=reason)
    candidate.refresh_from_db()
    assert (candidate.status, candidate.assigned_to) == ("exclude", None)
    assert list(candidate.decisions.order_by("pk").values_list("decision", "reason__label")) == [
        ("maybe", None),
        ("exclude", "Not a case report"),
    ]


def test_only_curators_and_reviewers_screen_and_only_curators_are_assigned(
    candidate, reader, curator
):
    with pytest.raises(ValidationError, match="Only curators"):
        decide_candidate(candidate, "maybe", by=reader)
    with pytest.raises(ValidationError) as caught:
        decide_candidate(candidate, "include", by=curator, assign_to=reader)
    assert "assign_to" in caught.value.message_dict
    assert not ScreeningDecision.objects.exists()


def test_the_database_refuses_an_exclusion_without_reason(candidate, curator):
    from django.db import IntegrityError
    from django.utils import timezone

    with pytest.raises(IntegrityError):
        ScreeningDecision.objects.create(
            candidate=candidate, decision="exclude", by=curator, at=timezone.now()
        )
