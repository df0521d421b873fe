"""GET /healthz: can this deployment serve, and are its helpers alive?

Each component is "ok", "degraded" or "down". The answer is HTTP 200 while
the database answers (pages can be served; fetch requests are kept as rows
and queued again when the broker returns) and 503 when it does not.
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


def _workers(broker_ok: bool) -> dict:
    if not settings.CELERY_BROKER_URL:
        return {"status": "ok", "detail": "tasks run inline in the web process", "count": 0}
    if not broker_ok:
        return {"status": "down", "detail": "broker unreachable", "count": 0}
    try:
        replies = celery_app.control.ping(timeout=1.0)
    except Exception as exc:
        return {"status": "down", "detail": exc.__class__.__name__, "count": 0}
    if not replies:
        # Requests are kept as rows and run when a worker comes back.
        return {"status": "degraded", "detail": "no worker answered", "count": 0}
    return {"status": "ok", "count": len(replies)}


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
