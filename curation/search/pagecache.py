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

After a change, while the facet index of the new generation is being built (by one
process, in the background: bitmaps.current), a page would be rendered from the previous
index, and not kept. Instead, the page kept for an earlier generation (at most
cache.STALE_GENERATIONS back) stands in, as the previous counts do: no page is rendered
in those seconds, which are the seconds the rebuild takes the processors. Not a case
page: it is rendered from the case's rows, which the change may be about.
"""

from __future__ import annotations

from config.pagecache import kept
from curation.search import bitmaps, cache


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

    decorator = kept(
        stamp, guard=cache.watching_previous, stand_in=None if also else _while_rebuilt
    )
    return decorator if view is None else decorator(view)


def _while_rebuilt(gen: int, earlier: int) -> bool:
    """Whether the page kept for generation `earlier` may stand in for `gen`'s: it is
    recent, and this generation's facet index is still being built (asking for it starts
    the build, if no process has)."""
    if not 0 < gen - earlier <= cache.STALE_GENERATIONS:
        return False
    return bitmaps.current().generation != gen
