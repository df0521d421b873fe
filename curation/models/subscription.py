"""A reader's subscription: the published cases a search finds, by e-mail (a digest)."""

from django.conf import settings
from django.db import models


class Subscription(models.Model):
    """New and revised published cases matching a search, in a daily or weekly digest.

    `query` is a search page query string (`dx=12`, `q=ALK`, `site=C44&ihc=ALK:positive`):
    what the digest lists is what that search finds (curation.subscriptions)."""

    class Kind(models.TextChoices):
        DIAGNOSIS = "diagnosis", "Diagnosis"
        GENE = "gene", "Gene"
        MARKER = "marker", "Marker"
        SEARCH = "search", "Search"

    class Frequency(models.TextChoices):
        DAILY = "daily", "Daily"
        WEEKLY = "weekly", "Weekly"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="subscriptions"
    )
    kind = models.CharField(max_length=10, choices=Kind.choices)
    label = models.CharField(max_length=300)
    query = models.TextField()
    frequency = models.CharField(
        max_length=10, choices=Frequency.choices, default=Frequency.WEEKLY
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # The end of the window the last digest covered; the next covers what came after.
    last_sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "query"], name="curation_subscription_user_query_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user}: {self.label} ({self.get_frequency_display().lower()})"
