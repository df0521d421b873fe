"""What the citation list shows besides its rows: the number of stored citations, and
the citations' generation, under which that number is cached and the list is kept for
anonymous readers.

The generation (config/generations.py) changes when a citation is saved or deleted, and
again when its transaction commits (signals, connected in CitationsConfig.ready; storage
sends post_save for the citations it writes in bulk, with their authors in the same
transaction; the synthetic registry bumps it itself).

A COUNT over every citation costs ~100 ms at 100,000 rows: with the shared cache on
(settings.SEARCH_CACHE, Redis) it is counted once per generation, so the home page and
the list never show a number older than the citations. The list is kept for a minute at
most (LIST_SECONDS): a change written without a signal (an UPDATE) shows within it.
"""

from django.core.cache import cache

from citations.models import Citation
from config import generations

CACHE_KEY = "citations:count"
CACHE_SECONDS = 6 * 3600  # a change makes the count unreachable long before
GENERATION_KEY = "citations:generation"
LIST_SECONDS = 60


def citation_count() -> int:
    gen = generation()
    if gen is None:
        return Citation.objects.count()
    try:
        return cache.get_or_set(f"{CACHE_KEY}:{gen}", Citation.objects.count, CACHE_SECONDS)
    except Exception:  # the cache is down: count, as the search pages do
        return Citation.objects.count()


def generation(request=None, *args, **kwargs) -> int | None:
    """The citations' generation (a page stamp: config/pagecache.py); None: cache off."""
    return generations.current(GENERATION_KEY)


def changed(sender=None, **kwargs) -> None:
    """Signal receiver, and what writers that send none call: the citations changed."""
    if kwargs.get("raw"):  # loaddata: bumped by whoever loads
        return
    generations.bump(GENERATION_KEY)


def connect() -> None:
    from django.db.models.signals import post_delete, post_save

    # Not Author: authors are written with their citation, in its transaction (and a
    # post_delete receiver would make every bulk delete of authors load them first).
    post_save.connect(changed, sender=Citation, dispatch_uid="citations-generation")
    post_delete.connect(changed, sender=Citation, dispatch_uid="citations-generation-delete")
