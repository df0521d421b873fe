"""The outbox in the Django admin: admins see what is stuck and why, and send it again;
nobody else sees the e-mails."""

from datetime import timedelta

import pytest
from django.core.mail import EmailMessage
from django.urls import reverse
from django.utils import timezone

from outbox import actions
from outbox.models import Email

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:outbox_email_changelist")


@pytest.fixture
def emails(smtp_sink, django_capture_on_commit_callbacks):
    """One sent, one given up, one failing and retrying, one waiting long, one just written."""
    names = ["sent", "given-up", "retrying", "waiting-long", "fresh"]
    with django_capture_on_commit_callbacks(execute=True):
        ids = actions.queue_emails(
            [EmailMessage(f"About {name}", "Text.", to=[f"{name}@example.org"]) for name in names]
        )
    rows = dict(zip(names, ids, strict=True))
    pending = {"state": Email.State.PENDING, "sent_at": None, "attempts": 0}
    Email.objects.filter(pk=rows["given-up"]).update(
        state=Email.State.FAILED, sent_at=None, last_error="SMTPDataError: (554, 'Rejected')"
    )
    Email.objects.filter(pk=rows["retrying"]).update(
        **{**pending, "attempts": 2}, last_error="ConnectionRefusedError: refused"
    )
    Email.objects.filter(pk=rows["waiting-long"]).update(
        **pending, created_at=timezone.now() - timedelta(hours=1)
    )
    Email.objects.filter(pk=rows["fresh"]).update(**pending)
    return rows


def listed(response) -> set[str]:
    return {email.to[0].split("@")[0] for email in response.context["cl"].result_list}


def test_an_admin_lists_what_is_stuck_with_the_reason(client, admin, emails):
    client.force_login(admin)
    response = client.get(CHANGELIST, {"attention": "stuck"})
    assert response.status_code == 200
    assert listed(response) == {"given-up", "retrying", "waiting-long"}
    assert "SMTPDataError: (554, &#x27;Rejected&#x27;)" in response.content.decode()
    assert listed(client.get(CHANGELIST, {"attention": "failed"})) == {"given-up"}
    assert listed(client.get(CHANGELIST, {"q": "retrying@example.org"})) == {"retrying"}


def test_send_again_sends_a_given_up_email_and_leaves_a_sent_one_alone(
    client, admin, emails, smtp_sink, django_capture_on_commit_callbacks
):
    client.force_login(admin)
    before = len(smtp_sink.messages)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            CHANGELIST,
            {
                "action": "send_again",
                "_selected_action": [emails["given-up"], emails["sent"]],
            },
            follow=True,
        )
    assert "1 e-mail(s) will be sent again." in response.content.decode()
    assert Email.objects.get(pk=emails["given-up"]).state == Email.State.SENT
    assert [m["To"] for m in smtp_sink.messages[before:]] == ["given-up@example.org"]


def test_an_admin_reads_an_email_but_cannot_write_one(client, admin, emails):
    client.force_login(admin)
    page = client.get(reverse("admin:outbox_email_change", args=[emails["given-up"]]))
    assert page.status_code == 200
    assert "About given-up" in page.content.decode()
    assert client.get(reverse("admin:outbox_email_add")).status_code == 403


def test_a_reviewer_does_not_see_the_outbox(client, reviewer, emails):
    reviewer.is_staff = True  # reviewers use the admin for vocabularies
    reviewer.save(update_fields=["is_staff"])
    client.force_login(reviewer)
    assert client.get(CHANGELIST).status_code == 403
    page = client.get(reverse("admin:outbox_email_change", args=[emails["sent"]]))
    assert page.status_code == 403
