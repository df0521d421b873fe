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
