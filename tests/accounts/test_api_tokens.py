"""Personal API tokens (issue 17): a curator makes one on the account page (its key
shown once, stored hashed), names it, sees when it was last used, revokes it — and a
revoked, unknown or malformed key is a clear 401 on the API, never a 500."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import ApiToken
from accounts.tokens import create_token, digest

URL = reverse("api_tokens")
API = "/api/v1/cases/"


@pytest.fixture(autouse=True)
def _fresh_throttle_counts():
    from django.core.cache import cache

    cache.delete("throttle_anon_127.0.0.1")
    yield
    cache.delete("throttle_anon_127.0.0.1")


def bearer(key):
    return {"HTTP_AUTHORIZATION": f"Bearer {key}"}


def test_a_curator_makes_a_named_token_whose_key_is_shown_once_and_stored_hashed(client, curator):
    client.force_login(curator)
    response = client.post(URL, {"action": "create", "name": "lab import script"})
    assert response.status_code == 201
    assert "no-store" in response["Cache-Control"]
    key = re.search(r"<code>(rdt_[A-Za-z0-9_-]+)</code>", response.content.decode()).group(1)
    token = ApiToken.objects.get(user=curator)
    assert token.name == "lab import script"
    assert token.digest == digest(key) != key
    assert key not in str(ApiToken.objects.filter(pk=token.pk).values().get())
    # The page shows the token afterwards, never its key again.
    page = client.get(URL).content.decode()
    assert "lab import script" in page and token.prefix in page and key not in page
    assert client.get(API, **bearer(key)).status_code == 200


def test_a_token_without_a_name_is_refused(client, curator):
    client.force_login(curator)
    response = client.post(URL, {"action": "create", "name": "  "})
    assert response.status_code == 422
    assert "Give the token a name" in response.content.decode()
    assert not ApiToken.objects.exists()


def test_the_api_records_when_a_token_was_last_used(client, curator):
    token, key = create_token(curator, name="script")
    assert token.last_used_at is None
    assert client.get(API, **bearer(key)).status_code == 200
    token.refresh_from_db()
    first = token.last_used_at
    assert first is not None and timezone.now() - first < timedelta(seconds=30)
    # Within the minute no further write; the page shows the time.
    client.get(API, **bearer(key))
    token.refresh_from_db()
    assert token.last_used_at == first
    client.force_login(curator)
    assert first.strftime("%Y-%m-%d %H:%M") in client.get(URL).content.decode()


def test_a_revoked_token_stops_working_at_once(client, curator):
    token, key = create_token(curator, name="leaked")
    assert client.get(API, **bearer(key)).status_code == 200
    client.force_login(curator)
    response = client.post(URL, {"action": "revoke", "token": token.pk}, follow=True)
    assert "Revoked “leaked”" in response.content.decode()
    client.logout()
    refused = client.get(API, **bearer(key))
    assert refused.status_code == 401
    assert refused.json() == {"detail": "Unknown or revoked API key."}
    assert refused["WWW-Authenticate"].startswith("Bearer")


def test_a_token_of_a_deactivated_user_stops_working(client, curator):
    _token, key = create_token(curator, name="script")
    curator.is_active = False
    curator.save()
    assert client.get(API, **bearer(key)).status_code == 401


def test_nobody_revokes_another_curators_token(client, curator, curator2):
    token, key = create_token(curator, name="mine")
    client.force_login(curator2)
    assert client.post(URL, {"action": "revoke", "token": token.pk}).status_code == 404
    assert client.post(URL, {"action": "revoke", "token": "x1"}).status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None
    client.logout()
    assert client.get(API, **bearer(key)).status_code == 200


def test_only_curators_have_tokens(client, reader):
    assert client.get(URL).status_code == 302  # to the login page
    client.force_login(reader)
    assert client.get(URL).status_code == 403
    assert client.post(URL, {"action": "create", "name": "x"}).status_code == 403
    assert not ApiToken.objects.exists()


@pytest.mark.parametrize(
    "header",
    [
        "Bearer",
        "Bearer a b",
        "Bearer not-a-key",
        "Token rdt_" + "x" * 42,
        "Bearer rdt_" + "é" * 43,
        "Bearer rdt_" + "A" * 43,  # well-formed, but no such key
    ],
)
def test_a_malformed_or_unknown_key_is_a_clear_401(client, db, header):
    response = client.get(API, HTTP_AUTHORIZATION=header)
    assert response.status_code == 401
    assert response.json()["detail"]


def test_the_schema_lists_the_401_of_a_bad_key_on_every_api_read(client, db):
    paths = client.get("/api/schema/?format=json").json()["paths"]
    for path in ("/api/cases/", "/api/v1/cases/{id}/", "/api/v1/diagnoses/{slug}/"):
        assert "401" in paths[path]["get"]["responses"], path


def test_requests_with_one_token_are_throttled_with_retry_after(
    client, curator, curator2, settings
):
    from django.core.cache import cache

    settings.API_TOKEN_RATE = "2/minute"
    token, key = create_token(curator, name="script gone wild")
    other_token, other = create_token(curator2, name="careful script")
    cache.delete_many([f"throttle_token_{t.pk}" for t in (token, other_token)])
    drafts = "/api/v1/drafts/"
    # Reads and drafts share the token's budget.
    assert client.get(API, **bearer(key)).status_code == 200
    sent = client.post(drafts, data="{}", content_type="application/json", **bearer(key))
    assert sent.status_code == 400
    for refused in (
        client.get(API, **bearer(key)),
        client.post(drafts, data="{}", content_type="application/json", **bearer(key)),
    ):
        assert refused.status_code == 429
        assert 0 < int(refused["Retry-After"]) <= 60
        assert "throttled" in refused.json()["detail"]
    # Another token, and readers without one, are not held back by it.
    assert client.get(API, **bearer(other)).status_code == 200
    assert client.get(API).status_code == 200


def test_the_schema_lists_the_429_of_the_drafts(client, db):
    schema = client.get("/api/schema/?format=json").json()
    responses = schema["paths"]["/api/v1/drafts/"]["post"]["responses"]
    assert "429" in responses and "API_TOKEN_RATE" in responses["429"]["description"]
