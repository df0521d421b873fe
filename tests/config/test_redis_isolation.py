"""The test suite shares Redis with whatever else uses it, and never touches their keys.

A developer's `make test` may point CELERY_BROKER_URL at the Redis database
their own server and worker use: the suite writes only keys under a prefix of
its own (REDIS_KEY_PREFIX, set per test session), and removes only those.
"""

import redis
from django.conf import settings
from django.core.cache import cache

from citations import entrez


def test_a_test_session_writes_its_redis_keys_under_a_prefix_of_its_own(redis_url):
    prefix = settings.REDIS_KEY_PREFIX
    assert prefix.startswith("rarederm-test-")
    client = redis.Redis.from_url(redis_url)
    cache.set("isolation-probe", 1, 60)
    assert client.keys(f"{prefix}:*isolation-probe")
    assert not client.keys("rarederm:*isolation-probe")
    entrez.wait_for_slot()
    assert client.exists(f"{prefix}:entrez:next-slot")


def test_starting_a_worker_leaves_other_keys_in_the_broker_database_alone(redis_url, start_worker):
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    client.set("someone-else:queue-state", "keep me", ex=300)
    client.lpush("celery", "a message of someone else's worker")
    try:
        start_worker()
        assert client.get("someone-else:queue-state") == b"keep me"
        assert client.lrange("celery", 0, -1) == [b"a message of someone else's worker"]
    finally:
        client.delete("someone-else:queue-state", "celery")
