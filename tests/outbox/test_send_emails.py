"""The outbox (outbox/actions.py, the send_emails task): e-mails written with what causes
them, sent after the commit to a real SMTP server, failures kept and retried.

Tasks run inline here; tests/curation/test_review_emails_dead_broker.py sends
through a real broker and worker.
"""

import time
from datetime import timedelta

import pytest
from django.core.mail import EmailMessage
from django.db import transaction
from django.utils import timezone

from outbox import actions, tasks
from outbox.models import Email

pytestmark = pytest.mark.django_db


def message(to="pat@example.org", subject="Hello", body="Text.") -> EmailMessage:
    return EmailMessage(subject, body, to=[to])


def test_an_email_is_written_in_the_transaction_and_sent_after_the_commit(
    smtp_sink, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        with transaction.atomic():
            (email_id,) = actions.queue_emails([message()], kind="test")
            assert Email.objects.get(pk=email_id).state == Email.State.PENDING
        assert smtp_sink.messages == []  # not before the commit
    (sent,) = smtp_sink.messages
    email = Email.objects.get(pk=email_id)
    assert (email.state, email.attempts, email.last_error) == (Email.State.SENT, 1, "")
    assert email.sent_at is not None
    assert (sent["To"], sent["Subject"]) == ("pat@example.org", "Hello")
    assert sent.get_payload().strip() == "Text."
    assert sent["Message-ID"] == email.message_id
    assert "RareDerm" in sent["From"]


def test_a_rolled_back_transaction_writes_and_sends_nothing(
    smtp_sink, django_capture_on_commit_callbacks
):
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        actions.queue_emails([message()])
        raise RuntimeError("the decision failed")
    assert callbacks == []
    assert Email.objects.count() == 0
    assert smtp_sink.messages == []


def test_a_mail_server_that_is_down_is_tried_again_with_doubling_pauses_until_it_answers(
    smtp_sink, settings, django_capture_on_commit_callbacks
):
    settings.OUTBOX_RETRY_BACKOFF = 1
    smtp_sink.stop()
    with django_capture_on_commit_callbacks(execute=True):
        (email_id,) = actions.queue_emails([message()])
    email = Email.objects.get(pk=email_id)
    assert (email.state, email.attempts, email.queued_at) == (Email.State.PENDING, 1, None)
    assert "refused" in email.last_error.lower()
    first_pause = email.next_attempt_at - timezone.now()
    assert timedelta(seconds=0.5) < first_pause <= timedelta(seconds=1)
    assert actions.requeue_due() == []  # not due yet

    time.sleep(1.1)
    assert actions.requeue_due() == [email_id]  # due: tried, and refused again
    email.refresh_from_db()
    assert email.attempts == 2
    assert timedelta(seconds=1.5) < email.next_attempt_at - timezone.now() <= timedelta(seconds=2)

    smtp_sink.start()  # the mail server is back, on the same port
    time.sleep(2.1)
    assert actions.requeue_due() == [email_id]
    email.refresh_from_db()
    assert (email.state, email.attempts, email.last_error) == (Email.State.SENT, 3, "")
    assert len(smtp_sink.messages) == 1


def test_the_pause_between_tries_doubles_up_to_an_hour(settings):
    settings.OUTBOX_RETRY_BACKOFF = 60
    pauses = [actions.retry_delay(n).total_seconds() for n in range(1, 10)]
    assert pauses == [60, 120, 240, 480, 960, 1920, 3600, 3600, 3600]


def test_an_email_still_failing_after_the_last_attempt_is_given_up(
    smtp_sink, settings, django_capture_on_commit_callbacks, caplog
):
    settings.OUTBOX_MAX_ATTEMPTS = 1
    smtp_sink.stop()
    with django_capture_on_commit_callbacks(execute=True):
        (email_id,) = actions.queue_emails([message()])
    email = Email.objects.get(pk=email_id)
    assert (email.state, email.attempts) == (Email.State.FAILED, 1)
    assert "given up" in caplog.text
    assert actions.requeue_due(now=timezone.now() + timedelta(days=1)) == []


def test_a_recipient_the_server_refuses_for_good_is_not_retried_and_the_others_go(
    smtp_sink, django_capture_on_commit_callbacks
):
    smtp_sink.refuse.add("nobody@example.org")
    with django_capture_on_commit_callbacks(execute=True):
        refused, taken = actions.queue_emails([message(to="nobody@example.org"), message()])
    refused = Email.objects.get(pk=refused)
    assert (refused.state, refused.attempts) == (Email.State.FAILED, 1)
    assert "550" in refused.last_error
    assert Email.objects.get(pk=taken).state == Email.State.SENT
    assert [m["To"] for m in smtp_sink.messages] == ["pat@example.org"]


def test_when_the_server_cannot_be_reached_the_other_emails_of_the_task_are_not_tried(
    smtp_sink, settings, django_capture_on_commit_callbacks, monkeypatch
):
    smtp_sink.stop()
    opened = []
    from django.core.mail.backends.smtp import EmailBackend

    real_open = EmailBackend.open
    monkeypatch.setattr(EmailBackend, "open", lambda self: (opened.append(1), real_open(self))[1])
    with django_capture_on_commit_callbacks(execute=True):
        ids = actions.queue_emails([message(to=f"p{n}@example.org") for n in range(3)])
    assert len(opened) == 1  # one wait for the server, not three
    assert set(Email.objects.filter(pk__in=ids).values_list("state", "attempts")) == {
        (Email.State.PENDING, 1)
    }


def test_a_second_task_for_an_email_already_sent_sends_nothing(
    smtp_sink, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        (email_id,) = actions.queue_emails([message()])
    assert tasks.send_emails(email_ids=[email_id]) == 0  # a re-delivered message
    assert len(smtp_sink.messages) == 1


def test_an_email_asked_for_twice_with_the_same_key_is_written_once(
    smtp_sink, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        first = actions.queue_emails([message()], keys=["digest:2026-W49:user:7"])
        again = actions.queue_emails([message()], keys=["digest:2026-W49:user:7"])
    assert len(first) == 1 and again == []
    assert Email.objects.count() == 1
    assert len(smtp_sink.messages) == 1


def test_an_email_to_nobody_is_not_written():
    assert actions.queue_emails([EmailMessage("Hello", "Text.", to=[])]) == []
    assert Email.objects.count() == 0
