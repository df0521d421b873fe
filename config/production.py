"""What production asks of the settings: one list of rules.

settings.py evaluates them with the values it read; with DEBUG=false it
refuses to start on the rules marked `refused` (all of them in one message),
and `manage.py preflight` reports every rule that fails, whatever DEBUG is,
with what to set. Each message names its variable and what to set it to.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

# The embedded defaults of two settings: fine on a laptop, wrong in production.
EXAMPLE_ENTREZ_EMAIL = "rarederm@example.org"
EXAMPLE_FROM_EMAIL = "RareDerm <rarederm@example.org>"
MAKE_A_SECRET_KEY = "python3 -c 'import secrets; print(secrets.token_urlsafe(50))'"  # noqa: S105 (a command, not a key)


@dataclass(frozen=True)
class Problem:
    setting: str
    message: str
    refused: bool = False  # settings.py refuses to start with DEBUG=false

    def __str__(self) -> str:
        return f"{self.setting}: {self.message}"


def secret_key_problem(secret_key: str, development_key: str) -> str:
    """Why this SECRET_KEY is unfit for production ("" when it is fit)."""
    if not secret_key or secret_key == development_key:
        return f"not set. Set SECRET_KEY to 50+ random characters: {MAKE_A_SECRET_KEY}"
    plain = len(set(secret_key)) < 5 or secret_key.startswith("django-insecure")
    if plain or len(secret_key) < 50:
        return (
            "too short or too plain (50+ characters, 5+ different ones, not 'django-insecure'). "
            f"Make one with: {MAKE_A_SECRET_KEY}"
        )
    return ""


def problems(
    *,
    debug: bool,
    secret_key: str,
    development_key: str,
    allowed_hosts: list[str],
    site_url: str,
    database_engine: str,
    broker_url: str,
    proxy_ssl_header: bool,
    ssl_redirect: bool,
    entrez_email: str,
    email_backend: str,
    default_from_email: str,
    forwarded_for_proxies: int = 0,
) -> list[Problem]:
    """Every production rule that these settings break, in the README's table order."""
    found: list[Problem] = []

    def add(setting: str, message: str, refused: bool = False) -> None:
        found.append(Problem(setting, message, refused))

    if debug:
        add(
            "DEBUG",
            "on (the default). Set DEBUG=false: development mode shows tracebacks to "
            "anyone and keeps none of the HTTPS safeguards.",
        )
    why = secret_key_problem(secret_key, development_key)
    if why:
        add("SECRET_KEY", why, refused=True)
    if not allowed_hosts:
        add(
            "ALLOWED_HOSTS",
            "empty. Set ALLOWED_HOSTS to the host names the site answers to "
            "(ALLOWED_HOSTS=rarederm.example.org); without it every request is refused.",
            refused=True,
        )
    elif "*" in allowed_hosts:
        add("ALLOWED_HOSTS", "'*' accepts any Host header. Name the site's hosts instead.")
    site = urlsplit(site_url) if site_url else None
    if site is None:
        add(
            "SITE_URL",
            "not set. Set SITE_URL to the public address (SITE_URL=https://rarederm.example.org): "
            "links in e-mails and exports use it.",
        )
    elif site.scheme != "https" or not site.hostname:
        add("SITE_URL", f"{site_url!r} is not an https:// address. Set the public https:// URL.")
    elif allowed_hosts and not _host_allowed(site.hostname, allowed_hosts):
        add(
            "SITE_URL",
            f"its host {site.hostname!r} is not in ALLOWED_HOSTS: add it to ALLOWED_HOSTS.",
        )
    if not database_engine.endswith("postgresql"):
        add(
            "DATABASE_URL",
            "SQLite (the default). Set DATABASE_URL=postgres://user:password@host:5432/rarederm: "
            "SQLite serves one process on one machine and has no full-text search.",
        )
    if not broker_url:
        add(
            "CELERY_BROKER_URL",
            "not set: PubMed fetches and e-mails run inside web requests and nothing re-queues "
            "lost work. Set CELERY_BROKER_URL=redis://host:6379/0 and run a worker and beat.",
        )
    elif not broker_url.startswith(("redis://", "rediss://")):
        add(
            "CELERY_BROKER_URL",
            "not Redis: the cache, the search cache and the NCBI rate limiter need Redis "
            "(CELERY_BROKER_URL=redis://host:6379/0, or set REDIS_URL too).",
        )
    if not ssl_redirect:
        add("SECURE_SSL_REDIRECT", "off: pages are served over plain HTTP. Leave it unset (true).")
    elif not proxy_ssl_header:
        add(
            "SECURE_PROXY_SSL_HEADER",
            "off: behind the TLS-terminating proxy every request looks like plain HTTP and is "
            "redirected to HTTPS again and again. Set SECURE_PROXY_SSL_HEADER=true (the proxy of "
            "deploy/nginx.conf.template sets X-Forwarded-Proto; never expose gunicorn itself).",
        )
    if proxy_ssl_header and not forwarded_for_proxies:
        add(
            "FORWARDED_FOR_PROXIES",
            "0 behind a proxy: every client then has the proxy's address, and one address's "
            "failed logins pause logging in for everybody. Set FORWARDED_FOR_PROXIES=1 behind "
            "deploy/nginx.conf.template (it appends the client's address to X-Forwarded-For).",
        )
    if entrez_email == EXAMPLE_ENTREZ_EMAIL:
        add(
            "ENTREZ_EMAIL",
            f"{entrez_email!r} is the example address. Set your own contact address: NCBI "
            "asks every client for one and blocks tools it cannot reach.",
        )
    if email_backend.endswith(("console.EmailBackend", "dummy.EmailBackend")):
        add(
            "EMAIL_HOST",
            "not set: review e-mails are printed to the log, not sent. Set EMAIL_HOST (and "
            "EMAIL_PORT, EMAIL_HOST_USER, EMAIL_HOST_PASSWORD, EMAIL_USE_TLS as your mail "
            "server needs).",
        )
    if default_from_email == EXAMPLE_FROM_EMAIL:
        add(
            "DEFAULT_FROM_EMAIL",
            f"{default_from_email!r} is the example sender. Set an address of your domain.",
        )
    return found


def _host_allowed(host: str, allowed_hosts: list[str]) -> bool:
    from django.utils.http import is_same_domain

    return any(is_same_domain(host, pattern) for pattern in allowed_hosts)
