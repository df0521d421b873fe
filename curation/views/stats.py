"""Statistics of the published registry: five charts, each with its numbers as a table."""

from __future__ import annotations

from django.shortcuts import render

from curation.retractions import retracted_note
from curation.search import bitmaps
from curation.search import cache as search_cache
from curation.search.answers import entity_url
from curation.search.pagecache import kept_per_generation
from curation.search.stats import registry_stats


@kept_per_generation
def stats(request):
    note = retracted_note(request)
    retracted = note["included"]
    # Recounted once per registry generation (curation/search/cache.py), not per request.
    charts, total = bitmaps.cached(
        "stats",
        [("retracted", retracted)],
        lambda index: (
            registry_stats(retracted=retracted, index=index),
            len(bitmaps.counted(index, retracted=retracted)),
        ),
        bypass=search_cache.bypassed(request.GET),
        background=True,
    )
    data = {c["key"]: {"label": c["label"], "rows": c["rows"]} for c in charts}
    # A bar of the diagnosis chart opens that diagnosis's entity page (static/js/stats.js).
    if "diagnosis" in data:
        data["diagnosis"]["links"] = [entity_url(name) for name, _ in data["diagnosis"]["rows"]]
    return render(
        request,
        "curation/search/stats.html",
        {"charts": charts, "chart_data": data, "total": total, "retracted_note": note},
    )
