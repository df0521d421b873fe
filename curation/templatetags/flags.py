"""{% case_flags case %}: a published case's open-flag notice and the flag form (one query)."""

from django import template

from curation.models import CaseFlag
from curation.views.flags import FlagForm

register = template.Library()


@register.inclusion_tag("curation/_case_flags.html", takes_context=True)
def case_flags(context, case):
    return {
        "case": case,
        "open_flags": CaseFlag.objects.open().filter(case_id=case.pk).count(),
        "form": FlagForm(),
        "csrf_token": context.get("csrf_token"),
    }
