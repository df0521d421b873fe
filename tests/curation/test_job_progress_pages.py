"""The pages that follow a fetch job (citations' job page, a new report, a bulk import)
show its progress through one partial, each polling itself, each with its own retry."""

import pytest
from django.urls import reverse

from citations.actions import request_fetch
from citations.models import FetchJob

pytestmark = pytest.mark.django_db

PAGES = [
    ("citations:job", "citations:job_retry"),
    ("curation:report_fetch", "curation:report_fetch_retry"),
    ("curation:bulk_job", "curation:bulk_retry"),
]


@pytest.mark.parametrize(("page", "retry"), PAGES)
def test_while_a_job_runs_each_page_polls_itself_for_the_one_partial(client, curator, page, retry):
    job = request_fetch(["35560368"], by=curator, queue=False)
    client.force_login(curator)
    url = reverse(page, args=[job.pk])
    html = client.get(url).content.decode()
    assert "<html" in html and 'id="job-progress"' in html
    partial = client.get(url, headers={"HX-Request": "true"}).content.decode()
    assert partial.lstrip().startswith('<section id="job-progress"')
    assert f'hx-get="{url}"' in partial and 'hx-trigger="every 1s"' in partial
    assert 'data-state="pending"' in partial and 'data-total="1"' in partial
    assert "<html" not in partial


@pytest.mark.parametrize(("page", "retry"), PAGES)
def test_a_finished_job_with_failures_offers_each_pages_own_retry(
    client, curator, fake_eutils, django_capture_on_commit_callbacks, page, retry
):
    with django_capture_on_commit_callbacks(execute=True):
        job = request_fetch(["99999999"], by=curator)
    assert FetchJob.objects.get(pk=job.pk).state == FetchJob.State.DONE
    client.force_login(curator)
    html = client.get(reverse(page, args=[job.pk])).content.decode()
    assert 'data-failed="1"' in html
    assert "PubMed has no record with PMID 99999999" in html
    assert f'action="{reverse(retry, args=[job.pk])}"' in html
    assert "hx-trigger" not in html  # finished: no more polling


def test_only_the_bulk_import_adds_cases_from_each_row(
    client, curator, fake_eutils, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        job = request_fetch(["35560368"], by=curator)
    client.force_login(curator)
    add_cases = f'href="{reverse("curation:report", args=[35560368])}">Add cases</a>'
    assert add_cases in client.get(reverse("curation:bulk_job", args=[job.pk])).content.decode()
    assert add_cases not in client.get(reverse("citations:job", args=[job.pk])).content.decode()
