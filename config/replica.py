"""Public reads from a read replica, when DATABASE_REPLICA_URL names one.

Search is most of the load and reads only published data, so a deployment
that grows adds PostgreSQL replicas and sends them the public's reads. What
counts as a public read is decided per request, by PublicReadsMiddleware: a
GET or HEAD without a session cookie (so nobody logged in, who must read their
own writes at once) outside the admin and the login pages. Everything else --
writes, every logged-in request, Celery tasks, management commands -- uses the
primary. The flag lasts until the response is finished (request_finished), so
that a streamed export reads from the replica to its last row.

A replica lags its primary by a little: a case published a moment ago may be
missing from a public search for that moment. The search cache therefore
keeps nothing read from the replica for DATABASE_REPLICA_LAG seconds after a
change (curation/search/cache.py), so the moment does not last a generation.
"""

from __future__ import annotations

from contextvars import ContextVar

from django.conf import settings
from django.core.signals import request_finished

REPLICA = "replica"
_PRIVATE_PATHS = ("/admin/", "/accounts/")

_public_read: ContextVar[bool] = ContextVar("rarederm_public_read", default=False)


def is_public_read(request) -> bool:
    return (
        request.method in ("GET", "HEAD")
        and settings.SESSION_COOKIE_NAME not in request.COOKIES
        and not request.path_info.startswith(_PRIVATE_PATHS)
    )


class PublicReadsMiddleware:
    """Mark a public read (see the module's docstring) for ReplicaRouter."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        _public_read.set(is_public_read(request))
        return self.get_response(request)


def reads_from_replica() -> bool:
    """Do this request's reads go to the replica?"""
    return _public_read.get() and REPLICA in settings.DATABASES


def _request_finished(**kwargs) -> None:
    _public_read.set(False)


request_finished.connect(_request_finished, dispatch_uid="rarederm_replica_request_finished")


class ReplicaRouter:
    """Reads of a public request go to the replica; everything else to the primary."""

    def db_for_read(self, model, **hints):
        return REPLICA if reads_from_replica() else None

    def db_for_write(self, model, **hints):
        return "default"

    def allow_relation(self, obj1, obj2, **hints):
        return True  # one database, two copies

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db == "default"  # the replica follows the primary's schema by itself
