"""One beat for the whole deployment, however many are started.

Celery beat sends the periodic tasks (the fetch-job sweep...). Two beats would
send each of them twice. The compose file runs one; this scheduler makes a
second one harmless too (a beat on another machine for availability, or one
started by mistake): only the beat holding a lock in Redis sends anything; the
others stand by, and one of them takes over within LOCK_TTL seconds when the
holder stops (at once when it stops cleanly and gives the lock back).

settings.CELERY_BEAT_SCHEDULER names it, so `celery -A config beat` uses it.
Without Redis (no REDIS_URL, a non-Redis broker) there is nothing to lock
with: it behaves as Celery's own PersistentScheduler, and says so.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import uuid

import redis
from celery.beat import PersistentScheduler
from django.conf import settings

log = logging.getLogger(__name__)

LOCK_TTL = 60  # seconds a silent holder keeps the lock
RENEW_EVERY = 15  # seconds between two ticks at most: the holder renews, a standby retries

# Renew, or give back, only a lock that is still this beat's own.
_RENEW = (
    "if redis.call('get', KEYS[1]) == ARGV[1] then "
    "return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end"
)
_RELEASE = (
    "if redis.call('get', KEYS[1]) == ARGV[1] then "
    "return redis.call('del', KEYS[1]) else return 0 end"
)


def lock_key() -> str:
    """The lock's key, under the deployment's REDIS_KEY_PREFIX like all of its keys."""
    return f"{settings.REDIS_KEY_PREFIX}:beat:lock"


def _lock_url(app) -> str:
    url = getattr(settings, "REDIS_URL", "") or str(app.conf.broker_url or "")
    return url if url.startswith(("redis://", "rediss://")) else ""


class SingletonScheduler(PersistentScheduler):
    """Celery's PersistentScheduler, sending only while it holds the deployment's beat lock."""

    def setup_schedule(self):
        super().setup_schedule()
        self.lock_token = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.holding = False
        self._standby_said = False
        url = _lock_url(self.app)
        self.lock_client = (
            redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2) if url else None
        )
        if self.lock_client is None:
            log.warning("beat: no Redis to hold the beat lock: run exactly one beat")

    def tick(self, *args, **kwargs):
        if self.lock_client is not None and not self.hold_lock():
            return RENEW_EVERY
        return min(super().tick(*args, **kwargs), RENEW_EVERY)

    def hold_lock(self) -> bool:
        """Take or renew the lock; whether this beat may send."""
        ttl_ms = LOCK_TTL * 1000
        try:
            if self.holding:
                if self.lock_client.eval(_RENEW, 1, lock_key(), self.lock_token, ttl_ms):
                    return True
                self.holding = False
                log.warning("beat: the beat lock expired while this beat held it; trying again")
            if self.lock_client.set(lock_key(), self.lock_token, nx=True, px=ttl_ms):
                self.holding = True
                log.info("beat: this beat (%s) sends the periodic tasks", self.lock_token)
                return True
        except redis.RedisError as exc:
            self.holding = False
            log.warning("beat: Redis does not answer (%s); sending nothing until it does", exc)
            return False
        if not self._standby_said:
            holder = self.lock_client.get(lock_key())
            log.info(
                "beat: another beat (%s) sends the periodic tasks; this one stands by",
                holder.decode() if holder else "?",
            )
            self._standby_said = True
        return False

    def close(self):
        if self.lock_client is not None and self.holding:
            with contextlib.suppress(redis.RedisError):  # else it expires by itself
                self.lock_client.eval(_RELEASE, 1, lock_key(), self.lock_token)
            self.holding = False
        super().close()
