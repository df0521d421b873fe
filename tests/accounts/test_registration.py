"""Readers register themselves (issue 17 §4): an inactive account until the e-mailed, signed
link is opened; forged or old links, robots, floods and taken addresses get clear answers."""

import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone

from accounts import registration
from accounts.models import Registration
from outbox.models import Email

pytestmark = pytest.mark.django_db

URL = reverse("register")
PASSWORD = "a long enough pass phrase 7"


def form(**changes):
    data = {
        "username": "paula_pathologist",
        "email": "paula@example.org",
        "password1": PASSWORD,
        "password2": PASSWORD,
        "website": "",
    }
    return {**data, **changes}


def link_in(email: Email) -> str:
    return re.search(r"https?://\S+/accounts/confirm/\S+/", email.body).group(0)


def test_a_reader_registers_confirms_by_the_emailed_link_and_logs_in(client):
    response = client.post(URL, form())
    assert response.status_code == 200
    assert "A link to confirm your address was sent to paula@example.org" in (
        response.content.decode()
    )
    user = get_user_model().objects.get(username="paula_pathologist")
    assert not user.is_active and not user.groups.exists()
    assert not client.login(username="paula_pathologist", password=PASSWORD)
    (email,) = Email.objects.filter(kind="confirm e-mail")
    assert email.to == ["paula@example.org"]

    page = client.get(urlsplit(link_in(email)).path)
    assert page.status_code == 200
    assert "Your e-mail address is confirmed" in page.content.decode()
    user.refresh_from_db()
    assert user.is_active and user.registration.confirmed_at is not None
    assert client.login(username="paula_pathologist", password=PASSWORD)
    # A reader reads; curator pages stay closed.
    assert client.get(reverse("screening:inbox")).status_code == 403


@pytest.mark.parametrize("token", ["garbage", "1:abc:def"])
def test_a_forged_link_is_refused_with_a_clear_message(client, token):
    response = client.get(reverse("confirm_email", args=[token]))
    assert response.status_code == 400
    assert "This link is not one RareDerm sent" in response.content.decode()


def test_an_old_link_is_refused_and_the_name_is_free_again(client, monkeypatch):
    client.post(URL, form())
    token = link_in(Email.objects.get()).rstrip("/").rsplit("/", 1)[1]
    monkeypatch.setattr(registration, "CONFIRM_DAYS", 0)
    response = client.get(reverse("confirm_email", args=[token]))
    assert response.status_code == 400
    assert "more than 0 days old" in response.content.decode()
    assert not get_user_model().objects.get(username="paula_pathologist").is_active
    # Unconfirmed in time: a new registration may take the name and the address.
    Registration.objects.update(created_at=timezone.now() - timedelta(days=4))
    monkeypatch.setattr(registration, "CONFIRM_DAYS", 3)
    assert (
        client.post(URL, form(password1=PASSWORD + "!", password2=PASSWORD + "!")).status_code
        == 200
    )
    assert get_user_model().objects.filter(username="paula_pathologist").count() == 1


def test_a_robot_filling_the_hidden_field_is_thanked_and_nothing_is_stored(client):
    response = client.post(URL, form(website="http://spam.example"))
    assert response.status_code == 200 and "Check your e-mail" in response.content.decode()
    assert not get_user_model().objects.filter(username="paula_pathologist").exists()
    assert not Email.objects.exists()


def test_too_many_registrations_from_one_address_wait_with_the_form_kept(client, settings):
    settings.REGISTRATION_RATE_LIMIT = 1
    assert client.post(URL, form()).status_code == 200
    response = client.post(URL, form(username="second", email="second@example.org"))
    assert response.status_code == 429
    page = response.content.decode()
    assert "1 accounts were made from your address" in page
    assert 'value="second@example.org"' in page
    assert not get_user_model().objects.filter(username="second").exists()


def test_a_taken_address_or_mismatched_passwords_are_named_by_their_fields(client, curator):
    response = client.post(URL, form(email=curator.email.upper()))
    assert response.status_code == 422
    assert "An account uses this address already" in response.content.decode()
    response = client.post(URL, form(password2="something else 9"))
    assert response.status_code == 422
    assert 'data-testid="error-password2"' in response.content.decode()
    assert get_user_model().objects.filter(username="paula_pathologist").count() == 0
