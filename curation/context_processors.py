from django.utils.functional import SimpleLazyObject

from accounts.roles import REVIEWER, has_role


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
