"""Branded error pages that say why (Django's handlers with the site's own templates).

A 404 or 403 raised by RareDerm carries a message meant for the user ("No
such case.", "This page is for reviewers."): the page shows it. Django's
own messages ("No Citation matches the given query.", the resolver's
dictionary) are replaced by a plain sentence.
"""

import logging

from django.db import InterfaceError, OperationalError, connection
from django.http import Http404, HttpResponse, HttpResponseServerError, JsonResponse
from django.shortcuts import render
from django.template import loader
from django.views.decorators.csrf import requires_csrf_token

GENERIC_404 = "There is no page at this address."
DATABASE_RETRY_SECONDS = 30
logger = logging.getLogger(__name__)


def _reason(exception) -> str:
    message = exception.args[0] if getattr(exception, "args", None) else ""
    if not isinstance(message, str) or message.endswith("matches the given query."):
        return ""
    return message


@requires_csrf_token
def not_found(request, exception=None):
    reason = _reason(exception) if isinstance(exception, Http404) else ""
    if request.path.startswith("/api/"):
        # An API client reads JSON, as the schema documents for every 404 there.
        return JsonResponse({"detail": reason or GENERIC_404}, status=404)
    return render(request, "404.html", {"reason": reason or GENERIC_404}, status=404)


@requires_csrf_token
def forbidden(request, exception=None):
    return render(request, "403.html", {"reason": _reason(exception)}, status=403)


@requires_csrf_token
def server_error(request):
    # Rendered without the request: the database (behind the user and the
    # context processors) may be what failed.
    return HttpResponseServerError(loader.get_template("500.html").render({}))


def database_unavailable_page() -> HttpResponse:
    """503 saying the database is not answering (rendered without it), to try again later."""
    response = HttpResponse(loader.get_template("503.html").render({}), status=503)
    response["Retry-After"] = str(DATABASE_RETRY_SECONDS)
    return response


def require_database() -> None:
    """Raise OperationalError now if the database does not answer.

    A streamed download calls this before its first byte: once a 200 has
    gone out, a database that fails can only cut the file short.
    """
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


class DatabaseDownAnswers503:
    """A view that finds the database down answers 503 with a page saying so, not a bare 500."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, (OperationalError, InterfaceError)):
            logger.error("Database unavailable answering %s: %s", request.path, exception)
            return database_unavailable_page()
        return None


def csrf_failure(request, reason=""):
    return render(request, "403_csrf.html", {}, status=403)


class NoTracebackForForbidden(logging.Filter):
    """A refused request (403) is logged as one line: it is a user's mistake, not a bug."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "status_code", None) == 403:
            record.exc_info = None
            record.exc_text = None
        return True
