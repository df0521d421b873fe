"""Pages kept for anonymous readers (issue 19: warm pages).

A page that depends only on its address and on what a *stamp* names (the registry's
generation; a case's open error reports and releases; the citation list's own
generation) is rendered once for anonymous readers and kept in the cache (Redis);
later readers of the same address and stamp get the kept page without a query or a
template rendered. When what the page shows changes, its stamp changes, so a kept page
is never older than what it shows; a page may also be kept for `seconds` at most, where
some change may not move its stamp.

What differs between readers is punched back in: the CSRF token (base.html's htmx
headers, forms) is rendered as PLACEHOLDER and replaced by the reader's own on every
answer. Not kept, and not served from the cache: signed-in users' pages (their menus,
roles, subscriptions), pages with a message waiting for the reader, anything but a 200
HTML answer, answers that set a cookie, pages whose stamp is None (the cache off or
down, or `nocache`: the benchmarks' cold figure), and pages the view's `guard` says
were built from something older than their stamp (curation: a previous generation's
value served while the new one is computed).

Each process also holds the kept pages it served last, up to LOCAL_BYTES, so a large
page (a review table of 2,000 cases is 1.4 MB) is not fetched from Redis for each
reader. Its key holds the stamp, so it is never served after a change.

settings.PAGE_CACHE turns it off (tests do, as they read the rendered page's context).
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from functools import wraps

from django.conf import settings
from django.contrib.messages import get_messages
from django.core.cache import cache
from django.http import HttpResponse
from django.middleware.csrf import get_token
from django.utils import timezone

log = logging.getLogger(__name__)

# What the CSRF token renders as in a page being kept (see csrf() below).
PLACEHOLDER = "rarederm-csrf-token-kept-page"
# What the answer was (tests, benches): "kept", "rendered", or STAND_IN (a page kept under
# an earlier stamp, served while the current one cannot be rendered from current values).
KEPT_HEADER = "X-RareDerm-Page"
STAND_IN = "kept-earlier"
TIMEOUT = 6 * 3600  # seconds: a changed stamp makes a kept page unreachable long before
LOCAL_BYTES = 16 * 1024 * 1024  # kept pages held in each process, at most


def csrf(request) -> dict:
    """Context processor: the CSRF token as PLACEHOLDER while a page to be kept renders
    (after Django's own, which gives the real token to every other page)."""
    if getattr(request, "_rarederm_keeping", False):
        return {"csrf_token": PLACEHOLDER}
    return {}


@dataclass(frozen=True)
class Kept:
    """A kept page: its body cut at each PLACEHOLDER, its headers, when it expires."""

    parts: tuple[bytes, ...]
    headers: dict
    expires: float

    @property
    def size(self) -> int:
        return sum(len(part) for part in self.parts)


class _Local:
    """The kept pages this process served last (least recently served dropped first)."""

    def __init__(self, limit: int):
        self.limit = limit
        self.pages: OrderedDict[str, Kept] = OrderedDict()
        self.size = 0
        self.lock = threading.Lock()

    def get(self, key: str) -> Kept | None:
        with self.lock:
            page = self.pages.get(key)
            if page is None:
                return None
            if page.expires <= time.time():
                self._drop(key)
                return None
            self.pages.move_to_end(key)
            return page

    def put(self, key: str, page: Kept) -> None:
        if page.size > self.limit:
            return
        with self.lock:
            if key in self.pages:
                self._drop(key)
            self.pages[key] = page
            self.size += page.size
            while self.size > self.limit:
                self._drop(next(iter(self.pages)))

    def clear(self) -> None:
        with self.lock:
            self.pages.clear()
            self.size = 0

    def _drop(self, key: str) -> None:
        self.size -= self.pages.pop(key).size


local = _Local(LOCAL_BYTES)


def _address(request, name: str) -> str | None:
    """The page's address (view, host, path, htmx target, day) as a digest, or None when
    this request's page is not to be kept."""
    if request.method not in ("GET", "HEAD"):
        return None
    if len(get_messages(request)):  # a message waits for this reader (not consumed here)
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
    return f"{name}:{hashlib.sha256(repr(parts).encode()).hexdigest()[:32]}"


def _key(address: str, stamp) -> str:
    """The cache key of the page at `address` under `stamp`."""
    return f"page:{address}:{hashlib.sha256(repr(stamp).encode()).hexdigest()[:16]}"


def _latest_key(address: str) -> str:
    """Where the stamp of the page last kept at `address` is noted (for a stand-in)."""
    return f"page:{address}:latest"


def _answer(request, page: Kept, how: str = "kept") -> HttpResponse:
    response = HttpResponse(get_token(request).encode().join(page.parts))
    for header, value in page.headers.items():
        response[header] = value
    response[KEPT_HEADER] = how
    return response


def _fetch(key: str) -> Kept | None:
    page = local.get(key)
    if page is not None:
        return page
    try:
        page = cache.get(key)
    except Exception:
        log.warning("page cache unavailable", exc_info=True)
        return None
    if not isinstance(page, Kept) or page.expires <= time.time():
        return None
    local.put(key, page)
    return page


def _keep(address: str, stamp, response, seconds: int) -> None:
    headers = {
        header: value
        for header, value in response.headers.items()
        if header.lower() not in ("content-length", KEPT_HEADER.lower())
    }
    page = Kept(
        parts=tuple(response.content.split(PLACEHOLDER.encode())),
        headers=headers,
        expires=time.time() + seconds,
    )
    key = _key(address, stamp)
    try:
        cache.set_many({key: page, _latest_key(address): stamp}, seconds)
    except Exception:
        log.warning("page cache unavailable", exc_info=True)
        return
    local.put(key, page)


def _stand_in(address: str, stamp, stand_in) -> Kept | None:
    """The page last kept at `address`, under an earlier stamp, if `stand_in` allows it."""
    try:
        latest = cache.get(_latest_key(address))
    except Exception:
        log.warning("page cache unavailable", exc_info=True)
        return None
    if latest is None or latest == stamp or not stand_in(stamp, latest):
        return None
    return _fetch(_key(address, latest))


def _keepable(response) -> bool:
    return (
        response.status_code == 200
        and response.get("Content-Type", "").startswith("text/html")
        and not response.cookies
    )


@contextlib.contextmanager
def _unguarded():
    yield None


def kept(stamp, *, guard=None, stand_in=None, seconds: int = TIMEOUT):
    """Keep a view's page for anonymous readers under its address and its stamp.

    `stamp(request, *args, **kwargs)`: what, besides the address, the page shows
    (hashable; None: do not keep it). `guard()`: a context manager around the view,
    yielding an object whose `.served` turns true when the page was built from values
    older than its stamp (it is then not kept). `stand_in(stamp, earlier)`: whether,
    with no page kept under `stamp`, the page last kept under `earlier` may be served
    instead (curation: while the index of a new generation is being built, a page would
    only be rendered from the previous one). `seconds`: how long a page is kept at
    most."""

    def decorator(view):
        name = f"{view.__module__}.{view.__qualname__}"

        @wraps(view)
        def wrapper(request, *args, **kwargs):
            # Signed-in readers' pages are theirs (menus, roles): never kept, no stamp asked.
            if not getattr(settings, "PAGE_CACHE", True) or request.user.is_authenticated:
                return view(request, *args, **kwargs)
            address = _address(request, name)
            value = None if address is None else stamp(request, *args, **kwargs)
            if value is None:
                return view(request, *args, **kwargs)
            page = _fetch(_key(address, value))
            if page is not None:
                return _answer(request, page)
            page = stand_in and _stand_in(address, value, stand_in)
            if page:
                return _answer(request, page, STAND_IN)
            request._rarederm_keeping = True
            try:
                with (guard or _unguarded)() as watched:
                    response = view(request, *args, **kwargs)
            finally:
                request._rarederm_keeping = False
            if response.streaming:
                return response
            if _keepable(response) and not getattr(watched, "served", False):
                _keep(address, value, response, seconds)
            response[KEPT_HEADER] = "rendered"
            response.content = response.content.replace(
                PLACEHOLDER.encode(), get_token(request).encode()
            )
            return response

        return wrapper

    return decorator
