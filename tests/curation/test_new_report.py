"""The new-report page: a PMID, DOI or PubMed link -> the citation, stored or fetched."""

import pytest
from django.urls import reverse

from citations.actions import parse_identifier
from citations.models import Citation, FetchJob
from tests.conftest import PASSWORD
from tests.factories import CitationFactory

pytestmark = pytest.mark.django_db

URL = reverse("curation:new_report")


@pytest.fixture
def as_curator(client, curator):
    client.login(username=curator.username, password=PASSWORD)
    return client


@pytest.mark.parametrize(
    "typed",
    [
        "35560368",
        "  35560368 ",
        "PMID: 35560368",
        "pmid35560368",
        "https://pubmed.ncbi.nlm.nih.gov/35560368/",
        "pubmed.ncbi.nlm.nih.gov/35560368/",
        "https://pubmed.ncbi.nlm.nih.gov/35560368/?from_term=ALK",
        "www.ncbi.nlm.nih.gov/pubmed/35560368",
    ],
)
def test_every_usual_way_of_writing_a_pmid_is_understood(typed):
    assert parse_identifier(typed).pmid == 35560368


@pytest.mark.parametrize(
    "typed", ["https://doi.org/10.1111/CUP.14261", "doi:10.1111/cup.14261", "10.1111/cup.14261"]
)
def test_a_doi_is_normalised_to_lower_case(typed):
    assert parse_identifier(typed).doi == "10.1111/cup.14261"


def test_a_reader_without_the_curator_role_is_refused(client, reader):
    client.login(username=reader.username, password=PASSWORD)
    assert client.get(URL).status_code == 403


def test_the_public_is_sent_to_log_in(client):
    response = client.get(URL)
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_a_stored_citation_is_used_at_once_without_a_fetch(as_curator):
    CitationFactory(pmid=35560368)
    response = as_curator.post(URL, {"identifier": "PMID: 35560368"})
    assert response.status_code == 302
    assert response["Location"] == reverse("curation:report", args=[35560368])
    assert FetchJob.objects.count() == 0


def test_a_stored_citation_is_found_by_its_doi(as_curator):
    CitationFactory(pmid=35560368, doi="10.1111/cup.14261")
    response = as_curator.post(URL, {"identifier": "https://doi.org/10.1111/CUP.14261"})
    assert response["Location"] == reverse("curation:report", args=[35560368])


def test_an_unknown_pmid_is_fetched_and_the_page_shows_the_citation(
    as_curator, curator, fake_eutils, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = as_curator.post(
            URL, {"identifier": "https://pubmed.ncbi.nlm.nih.gov/35560368/"}
        )
    job = FetchJob.objects.get()
    assert job.requested_by == curator
    assert response["Location"] == reverse("curation:report_fetch", args=[job.pk])
    page = as_curator.get(response["Location"]).content.decode()
    citation = Citation.objects.get(pmid=35560368)
    assert "Found 35560368 in PubMed" in page
    # Author line, title, journal and abstract.
    assert "McCollum" in page
    assert "Cutaneous inflammatory myofibroblastic tumor with CARS-ALK fusion" in page
    assert citation.journal_iso in page
    assert citation.abstract[0]["text"][:40] in page
    assert reverse("curation:case_new", args=[35560368]) in page


def test_while_the_fetch_runs_the_partial_polls_and_then_stops(as_curator, curator):
    # No on-commit execution: the job stays pending, as when the worker is busy.
    from citations.actions import request_fetch

    job = request_fetch(["35560368"], by=curator, queue=False)
    url = reverse("curation:report_fetch", args=[job.pk])
    partial = as_curator.get(url, headers={"HX-Request": "true"}).content.decode()
    assert 'hx-trigger="every 1s"' in partial
    assert "<html" not in partial
    assert 'data-state="pending"' in partial
    assert "Waiting for a worker" in partial and 'data-total="1"' in partial


def test_a_pmid_pubmed_does_not_know_shows_a_clear_error_and_try_again(
    as_curator, fake_eutils, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = as_curator.post(URL, {"identifier": "99999999"})
    page = as_curator.get(response["Location"]).content.decode()
    assert "Could not get 99999999 from PubMed" in page
    assert "PubMed has no record with PMID 99999999" in page
    assert "Try again" in page
    assert 'hx-trigger="every 1s"' not in page


def test_try_again_fetches_the_failed_pmid_again(
    as_curator, fake_eutils, django_capture_on_commit_callbacks
):
    fake_eutils.inject("500", times=10)
    with django_capture_on_commit_callbacks(execute=True):
        response = as_curator.post(URL, {"identifier": "35560368"})
    job = FetchJob.objects.get()
    assert "Could not get" in as_curator.get(response["Location"]).content.decode()
    fake_eutils.clear_faults()
    with django_capture_on_commit_callbacks(execute=True):
        as_curator.post(reverse("curation:report_fetch_retry", args=[job.pk]))
    assert Citation.objects.filter(pmid=35560368).exists()
    assert "Found 35560368" in as_curator.get(response["Location"]).content.decode()


def test_a_pmc_link_finds_the_stored_paper_or_asks_pubmed_for_it(as_curator):
    CitationFactory(pmid=27797938, pmcid="PMC5442267")
    link = "https://pmc.ncbi.nlm.nih.gov/articles/PMC5442267/"
    response = as_curator.post(URL, {"identifier": link})
    assert response["Location"] == reverse("curation:report", args=[27797938])
    assert FetchJob.objects.count() == 0
    as_curator.post(URL, {"identifier": "PMCID: PMC1234567"})
    assert FetchJob.objects.get().items.get().query == "PMC1234567"


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("", "Enter a PMID, a DOI or a PubMed link."),
        ("hello", "is not a PMID"),
        ("-5", "is not a PMID"),
        ("<script>alert(1)</script>", "&lt;script&gt;"),
        ("9" * 400, "is too long (400 characters)"),
    ],
)
def test_input_that_is_no_identifier_is_refused_next_to_the_field(as_curator, typed, message):
    response = as_curator.post(URL, {"identifier": typed})
    assert response.status_code == 200
    page = response.content.decode()
    assert message in page
    assert "<script>alert(1)</script>" not in page
    assert FetchJob.objects.count() == 0


def test_another_curators_fetch_job_is_not_found(client, curator2, curator):
    from citations.actions import request_fetch

    job = request_fetch(["35560368"], by=curator, queue=False)
    client.login(username=curator2.username, password=PASSWORD)
    assert client.get(reverse("curation:report_fetch", args=[job.pk])).status_code == 404


def test_the_form_page_has_a_fixed_query_budget(as_curator, django_assert_max_num_queries):
    with django_assert_max_num_queries(4):
        assert as_curator.get(URL).status_code == 200


@pytest.mark.django_db(transaction=True)
def test_with_a_real_worker_the_page_polls_until_the_citation_arrives(
    client, curator, fake_eutils, start_worker
):
    """In production the fetch runs in a Celery worker: the page shows progress, then the paper."""
    import time

    start_worker(**fake_eutils.worker_env)
    client.force_login(curator)
    response = client.post(URL, {"identifier": "35560368"})
    job = FetchJob.objects.get()
    assert response["Location"] == reverse("curation:report_fetch", args=[job.pk])
    deadline = time.monotonic() + 30
    while True:
        partial = client.get(response["Location"], headers={"HX-Request": "true"}).content.decode()
        if "Found 35560368 in PubMed" in partial or time.monotonic() > deadline:
            break
        assert 'hx-trigger="every 1s"' in partial  # still polling
        time.sleep(0.3)
    assert "Found 35560368 in PubMed" in partial
    assert 'hx-trigger="every 1s"' not in partial  # the polling stops
    assert "McCollum" in partial


def test_the_fetch_page_has_a_fixed_query_budget(
    as_curator, curator, django_assert_max_num_queries
):
    from citations.actions import store_article
    from citations.pubmed import iter_records
    from tests.fake_eutils import FIXTURES

    (record,) = iter_records(FIXTURES / "pubmed_35560368.xml")
    citation, _ = store_article(record)
    from citations.actions import request_fetch

    job = request_fetch(["35560368"], by=curator, queue=False)
    job.items.update(status="new", citation=citation)
    job.state = "done"
    job.save()
    with django_assert_max_num_queries(8):
        page = as_curator.get(reverse("curation:report_fetch", args=[job.pk])).content.decode()
    assert "Found 35560368 in PubMed" in page
