"""The retraction watch's page (/citations/watch/): runs and changes for curators, a button
for reviewers, against the fake E-utilities server and the edited recorded notices."""

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from citations.models import Citation, CitationChange, RefreshRun
from tests.citations.test_refresh_citations_command import (
    CORRECTED,
    RETRACTED,
    edited,
    stored,
)
from tests.factories import make_published_case

WATCH = reverse("citations:watch")


@pytest.fixture
def watched(db, fake_eutils, curator):
    """Two published cases; PubMed now lists a retraction for one paper and an erratum and
    an expression of concern for the other; one run of the watch has found them."""
    make_published_case(citation=stored("pubmed5.xml"), created_by=curator)
    make_published_case(citation=stored("pubmed6.xml"), created_by=curator)
    fake_eutils.add_article(edited(RETRACTED))
    fake_eutils.add_article(edited(CORRECTED))
    call_command("refresh_citations", "--sync")
    return RefreshRun.objects.get()


def test_a_curator_sees_the_run_and_every_change_it_found(client, curator, watched):
    client.force_login(curator)
    response = client.get(WATCH)
    assert response.status_code == 200
    page = response.content.decode()
    run = f'data-testid="run-{watched.pk}"'
    assert run in page
    row = page.split(run, 1)[1].split("</tr>", 1)[0]
    assert "Finished" in row and "refresh_citations command" in row
    kinds = sorted(CitationChange.objects.values_list("kind", flat=True))
    assert {"retraction", "erratum", "concern"} <= set(kinds)
    changes = page.split('data-testid="watch-changes"', 1)[1]
    assert changes.count('data-testid="change-') == len(kinds)
    retraction = CitationChange.objects.get(kind="retraction")
    assert Citation.objects.get(pmid=RETRACTED).get_absolute_url() in changes
    assert f"PMID {RETRACTED}" in changes and retraction.summary in changes
    # No reviewer: no button.
    assert reverse("citations:watch_start") not in page


def test_changes_are_filtered_by_kind_and_an_unknown_kind_is_named(client, curator, watched):
    client.force_login(curator)
    page = client.get(WATCH, {"kind": "retraction"}).content.decode()
    changes = page.split('data-testid="watch-changes"', 1)[1]
    assert changes.count('data-testid="change-') == 1
    assert f"PMID {RETRACTED}" in changes and f"PMID {CORRECTED}" not in changes

    response = client.get(WATCH, {"kind": "<b>withdrawn</b>"})
    assert response.status_code == 400
    page = response.content.decode()
    assert "is not a kind of change" in page and "<b>withdrawn</b>" not in page
    # The filter is not applied: every change is still listed.
    changes = page.split('data-testid="watch-changes"', 1)[1]
    assert changes.count('data-testid="change-') == CitationChange.objects.count()


def test_a_reviewer_queues_a_run_of_every_cited_paper(client, reviewer, curator, db):
    client.force_login(curator)
    assert client.post(reverse("citations:watch_start")).status_code == 403
    assert not RefreshRun.objects.exists()

    client.force_login(reviewer)
    page = client.get(WATCH).content.decode()
    assert reverse("citations:watch_start") in page
    response = client.post(reverse("citations:watch_start"), follow=True)
    run = RefreshRun.objects.get()
    assert (run.state, run.pmids) == (RefreshRun.State.PENDING, [])
    assert reviewer.get_username() in run.source
    assert f"Run {run.pk} queued" in response.content.decode()


def test_no_second_run_starts_while_one_is_running(client, reviewer, db):
    running = RefreshRun.objects.create(
        state=RefreshRun.State.RUNNING, started_at=timezone.now(), source="beat"
    )
    client.force_login(reviewer)
    response = client.post(reverse("citations:watch_start"), follow=True)
    assert list(RefreshRun.objects.values_list("pk", flat=True)) == [running.pk]
    assert f"Run {running.pk} is checking the cited papers now" in response.content.decode()
