"""`{% case_review_panel case %}`: the timeline, comments and revision button on a case page."""

from django import template

from accounts.roles import REVIEWER, has_role
from curation import permissions
from curation.actions.review import COMMENT_MAX_LENGTH
from curation.models import CaseEvent

register = template.Library()


@register.inclusion_tag("curation/review/_panel.html", takes_context=True)
def case_review_panel(context, case, actions=True):
    """What the case's curator and reviewers see below a case (one or two queries)."""
    user = context["request"].user
    is_reviewer = has_role(user, REVIEWER)
    on_team = user.is_authenticated and (case.created_by_id == user.pk or is_reviewer)
    events = []
    if on_team:
        events = list(
            CaseEvent.objects.filter(case=case)
            .select_related("actor")
            .order_by("created_at", "pk")
        )
    return {
        "case": case,
        "events": events,
        "on_team": on_team,
        "can_revise": actions and permissions.may_revise(user, case),
        "can_review": actions and permissions.may_decide(user, case),
        "comment_max": COMMENT_MAX_LENGTH,
        "request": context["request"],
        "csrf_token": context.get("csrf_token"),
    }
