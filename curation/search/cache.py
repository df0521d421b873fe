"""A cache of what every search and the statistics recount: keyed by a registry generation.

Facet counts, result totals, immunoprofile matches, the statistics page and
the gene pages depend only on the published registry. They are cached under
a key that holds a *generation* number (in Django's cache: Redis in
production, locmem otherwise). The generation is bumped whenever a case, an
IHC result, a fusion, a citation or a vocabulary entry (diagnosis, site,
gene, gene symbol, marker) is saved or deleted (signals, connected in
CurationConfig.ready) and by the raw-SQL paths that bypass signals
(generate_synthetic and its --delete). A bump makes every cached count
unreachable at once, so the next request recounts: a publication shows in the
very next search.

A bump happens at once (so the writing transaction's own reads are fresh)
and again on commit (so a request that read the old rows while the writer's
transaction was open cannot leave them under the generation readers use
after the commit).

If the cache is down, pages compute everything themselves: slower, never wrong.
settings.SEARCH_CACHE (on only with Redis, as a locmem cache is per process)
turns the whole thing off.
"""

from __future__ import annotations

import hashlib
import logging
import time

from django.conf import settings
from django.core.cache import cache
from django.db import transaction

log = logging.getLogger(__name__)

GENERATION_KEY = "search:generation"
TIMEOUT = 6 * 3600  # seconds; a generation bump makes entries unreachable long before


def _fresh() -> int:
    # Never an earlier number: an evicted generation must not resurrect old entries.
    return time.time_ns() // 1000


def generation() -> int | None:
    """The registry's generation; None when the cache is off or down (compute everything)."""
    if not getattr(settings, "SEARCH_CACHE", True):
        return None
    try:
        value = cache.get(GENERATION_KEY)
        if value is None:
            cache.add(GENERATION_KEY, _fresh(), None)
            value = cache.get(GENERATION_KEY)
        return value
    except Exception:  # the cache is down: no caching
        log.warning("search cache unavailable", exc_info=True)
        return None


def _bump_now() -> None:
    try:
        cache.incr(GENERATION_KEY)
    except ValueError:  # no such key (evicted, never set)
        try:
            cache.set(GENERATION_KEY, _fresh(), None)
        except Exception:
            log.warning("search cache unavailable", exc_info=True)
    except Exception:
        log.warning("search cache unavailable", exc_info=True)


def forget_all() -> None:
    """Make every cached count unreachable now (tests: a rolled-back test commits nothing)."""
    _bump_now()


def bump() -> None:
    """The published registry changed (or may have): cached counts are obsolete."""
    _bump_now()
    transaction.on_commit(_bump_now)


def bypassed(query) -> bool:
    """Benchmarks only: `?nocache` computes everything (the cold figure).

    Honoured only when settings.SEARCH_CACHE_BYPASS_PARAM names the parameter
    (benchmarks/settings.py does; production settings do not).
    """
    name = getattr(settings, "SEARCH_CACHE_BYPASS_PARAM", "")
    return bool(name) and query is not None and name in query


def cached(kind: str, parts, compute, *, bypass: bool = False):
    """compute(), or its value cached for this generation under (kind, parts)."""
    gen = None if bypass else generation()
    if gen is None:
        return compute()
    digest = hashlib.sha256(repr(parts).encode()).hexdigest()[:32]
    key = f"search:{kind}:{gen}:{digest}"
    try:
        value = cache.get(key)
    except Exception:
        log.warning("search cache unavailable", exc_info=True)
        return compute()
    if value is None:
        value = compute()
        try:
            cache.set(key, value, TIMEOUT)
        except Exception:
            log.warning("search cache unavailable", exc_info=True)
    return value


def on_registry_change(sender, **kwargs) -> None:
    """Signal receiver: any saved or deleted row the cached values are made of."""
    if kwargs.get("raw"):  # loaddata: bumped by whoever loads
        return
    bump()


def connect() -> None:
    from django.db.models.signals import post_delete, post_save

    from citations.models import Citation
    from curation.models import (
        Case,
        Diagnosis,
        FusionFinding,
        Gene,
        GeneSymbol,
        IHCResult,
        Marker,
        Topography,
    )

    # The vocabularies too: facet labels, gene and marker names are in the cached values.
    for model in (
        Case,
        IHCResult,
        FusionFinding,
        Citation,
        Diagnosis,
        Topography,
        Gene,
        GeneSymbol,
        Marker,
    ):
        post_save.connect(on_registry_change, sender=model, dispatch_uid=f"search-gen-{model}")
        post_delete.connect(
            on_registry_change, sender=model, dispatch_uid=f"search-gen-del-{model}"
        )
