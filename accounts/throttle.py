"""Login throttling (django-axes): per account and per client address.

Failed logins are counted per user name and per client address, each over
the last LOGIN_LOCKOUT_MINUTES; at LOGIN_FAILURE_LIMIT failures that account,
or that address, is refused for LOGIN_LOCKOUT_MINUTES. The refusal comes from
the first authentication backend, before Django's ModelBackend hashes
anything, and django-axes logs one WARNING line ("Locking out ...") per
lockout, with the user name and address (logger axes.watch_login).

The client address: behind FORWARDED_FOR_PROXIES proxies that each append the
address they saw to X-Forwarded-For (nginx's $proxy_add_x_forwarded_for), the
client's is that many entries from the right: what the client wrote itself is
further left and never trusted. With no proxy (0) it is the TCP peer.
"""

import hashlib
import ipaddress

from axes.backends import AxesStandaloneBackend
from django.conf import settings
from django.shortcuts import render


def client_address(request) -> str:
    """The client's IP address, as the outermost trusted proxy saw it."""
    remote = request.META.get("REMOTE_ADDR", "")
    proxies = settings.FORWARDED_FOR_PROXIES
    if not proxies:
        return remote
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    forwarded = [part for part in forwarded if part]
    if len(forwarded) < proxies:
        # Not through every proxy (a direct request): only the peer is known.
        return remote
    candidate = forwarded[-proxies]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return remote


def client_key(address: str) -> str:
    """A client's address made unreadable: kept only to count what it sent (flags, suggestions)."""
    return hashlib.sha256(f"{settings.SECRET_KEY}:{address}".encode()).hexdigest()


class ThrottledLoginBackend(AxesStandaloneBackend):
    """Refuses a locked-out account or address before any password is hashed.

    `authenticate()` without a request (manage.py commands, the test client's
    `login`) is no client's login: there is nothing to count, and the next
    backend checks the password as usual.
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


def lockout_response(request, original_response=None, credentials=None):
    """The page a locked-out login gets (HTTP 429), with the name typed kept."""
    return render(
        request,
        "registration/locked_out.html",
        {
            "username": (credentials or {}).get("username", ""),
            "failure_limit": settings.LOGIN_FAILURE_LIMIT,
            "minutes": settings.LOGIN_LOCKOUT_MINUTES,
        },
        status=429,
    )
