from django.shortcuts import render

from citations.counts import citation_count
from curation.models import Case
from curation.search import cache as search_cache


def registry_counts() -> dict[str, int]:
    """What the registry holds, for the home page.

    Both are COUNTs over the largest tables, so they are cached: the published
    cases per registry generation (a publication shows at once), the citations
    for a minute.
    """
    return {
        "cases": search_cache.cached("home", ["published-cases"], Case.objects.published().count),
        "citations": citation_count(),
    }


def home(request):
    return render(request, "curation/home.html", {"counts": registry_counts()})
