"""A case's timeline and comments on its page (curation/templatetags/review.py, case_comment)
and the "propose a revision" button (case_revise)."""

import pytest
from django.urls import reverse

from curation import workflow
from curation.actions.cases import transition
from curation.actions.review import request_changes, start_revision
from curation.models import Case, CaseEvent
from tests.factories import CaseFactory, make_published_case

pytestmark = pytest.mark.django_db


def _page(client, case):
    return client.get(reverse("curation:case_detail", args=[case.pk])).content.decode()


@pytest.fixture
def sent_back(curator, reviewer):
    case = CaseFactory(created_by=curator)
    transition(case, workflow.SUBMITTED, curator)
    request_changes(case, reviewer, "Please add the <b>SMA</b> clone.")
    return case


def test_the_author_sees_every_event_with_who_role_from_to_comment_and_when(
    client, curator, reviewer, sent_back
):
    client.force_login(curator)
    page = _page(client, sent_back)
    assert "Timeline and comments" in page
    assert f'<strong>{curator.username}</strong> <span class="muted">(curator)</span>' in page
    assert f'<strong>{reviewer.username}</strong> <span class="muted">(reviewer)</span>' in page
    assert (
        '<span class="tag status-submitted">submitted</span> → '
        '<span class="tag status-changes_requested">changes requested</span>'
    ) in page
    # User text is escaped, never run.
    assert "Please add the &lt;b&gt;SMA&lt;/b&gt; clone." in page
    assert page.count('<li class="event event-transition">') == 2


def test_reviewers_see_the_timeline_but_the_public_and_other_curators_do_not(
    client, curator2, reviewer, reader, curator
):
    case = make_published_case(created_by=curator)
    transition_events = CaseEvent.objects.filter(case=case)
    assert not transition_events.exists()
    client.force_login(reviewer)
    assert "Timeline and comments" in _page(client, case)
    for who in (None, reader, curator2):
        client.logout()
        if who:
            client.force_login(who)
        page = _page(client, case)
        assert "Timeline and comments" not in page
        assert 'name="comment"' not in page


def test_the_author_replies_and_the_comment_appears_in_the_thread(client, curator, sent_back):
    client.force_login(curator)
    url = reverse("curation:case_comment", args=[sent_back.pk])
    response = client.post(url, {"comment": "Clone 1A4 added."})
    assert response.status_code == 302
    assert response.url == reverse("curation:case_detail", args=[sent_back.pk]) + "#timeline"
    page = _page(client, sent_back)
    assert "Clone 1A4 added." in page and "commented" in page
    sent_back.refresh_from_db()
    assert sent_back.status == workflow.CHANGES_REQUESTED


def test_an_offsite_next_is_ignored(client, curator, sent_back):
    client.force_login(curator)
    response = client.post(
        reverse("curation:case_comment", args=[sent_back.pk]),
        {"comment": "ok", "next": "https://evil.example/"},
    )
    assert response.url == reverse("curation:case_detail", args=[sent_back.pk]) + "#timeline"
    response = client.post(
        reverse("curation:case_comment", args=[sent_back.pk]),
        {"comment": "ok", "next": "//evil.example/cases/"},
    )
    assert "evil" not in response.url


def test_an_empty_comment_is_refused_with_a_message(client, curator, sent_back):
    client.force_login(curator)
    response = client.post(
        reverse("curation:case_comment", args=[sent_back.pk]), {"comment": "  "}, follow=True
    )
    assert "the comment was empty" in response.content.decode()
    assert not CaseEvent.objects.filter(
        case=sent_back,
        from_status=workflow.CHANGES_REQUESTED,
        to_status=workflow.CHANGES_REQUESTED,
    ).exists()


def test_the_case_page_with_its_timeline_has_a_fixed_query_budget(
    client, curator, reviewer, sent_back, django_assert_max_num_queries
):
    for i in range(10):
        from curation.actions.review import comment_on_case

        comment_on_case(sent_back, reviewer if i % 2 else curator, f"comment {i}")
    client.force_login(curator)
    with django_assert_max_num_queries(16):
        page = _page(client, sent_back)
    assert "comment 9" in page


# -- revisions from the case page --------------------------------------------------------


def test_a_curator_proposes_a_revision_and_the_public_keeps_the_published_case(
    client, curator, curator2
):
    published = make_published_case(created_by=curator)
    client.force_login(curator2)
    assert "Propose a revision" in _page(client, published)
    response = client.post(reverse("curation:case_revise", args=[published.pk]))
    assert response.status_code == 302
    revision = Case.objects.get(revision_of=published)
    assert revision.created_by == curator2 and revision.status == workflow.DRAFT
    assert str(revision.pk) in response.url
    client.logout()
    assert client.get(reverse("curation:case_detail", args=[revision.pk])).status_code == 404
    assert client.get(reverse("curation:case_detail", args=[published.pk])).status_code == 200


def test_a_second_revision_request_points_to_the_open_one(client, curator, curator2):
    published = make_published_case(created_by=curator)
    first = start_revision(published, curator2)
    client.force_login(curator)
    response = client.post(reverse("curation:case_revise", args=[published.pk]), follow=True)
    assert f"already has an open revision (RareDerm #{first.pk})" in response.content.decode()
    assert Case.objects.filter(revision_of=published).count() == 1


def test_drafts_cannot_be_revised_and_readers_cannot_revise(client, curator, reader):
    draft = CaseFactory(created_by=curator)
    client.force_login(curator)
    assert client.post(reverse("curation:case_revise", args=[draft.pk])).status_code == 404
    published = make_published_case(created_by=curator)
    client.force_login(reader)
    assert client.post(reverse("curation:case_revise", args=[published.pk])).status_code == 403
    assert "Propose a revision" not in _page(client, published)
