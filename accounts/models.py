"""What a user chooses about their public record: how their name is shown."""

from django.conf import settings
from django.db import models


class PublicName(models.Model):
    """How the registry names a user on public pages (who curated, who reviewed)."""

    class Style(models.TextChoices):
        FULL = "full", "My name (e.g. Kelly McCollum)"
        INITIALS = "initials", "My initials only (e.g. K. M.)"

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="public_name"
    )
    style = models.CharField(max_length=10, choices=Style.choices, default=Style.FULL)

    def __str__(self) -> str:
        return f"{self.user}: {self.get_style_display()}"


def public_name(user) -> str:
    """The name public pages give `user`: full name (or username), or initials if preferred."""
    if user is None:
        return ""
    full = user.get_full_name().strip() or user.get_username()
    try:
        style = user.public_name.style
    except PublicName.DoesNotExist:
        style = PublicName.Style.FULL
    if style == PublicName.Style.INITIALS:
        parts = [p for p in full.replace("-", " ").replace("_", " ").split() if p]
        return " ".join(f"{p[0].upper()}." for p in parts)
    return full


class ApiToken(models.Model):
    """A curator's personal API token (issue 17), kept as the SHA-256 of its key.

    The key is shown once, when it is made (accounts.tokens.create_token); only
    its digest and first characters are stored, so a copy of the database lets
    nobody in. A key is 256 random bits, so one fast hash is enough (as for
    GitHub's tokens): a slow password hash protects guessable secrets.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(max_length=100, help_text="What it is for, e.g. “lab script”.")
    # The key's SHA-256 (hex): every API request looks its token up by it.
    digest = models.CharField(max_length=64)
    prefix = models.CharField(max_length=12, help_text="The key's first characters, to tell it")
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["digest"], name="accounts_apitoken_unique_digest"),
            models.CheckConstraint(
                condition=~models.Q(name=""), name="accounts_apitoken_name_not_empty"
            ),
        ]

    def __str__(self) -> str:
        state = " (revoked)" if self.revoked_at else ""
        return f"{self.user}: {self.name} ({self.prefix}…){state}"


class Registration(models.Model):
    """A reader's account made on the registration page: inactive until its e-mail address
    is confirmed (accounts.registration). The client key counts registrations per address."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="registration"
    )
    client_key = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"Registration of {self.user}"
