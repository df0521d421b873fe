"""The base of absolute links (e-mails, exports, commands): one rule for every caller."""

from django.conf import settings

# Where `manage.py runserver` listens when given no address.
DEVELOPMENT_URL = "http://127.0.0.1:8000"


def site_url(request=None) -> str:
    """SITE_URL when set; else the address this request was made to; else the development server.

    A page asked at http://127.0.0.1:8123/ links to port 8123 even with
    SITE_URL unset. E-mails and commands have no request: production sets
    SITE_URL (preflight insists), and `make run` sets it to the address it serves.
    """
    if settings.SITE_URL:
        return settings.SITE_URL
    if request is not None:
        return request.build_absolute_uri("/").rstrip("/")
    return DEVELOPMENT_URL


def absolute_url(path: str, request=None) -> str:
    return f"{site_url(request)}{path}"
