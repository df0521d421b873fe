"""Template filters of the answer pages: where a diagnosis's entity page is."""

from django import template

from curation.search import answers

register = template.Library()


@register.filter
def entity_url(diagnosis) -> str:
    """The entity page of a diagnosis, given it or its name (answers.entity_url)."""
    return answers.entity_url(diagnosis)
