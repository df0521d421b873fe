"""The fetch job admin: an admin sees which worker holds each batch and when it last beat."""

import pytest
from django.urls import reverse
from django.utils import timezone

from citations import actions
from citations.models import FetchBatch

pytestmark = pytest.mark.django_db


def test_the_job_admin_shows_each_batch_with_its_worker_heartbeat_sends_and_runs(
    client, admin, fake_eutils, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        job = actions.request_fetch(["35560368"])
    FetchBatch.objects.filter(job=job).update(
        state=FetchBatch.State.RUNNING, worker="w7@fetcher", heartbeat_at=timezone.now()
    )
    client.force_login(admin)
    page = client.get(reverse("admin:citations_fetchjob_change", args=[job.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert "w7@fetcher" in html
    assert "Fetching" in html  # the batch's state
    assert "35560368" in html  # and the items below
