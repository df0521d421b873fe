from django.conf import settings
from django.core.cache import cache
from django.shortcuts import render

from citations.models import Citation
from curation.models import Case
from curation.search import cache as search_cache

# Citations arrive by the thousand from fetch jobs without changing what the
# public sees, so their count is cached for a minute rather than per generation.
CITATION_COUNT_SECONDS = 60


def _citation_count() -> int:
    if not settings.SEARCH_CACHE:
        return Citation.objects.count()
    try:
        return cache.get_or_set("home:citations", Citation.objects.count, CITATION_COUNT_SECONDS)
    except Exception:  # Redis down: count, as the search pages do
        return Citation.objects.count()


def registry_counts() -> dict[str, int]:
    """What the registry holds, for the home page.

    Both are COUNTs over the largest tables, so they are cached: the published
    cases per registry generation (a publication shows at once), the citations
    for a minute.
    """
    return {
        "cases": search_cache.cached("home", ["published-cases"], Case.objects.published().count),
        "citations": _citation_count(),
    }


def home(request):
    return render(request, "curation/home.html", {"counts": registry_counts()})
