"""The fetch-job page: progress polled by htmx, per-PMID outcome, "retry failed"."""

import pytest
from django.urls import reverse

from citations import actions
from citations.models import FetchJob, FetchJobItem

pytestmark = pytest.mark.django_db


def run(identifiers, capture, by):
    with capture(execute=True):
        job = actions.request_fetch(identifiers, by=by)
    job.refresh_from_db()
    return job


def test_the_requester_sees_each_outcome(
    client, curator, fake_eutils, django_capture_on_commit_callbacks
):
    job = run(["35560368", "1", "zz"], django_capture_on_commit_callbacks, curator)
    client.force_login(curator)
    response = client.get(reverse("citations:job", args=[job.pk]))
    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-new="1"' in html and 'data-failed="2"' in html
    assert "PubMed has no record with PMID 1." in html
    assert "is not a PMID" in html
    assert "Cutaneous inflammatory myofibroblastic tumor" in html
    assert "Retry failed" in html
    assert "hx-trigger" not in html  # finished: no more polling


def test_a_running_job_polls_and_htmx_gets_the_partial_only(
    client, curator, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):
        job = actions.request_fetch(["35560368"], by=curator)
    client.force_login(curator)
    url = reverse("citations:job", args=[job.pk])
    page = client.get(url).content.decode()
    assert 'hx-trigger="every 1s"' in page
    assert "<html" in page
    partial = client.get(url, headers={"HX-Request": "true"}).content.decode()
    assert partial.lstrip().startswith("<section")
    assert "<html" not in partial
    assert 'data-state="pending"' in partial
    assert "Retry failed" not in partial


def test_retry_failed_fetches_them_again(
    client, curator, fake_eutils, django_capture_on_commit_callbacks
):
    fake_eutils.inject("503", times=None)
    job = run(["35560368"], django_capture_on_commit_callbacks, curator)
    assert job.items.get().status == FetchJobItem.Status.FAILED
    fake_eutils.clear_faults()
    client.force_login(curator)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("citations:job_retry", args=[job.pk]), follow=True)
    assert response.status_code == 200
    assert "Trying 1 failed PubMed record(s) again." in response.content.decode()
    assert job.items.get().status == FetchJobItem.Status.NEW


def test_other_curators_do_not_see_the_job_but_reviewers_do(
    client, curator, curator2, reviewer, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):
        job = actions.request_fetch(["35560368"], by=curator)
    url = reverse("citations:job", args=[job.pk])
    assert client.get(url).status_code == 302  # to the login page
    client.force_login(curator2)
    assert client.get(url).status_code == 404
    assert client.post(reverse("citations:job_retry", args=[job.pk])).status_code == 404
    client.force_login(reviewer)
    assert client.get(url).status_code == 200


def test_retry_is_post_only(client, curator, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        job = actions.request_fetch(["35560368"], by=curator)
    client.force_login(curator)
    assert client.get(reverse("citations:job_retry", args=[job.pk])).status_code == 405


@pytest.mark.parametrize("count", [3, 300])
def test_the_job_page_has_a_fixed_query_budget(
    client, curator, count, django_capture_on_commit_callbacks, django_assert_max_num_queries
):
    with django_capture_on_commit_callbacks(execute=False):
        job = actions.request_fetch([str(n) for n in range(1, count + 1)], by=curator)
    client.force_login(curator)
    # session, user, groups, job, counts, items (+ their citations)
    with django_assert_max_num_queries(6):
        response = client.get(reverse("citations:job", args=[job.pk]))
    assert response.status_code == 200
    assert FetchJob.objects.get().items.count() == count
