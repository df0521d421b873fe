"""Bulk import: PMIDs pasted or uploaded -> one fetch job -> per-PMID outcome -> cases."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from citations.models import Citation, FetchJob, FetchJobItem
from curation.views.bulk_import import parse_list
from tests.curation.curate_forms import log_in

pytestmark = pytest.mark.django_db

URL = reverse("curation:bulk_import")
# PMIDs the fake E-utilities server knows (tests/fixtures/entrez).
KNOWN = ["35560368", "12091962", "11700088"]
UNKNOWN = "99999999"


@pytest.fixture
def client_(client, curator):
    return log_in(client, curator)


def test_parse_list_reports_invalid_lines_by_number_and_repeats():
    parsed = parse_list("35560368\n\nhello\nPMID: 12091962, 35560368\n# a comment\n-4\n")
    assert [(e.line, e.query) for e in parsed.entries] == [(1, "35560368"), (4, "12091962")]
    assert [(e.line, e.text) for e in parsed.invalid] == [(3, "hello"), (6, "-4")]
    assert [(e.line, e.query) for e in parsed.repeats] == [(4, "35560368")]


def test_parse_list_skips_a_csv_header_and_reads_cells():
    parsed = parse_list('pmid,note\n35560368,"the founding case"\n12091962,\n', is_csv=True)
    assert parsed.header == "pmid,note"
    assert [e.query for e in parsed.entries] == ["35560368", "12091962"]
    assert [e.text for e in parsed.invalid] == ["the founding case"]


def test_a_pasted_list_becomes_one_job_whose_page_shows_each_outcome(
    client_, curator, fake_eutils, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client_.post(URL, {"pmids": "\n".join([*KNOWN, UNKNOWN])})
    job = FetchJob.objects.get()
    assert response["Location"] == reverse("curation:bulk_job", args=[job.pk])
    assert (job.requested_by, job.source) == (curator, "bulk import")
    page = client_.get(response["Location"]).content.decode()
    assert 'data-done="4"' in page and 'data-new="3"' in page and 'data-failed="1"' in page
    assert "data-pending" not in page  # nothing waits
    assert f"PubMed has no record with PMID {UNKNOWN}" in page
    for pmid in KNOWN:
        assert reverse("curation:report", args=[int(pmid)]) in page  # "Add cases"
    assert "Retry failed" in page
    assert 'hx-trigger="every 1s"' not in page  # finished: no more polling


def test_invalid_lines_stop_the_import_until_the_curator_decides(
    client_, fake_eutils, django_capture_on_commit_callbacks
):
    text = "35560368\nnot-a-pmid\n12091962\n<script>alert(1)</script>\n"
    response = client_.post(URL, {"pmids": text})
    assert response.status_code == 422
    page = response.content.decode()
    assert "Line 2: “not-a-pmid” is not a PMID" in page
    assert "Line 4: “&lt;script&gt;alert(1)&lt;/script&gt;”" in page
    assert "<script>alert(1)</script>" not in page
    assert "not-a-pmid" in page.split("<textarea")[1]  # the list is kept for correcting
    assert FetchJob.objects.count() == 0

    with django_capture_on_commit_callbacks(execute=True):
        response = client_.post(URL, {"pmids": text, "skip_invalid": "on"})
    job = FetchJob.objects.get()
    # Nothing dropped silently: the invalid lines are failed items with their reason.
    failed = job.items.filter(status=FetchJobItem.Status.FAILED)
    assert sorted(failed.values_list("query", flat=True)) == [
        "<script>alert(1)</script>",
        "not-a-pmid",
    ]
    assert Citation.objects.filter(pmid__in=[35560368, 12091962]).count() == 2


def test_more_than_1000_pmids_are_refused_and_nothing_starts(client_):
    text = "\n".join(str(10_000_000 + n) for n in range(1001))
    response = client_.post(URL, {"pmids": text})
    assert response.status_code == 422
    assert "That is 1,001 PMIDs/DOIs; at most 1,000 per import." in response.content.decode()
    assert FetchJob.objects.count() == 0


def test_exactly_1000_pmids_are_accepted(client_, curator):
    text = "\n".join(str(10_000_000 + n) for n in range(1000))
    client_.post(URL, {"pmids": text})  # on_commit not run: the job just waits
    assert FetchJob.objects.get().items.count() == 1000


def test_a_csv_upload_is_read(client_, fake_eutils, django_capture_on_commit_callbacks):
    upload = SimpleUploadedFile("pmids.csv", b"\xef\xbb\xbfPMID\r\n35560368\r\n12091962\r\n")
    with django_capture_on_commit_callbacks(execute=True):
        client_.post(URL, {"file": upload})
    assert sorted(FetchJob.objects.get().items.values_list("query", flat=True)) == [
        "12091962",
        "35560368",
    ]


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("list.pdf", b"35560368", "Upload a .txt or .csv file"),
        ("list.txt", b"\x00\x01\x02binary", "That file is not text"),
        ("list.txt", b"   \n\n", "No PMID or DOI found"),
    ],
)
def test_a_bad_upload_is_refused_clearly(client_, name, content, message):
    response = client_.post(URL, {"file": SimpleUploadedFile(name, content)})
    assert response.status_code == 422
    assert message in response.content.decode()
    assert FetchJob.objects.count() == 0


def test_pasting_and_uploading_at_once_is_refused(client_):
    response = client_.post(
        URL, {"pmids": "35560368", "file": SimpleUploadedFile("a.txt", b"12091962")}
    )
    assert "Paste a list or upload a file, not both." in response.content.decode()


def test_retry_failed_fetches_the_failures_again(
    client_, fake_eutils, django_capture_on_commit_callbacks
):
    fake_eutils.inject("500", times=10)
    with django_capture_on_commit_callbacks(execute=True):
        client_.post(URL, {"pmids": "35560368"})
    job = FetchJob.objects.get()
    assert job.items.get().status == FetchJobItem.Status.FAILED
    fake_eutils.clear_faults()
    with django_capture_on_commit_callbacks(execute=True):
        client_.post(reverse("curation:bulk_retry", args=[job.pk]))
    assert job.items.get().status == FetchJobItem.Status.NEW


def test_the_job_page_has_a_fixed_query_budget(client_, curator, django_assert_max_num_queries):
    from citations.actions import request_fetch

    job = request_fetch([str(10_000_000 + n) for n in range(300)], by=curator, queue=False)
    with django_assert_max_num_queries(7):
        response = client_.get(reverse("curation:bulk_job", args=[job.pk]))
    assert response.content.decode().count("<tr data-query=") == 300


def test_another_curators_import_is_not_found(client, curator, curator2):
    from citations.actions import request_fetch

    job = request_fetch(["35560368"], by=curator, queue=False)
    log_in(client, curator2)
    assert client.get(reverse("curation:bulk_job", args=[job.pk])).status_code == 404
    assert client.post(reverse("curation:bulk_retry", args=[job.pk])).status_code == 404


def test_a_reader_cannot_import(client, reader):
    log_in(client, reader)
    assert client.get(URL).status_code == 403
