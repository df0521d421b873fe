"""Two reviewers deciding at once, for real: two threads, two PostgreSQL connections.

One wins; the other waits for the winner's row lock, then is told the case
was already decided. Never two decisions, never a second event.
"""

import threading

import pytest
from django.db import connection

from curation import workflow
from curation.actions.cases import replace_fusions, transition
from curation.actions.review import AlreadyDecided, approve_case, reject_case, start_revision
from curation.models import Case, CaseEvent
from tests.factories import CaseFactory, gene, make_published_case

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _race(*calls):
    """Run the calls in threads released at the same instant; their outcomes, in order."""
    barrier = threading.Barrier(len(calls))
    outcomes = [None] * len(calls)

    def run(i, call):
        try:
            barrier.wait(timeout=10)
            outcomes[i] = call()
        except Exception as exc:
            outcomes[i] = exc
        finally:
            connection.close()  # each thread has its own connection

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert not any(t.is_alive() for t in threads), "a decision never finished (deadlock?)"
    return outcomes


def _decisions(case_id):
    return list(
        CaseEvent.objects.filter(case_id=case_id, from_status=workflow.SUBMITTED)
        .exclude(to_status=workflow.SUBMITTED)
        .values_list("actor__username", "to_status")
    )


@pytest.mark.parametrize("round_", range(5))
def test_two_reviewers_deciding_at_once_one_wins_and_the_other_is_told(
    postgres, curator, reviewer, reviewer2, round_
):
    case = CaseFactory(created_by=curator)
    transition(case, workflow.SUBMITTED, curator)
    version = Case.objects.get(pk=case.pk).version

    # Each reviewer has the page open (their own copy of the row).
    seen_by_a, seen_by_b = Case.objects.get(pk=case.pk), Case.objects.get(pk=case.pk)
    outcomes = _race(
        lambda: approve_case(seen_by_a, reviewer, expected_version=version),
        lambda: reject_case(seen_by_b, reviewer2, "Not cutaneous.", expected_version=version),
    )
    winners = [o for o in outcomes if isinstance(o, Case)]
    losers = [o for o in outcomes if isinstance(o, AlreadyDecided)]
    assert (len(winners), len(losers)) == (1, 1), outcomes
    final = Case.objects.get(pk=case.pk)
    assert final.status == winners[0].status
    assert final.version == version + 1
    assert len(_decisions(case.pk)) == 1
    assert "already been decided" in str(losers[0])


def test_a_decision_waits_for_one_in_progress_and_then_sees_it(
    postgres, curator, reviewer, reviewer2
):
    """Deterministic: reviewer A holds the row lock mid-decision; B must wait, then lose."""
    from django.db import transaction

    case = CaseFactory(created_by=curator)
    transition(case, workflow.SUBMITTED, curator)
    a_locked = threading.Event()
    b_started = threading.Event()
    outcome = {}

    def reviewer_a():
        try:
            with transaction.atomic():
                Case.objects.select_for_update().get(pk=case.pk)
                a_locked.set()
                b_started.wait(timeout=10)
                # Give B time to block on the lock, then decide.
                threading.Event().wait(0.5)
                outcome["a"] = approve_case(Case.objects.get(pk=case.pk), reviewer)
        finally:
            connection.close()

    def reviewer_b():
        try:
            a_locked.wait(timeout=10)
            b_started.set()
            outcome["b"] = reject_case(Case.objects.get(pk=case.pk), reviewer2, "No.")
        except AlreadyDecided as exc:
            outcome["b"] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=reviewer_a), threading.Thread(target=reviewer_b)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert isinstance(outcome["a"], Case)
    assert isinstance(outcome["b"], AlreadyDecided)
    assert reviewer.username in str(outcome["b"])
    assert _decisions(case.pk) == [(reviewer.username, workflow.PUBLISHED)]


def test_two_approvals_of_one_revision_apply_it_once(
    postgres, curator, curator2, reviewer, reviewer2
):
    published = make_published_case(created_by=curator)
    revision = start_revision(published, curator2)
    replace_fusions(
        revision,
        by=curator2,
        expected_version=revision.version,
        rows=[{"five_prime_gene": gene("TPM3"), "three_prime_gene": gene("ALK")}],
    )
    transition(revision, workflow.SUBMITTED, curator2)
    version = Case.objects.get(pk=published.pk).version

    seen_by_a, seen_by_b = Case.objects.get(pk=revision.pk), Case.objects.get(pk=revision.pk)
    outcomes = _race(
        lambda: approve_case(seen_by_a, reviewer),
        lambda: approve_case(seen_by_b, reviewer2),
    )
    assert sorted(type(o).__name__ for o in outcomes) == ["AlreadyDecided", "Case"], outcomes
    final = Case.objects.get(pk=published.pk)
    assert final.version == version + 1
    assert [f.notation for f in final.fusions.all()] == ["TPM3::ALK"]
    assert len(_decisions(published.pk)) == 1
    assert not Case.objects.filter(pk=revision.pk).exists()
