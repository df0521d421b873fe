"""Pages kept for anonymous readers, per registry generation (issue 19: warm pages).

The search, the review table, the answer pages (entity, stains, the diagnoses' tree,
statistics) and the gene pages depend only on the published registry (its figures
included: a figure of a published case starts a generation) and their address. For an
anonymous reader, such a page is rendered once per registry generation and kept in the
cache (curation/search/cache.py: Redis); later readers of the same address get the kept
page without a query or a template rendered. A publication starts a new generation, so
a kept page is never older than the registry it shows.

What differs between readers is punched back in: the CSRF token (base.html's htmx
headers, forms) is rendered as PLACEHOLDER and replaced by the reader's own on every
answer. Not kept, and not served from the cache: signed-in users' pages (their menus,
roles, subscriptions), pages with a message waiting for the reader, anything but a 200
HTML answer, `nocache` (benchmarks' cold figure), and a page rendered while a previous
generation's value was being served (cache.served_previous: kept, it would hide the
change that started the generation).

settings.PAGE_CACHE turns it off (tests do, as they read the rendered page's context).
"""

from __future__ import annotations

import hashlib
import logging
from functools import wraps

from django.conf import settings
from django.contrib.messages import get_messages
from django.core.cache import cache as django_cache
from django.http import HttpResponse
from django.middleware.csrf import get_token
from django.utils import timezone

from curation.search import cache

log = logging.getLogger(__name__)

# What the CSRF token renders as in a page being kept (see csrf() below).
PLACEHOLDER = "rarederm-csrf-token-kept-page"
KEPT_HEADER = "X-RareDerm-Page"  # "kept" or "rendered": what the answer was (tests, benches)


def csrf(request) -> dict:
    """Context processor: the CSRF token as PLACEHOLDER while a page to be kept renders
    (after Django's own, which gives the real token to every other page)."""
    if getattr(request, "_rarederm_keeping", False):
        return {"csrf_token": PLACEHOLDER}
    return {}


def _key(request) -> str | None:
    """The cache key of the page for this request, or None when it is not to be kept."""
    if not getattr(settings, "PAGE_CACHE", True) or request.method not in ("GET", "HEAD"):
        return None
    if request.user.is_authenticated or cache.bypassed(request.GET):
        return None
    if len(get_messages(request)):  # a message waits for this reader (not consumed here)
        return None
    gen = cache.generation()
    if gen is None:
        return None
    parts = (
        request.resolver_match.view_name if request.resolver_match else "",
        request.get_host(),
        request.get_full_path(),
        request.headers.get("HX-Request", ""),
        request.headers.get("HX-Target", ""),
        # Pages may say the day (the review table's title): kept for one day at most.
        timezone.now().date().isoformat(),
    )
    digest = hashlib.sha256(repr(parts).encode()).hexdigest()[:32]
    return f"search:page:{gen}:{digest}"


def _answer(request, kept: dict) -> HttpResponse:
    response = HttpResponse(kept["body"].replace(PLACEHOLDER, get_token(request)))
    for name, value in kept["headers"].items():
        response[name] = value
    response[KEPT_HEADER] = "kept"
    return response


def _punched(request, response):
    """`response` with the reader's CSRF token in place of PLACEHOLDER."""
    response.content = response.content.replace(PLACEHOLDER.encode(), get_token(request).encode())
    return response


def kept_per_generation(view):
    """Keep `view`'s page for anonymous readers for the registry generation (see above)."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        key = _key(request)
        if key is None:
            return view(request, *args, **kwargs)
        try:
            kept = django_cache.get(key)
        except Exception:
            log.warning("page cache unavailable", exc_info=True)
            return view(request, *args, **kwargs)
        if kept is not None:
            return _answer(request, kept)
        request._rarederm_keeping = True
        try:
            with cache.watching_previous() as previous:
                response = view(request, *args, **kwargs)
        finally:
            request._rarederm_keeping = False
        if response.streaming:
            return response
        if (
            response.status_code == 200
            and response.get("Content-Type", "").startswith("text/html")
            and not response.cookies
            and not previous.served
        ):
            headers = {
                name: value
                for name, value in response.headers.items()
                if name.lower() not in ("content-length", KEPT_HEADER.lower())
            }
            kept = {"body": response.content.decode(response.charset), "headers": headers}
            try:
                django_cache.set(key, kept, cache.TIMEOUT)
            except Exception:
                log.warning("page cache unavailable", exc_info=True)
        response[KEPT_HEADER] = "rendered"
        return _punched(request, response)

    return wrapper
