"""A cache of what every search and the statistics recount: keyed by a registry generation.

Facet counts, result totals, immunoprofile matches, the statistics page and
the gene pages depend only on the published registry. They are cached under
a key that holds a *generation* number (in Django's cache: Redis in
production, locmem otherwise). The generation is bumped whenever a published case, an
IHC result or fusion of one, a citation of one, or a vocabulary entry
(diagnosis, site, gene, gene symbol, marker) is saved or deleted -- a
curator's draft saves do not empty the cache -- (signals, connected in
CurationConfig.ready) and by the raw-SQL paths that bypass signals
(generate_synthetic and its --delete). A bump makes every cached count
unreachable at once: the values of the new generation are recomputed (by the next
request, or in the background: below), and none of the previous generation is kept
under the new one.

A bump happens at once (so the writing transaction's own reads are fresh)
and again on commit (so a request that read the old rows while the writer's
transaction was open cannot leave them under the generation readers use
after the commit).

After a bump, the first request to need a value recomputes it, once (single-flight): it
holds a short lock (`cache.add`, Redis SET NX with an expiry, so a process that dies
holding it delays nobody for long), while the requests arriving meanwhile serve the
value of the previous generation (kept under a "stale" key) instead of recomputing the
same counts all at once; with no previous value they compute as before. Without
background refresh the request that recomputes, and every request after it, see the
new generation's value. Values asked for
`background=True` (the facet index, the answer pages) go further when
settings.SEARCH_REFRESH_IN_BACKGROUND: the process that takes the lock recomputes in a
thread and serves the previous value too, so no request waits; the new value serves
from the moment it is stored (within the seconds the recomputation takes).

If the cache is down, pages compute everything themselves: slower, never wrong.
settings.SEARCH_CACHE (on only with Redis, as a locmem cache is per process)
turns the whole thing off.
"""

from __future__ import annotations

import contextlib
import contextvars
import hashlib
import logging
import queue
import threading
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.db import connections, transaction

from config import generations

log = logging.getLogger(__name__)

GENERATION_KEY = "search:generation"
BUMPED_AT_KEY = "search:bumped-at"  # when the generation last changed (with a replica only)
TIMEOUT = 6 * 3600  # seconds; a generation bump makes entries unreachable long before
# How long a recomputation may hold its lock before another process may take over
# (longer than a page takes cold; shorter than a reader would wait for a dead worker).
LOCK_SECONDS = 30
# How far behind a previous value may be (in generations: a publication bumps twice)
# and still be served while it is recomputed: a page read often has one from the last
# change or two; one nobody asked for since many changes is recomputed for its reader
# instead of showing counts from many publications back.
STALE_GENERATIONS = 8


@dataclass
class Previous:
    """Whether a value of a previous generation was served (watching_previous)."""

    served: bool = False


_watching: contextvars.ContextVar[Previous | None] = contextvars.ContextVar(
    "search_cache_watching", default=None
)


@contextlib.contextmanager
def watching_previous():
    """Yields a Previous whose `served` turns true when, inside the block, a value of a
    previous generation is served (while the new one is recomputed): what was built from
    it must not be kept for the new generation (pagecache)."""
    previous = Previous()
    token = _watching.set(previous)
    try:
        yield previous
    finally:
        _watching.reset(token)


def _served_previous() -> None:
    watching = _watching.get()
    if watching is not None:
        watching.served = True


def generation() -> int | None:
    """The registry's generation; None when the cache is off or down (compute everything)."""
    return generations.current(GENERATION_KEY)


def _bump_now() -> None:
    if _replica_in_use():
        try:
            cache.set(BUMPED_AT_KEY, time.time(), TIMEOUT)
        except Exception:
            log.warning("search cache unavailable", exc_info=True)
    generations.bump_now(GENERATION_KEY)


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


def cached(
    kind: str,
    parts,
    compute,
    *,
    bypass: bool = False,
    held=None,
    background: bool = False,
    lock_seconds: int = LOCK_SECONDS,
    keep=None,
):
    """compute(), or its value cached for this generation under (kind, parts).

    `held`: a value of an earlier generation the caller keeps in memory, served
    (instead of fetching the stale copy) while another process recomputes.
    `background`: when this process is the one to recompute and a previous value
    exists, recompute in a thread and serve the previous value now (only with
    settings.SEARCH_REFRESH_IN_BACKGROUND): after a publication no request waits for
    the recomputation, and the new value serves from the moment it is stored.
    `keep`: keep(value) says whether a computed value may be kept for the generation
    (not when it was derived from a previous generation's facet index: bitmaps).
    """
    gen = None if bypass else generation()
    if gen is None:
        return compute()
    digest = hashlib.sha256(repr(parts).encode()).hexdigest()[:32]
    key = f"search:{kind}:{gen}:{digest}"
    stale_key = f"search:{kind}:stale:{digest}"
    lock_key = f"search:{kind}:lock:{gen}:{digest}"
    try:
        value = cache.get(key)
        if value is not None:
            return value
        leader = cache.add(lock_key, 1, lock_seconds)
        later = leader and background and getattr(settings, "SEARCH_REFRESH_IN_BACKGROUND", False)
        if not leader or later:
            # Another process is recomputing this value (or a thread of this one is
            # about to): serve the previous one, if it is recent.
            stale = held if held is not None else _recent(cache.get(stale_key), gen)
            if stale is not None:
                if later:
                    _refresh_in_background(kind, compute, key, stale_key, lock_key, gen, keep)
                _served_previous()
                return stale
    except Exception:
        log.warning("search cache unavailable", exc_info=True)
        return compute()
    try:
        value = compute()
        if keep is not None and not keep(value):
            _served_previous()  # derived from a previous generation's value
        _store(key, stale_key, value, gen, keep)
    finally:
        if leader:
            _unlock(lock_key)
    return value


def _recent(stale, gen: int):
    """The value of a stale entry ((its generation, value)) if it is at most
    STALE_GENERATIONS behind `gen`, else None."""
    if not isinstance(stale, tuple) or len(stale) != 2:
        return None
    stale_gen, value = stale
    return value if 0 <= gen - stale_gen <= STALE_GENERATIONS else None


def _store(key: str, stale_key: str, value, gen: int, keep=None) -> None:
    if _settled() and (keep is None or keep(value)):
        try:
            cache.set_many({key: value, stale_key: (gen, value)}, TIMEOUT)
        except Exception:
            log.warning("search cache unavailable", exc_info=True)


def _unlock(lock_key: str) -> None:
    try:
        cache.delete(lock_key)
    except Exception:
        log.warning("search cache unavailable", exc_info=True)


# Recomputations asked for in the background: one thread per process takes them in
# turn, so that a publication does not start every page's recomputation at once.
_refreshes: queue.Queue = queue.Queue()
_refresher: dict[str, threading.Thread] = {}
_refresher_lock = threading.Lock()


def _refresh_in_background(
    kind: str, compute, key: str, stale_key: str, lock_key: str, gen: int, keep
) -> None:
    """compute() in this process's refreshing thread, stored for the generation, then
    unlocked."""
    _refreshes.put((kind, compute, key, stale_key, lock_key, gen, keep))
    with _refresher_lock:
        thread = _refresher.get("thread")
        if thread is None or not thread.is_alive():  # first use, or a fork (gunicorn)
            thread = threading.Thread(target=_refresh_loop, name="search-cache-refresh")
            thread.daemon = True
            thread.start()
            _refresher["thread"] = thread


def _refresh_loop() -> None:
    while True:
        kind, compute, key, stale_key, lock_key, gen, keep = _refreshes.get()
        try:
            _store(key, stale_key, compute(), gen, keep)
        except Exception:
            log.exception("recomputing the cached %s failed", kind)
        finally:
            _unlock(lock_key)
            connections.close_all()  # this thread's own connection
            _refreshes.task_done()


def refreshes_done(timeout: float = 30.0) -> bool:
    """Wait until this process has no background recomputation left (tests, benchmarks)."""
    deadline = time.monotonic() + timeout
    while _refreshes.unfinished_tasks:
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def _replica_in_use() -> bool:
    return "replica" in settings.DATABASES


def _settled() -> bool:
    """May what was just computed be kept for the whole generation?

    Not when it was read from a replica that may not yet have the change that
    started the generation (DATABASE_REPLICA_LAG seconds): kept, it would hide
    that change until the next one. Until then such counts are computed anew.
    """
    from config.replica import reads_from_replica

    if not reads_from_replica():
        return True
    try:
        bumped_at = cache.get(BUMPED_AT_KEY)
    except Exception:
        return False
    return bumped_at is None or time.time() - bumped_at >= settings.DATABASE_REPLICA_LAG


def _published(status) -> bool:
    return status == "published"


def on_registry_change(sender, **kwargs) -> None:
    """Signal receiver: a saved or deleted vocabulary entry (always relevant)."""
    if kwargs.get("raw"):  # loaddata: bumped by whoever loads
        return
    bump()


def on_case_change(sender, instance, **kwargs) -> None:
    # Drafts, submissions and rejections are not public: a curator's saves
    # must not empty the cache. No transition leaves "published" (a withdrawn
    # case would be deleted, which is a delete of a published case).
    if not kwargs.get("raw") and _published(instance.status):
        bump()


def on_finding_change(sender, instance, **kwargs) -> None:
    """An IHC result, fusion or figure: relevant only when its case is published."""
    if kwargs.get("raw"):
        return
    from curation.models import Case

    case = instance._state.fields_cache.get("case")  # no query when the case is at hand
    if case is not None:
        status = case.status
    else:
        status = Case.objects.filter(pk=instance.case_id).values_list("status", flat=True).first()
    if _published(status):
        bump()


def on_citation_change(sender, instance, created=False, **kwargs) -> None:
    """A citation: relevant only when a published case cites it (never a new one)."""
    if kwargs.get("raw") or created:
        return
    from curation.models import Case

    # Its source paper, or another report of the patient (both on the case page);
    # two indexed lookups rather than one OR across the join.
    published = Case.objects.filter(status="published")
    if (
        published.filter(citation_id=instance.pk).exists()
        or published.filter(other_citations=instance.pk).exists()
    ):
        bump()


# The user fields a public name is made of (accounts.models.public_name).
NAME_FIELDS = ("first_name", "last_name", "username")


def on_user_saving(sender, instance, update_fields=None, **kwargs) -> None:
    """pre_save of a user: a kept case page names its curator and reviewers, so a changed
    name starts a generation. Not a new user (named nowhere yet), not a save of other
    fields (a login's last_login), not a save that leaves the name as it was."""
    if kwargs.get("raw") or instance.pk is None:
        return
    if update_fields is not None and not set(NAME_FIELDS) & set(update_fields):
        return
    stored = sender._default_manager.filter(pk=instance.pk).values_list(*NAME_FIELDS).first()
    if stored is not None and stored != tuple(getattr(instance, name) for name in NAME_FIELDS):
        bump()


def connect() -> None:
    from django.contrib.auth import get_user_model
    from django.db.models.signals import post_delete, post_save, pre_save

    from accounts.models import PublicName
    from citations.models import Citation
    from curation.models import (
        Case,
        Clone,
        Diagnosis,
        DiagnosisCategory,
        DiagnosisFamily,
        Figure,
        FusionFinding,
        Gene,
        GeneSymbol,
        IHCResult,
        Marker,
        Topography,
    )

    receivers = [
        (Case, on_case_change),
        (IHCResult, on_finding_change),
        (FusionFinding, on_finding_change),
        # A figure of a published case shows on its gene's page (kept per generation).
        (Figure, on_finding_change),
        (Citation, on_citation_change),
        # Names on case pages (provenance): the style chosen for a user's name (a
        # changed name itself: on_user_saving, below).
        (PublicName, on_registry_change),
        # The vocabularies: facet labels, gene and marker names are in cached values.
        *(
            (model, on_registry_change)
            for model in (
                Diagnosis,
                DiagnosisFamily,
                DiagnosisCategory,
                Topography,
                Gene,
                GeneSymbol,
                Marker,
                Clone,
            )
        ),
    ]
    pre_save.connect(
        on_user_saving, sender=get_user_model(), dispatch_uid="search-generation-user-name"
    )
    for model, receiver in receivers:
        uid = f"search-generation-{model._meta.label}"
        post_save.connect(receiver, sender=model, dispatch_uid=uid)
        post_delete.connect(receiver, sender=model, dispatch_uid=uid + "-delete")
