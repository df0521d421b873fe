"""Statistics of the published registry: five charts, each with its numbers as a table."""

from __future__ import annotations

from django.shortcuts import render

from curation.models import Case
from curation.search import cache as search_cache
from curation.search.stats import registry_stats


def stats(request):
    # Recounted once per registry generation (curation/search/cache.py), not per request.
    charts, total = search_cache.cached(
        "stats",
        (),
        lambda: (registry_stats(), Case.objects.published().count()),
        bypass=search_cache.bypassed(request.GET),
    )
    data = {c["key"]: {"label": c["label"], "rows": c["rows"]} for c in charts}
    return render(
        request,
        "curation/search/stats.html",
        {"charts": charts, "chart_data": data, "total": total},
    )
