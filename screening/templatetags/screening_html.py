"""`{{ section.text|highlighted:terms }}`: citation markup, sanitised, entity terms marked."""

from django import template
from django.utils.safestring import mark_safe

from citations.pubmed import sanitize_inline
from screening.highlight import highlight

register = template.Library()


@register.filter(is_safe=True)
def highlighted(value, pattern) -> str:
    clean = sanitize_inline(str(value or ""))
    return mark_safe(highlight(clean, pattern))  # noqa: S308 (sanitised by nh3, then <mark> only)
