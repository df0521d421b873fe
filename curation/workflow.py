"""A case's life, as a table: which status may follow which, and who decides.

Plain Python, no Django, so the rules can be read (and tested) in one place:

    draft ──submit──> submitted ──publish──> published
                         │  ^
          request changes│  │resubmit
                         v  │
                  changes_requested
    submitted ──reject──> rejected

The author submits (and resubmits); a reviewer who is not the author
decides. Rejecting or requesting changes needs a comment. The database side
(row lock, version bump, event) is curation.actions.cases.transition.
"""

from __future__ import annotations

from dataclasses import dataclass

DRAFT = "draft"
SUBMITTED = "submitted"
CHANGES_REQUESTED = "changes_requested"
PUBLISHED = "published"
REJECTED = "rejected"
STATUSES = (DRAFT, SUBMITTED, CHANGES_REQUESTED, PUBLISHED, REJECTED)
# Statuses in which the author may still edit the record.
EDITABLE = (DRAFT, CHANGES_REQUESTED)

AUTHOR = "author"
REVIEWER = "reviewer"


@dataclass(frozen=True)
class Rule:
    verb: str  # what the button says
    actor: str  # AUTHOR or REVIEWER
    comment_required: bool = False


TRANSITIONS: dict[tuple[str, str], Rule] = {
    (DRAFT, SUBMITTED): Rule("submit", AUTHOR),
    (CHANGES_REQUESTED, SUBMITTED): Rule("resubmit", AUTHOR),
    (SUBMITTED, PUBLISHED): Rule("publish", REVIEWER),
    (SUBMITTED, CHANGES_REQUESTED): Rule("request changes", REVIEWER, comment_required=True),
    (SUBMITTED, REJECTED): Rule("reject", REVIEWER, comment_required=True),
}


class TransitionError(Exception):
    """A transition that is not allowed; the message says why, for the user."""


def check_transition(
    from_status: str,
    to_status: str,
    *,
    is_author: bool,
    is_curator: bool,
    is_reviewer: bool,
    comment: str = "",
) -> Rule:
    """The rule for this move, or TransitionError with the reason."""
    rule = TRANSITIONS.get((from_status, to_status))
    if rule is None:
        raise TransitionError(
            f"A case cannot go from “{_name(from_status)}” to “{_name(to_status)}”."
        )
    if rule.actor == AUTHOR:
        if not is_curator:
            raise TransitionError(f"Only a curator may {rule.verb} a case.")
        if not is_author:
            raise TransitionError(f"Only the curator who wrote this case may {rule.verb} it.")
    else:
        if not is_reviewer:
            raise TransitionError(f"Only a reviewer may {rule.verb} a case.")
        if is_author:
            raise TransitionError(
                f"Nobody decides on their own submission: another reviewer must {rule.verb} it."
            )
    if rule.comment_required and not (comment or "").strip():
        raise TransitionError(f"Say why: a comment is required to {rule.verb}.")
    return rule


def _name(status: str) -> str:
    return str(status).replace("_", " ")[:40]
