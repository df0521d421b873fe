"""manage.py create_user: accounts with roles, and no password nobody chose."""

import io
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth import authenticate, get_user_model
from django.core.management import CommandError, call_command

from accounts.roles import ADMIN, CURATOR, REVIEWER, has_role

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parent.parent.parent


def create(*args, stdin=None, monkeypatch=None):
    out = io.StringIO()
    call_command("create_user", *args, stdout=out)
    return out.getvalue()


def test_a_curator_gets_a_generated_password_printed_once_that_works():
    output = create("newcurator", "--role", "curator")
    passwords = re.findall(r"Password \(shown once, store it now\): (\S+)", output)
    assert len(passwords) == 1
    user = authenticate(username="newcurator", password=passwords[0])
    assert user is not None
    assert has_role(user, CURATOR)
    assert not has_role(user, REVIEWER)


def test_two_generated_passwords_differ():
    first = create("one", "--role", "curator")
    second = create("two", "--role", "curator")
    assert first.split()[-1] != second.split()[-1]


def test_a_reviewer_may_do_all_a_curator_may():
    create("rev", "--role", "reviewer")
    user = get_user_model().objects.get(username="rev")
    assert has_role(user, REVIEWER)
    assert has_role(user, CURATOR)


def test_a_reviewer_reaches_the_admin_for_the_vocabularies_but_not_for_users(client):
    output = create("vocab", "--role", "reviewer")
    password = output.split()[-1]
    assert client.login(username="vocab", password=password)
    assert client.get("/admin/curation/diagnosis/").status_code == 200
    assert client.get("/admin/auth/user/").status_code == 403


def test_a_curator_does_not_reach_the_admin(client):
    output = create("plain", "--role", "curator")
    assert client.login(username="plain", password=output.split()[-1])
    assert client.get("/admin/").status_code == 302


def test_an_admin_is_a_superuser_with_every_role():
    create("boss", "--role", "admin")
    user = get_user_model().objects.get(username="boss")
    assert user.is_superuser and user.is_staff
    assert has_role(user, ADMIN)


def test_an_existing_username_is_refused_and_nothing_changes(curator):
    before = get_user_model().objects.get(pk=curator.pk).password
    with pytest.raises(CommandError, match="already exists"):
        create(curator.username.upper(), "--role", "reviewer")
    assert get_user_model().objects.get(pk=curator.pk).password == before


def test_a_chosen_password_is_read_from_stdin_and_not_printed(monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO("a-long-chosen-passphrase-77\n"))
    output = create("chooser", "--role", "curator", "--password-stdin")
    assert "a-long-chosen-passphrase-77" not in output
    assert authenticate(username="chooser", password="a-long-chosen-passphrase-77")


def test_a_weak_chosen_password_is_refused_and_no_user_is_created(monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO("password\n"))
    with pytest.raises(CommandError, match="refused"):
        create("weak", "--role", "curator", "--password-stdin")
    assert not get_user_model().objects.filter(username="weak").exists()


def test_an_unknown_role_is_refused():
    with pytest.raises(CommandError):
        create("x", "--role", "superhero")


@pytest.mark.parametrize(
    ("username", "message"),
    [
        ("alice smith", "Enter a valid username"),
        ("bob<script>", "Enter a valid username"),
        ("carol/../x", "Enter a valid username"),
        ("d" * 151, "at most 150 characters (it has 151)"),
    ],
)
def test_an_invalid_username_is_refused_clearly_and_nothing_is_created(username, message):
    with pytest.raises(CommandError, match="The username was refused") as refused:
        create(username, "--role", "curator")
    assert message in str(refused.value)
    assert str(refused.value).endswith("Nothing was created.")
    assert not get_user_model().objects.exists()


def test_the_longest_valid_username_is_accepted():
    create("e" * 150, "--role", "curator")
    assert get_user_model().objects.filter(username="e" * 150).exists()


def test_an_invalid_username_exits_non_zero_from_the_shell(tmp_path):
    """What an operator sees: a message on stderr, exit status 1, no user."""
    database = tmp_path / "untouched.sqlite3"
    result = subprocess.run(
        [sys.executable, "manage.py", "create_user", "no spaces please", "--role", "curator"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "DATABASE_URL": f"sqlite:///{database}"},
    )
    assert result.returncode == 1
    assert "The username was refused" in result.stderr
    assert "Password" not in result.stdout
    assert not database.exists()  # refused before any database was opened
