"""GET /healthz: can this deployment serve, and are its helpers alive?

Each component is "ok", "degraded" or "down". The answer is HTTP 200 while
the database answers (pages can be served; fetch requests are kept as rows
and queued again when the broker returns) and 503 when it does not.

Probes ask by address, not by the site's name: docker compose's health check
asks http://127.0.0.1:8000/healthz inside the container, a load balancer or
Kubernetes asks the container's IP. HealthCheckMiddleware, first in the
chain, answers them before Django validates the Host header against
ALLOWED_HOSTS (which would answer 400) or redirects to HTTPS. Every other
path keeps the strict host check.
"""

from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from config.celery import app as celery_app


def _database() -> dict:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:
        return {"status": "down", "detail": exc.__class__.__name__}
    return {"status": "ok", "engine": connection.vendor}


def _broker() -> dict:
    if not settings.CELERY_BROKER_URL:
        return {"status": "ok", "detail": "no broker configured: tasks run inline"}
    try:
        with celery_app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
    except Exception as exc:
        return {"status": "down", "detail": exc.__class__.__name__}
    return {"status": "ok"}


# Each worker process writes a key every HEARTBEAT_SECONDS that lives
# HEARTBEAT_TTL seconds (config/celery.py, WorkerHeartbeat): /healthz counts
# the keys instead of pinging the workers, which would make it wait.
HEARTBEAT_SECONDS = 10
HEARTBEAT_TTL = 30


def _heartbeat_pattern() -> str:
    return f"{settings.REDIS_KEY_PREFIX}:worker-alive:"


def _redis_client():
    import redis

    return redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=1, socket_timeout=1)


def mark_worker_alive(hostname: str) -> None:
    """A worker says it is alive (called by the worker itself, every HEARTBEAT_SECONDS)."""
    _redis_client().set(_heartbeat_pattern() + hostname, "1", ex=HEARTBEAT_TTL)


def forget_worker(hostname: str) -> None:
    """A worker that stops cleanly is gone at once, not HEARTBEAT_TTL later."""
    _redis_client().delete(_heartbeat_pattern() + hostname)


def workers_alive(hostnames) -> set[str] | None:
    """Which of these workers have a fresh heartbeat; None when there is no Redis to ask.

    One MGET of their keys (a SCAN would walk the whole database, cache included).
    """
    names = sorted(set(hostnames))
    if not settings.REDIS_URL:
        return None
    if not names:
        return set()
    pattern = _heartbeat_pattern()
    values = _redis_client().mget([pattern + name for name in names])
    return {name for name, value in zip(names, values, strict=True) if value is not None}


def live_workers() -> list[str]:
    """Hostnames of the workers whose heartbeat is fresh."""
    pattern = _heartbeat_pattern()
    return sorted(
        key.decode()[len(pattern) :]
        for key in _redis_client().scan_iter(match=pattern + "*", count=500)
    )


def _workers(broker_ok: bool) -> dict:
    if not settings.CELERY_BROKER_URL:
        return {"status": "ok", "detail": "tasks run inline in the web process", "count": 0}
    if not broker_ok:
        return {"status": "down", "detail": "broker unreachable", "count": 0}
    if not settings.REDIS_URL:
        return {"status": "degraded", "detail": "no Redis to read worker heartbeats from"}
    try:
        alive = live_workers()
    except Exception as exc:
        return {"status": "down", "detail": exc.__class__.__name__, "count": 0}
    if not alive:
        # Requests are kept as rows and run when a worker comes back.
        return {
            "status": "degraded",
            "detail": f"no worker heartbeat in the last {HEARTBEAT_TTL} s",
            "count": 0,
        }
    return {"status": "ok", "count": len(alive)}


@never_cache
@require_GET
def healthz(request):
    database = _database()
    broker = _broker()
    workers = _workers(broker["status"] == "ok")
    components = {"database": database, "broker": broker, "workers": workers}
    if database["status"] != "ok":
        overall, code = "down", 503
    elif all(c["status"] == "ok" for c in components.values()):
        overall, code = "ok", 200
    else:
        overall, code = "degraded", 200
    return JsonResponse({"status": overall, **components}, status=code)


class HealthCheckMiddleware:
    """Serve GET /healthz whatever the Host header (see the module's docstring)."""

    path = "/healthz"

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path_info == self.path:
            return healthz(request)
        return self.get_response(request)
