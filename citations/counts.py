"""The number of stored citations, which the home page and the citation list show.

A COUNT over every citation costs ~100 ms at 100,000 rows, and fetch jobs add
citations by the thousand without changing what the public sees, so with the
shared cache on (settings.SEARCH_CACHE, Redis) the count is kept for a minute.
"""

from django.conf import settings
from django.core.cache import cache

from citations.models import Citation

CACHE_KEY = "citations:count"
CACHE_SECONDS = 60


def citation_count() -> int:
    if not settings.SEARCH_CACHE:
        return Citation.objects.count()
    try:
        return cache.get_or_set(CACHE_KEY, Citation.objects.count, CACHE_SECONDS)
    except Exception:  # the cache is down: count, as the search pages do
        return Citation.objects.count()
