"""The review queue (curation.views.review.review_queue) and its count in the navigation."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from curation import workflow
from curation.actions.cases import transition
from curation.actions.review import start_revision
from curation.models import Case
from tests.factories import CaseFactory, diagnosis, make_published_case

pytestmark = pytest.mark.django_db
URL = reverse("curation:review_queue")


def _submitted(by, days_ago, **kwargs):
    case = CaseFactory(created_by=by, **kwargs)
    transition(case, workflow.SUBMITTED, by)
    Case.objects.filter(pk=case.pk).update(submitted_at=timezone.now() - timedelta(days=days_ago))
    return case


def _listed(response) -> list[int]:
    return [case.pk for case in response.context["page"].object_list]


def test_reviewers_see_submitted_cases_and_revisions_oldest_first(
    client, curator, curator2, reviewer
):
    newer = _submitted(curator, 1)
    older = _submitted(curator2, 5)
    published = make_published_case(created_by=curator)
    revision = start_revision(published, curator2)
    transition(revision, workflow.SUBMITTED, curator2)
    CaseFactory(created_by=curator)  # a draft: not in the queue
    client.force_login(reviewer)
    response = client.get(URL)
    assert response.status_code == 200
    assert _listed(response) == [older.pk, newer.pk, revision.pk]
    page = response.content.decode()
    assert f"revision of RareDerm #{published.pk}" in page
    assert "3 cases waiting." in page


def test_the_queue_filters_by_diagnosis_and_by_submitter(client, curator, curator2, reviewer):
    imt = _submitted(curator, 3)
    df = _submitted(curator, 2, final_diagnosis=diagnosis("dermatofibroma"), fusions=[])
    other = _submitted(curator2, 1)
    client.force_login(reviewer)
    dx = diagnosis("dermatofibroma")
    assert _listed(client.get(URL, {"diagnosis": dx.pk})) == [df.pk]
    assert _listed(client.get(URL, {"submitter": curator2.pk})) == [other.pk]
    assert _listed(client.get(URL, {"submitter": curator.pk, "diagnosis": ""})) == [imt.pk, df.pk]


@pytest.mark.parametrize(
    "params", [{"diagnosis": "nonsense"}, {"submitter": "-1"}, {"diagnosis": "1; DROP TABLE"}]
)
def test_a_hostile_filter_says_so_and_lists_nothing(client, curator, reviewer, params):
    _submitted(curator, 1)
    client.force_login(reviewer)
    response = client.get(URL, params)
    assert response.status_code == 200
    assert _listed(response) == []
    assert "That filter is not valid" in response.content.decode()


def test_reviewers_see_the_count_in_the_navigation(client, curator, reviewer):
    _submitted(curator, 2)
    _submitted(curator, 1)
    client.force_login(reviewer)
    page = client.get(reverse("curation:home")).content.decode()
    assert 'aria-label="2 waiting"' in page
    assert reverse("curation:review_queue") in page


def test_curators_and_the_public_get_no_count_and_no_count_query(client, curator, reviewer):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    _submitted(curator, 1)

    def queue_counts(page_for):
        if page_for:
            client.force_login(page_for)
        with CaptureQueriesContext(connection) as queries:
            page = client.get(reverse("curation:home")).content.decode()
        counts = [q["sql"] for q in queries if "'submitted'" in q["sql"]]
        return page, counts

    page, counts = queue_counts(None)
    assert counts == [] and "waiting" not in page
    page, counts = queue_counts(curator)
    assert counts == [] and "waiting" not in page and "Review queue" not in page
    page, counts = queue_counts(reviewer)
    assert len(counts) == 1 and "1 waiting" in page


def test_curators_may_not_open_the_queue_and_the_public_is_sent_to_log_in(client, curator):
    assert client.get(URL).status_code == 302
    client.force_login(curator)
    assert client.get(URL).status_code == 403


def test_the_queue_has_a_fixed_query_budget(
    client, curator, curator2, reviewer, django_assert_max_num_queries
):
    for i in range(12):
        _submitted(curator if i % 2 else curator2, i, fusions=["CARS1::ALK", "?::ROS1"])
    client.force_login(reviewer)
    with django_assert_max_num_queries(12):
        response = client.get(URL)
    assert len(_listed(response)) == 12
