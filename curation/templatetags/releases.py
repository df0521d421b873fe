"""{% case_releases case %}: on a case page, the releases that hold the case (one query)."""

from django import template

from curation.models import ReleaseCase

register = template.Library()


@register.inclusion_tag("curation/_case_releases.html")
def case_releases(case):
    rows = (
        ReleaseCase.objects.filter(case_id=case.pk)
        .select_related("release")
        .order_by("release__created_at", "release__pk")
    )
    return {"case": case, "rows": list(rows)}
