"""Emails about the review workflow (curation.notifications and its Celery task)."""

import socket

import pytest
from django.core import mail
from django.utils import timezone

from curation import workflow
from curation.actions.cases import transition
from curation.actions.review import approve_case, comment_on_case, reject_case, request_changes
from curation.models import Case, CaseEvent
from curation.tasks import send_case_event_emails
from outbox import tasks as outbox_tasks
from outbox.actions import requeue_due
from outbox.models import Email
from tests.factories import CaseFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _site(settings):
    settings.SITE_URL = "https://rarederm.example.org"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


def _submit(case, by, django_capture_on_commit_callbacks):
    # The curator workflow's submit_case when it is there; transition() is what it calls.
    try:
        from curation.actions.submission import submit_case
    except ImportError:
        submit_case = None
    with django_capture_on_commit_callbacks(execute=True):
        if submit_case is not None:
            submit_case(case, by=by, expected_version=case.version)
        else:
            transition(case, workflow.SUBMITTED, by)


def test_a_submission_emails_every_other_reviewer_with_a_link_to_the_review_page(
    curator, reviewer, reviewer2, admin, curator2, django_capture_on_commit_callbacks
):
    case = CaseFactory(created_by=reviewer2)
    _submit(case, reviewer2, django_capture_on_commit_callbacks)
    recipients = sorted(m.to[0] for m in mail.outbox)
    # Reviewers and admins, not the submitting reviewer, not curators.
    assert recipients == sorted([reviewer.email, admin.email])
    message = mail.outbox[0]
    assert f"RareDerm #{case.pk} waits for review" in message.subject
    assert f"https://rarederm.example.org/review/{case.pk}/" in message.body
    assert "Inflammatory myofibroblastic tumor" in message.body


def test_each_decision_emails_the_curator_with_the_comment_and_a_link(
    curator, reviewer, django_capture_on_commit_callbacks
):
    case = CaseFactory(created_by=curator)
    transition(case, workflow.SUBMITTED, curator)
    with django_capture_on_commit_callbacks(execute=True):
        request_changes(case, reviewer, "Add the ALK clone (D5F3?).")
    assert [m.to for m in mail.outbox] == [[curator.email]]
    assert "changes requested" in mail.outbox[0].subject
    assert "Add the ALK clone (D5F3?)." in mail.outbox[0].body
    assert f"https://rarederm.example.org/cases/{case.pk}/" in mail.outbox[0].body

    transition(case, workflow.SUBMITTED, curator)
    with django_capture_on_commit_callbacks(execute=True):
        approve_case(case, reviewer)
    assert [m.to for m in mail.outbox[1:]] == [[curator.email]]
    assert "approved and published" in mail.outbox[1].subject


def test_a_rejected_case_emails_its_curator_once(
    curator, reviewer, django_capture_on_commit_callbacks
):
    case = CaseFactory(created_by=curator)
    transition(case, workflow.SUBMITTED, curator)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        reject_case(case, reviewer, "Not a cutaneous primary.")
    assert len(callbacks) == 1
    assert [m.to for m in mail.outbox] == [[curator.email]]
    assert "rejected" in mail.outbox[0].subject


def test_comments_send_no_email(curator, reviewer, django_capture_on_commit_callbacks):
    case = CaseFactory(created_by=curator)
    transition(case, workflow.SUBMITTED, curator)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        comment_on_case(case, reviewer, "Just a note.")
    assert callbacks == [] and mail.outbox == []


def test_no_email_is_queued_when_the_decision_is_refused(
    curator, reviewer, django_capture_on_commit_callbacks
):
    case = CaseFactory(created_by=curator)
    transition(case, workflow.SUBMITTED, curator)
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(workflow.TransitionError),
    ):
        reject_case(case, reviewer, "")
    assert callbacks == [] and mail.outbox == []


def test_the_task_for_a_vanished_event_sends_nothing():
    assert send_case_event_emails.delay(987654).get() == 0
    assert mail.outbox == []


def test_a_message_of_the_older_release_sends_its_event_emails_once(
    curator, reviewer, django_capture_on_commit_callbacks
):
    """A send_case_event_emails message queued before the upgrade: written to the outbox once."""
    case = CaseFactory(created_by=curator)
    transition(case, workflow.SUBMITTED, curator)
    with django_capture_on_commit_callbacks(execute=True):
        approve_case(case, reviewer)
    event = CaseEvent.objects.get(case=case, to_status=workflow.PUBLISHED)
    assert send_case_event_emails.delay(event.pk).get() == 0  # written (and sent) already
    assert [m.to for m in mail.outbox] == [[curator.email]]


def test_a_submission_writes_its_emails_in_one_insert_whatever_the_number_of_reviewers(
    curator, reviewer, django_user_model
):
    from django.contrib.auth.models import Group
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def submit_counting_queries() -> list[str]:
        case = CaseFactory(created_by=curator)
        with CaptureQueriesContext(connection) as queries:
            transition(case, workflow.SUBMITTED, curator)
        return [q["sql"] for q in queries.captured_queries]

    submit_counting_queries()  # the first fills the process's caches (content types...)
    one_reviewer = submit_counting_queries()
    reviewers = Group.objects.get(name="reviewer")
    for n in range(5):
        django_user_model.objects.create_user(
            f"extra_reviewer_{n}", f"r{n}@example.org"
        ).groups.add(reviewers)
    six_reviewers = submit_counting_queries()
    assert len(six_reviewers) == len(one_reviewer)
    assert sum('INSERT INTO "outbox_email"' in sql for sql in six_reviewers) == 1
    assert Email.objects.count() == 1 + 1 + 6


def test_a_decision_rolled_back_leaves_no_email_in_the_outbox(curator, reviewer):
    from django.db import transaction

    case = CaseFactory(created_by=curator)
    with pytest.raises(RuntimeError), transaction.atomic():
        transition(case, workflow.SUBMITTED, curator)
        assert Email.objects.count() == 1
        raise RuntimeError("the request failed after the transition")
    assert Email.objects.count() == 0


def _closed_port() -> int:
    """A port on 127.0.0.1 where nothing listens: a mail server that is down."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_mail_server_that_is_down_neither_blocks_nor_undoes_the_decision(
    client, settings, curator, reviewer, django_capture_on_commit_callbacks, caplog
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = _closed_port()
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_TIMEOUT = 2
    case = CaseFactory(created_by=curator)
    transition(case, workflow.SUBMITTED, curator)
    client.force_login(reviewer)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.post(
            f"/review/{case.pk}/",
            {"decision": "reject", "comment": "Duplicate of case 1.", "version": case.version},
        )
    assert response.status_code == 302
    assert len(callbacks) == 1  # the email task was queued (and ran, and failed)
    case.refresh_from_db()
    assert case.status == workflow.REJECTED
    assert CaseEvent.objects.filter(case=case, to_status=workflow.REJECTED).count() == 1
    assert "not sent" in caplog.text
    # Kept for the next try, with the reason.
    waiting = Email.objects.get(kind="case rejected")
    assert (waiting.state, waiting.attempts) == ("pending", 1)
    assert "Connection refused" in waiting.last_error or "ConnectionRefused" in waiting.last_error
    assert waiting.next_attempt_at > timezone.now()


class ExplodingBackend:
    """A mail backend whose server answers every message with an SMTP error."""

    def __init__(self, *args, **kwargs):
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def open(self):
        return True

    def close(self):
        pass

    def send_messages(self, messages):
        import smtplib

        raise smtplib.SMTPDataError(554, b"Transaction failed")


def test_a_mail_server_that_errors_leaves_the_published_case_published(
    settings, curator, reviewer, django_capture_on_commit_callbacks
):
    settings.EMAIL_BACKEND = "tests.curation.test_review_notifications.ExplodingBackend"
    case = CaseFactory(created_by=curator)
    transition(case, workflow.SUBMITTED, curator)
    with django_capture_on_commit_callbacks(execute=True):
        approve_case(case, reviewer)
    assert Case.objects.get(pk=case.pk).status == workflow.PUBLISHED


def test_a_broken_broker_neither_undoes_the_decision_nor_loses_its_email(
    settings, monkeypatch, curator, reviewer, django_capture_on_commit_callbacks, caplog
):
    def broker_down(*args, **kwargs):
        raise ConnectionRefusedError("broker down")

    monkeypatch.setattr(outbox_tasks.send_emails, "delay", broker_down)
    case = CaseFactory(created_by=curator)
    transition(case, workflow.SUBMITTED, curator)
    with django_capture_on_commit_callbacks(execute=True):
        approve_case(case, reviewer)
    assert Case.objects.get(pk=case.pk).status == workflow.PUBLISHED
    assert "broker down" in caplog.text
    assert mail.outbox == []
    # The e-mail is a row of the decision's transaction: the sweep sends it.
    waiting = Email.objects.get(kind="case published")
    assert (waiting.state, waiting.to, waiting.queued_at) == ("pending", [curator.email], None)
    monkeypatch.undo()
    assert requeue_due() == [waiting.pk]
    assert [m.to for m in mail.outbox] == [[curator.email]]
    assert "approved and published" in mail.outbox[0].subject
    assert Email.objects.get(pk=waiting.pk).state == "sent"


def test_a_resubmission_and_a_revision_tell_reviewers_what_they_are(
    curator, curator2, reviewer, django_capture_on_commit_callbacks
):
    from curation.actions.review import start_revision
    from tests.factories import make_published_case

    case = CaseFactory(created_by=curator)
    transition(case, workflow.SUBMITTED, curator)
    request_changes(case, reviewer, "Add the clone.")
    mail.outbox.clear()
    _submit(Case.objects.get(pk=case.pk), curator, django_capture_on_commit_callbacks)
    assert [m.to for m in mail.outbox] == [[reviewer.email]]
    assert "again, after the requested changes" in mail.outbox[0].body

    published = make_published_case(created_by=curator)
    revision = start_revision(published, curator2)
    mail.outbox.clear()
    _submit(revision, curator2, django_capture_on_commit_callbacks)
    assert f"A revision of RareDerm #{published.pk} waits for review" in mail.outbox[0].subject


def test_approving_a_revision_emails_the_curator_who_wrote_it(
    curator, curator2, reviewer, django_capture_on_commit_callbacks
):
    from curation.actions.review import start_revision
    from tests.factories import make_published_case

    published = make_published_case(created_by=curator)
    revision = start_revision(published, curator2)
    transition(revision, workflow.SUBMITTED, curator2)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        approve_case(revision, reviewer, "Good catch.")
    assert [m.to for m in mail.outbox] == [[curator2.email]]
    assert f"https://rarederm.example.org/cases/{published.pk}/" in mail.outbox[0].body
    assert "Good catch." in mail.outbox[0].body
