"""DATABASE_REPLICA_URL: the public's reads go to the replica, everything else to the primary.

The production check proves it with two real databases behind gunicorn
(tests/production); these tests pin down the rule and the search cache's care.
"""

import time

import pytest
from django.test import RequestFactory

from config import replica
from curation.search import cache as search_cache

factory = RequestFactory()


@pytest.mark.parametrize(
    ("method", "path", "cookies", "public"),
    [
        ("get", "/search/?three=ALK", {}, True),
        ("head", "/cases/1/", {}, True),
        ("get", "/search/export/csv/", {}, True),
        ("get", "/search/", {"sessionid": "abc"}, False),  # logged in: reads its own writes
        ("post", "/search/", {}, False),
        ("get", "/admin/", {}, False),
        ("get", "/accounts/login/", {}, False),
    ],
)
def test_a_public_read_is_a_get_without_a_session_outside_admin_and_login(
    method, path, cookies, public
):
    request = getattr(factory, method)(path)
    request.COOKIES.update(cookies)
    assert replica.is_public_read(request) is public


@pytest.fixture
def with_replica(db, monkeypatch):
    from django.conf import settings

    monkeypatch.setitem(settings.DATABASES, "replica", dict(settings.DATABASES["default"]))
    token = replica._public_read.set(False)
    yield
    replica._public_read.reset(token)


def _serve(request):
    """Run the middleware on a request; what the router says while it is served."""
    router = replica.ReplicaRouter()
    seen = {}

    def view(request):
        seen["read"] = router.db_for_read(None)
        return "response"

    replica.PublicReadsMiddleware(view)(request)
    return seen["read"]


def test_the_router_sends_a_public_reads_queries_to_the_replica_until_it_is_finished(
    with_replica,
):
    from django.core.signals import request_finished

    router = replica.ReplicaRouter()
    assert _serve(factory.get("/search/")) == "replica"
    # A streamed export reads after the view returned: still the replica...
    assert router.db_for_read(None) == "replica"
    request_finished.send(sender=None)
    # ...until the response is finished; then (tasks, commands) the primary.
    assert router.db_for_read(None) is None


def test_the_router_keeps_logged_in_reads_and_every_write_on_the_primary(with_replica):
    request = factory.get("/search/")
    request.COOKIES["sessionid"] = "abc"
    assert _serve(request) is None
    router = replica.ReplicaRouter()
    assert router.db_for_write(None) == "default"
    assert router.allow_migrate("replica", "curation") is False
    assert router.allow_migrate("default", "curation") is True


def test_without_a_replica_configured_nothing_is_routed(settings):
    assert "replica" not in settings.DATABASES
    assert _serve(factory.get("/search/")) is None


@pytest.fixture
def search_cache_on(settings, redis_url):
    settings.SEARCH_CACHE = True
    settings.DATABASE_REPLICA_LAG = 60.0


def test_counts_read_from_a_lagging_replica_are_not_kept_for_the_generation(
    search_cache_on, with_replica, monkeypatch
):
    calls = []

    def count():
        calls.append(1)
        return len(calls)

    monkeypatch.setattr(replica, "reads_from_replica", lambda: True)
    search_cache.bump()  # a publication, just now: the replica may not have it yet
    assert search_cache.cached("probe", ("replica",), count) == 1
    assert search_cache.cached("probe", ("replica",), count) == 2  # computed anew

    # Once the replica has had DATABASE_REPLICA_LAG seconds, counts are kept again.
    from django.core.cache import cache

    cache.set(search_cache.BUMPED_AT_KEY, time.time() - 61, 60)
    assert search_cache.cached("probe", ("replica",), count) == 3
    assert search_cache.cached("probe", ("replica",), count) == 3


def test_counts_read_from_the_primary_are_kept_at_once(search_cache_on, with_replica):
    calls = []
    search_cache.bump()
    assert search_cache.cached("probe", ("primary",), lambda: calls.append(1) or 7) == 7
    assert search_cache.cached("probe", ("primary",), lambda: calls.append(1) or 8) == 7
    assert len(calls) == 1
