"""Who may do what to a case: the one place actions, views and templates ask.

`workflow` holds the state machine as a table (Django-free); this module
answers the questions that need the database: whose submission this is, and
whether a user may decide on it, comment on it or propose a revision of it.
"""

from __future__ import annotations

from accounts.roles import CURATOR, REVIEWER, has_role
from curation import workflow
from curation.models import Case, CaseEvent


def is_author(user, case: Case) -> bool:
    """The case's creator, or whoever made its latest submission (one query at most)."""
    if not getattr(user, "is_authenticated", False):
        return False
    if case.created_by_id == user.pk:
        return True
    return CaseEvent.objects.submitter_id(case) == user.pk


def check_transition(user, case: Case, to_status: str, comment: str = "") -> workflow.Rule:
    """workflow.check_transition for this user and case; TransitionError says why not."""
    return workflow.check_transition(
        case.status,
        to_status,
        is_author=is_author(user, case),
        is_curator=has_role(user, CURATOR),
        is_reviewer=has_role(user, REVIEWER),
        comment=comment,
    )


def may_decide(user, case: Case) -> bool:
    """May this user publish, send back or reject the case now? (Not their own submission.)"""
    if case.status != workflow.SUBMITTED or not has_role(user, REVIEWER):
        return False
    return not is_author(user, case)


def may_revise(user, case: Case) -> bool:
    """May this user propose a revision of the case (a published, original case)?"""
    return (
        has_role(user, CURATOR) and case.status == workflow.PUBLISHED and not case.revision_of_id
    )


def may_comment(user, case: Case) -> bool:
    """The case's curator and reviewers comment, once it left the private draft stage.

    The caller has checked that the user may see the case at all.
    """
    if not getattr(user, "is_authenticated", False) or case.status == workflow.DRAFT:
        return False
    return case.created_by_id == user.pk or has_role(user, REVIEWER)


def may_decide_term(user, proposal) -> bool:
    """May this user accept or map a proposed term? A reviewer, not its proposer."""
    return has_role(user, REVIEWER) and proposal.proposed_by_id != user.pk
