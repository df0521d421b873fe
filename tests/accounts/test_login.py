"""Logging in and out, changing a password, and a navigation that fits the role."""

import pytest

from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def test_the_login_page_has_labelled_fields(client):
    response = client.get("/accounts/login/")
    assert response.status_code == 200
    html = response.content.decode()
    assert '<label for="id_username">Username</label>' in html
    assert '<label for="id_password">Password</label>' in html


def test_a_curator_logs_in_and_lands_on_the_home_page(client, curator):
    response = client.post(
        "/accounts/login/", {"username": curator.username, "password": PASSWORD}, follow=True
    )
    assert response.redirect_chain[-1][0] == "/"
    assert f"{curator.username} (curator)" in response.content.decode()


def test_a_wrong_password_is_refused_with_a_message(client, curator):
    response = client.post("/accounts/login/", {"username": curator.username, "password": "nope"})
    assert response.status_code == 200
    assert "Please enter a correct username and password" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_logging_out_takes_a_post_and_ends_the_session(client, curator):
    client.force_login(curator)
    assert client.get("/accounts/logout/").status_code == 405
    client.post("/accounts/logout/")
    assert "_auth_user_id" not in client.session


def test_a_user_changes_their_password(client, curator):
    client.force_login(curator)
    response = client.post(
        "/accounts/password/",
        {
            "old_password": PASSWORD,
            "new_password1": "a brand new passphrase 99",
            "new_password2": "a brand new passphrase 99",
        },
    )
    assert response.status_code == 302
    curator.refresh_from_db()
    assert curator.check_password("a brand new passphrase 99")


def test_the_password_page_needs_a_login(client):
    response = client.get("/accounts/password/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize(
    ("who", "label"),
    [("curator", "(curator)"), ("reviewer", "(reviewer)"), ("admin", "(admin)")],
)
def test_the_navigation_names_the_role(client, request, who, label):
    user = request.getfixturevalue(who)
    client.force_login(user)
    html = client.get("/").content.decode()
    assert f"{user.username} {label}" in html


def test_only_an_admin_sees_the_admin_link(client, curator, admin):
    client.force_login(curator)
    assert 'href="/admin/"' not in client.get("/").content.decode()
    client.force_login(admin)
    assert 'href="/admin/"' in client.get("/").content.decode()


def test_the_public_sees_a_login_link_and_no_role(client):
    html = client.get("/").content.decode()
    assert "Log in" in html
    assert "(curator)" not in html
