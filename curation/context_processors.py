from django.utils.functional import SimpleLazyObject

from curation.roles import ADMIN, CURATOR, REVIEWER, has_role, role_names


def roles(request):
    """Role flags for the navigation; computed lazily so anonymous pages cost no query."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"is_curator": False, "is_reviewer": False, "is_admin": False}
    names = role_names(user)
    return {
        "is_curator": CURATOR in names,
        "is_reviewer": REVIEWER in names,
        "is_admin": ADMIN in names,
    }


def review_queue(request):
    """`review_queue_count` for reviewers' navigation: one COUNT, only if a page shows it."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not has_role(user, REVIEWER):
        return {}

    def count() -> int:
        from curation import workflow
        from curation.models import Case

        return Case.objects.filter(status=workflow.SUBMITTED).count()

    return {"review_queue_count": SimpleLazyObject(count)}
