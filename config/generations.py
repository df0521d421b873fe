"""Generation counters in the shared cache: a number that changes whenever what it names
changes (the published registry: curation/search/cache.py; the citations:
citations/counts.py), so that what was cached under one number is unreachable after
the change, at once, in every process.

One rule for all of them: a counter that is missing (never set, or evicted) starts
from the clock, never from an earlier number, so an evicted generation cannot bring
back what was cached under it. settings.SEARCH_CACHE (on only with Redis: a locmem
cache is per process, and another process would not see a change) turns them off:
current() is then None, and callers compute everything.
"""

from __future__ import annotations

import logging
import time

from django.conf import settings
from django.core.cache import cache
from django.db import transaction

log = logging.getLogger(__name__)


def _fresh() -> int:
    return time.time_ns() // 1000


def current(key: str) -> int | None:
    """The generation named `key`; None when the cache is off or down."""
    if not getattr(settings, "SEARCH_CACHE", True):
        return None
    try:
        value = cache.get(key)
        if value is None:
            cache.add(key, _fresh(), None)
            value = cache.get(key)
        return value
    except Exception:  # the cache is down: nothing is cached
        log.warning("cache unavailable: generation %s", key, exc_info=True)
        return None


def bump_now(key: str) -> None:
    try:
        cache.incr(key)
    except ValueError:  # no such key (evicted, never set)
        try:
            cache.set(key, _fresh(), None)
        except Exception:
            log.warning("cache unavailable: generation %s", key, exc_info=True)
    except Exception:
        log.warning("cache unavailable: generation %s", key, exc_info=True)


def bump(key: str) -> None:
    """What `key` names changed: at once (the writing transaction's own reads are fresh)
    and again on commit (a reader that read the old rows while the writer's transaction
    was open cannot leave them cached under the number used after the commit)."""
    bump_now(key)
    transaction.on_commit(lambda: bump_now(key))
