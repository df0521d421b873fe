from django.apps import AppConfig


class OutboxConfig(AppConfig):
    """Outgoing e-mail, written in the transaction that causes it and sent at least once.

    The lowest layer with accounts: it knows no case, no citation and no user
    model. Any app writes e-mails here (`outbox.actions.queue_emails`); a task
    sends them after the commit, failures are retried with backoff, and beat's
    sweep sends what the broker never got. Admins see what is stuck in the
    Django admin.
    """

    name = "outbox"
    verbose_name = "Outbox"
