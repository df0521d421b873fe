"""Pages of the published registry kept for anonymous readers, per registry generation
(issue 19: warm pages; the mechanism is config/pagecache.py).

The search, the review table, the answer pages (entity, stains, the diagnoses' tree,
statistics) and the gene pages depend only on the published registry (its figures
included: a figure of a published case starts a generation) and their address: they are
kept under the registry's generation. A case page also shows its open error reports and
the releases that hold it, which change without a new generation: it is kept under both
(`also`). A page rendered while a previous generation's value was being served
(cache.watching_previous) is not kept: it would hide the change that started the
generation. `nocache` (the benchmarks' cold figure) is never kept.
"""

from __future__ import annotations

from config.pagecache import kept
from curation.search import cache


def generation_stamp(request, *args, **kwargs):
    """The registry's generation; None (not kept) when the cache is off or bypassed."""
    if cache.bypassed(request.GET):
        return None
    return cache.generation()


def kept_per_generation(view=None, *, also=None):
    """Keep the view's page for anonymous readers for the registry generation, and for
    what `also(request, *args, **kwargs)` says it shows besides (None: not kept)."""

    def stamp(request, *args, **kwargs):
        gen = generation_stamp(request)
        if gen is None or also is None:
            return gen
        more = also(request, *args, **kwargs)
        return None if more is None else (gen, more)

    decorator = kept(stamp, guard=cache.watching_previous)
    return decorator if view is None else decorator(view)
