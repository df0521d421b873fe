"""Fetch jobs (citations/actions/jobs.py): a request is a row first, then a task; every
PMID ends added, updated or failed with a reason, and failures can be retried.

Tasks run inline here (eager Celery); tests/citations/test_run_fetch_job_task.py
runs them in real worker processes.
"""

from datetime import timedelta

import pytest
from django.utils import timezone
from kombu.exceptions import OperationalError

from citations import actions, tasks
from citations.models import Citation, FetchBatch, FetchJob, FetchJobItem

pytestmark = pytest.mark.django_db


def fetch(identifiers, capture, by=None) -> FetchJob:
    with capture(execute=True):
        job = actions.request_fetch(identifiers, by=by)
    job.refresh_from_db()
    return job


def outcomes(job: FetchJob) -> list[tuple[str, str, str]]:
    return list(job.items.order_by("position").values_list("query", "status", "error"))


def test_the_job_row_is_written_before_the_task_is_queued(
    fake_eutils, django_capture_on_commit_callbacks, curator
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        job = actions.request_fetch(["35560368"], by=curator)
    assert len(callbacks) == 1  # queued only once the transaction commits
    job.refresh_from_db()
    assert job.state == FetchJob.State.PENDING
    assert job.requested_by == curator
    assert outcomes(job) == [("35560368", "pending", "")]
    assert fake_eutils.count() == 0
    callbacks[0]()
    job.refresh_from_db()
    assert job.state == FetchJob.State.DONE
    assert outcomes(job) == [("35560368", "new", "")]


def test_the_founding_paper_is_fetched_and_stored(fake_eutils, django_capture_on_commit_callbacks):
    job = fetch(["35560368"], django_capture_on_commit_callbacks)
    assert job.finished_at is not None
    citation = Citation.objects.get(pmid=35560368)
    assert citation.doi == "10.1111/cup.14261"
    assert citation.journal_iso == "J Cutan Pathol"
    assert citation.authors_complete is False
    assert list(citation.authors.values_list("last_name", "initials")) == [("McCollum", "KJ")]
    assert citation.raw_xml.startswith("<PubmedArticle>")
    assert citation.fetch_status == Citation.FetchStatus.FETCHED
    assert job.items.get().citation == citation


def test_identifiers_are_normalised_and_asked_once(
    fake_eutils, django_capture_on_commit_callbacks
):
    job = fetch(
        [
            "PMID: 35560368",
            "https://pubmed.ncbi.nlm.nih.gov/9997/",
            "35560368",
            "  ",
            "https://doi.org/10.1006/CRYO.2001.2328",
        ],
        django_capture_on_commit_callbacks,
    )
    assert outcomes(job) == [
        ("35560368", "new", ""),
        ("9997", "new", ""),
        ("10.1006/cryo.2001.2328", "new", ""),
    ]
    assert job.items.get(position=2).pmid == 11748933
    # One efetch for the two PMIDs and the DOI's PMID, after one esearch.
    assert [r.endpoint for r in fake_eutils.requests] == ["esearch", "efetch"]


def test_an_empty_request_is_refused():
    with pytest.raises(ValueError, match="at least one"):
        actions.request_fetch(["", "  "])
    assert FetchJob.objects.count() == 0


def test_fetching_the_same_pmid_twice_leaves_one_row_updated(
    fake_eutils, django_capture_on_commit_callbacks
):
    fetch(["35560368"], django_capture_on_commit_callbacks)
    Citation.objects.filter(pmid=35560368).update(title="stale")
    second = fetch(["35560368"], django_capture_on_commit_callbacks)
    assert outcomes(second) == [("35560368", "updated", "")]
    assert Citation.objects.count() == 1
    citation = Citation.objects.get()
    assert citation.title.startswith("Cutaneous inflammatory myofibroblastic tumor")
    assert citation.authors.count() == 1


def test_a_non_numeric_pmid_fails_at_once_without_asking_ncbi(
    fake_eutils, django_capture_on_commit_callbacks
):
    job = fetch(["12ab34"], django_capture_on_commit_callbacks)
    assert job.state == FetchJob.State.DONE
    assert outcomes(job) == [
        (
            "12ab34",
            "failed",
            "“12ab34” is not a PMID (35560368), a DOI (10.1111/cup.14261), a PMC id "
            "(PMC5442267) or a PubMed, doi.org or PMC link.",
        )
    ]
    assert fake_eutils.count() == 0
    assert Citation.objects.count() == 0
    # Retrying cannot make it a PMID: nothing is retried, and it says so.
    assert actions.retry_failed(job) == 0


def test_an_unknown_doi_fails_with_a_clear_reason(fake_eutils, django_capture_on_commit_callbacks):
    job = fetch(["10.9999/nowhere"], django_capture_on_commit_callbacks)
    assert outcomes(job) == [
        ("10.9999/nowhere", "failed", "PubMed has no article with the DOI 10.9999/nowhere.")
    ]


def test_a_doi_with_a_double_quote_fails_alone_with_its_reason(
    fake_eutils, django_capture_on_commit_callbacks
):
    job = fetch(['10.1000/x"[doi]OR"9997[uid]', "35560368"], django_capture_on_commit_callbacks)
    (failed, fetched) = outcomes(job)
    assert failed[1] == "failed"
    assert "double quote" in failed[2]
    assert fetched[:2] == ("35560368", "new")
    assert fake_eutils.count("esearch") == 0
    assert not Citation.objects.filter(pmid=9997).exists()


def test_a_malformed_article_fails_alone_and_is_not_asked_for_again(
    fake_eutils, django_capture_on_commit_callbacks
):
    bogus = fake_eutils.article_xml(35560368).replace(">35560368<", ">2<", 1)
    fake_eutils.add_article(bogus.replace("</Article>", "<Bogus>x</Bogus></Article>", 1))
    job = fetch(["35560368", "2", "9997"], django_capture_on_commit_callbacks)
    found = {query: (status, error) for query, status, error in outcomes(job)}
    assert found["35560368"] == ("new", "")
    assert found["9997"] == ("new", "")
    assert found["2"][0] == "failed"
    assert "PubMed's record of PMID 2 could not be read" in found["2"][1]
    assert "Bogus" in found["2"][1]
    # One efetch: a record that is wrong in PubMed stays wrong, so no retries.
    assert fake_eutils.count("efetch") == 1
    assert set(Citation.objects.values_list("pmid", flat=True)) == {35560368, 9997}


BAD_ANSWERS = {
    "unknown PMID": (None, "PubMed has no record with PMID 1."),
    "HTML page": ("html", "NCBI sent a bad answer: the answer was an HTML page, not PubMed XML"),
    "truncated XML": ("truncated", "the answer was cut short"),
    "429 storm": ("429", "NCBI said too many requests (HTTP 429) (after 3 tries)"),
    "stall": ("stall", "NCBI did not answer within 0.5 s (after 3 tries)"),
    "503": ("503", "NCBI had a server error (HTTP 503) (after 3 tries)"),
    "trickle": ("trickle", "NCBI's answer did not arrive whole within 0.8 s (after 3 tries)"),
}


@pytest.mark.parametrize("case", list(BAD_ANSWERS))
def test_a_bad_answer_ends_in_a_per_pmid_error_no_row_and_a_working_retry(
    case, fake_eutils, django_capture_on_commit_callbacks, settings
):
    fault, message = BAD_ANSWERS[case]
    settings.ENTREZ_TIMEOUT = 0.5
    settings.ENTREZ_DEADLINE = 0.8
    fake_eutils.stall_seconds = 1.0
    fake_eutils.trickle_interval = 0.1
    pmid = "1" if fault is None else "35560368"
    if fault:
        fake_eutils.inject(fault, times=None, endpoint="efetch")
    job = fetch([pmid, "9997"] if fault is None else [pmid], django_capture_on_commit_callbacks)

    item = job.items.get(query=pmid)
    assert item.status == FetchJobItem.Status.FAILED
    assert message in item.error
    assert job.state == FetchJob.State.DONE
    assert not Citation.objects.filter(pmid=int(pmid)).exists()  # no partial row

    fake_eutils.clear_faults()
    if fault is None:
        # NCBI learns of the article later: the retry picks it up.
        fake_eutils.add_article(fake_eutils.article_xml(35560368).replace(">35560368<", ">1<", 1))
    with django_capture_on_commit_callbacks(execute=True):
        assert actions.retry_failed(job) == 1
    job.refresh_from_db()
    item.refresh_from_db()
    assert job.state == FetchJob.State.DONE
    assert (item.status, item.error) == (FetchJobItem.Status.NEW, "")
    assert Citation.objects.filter(pmid=int(pmid)).exists()


def test_a_failed_refresh_keeps_the_stored_record_and_says_so(
    fake_eutils, django_capture_on_commit_callbacks
):
    fetch(["35560368"], django_capture_on_commit_callbacks)
    fake_eutils.inject("503", times=None)
    job = fetch(["35560368"], django_capture_on_commit_callbacks)
    assert job.items.get().status == FetchJobItem.Status.FAILED
    citation = Citation.objects.get(pmid=35560368)
    assert citation.fetch_status == Citation.FetchStatus.REFRESH_FAILED
    assert "HTTP 503" in citation.fetch_error
    assert citation.title.startswith("Cutaneous")


def test_a_refresh_that_pubmed_now_sends_malformed_keeps_the_stored_record(
    fake_eutils, django_capture_on_commit_callbacks
):
    fetch(["35560368"], django_capture_on_commit_callbacks)
    good = fake_eutils.article_xml(35560368)
    fake_eutils.add_article(good.replace("</Article>", "<Bogus>x</Bogus></Article>", 1))
    job = fetch(["35560368"], django_capture_on_commit_callbacks)
    assert job.items.get().status == FetchJobItem.Status.FAILED
    citation = Citation.objects.get(pmid=35560368)
    assert citation.fetch_status == Citation.FetchStatus.REFRESH_FAILED
    assert "could not be read" in citation.fetch_error
    assert citation.title.startswith("Cutaneous")


def test_a_request_survives_a_broker_outage_through_the_sweep(
    fake_eutils, django_capture_on_commit_callbacks, monkeypatch
):
    def broker_down(*args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(tasks.run_fetch_job, "delay", broker_down)
    with django_capture_on_commit_callbacks(execute=True):
        job = actions.request_fetch(["35560368"])
    job.refresh_from_db()
    assert job.state == FetchJob.State.PENDING  # the row is kept: nothing is lost
    assert job.queued_at is not None

    monkeypatch.undo()
    assert actions.requeue_stalled_jobs() == []  # too recent to be called lost
    later = timezone.now() + actions.REQUEUE_AFTER + timedelta(seconds=1)
    assert actions.requeue_stalled_jobs(now=later) == [job.pk]
    job.refresh_from_db()
    assert job.state == FetchJob.State.DONE
    assert outcomes(job) == [("35560368", "new", "")]


def test_the_periodic_sweep_is_scheduled(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["citations-sweep-fetch-jobs"]
    assert entry["task"] == tasks.sweep_fetch_jobs.name


def test_a_job_run_twice_does_no_harm(fake_eutils, django_capture_on_commit_callbacks):
    job = fetch(["35560368"], django_capture_on_commit_callbacks)
    requests = fake_eutils.count()
    tasks.run_fetch_job(job.pk)  # a re-delivered message
    assert fake_eutils.count() == requests
    assert outcomes(job) == [("35560368", "new", "")]
    tasks.run_fetch_job(999_999)  # a job deleted meanwhile


def test_a_job_larger_than_a_batch_is_fetched_one_task_per_batch(
    fake_eutils, django_capture_on_commit_callbacks, settings, monkeypatch
):
    settings.ENTREZ_BATCH_SIZE = 4
    queued = []
    run_batch = tasks.fetch_batch.delay
    monkeypatch.setattr(
        tasks.fetch_batch, "delay", lambda *args: (queued.append(args), run_batch(*args))
    )
    pmids = [str(p) for p in fake_eutils.recorded_pmids]  # 9 PMIDs: batches of 4, 4, 1
    job = fetch(pmids, django_capture_on_commit_callbacks)
    batches = {batch.pk: batch for batch in job.batches.all()}
    assert sorted(batch_id for (batch_id,) in queued) == sorted(batches)
    assert [batches[batch_id].items.count() for (batch_id,) in queued] == [4, 4, 1]
    assert {batch.state for batch in batches.values()} == {FetchBatch.State.DONE}
    assert [r.endpoint for r in fake_eutils.requests] == ["efetch"] * 3
    assert job.state == FetchJob.State.DONE and job.finished_at is not None
    assert {status for _, status, _ in outcomes(job)} == {"new"}
    assert Citation.objects.count() == 9


def test_a_batch_delivered_twice_does_no_harm(fake_eutils, django_capture_on_commit_callbacks):
    job = fetch(["35560368", "9997"], django_capture_on_commit_callbacks)
    requests = fake_eutils.count()
    batch = job.batches.get()
    tasks.fetch_batch(batch.pk)  # a re-delivered message (acks_late, visibility timeout)
    assert fake_eutils.count() == requests  # the batch is done: NCBI is not asked again
    assert outcomes(job) == [("35560368", "new", ""), ("9997", "new", "")]
    assert Citation.objects.count() == 2


def test_a_pmid_asked_as_pmid_and_as_doi_is_fetched_once_and_new_once(
    fake_eutils, django_capture_on_commit_callbacks
):
    job = fetch(["11748933", "10.1006/cryo.2001.2328"], django_capture_on_commit_callbacks)
    assert outcomes(job) == [("11748933", "new", ""), ("10.1006/cryo.2001.2328", "updated", "")]
    assert fake_eutils.count("efetch") == 1
    assert Citation.objects.count() == 1


def test_a_running_job_whose_batches_were_lost_is_queued_again_by_the_sweep(
    fake_eutils, django_capture_on_commit_callbacks, monkeypatch, settings
):
    def broker_down(*args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(tasks.fetch_batch, "delay", broker_down)
    job = fetch(["35560368"], django_capture_on_commit_callbacks)
    assert job.state == FetchJob.State.RUNNING
    assert outcomes(job) == [("35560368", "pending", "")]
    batch = job.batches.get()
    assert (batch.state, batch.queued_at) == (FetchBatch.State.QUEUED, None)  # kept, unsent

    monkeypatch.undo()
    # The batch is a row: the next sweep sends it (the job itself needs nothing).
    assert actions.requeue_stalled_jobs() == []
    next_sweep = timezone.now() + actions.UNSENT_GRACE + timedelta(seconds=1)
    assert actions.requeue_stalled_batches(now=next_sweep) == [batch.pk]
    job.refresh_from_db()
    assert job.state == FetchJob.State.DONE
    assert outcomes(job) == [("35560368", "new", "")]


def test_a_doi_another_pmid_holds_is_explained_on_the_item(
    fake_eutils, django_capture_on_commit_callbacks
):
    fetch(["35560368"], django_capture_on_commit_callbacks)
    twin = fake_eutils.article_xml(35560368).replace(">35560368<", ">42<", 1)
    fake_eutils.add_article(twin)
    job = fetch(["42", "9997"], django_capture_on_commit_callbacks)
    assert outcomes(job) == [
        (
            "42",
            "new",
            "Stored without its DOI 10.1111/cup.14261: "
            "PubMed gives that DOI to PMID 35560368 too.",
        ),
        ("9997", "new", ""),
    ]
    assert Citation.objects.get(pmid=42).doi == ""


def test_the_job_page_shows_the_note_of_a_citation_stored_without_its_doi(
    client, curator, fake_eutils, django_capture_on_commit_callbacks
):
    fetch(["35560368"], django_capture_on_commit_callbacks)
    twin = fake_eutils.article_xml(35560368).replace(">35560368<", ">42<", 1)
    fake_eutils.add_article(twin)
    job = fetch(["42"], django_capture_on_commit_callbacks, by=curator)
    client.force_login(curator)
    html = client.get(f"/citations/jobs/{job.pk}/").content.decode()
    assert "Stored without its DOI 10.1111/cup.14261" in html
    assert 'href="/citations/42/"' in html
