"""One row per outgoing e-mail: what to send, and what became of it."""

from django.db import models
from django.db.models import Q
from django.utils import timezone


class Email(models.Model):
    class State(models.TextChoices):
        PENDING = "pending", "Waiting to be sent"
        SENT = "sent", "Sent"
        # Refused for good by the mail server, or still failing after
        # OUTBOX_MAX_ATTEMPTS tries: an admin may send it again.
        FAILED = "failed", "Gave up"

    # What sent it, in words ("case submitted", "weekly digest"): for the admin.
    kind = models.CharField(max_length=100, blank=True)
    # Unique when set: the same e-mail asked for twice (a re-delivered task, a
    # digest run again) is written once.
    key = models.CharField(max_length=255, blank=True)
    from_email = models.CharField(max_length=320)
    to = models.JSONField(default=list, help_text="Recipient addresses.")
    subject = models.CharField(max_length=998)
    body = models.TextField()
    headers = models.JSONField(default=dict, blank=True)
    # The same on every try, so that a copy sent twice (sending is at least
    # once) can be told apart from two e-mails.
    message_id = models.CharField("Message-ID", max_length=255)
    state = models.CharField(max_length=20, choices=State.choices, default=State.PENDING)
    created_at = models.DateTimeField(auto_now_add=True)
    # When it was last handed to the broker; null when the broker refused it.
    queued_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0, help_text="Tries to send it.")
    next_attempt_at = models.DateTimeField(default=timezone.now)
    last_error = models.TextField(blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "e-mail"
        constraints = [
            models.UniqueConstraint(
                fields=["key"], condition=~Q(key=""), name="outbox_email_key_unique"
            ),
        ]
        indexes = [
            # The sweep: WHERE state = 'pending' AND next_attempt_at <= now.
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(state="pending"),
                name="outbox_email_due_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.subject} → {', '.join(self.to)} ({self.get_state_display().lower()})"
