"""The outbox sweep (outbox.sweep, sent by beat): e-mails whose message the broker refused
or lost are queued again; sent and given-up ones never are."""

from datetime import timedelta

import pytest
from django.core.mail import EmailMessage
from django.utils import timezone
from kombu.exceptions import OperationalError

from outbox import actions, tasks
from outbox.models import Email

pytestmark = pytest.mark.django_db


def write(capture) -> int:
    with capture(execute=True):
        (email_id,) = actions.queue_emails([EmailMessage("Hello", "Text.", to=["p@example.org"])])
    return email_id


def test_an_email_the_broker_refused_is_sent_by_the_next_sweep(
    smtp_sink, monkeypatch, django_capture_on_commit_callbacks, caplog
):
    def broker_down(*args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(tasks.send_emails, "delay", broker_down)
    email_id = write(django_capture_on_commit_callbacks)
    assert "the sweep will send them" in caplog.text
    email = Email.objects.get(pk=email_id)
    assert (email.state, email.queued_at, email.attempts) == (Email.State.PENDING, None, 0)
    assert smtp_sink.messages == []

    monkeypatch.undo()
    assert tasks.sweep() == 1
    assert Email.objects.get(pk=email_id).state == Email.State.SENT
    assert len(smtp_sink.messages) == 1


def test_an_email_whose_message_was_lost_is_queued_again_after_two_minutes(
    smtp_sink, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(tasks.send_emails, "delay", lambda *args: None)  # taken, then lost
    email_id = write(django_capture_on_commit_callbacks)
    monkeypatch.undo()
    queued_at = Email.objects.get(pk=email_id).queued_at
    assert actions.requeue_due(now=queued_at + timedelta(minutes=1)) == []  # may be on its way
    assert actions.requeue_due(now=queued_at + actions.REQUEUE_AFTER + timedelta(seconds=1)) == [
        email_id
    ]
    assert Email.objects.get(pk=email_id).state == Email.State.SENT


def test_sent_and_given_up_emails_are_never_queued_again(
    smtp_sink, django_capture_on_commit_callbacks
):
    sent = write(django_capture_on_commit_callbacks)
    given_up = write(django_capture_on_commit_callbacks)
    Email.objects.filter(pk=given_up).update(state=Email.State.FAILED, queued_at=None)
    assert actions.requeue_due(now=timezone.now() + timedelta(days=1)) == []
    assert Email.objects.get(pk=sent).attempts == 1
    assert len(smtp_sink.messages) == 2


def test_the_outbox_sweep_is_scheduled(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["outbox-sweep"]
    assert entry["task"] == tasks.sweep.name
    assert entry["schedule"] <= 60
