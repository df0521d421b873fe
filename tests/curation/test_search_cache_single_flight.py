"""Single-flight after a publication (issue 19): once the generation moves, one process
recomputes a count while the others serve the previous value, on the real Redis cache;
a process that dies holding the lock delays the others only until the lock expires."""

import hashlib
import threading

import pytest
from django.core.cache import cache

from curation.search import cache as search_cache


@pytest.fixture(autouse=True)
def _redis_cache(redis_url, settings, db):
    if "RedisCache" not in settings.CACHES["default"]["BACKEND"]:
        pytest.fail("the search cache's Redis backend is not configured (REDIS_URL)")
    settings.SEARCH_CACHE = True
    search_cache.forget_all()


class Slow:
    """A computation that waits until released, counting its calls."""

    def __init__(self, value):
        self.value, self.calls = value, 0
        self.started, self.release = threading.Event(), threading.Event()

    def __call__(self):
        self.calls += 1
        self.started.set()
        assert self.release.wait(10)
        return self.value


def test_after_a_bump_one_caller_recomputes_and_the_others_get_the_previous_value():
    assert search_cache.cached("probe", ["q"], lambda: "before") == "before"
    search_cache.bump()
    slow = Slow("after")
    got = {}
    leader = threading.Thread(
        target=lambda: got.setdefault("leader", search_cache.cached("probe", ["q"], slow))
    )
    leader.start()
    assert slow.started.wait(10)
    others = [search_cache.cached("probe", ["q"], slow) for _ in range(5)]
    assert others == ["before"] * 5  # served at once, not recomputed
    slow.release.set()
    leader.join(10)
    assert got["leader"] == "after" and slow.calls == 1
    # Every request after the recomputation sees the new value.
    assert search_cache.cached("probe", ["q"], lambda: "never called") == "after"


def test_with_no_previous_value_every_caller_computes_for_itself():
    slow = Slow("first")
    leader = threading.Thread(target=lambda: search_cache.cached("probe", ["new"], slow))
    leader.start()
    assert slow.started.wait(10)
    assert search_cache.cached("probe", ["new"], lambda: "computed") == "computed"
    slow.release.set()
    leader.join(10)


def test_a_lock_left_by_a_dead_process_expires(monkeypatch):
    search_cache.cached("probe", ["dead"], lambda: "old")
    search_cache.bump()
    gen = search_cache.generation()
    digest = hashlib.sha256(repr(["dead"]).encode()).hexdigest()[:32]
    # A process took the lock and died: for LOCK_SECONDS the previous value is served.
    cache.add(f"search:probe:lock:{gen}:{digest}", 1, 1)
    assert search_cache.cached("probe", ["dead"], lambda: "new") == "old"
    cache.delete(f"search:probe:lock:{gen}:{digest}")  # what the expiry does
    assert search_cache.cached("probe", ["dead"], lambda: "new") == "new"
    assert search_cache.cached("probe", ["dead"], lambda: "never") == "new"


def test_a_value_from_many_changes_back_is_recomputed_not_served():
    """A query nobody asked for many publications: its reader gets today's counts."""
    assert search_cache.cached("probe", ["old"], lambda: "long ago") == "long ago"
    for _ in range(search_cache.STALE_GENERATIONS + 1):
        search_cache.bump()
    slow = Slow("now")
    leader = threading.Thread(target=lambda: search_cache.cached("probe", ["old"], slow))
    leader.start()
    assert slow.started.wait(10)
    # Another process meanwhile: no recent previous value, so it computes for itself.
    assert search_cache.cached("probe", ["old"], lambda: "computed") == "computed"
    slow.release.set()
    leader.join(10)


def test_in_the_background_the_caller_gets_the_previous_value_and_the_next_the_new(settings):
    settings.SEARCH_REFRESH_IN_BACKGROUND = True
    assert search_cache.cached("probe", ["bg"], lambda: "before", background=True) == "before"
    search_cache.bump()
    got = search_cache.cached("probe", ["bg"], lambda: "after", background=True)
    assert got == "before"  # no wait: the recomputation runs in this process's thread
    assert search_cache.refreshes_done(timeout=10)
    assert search_cache.cached("probe", ["bg"], lambda: "never called") == "after"
