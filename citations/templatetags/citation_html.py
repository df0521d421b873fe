"""`{{ citation.title|inline_html }}`: the one way a template prints citation markup.

Titles and abstracts keep PubMed's inline markup (<i> <b> <sup> <sub> <u>).
They are cleaned on every write (Citation.save); this filter cleans again on
the way out with the same sanitiser, so that a row written past `save`
(a queryset update, a raw import) still cannot put markup of its own on a page.
"""

from django import template
from django.utils.safestring import mark_safe

from citations.pubmed import sanitize_inline

register = template.Library()


@register.filter(is_safe=True)
def inline_html(value) -> str:
    return mark_safe(sanitize_inline(str(value or "")))  # noqa: S308 (sanitised by nh3)
