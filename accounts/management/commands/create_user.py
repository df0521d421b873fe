import secrets
import sys

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from accounts.roles import ADMIN, CURATOR, REVIEWER


class Command(BaseCommand):
    help = (
        "Create a user with a role. A generated password is printed once; "
        "--password-stdin reads one you choose instead."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--role", required=True, choices=[CURATOR, REVIEWER, ADMIN])
        parser.add_argument("--email", default="")
        parser.add_argument(
            "--password-stdin",
            action="store_true",
            help="Read the password from standard input instead of generating one.",
        )

    def handle(self, *args, username, role, email, password_stdin, **options):
        User = get_user_model()
        username = username.strip()
        if not username:
            raise CommandError("The username is empty.")
        try:
            # The model field's own rules: Django's username validator and length.
            User._meta.get_field(User.USERNAME_FIELD).clean(username, None)
        except ValidationError as exc:
            raise CommandError(
                f"The username was refused: {' '.join(exc.messages)} Nothing was created."
            ) from None
        if User.objects.filter(username__iexact=username).exists():
            raise CommandError(f"A user called {username!r} already exists; nothing was changed.")

        generated = not password_stdin
        if password_stdin:
            password = sys.stdin.readline().rstrip("\n")
        else:
            password = secrets.token_urlsafe(18)
        candidate = User(username=username, email=email)
        try:
            validate_password(password, candidate)
        except ValidationError as exc:
            raise CommandError("The password was refused: " + " ".join(exc.messages)) from None

        with transaction.atomic():
            user = User.objects.create_user(username=username, email=email, password=password)
            if role == ADMIN:
                user.is_staff = True
                user.is_superuser = True
                user.save(update_fields=["is_staff", "is_superuser"])
            else:
                if role == REVIEWER:
                    # Reviewers edit the vocabularies in the Django admin, which
                    # needs is_staff; their group's permissions limit what they see.
                    user.is_staff = True
                    user.save(update_fields=["is_staff"])
                try:
                    user.groups.add(Group.objects.get(name=role))
                except Group.DoesNotExist:
                    raise CommandError(
                        f"The group {role!r} does not exist: run `manage.py migrate` first."
                    ) from None

        self.stdout.write(f"Created {role} {username!r}.")
        if generated:
            self.stdout.write(f"Password (shown once, store it now): {password}")
