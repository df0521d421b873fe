"""Issue 11 item 5: failed logins are throttled per account and per client address.

A locked-out login is refused with a clear page (HTTP 429) before any
password is hashed, and each lockout leaves one WARNING line in the log.
Behind nginx the client's address is the one nginx appended to
X-Forwarded-For; what a client writes there itself changes nothing.
"""

import logging
from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth.backends import ModelBackend

from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"


def _login(client, username, password, address="192.0.2.10", **headers):
    return client.post(
        LOGIN, {"username": username, "password": password}, REMOTE_ADDR=address, **headers
    )


@pytest.fixture
def hashed(monkeypatch):
    """How many times Django's ModelBackend was asked to check a password."""
    calls = []
    original = ModelBackend.authenticate

    def counting(self, request, username=None, password=None, **kwargs):
        calls.append(username)
        return original(self, request, username=username, password=password, **kwargs)

    monkeypatch.setattr(ModelBackend, "authenticate", counting)
    return calls


def test_an_account_guessed_at_from_many_addresses_is_locked_before_any_hashing(
    client, curator, reviewer, hashed, caplog
):
    limit = settings.LOGIN_FAILURE_LIMIT
    caplog.set_level(logging.WARNING)
    for n in range(limit):
        response = _login(client, curator.username, f"guess {n}", address=f"198.51.100.{n + 1}")
        # The form again with Django's message; the failure that reaches the limit locks.
        assert response.status_code == (429 if n == limit - 1 else 200)
    assert len(hashed) == limit

    # The right password, from a fresh address: refused, and no hashing at all.
    response = _login(client, curator.username, PASSWORD, address="203.0.113.99")
    assert response.status_code == 429
    html = response.content.decode()
    assert "Too many failed logins" in html
    assert f"<strong>{curator.username}</strong>" in html
    assert f"failed {limit} times" in html
    assert f"paused for {settings.LOGIN_LOCKOUT_MINUTES} minutes" in html
    assert "_auth_user_id" not in client.session
    assert len(hashed) == limit, "a locked-out login reached the password hasher"

    lockouts = [r for r in caplog.records if "Locking out" in r.getMessage()]
    assert len(lockouts) == 1, [r.getMessage() for r in caplog.records]
    assert lockouts[0].levelno == logging.WARNING
    assert curator.username in lockouts[0].getMessage()

    # Another account, from another address, is not affected.
    response = _login(client, reviewer.username, PASSWORD, address="203.0.113.50")
    assert response.status_code == 302


def test_an_address_guessing_at_many_accounts_is_locked_for_every_account(client, curator, hashed):
    limit = settings.LOGIN_FAILURE_LIMIT
    for n in range(limit):
        _login(client, f"nobody{n}", "guess", address="198.51.100.200")
    response = _login(client, curator.username, PASSWORD, address="198.51.100.200")
    assert response.status_code == 429
    assert "Logins as" in response.content.decode()
    assert len(hashed) == limit
    # The same account from elsewhere logs in.
    assert _login(client, curator.username, PASSWORD, address="198.51.100.201").status_code == 302


def test_the_admin_login_is_throttled_too(client, admin, hashed):
    for n in range(settings.LOGIN_FAILURE_LIMIT):
        client.post("/admin/login/", {"username": admin.username, "password": f"x{n}"})
    response = client.post("/admin/login/", {"username": admin.username, "password": PASSWORD})
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


def test_the_pause_ends_after_the_lockout_time(client, curator):
    for n in range(settings.LOGIN_FAILURE_LIMIT):
        _login(client, curator.username, f"guess {n}")
    assert _login(client, curator.username, PASSWORD).status_code == 429
    # The failures age past LOGIN_LOCKOUT_MINUTES (moved back rather than waited for).
    for attempt in AccessAttempt.objects.all():
        attempt.attempt_time -= timedelta(minutes=settings.LOGIN_LOCKOUT_MINUTES, seconds=1)
        attempt.save()
    assert _login(client, curator.username, PASSWORD).status_code == 302


def test_behind_nginx_the_address_nginx_appended_counts_and_a_forged_one_does_not(
    client, curator, settings
):
    settings.FORWARDED_FOR_PROXIES = 1
    limit = settings.LOGIN_FAILURE_LIMIT
    for n in range(limit):
        # The attacker writes a new X-Forwarded-For each time; nginx appends the real one.
        _login(
            client,
            f"nobody{n}",
            "guess",
            address="127.0.0.1",
            HTTP_X_FORWARDED_FOR=f"10.9.8.{n}, 198.51.100.66",
        )
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"198.51.100.66"}
    locked = _login(
        client,
        curator.username,
        PASSWORD,
        address="127.0.0.1",
        HTTP_X_FORWARDED_FOR="10.1.1.1, 198.51.100.66",
    )
    assert locked.status_code == 429
    # Another client behind the same nginx (same peer address) is not locked out.
    other = _login(
        client,
        curator.username,
        PASSWORD,
        address="127.0.0.1",
        HTTP_X_FORWARDED_FOR="198.51.100.67",
    )
    assert other.status_code == 302


def test_without_a_proxy_x_forwarded_for_is_ignored(client, settings):
    settings.FORWARDED_FOR_PROXIES = 0
    _login(client, "nobody", "guess", address="192.0.2.33", HTTP_X_FORWARDED_FOR="10.0.0.1")
    assert list(AccessAttempt.objects.values_list("ip_address", flat=True)) == ["192.0.2.33"]


def test_passwords_guessed_through_the_api_basic_auth_are_throttled_too(client, curator, hashed):
    import base64

    def basic(password):
        token = base64.b64encode(f"{curator.username}:{password}".encode()).decode()
        return client.get(
            "/api/cases/", HTTP_AUTHORIZATION=f"Basic {token}", REMOTE_ADDR="192.0.2.77"
        )

    for n in range(settings.LOGIN_FAILURE_LIMIT):
        assert basic(f"guess {n}").status_code in (401, 403, 429)
    assert len(hashed) == settings.LOGIN_FAILURE_LIMIT
    refused = basic(PASSWORD)
    assert refused.status_code in (401, 403, 429)
    assert len(hashed) == settings.LOGIN_FAILURE_LIMIT, "a locked-out login reached the hasher"
