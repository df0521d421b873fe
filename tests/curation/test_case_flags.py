"""Flag an error (issue 17): anyone reports a possible error in a published case; a
curator starts a revision or dismisses the flag with a reason; the flagger is told."""

import pytest
from django.core import mail

from curation.models import Case, CaseFlag
from outbox.actions import send_emails
from outbox.models import Email
from tests.factories import make_published_case

MESSAGE = "The age is 48 in the paper, not 38 (Table 1)."


@pytest.fixture
def case(db):
    return make_published_case(age=38)


def flag(client, case, **data):
    return client.post(f"/cases/{case.pk}/flag/", {"message": MESSAGE, **data})


def test_anyone_can_flag_a_published_case_and_the_page_then_says_so(client, case):
    response = flag(client, case, email="reader@example.org")
    assert response.status_code == 302
    stored = CaseFlag.objects.get()
    assert (stored.message, stored.email, stored.status) == (MESSAGE, "reader@example.org", "open")
    page = client.get(case.get_absolute_url()).content.decode()
    assert "A reader has reported a possible error in this case (1 open report)" in page


def test_open_flags_are_in_the_api_and_the_exports(client, case):
    assert client.get(f"/api/cases/{case.pk}/").json()["open_flags"] == 0
    flag(client, case)
    assert client.get(f"/api/cases/{case.pk}/").json()["open_flags"] == 1
    rows = client.get("/search/export/json/")
    data = b"".join(rows.streaming_content).decode()
    assert '"open_flags": 1' in data


@pytest.mark.parametrize(
    "data, field, message",
    [
        ({"message": "  "}, "message", "Say what looks wrong"),
        ({"email": "not an address"}, "email", "This is not an e-mail address"),
        ({"message": "x" * 2001}, "message", "Keep it under 2000 characters"),
    ],
)
def test_bad_input_is_refused_by_its_field_and_the_text_is_kept(
    client, case, data, field, message
):
    response = flag(client, case, **data)
    assert response.status_code == 400
    page = response.content.decode()
    assert message in page
    assert f'aria-describedby="{field}-error"' in page
    if field == "email":
        assert MESSAGE in page  # nothing the reader typed is lost
    assert not CaseFlag.objects.exists()


def test_a_robot_filling_the_honeypot_is_thanked_and_nothing_is_stored(client, case):
    assert flag(client, case, website="http://spam.example").status_code == 302
    assert not CaseFlag.objects.exists()


def test_a_client_sending_too_many_flags_gets_a_429_with_its_text_kept(client, case, settings):
    settings.FLAG_RATE_LIMIT = 2
    assert flag(client, case).status_code == 302
    assert flag(client, case).status_code == 302
    response = flag(client, case, message="A third report.")
    assert response.status_code == 429
    assert "please try again later" in response.content.decode()
    assert "A third report." in response.content.decode()
    assert CaseFlag.objects.count() == 2
    # Another client is not held back.
    other = client.post(f"/cases/{case.pk}/flag/", {"message": MESSAGE}, REMOTE_ADDR="10.0.0.9")
    assert other.status_code == 302


def test_a_draft_cannot_be_flagged(client, db):
    draft = make_published_case(status=Case.Status.DRAFT, published_at=None)
    assert flag(client, draft).status_code == 404


def test_a_curator_resolves_a_flag_by_starting_a_revision_and_the_flagger_is_told(
    client, case, curator
):
    flag(client, case, email="reader@example.org")
    stored = CaseFlag.objects.get()
    client.force_login(curator)
    queue = client.get("/review/flags/").content.decode()
    assert MESSAGE in queue
    response = client.post(f"/review/flags/{stored.pk}/", {"action": "revise"})
    stored.refresh_from_db()
    assert stored.status == "revision"
    revision = stored.revision
    assert revision.revision_of_id == case.pk and revision.created_by == curator
    assert response.url == f"/curate/cases/{revision.pk}/"
    assert "No open flag." in client.get("/review/flags/").content.decode()
    email = Email.objects.get(kind="flag")
    send_emails([email.pk])
    assert mail.outbox[-1].to == ["reader@example.org"]
    assert "started a revision" in mail.outbox[-1].body


def test_dismissing_needs_a_reason_which_the_flagger_is_told(client, case, curator):
    flag(client, case, email="reader@example.org")
    stored = CaseFlag.objects.get()
    client.force_login(curator)
    client.post(f"/review/flags/{stored.pk}/", {"action": "dismiss", "reason": ""})
    stored.refresh_from_db()
    assert stored.status == "open"
    client.post(
        f"/review/flags/{stored.pk}/",
        {"action": "dismiss", "reason": "Table 1 says 38; 48 is another patient."},
    )
    stored.refresh_from_db()
    assert (stored.status, stored.resolved_by) == ("dismissed", curator)
    send_emails([Email.objects.get(kind="flag").pk])
    assert "48 is another patient" in mail.outbox[-1].body
    page = client.get(case.get_absolute_url()).content.decode()
    assert "A reader has reported a possible error" not in page


def test_an_anonymous_flag_sends_no_email_and_only_curators_see_the_queue(
    client, case, reader, curator
):
    flag(client, case)
    client.force_login(curator)
    client.post(f"/review/flags/{CaseFlag.objects.get().pk}/", {"action": "revise"})
    assert not Email.objects.filter(kind="flag").exists()
    client.force_login(reader)
    assert client.get("/review/flags/").status_code == 403


def test_the_open_flag_notice_comes_before_the_record(client, case):
    flag(client, case)
    page = client.get(case.get_absolute_url()).content.decode()
    assert page.index("A reader has reported a possible error") < page.index('id="summary-title"')
