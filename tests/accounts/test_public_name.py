"""How public pages name a user: full name by default, initials when they choose it."""

from django.urls import reverse

from accounts.models import PublicName, public_name

URL = reverse("public_name_settings")


def test_a_user_is_named_by_full_name_or_username_until_they_choose_initials(curator):
    assert public_name(curator) == "carla_curator"
    curator.first_name, curator.last_name = "Carla", "Mendes-Ruiz"
    curator.save()
    assert public_name(curator) == "Carla Mendes-Ruiz"
    PublicName.objects.create(user=curator, style=PublicName.Style.INITIALS)
    curator.refresh_from_db()
    assert public_name(curator) == "C. M. R."


def test_the_settings_page_saves_the_choice_and_shows_the_new_name(client, curator):
    curator.first_name, curator.last_name = "Carla", "Mendes"
    curator.save()
    client.force_login(curator)
    assert "Carla Mendes" in client.get(URL).content.decode()
    response = client.post(URL, {"style": "initials"}, follow=True)
    assert "public pages now name you “C. M.”" in response.content.decode()
    assert PublicName.objects.get(user=curator).style == "initials"


def test_a_forged_choice_is_refused_and_nothing_is_saved(client, curator):
    client.force_login(curator)
    response = client.post(URL, {"style": "nickname"})
    assert response.status_code == 422
    assert "Select a valid choice" in response.content.decode()
    assert not PublicName.objects.filter(user=curator).exists()
