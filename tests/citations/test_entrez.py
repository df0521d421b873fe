"""citations/entrez.py: the real Bio.Entrez against the fake E-utilities server."""

import threading
import time

import pytest
from Bio import Entrez

from citations import entrez
from citations.pubmed import ParsedArticle


def test_efetch_is_a_post_to_the_configured_base_url_with_email_tool_and_key(
    fake_eutils, settings
):
    settings.ENTREZ_EMAIL = "curators@example.org"
    settings.ENTREZ_TOOL = "rarederm-tests"
    settings.ENTREZ_API_KEY = "k123"
    records, tries = entrez.fetch_articles([35560368, 9997])
    assert [r.pmid for r in records] == [35560368, 9997]
    assert tries == 1
    (request,) = fake_eutils.requests
    assert (request.method, request.endpoint) == ("POST", "efetch")
    assert request.ids == ["35560368", "9997"]
    assert request.params["db"] == "pubmed"
    assert request.params["email"] == "curators@example.org"
    assert request.params["tool"] == "rarederm-tests"
    assert request.params["api_key"] == "k123"


def test_an_unknown_pmid_is_simply_absent_from_the_answer(fake_eutils):
    records, _ = entrez.fetch_articles([35560368, 1])
    assert [r.pmid for r in records] == [35560368]
    records, _ = entrez.fetch_articles([1])
    assert records == []


def test_more_than_200_pmids_must_go_in_batches(fake_eutils):
    with pytest.raises(ValueError, match="200"):
        entrez.fetch_articles(list(range(1, 202)))
    assert [len(b) for b in entrez.batches(range(450))] == [200, 200, 50]
    assert fake_eutils.count() == 0


def test_server_errors_are_retried_after_growing_pauses(fake_eutils, settings):
    settings.ENTREZ_BACKOFF = 0.2
    fake_eutils.inject("503", times=2)
    records, tries = entrez.fetch_articles([35560368])
    assert [r.pmid for r in records] == [35560368]
    assert tries == 3
    first, second, third = (r.at for r in fake_eutils.requests)
    # Backoff with jitter: 0.1-0.2 s, then 0.2-0.4 s.
    assert second - first >= 0.1
    assert third - second >= 0.2


def test_a_429_storm_ends_in_a_clear_error_after_the_last_try(fake_eutils):
    fake_eutils.inject("429", times=None)
    with pytest.raises(entrez.EntrezError) as caught:
        entrez.fetch_articles([35560368])
    assert str(caught.value) == (
        "efetch of 1 PMID(s): NCBI said too many requests (HTTP 429) (after 3 tries)"
    )
    assert fake_eutils.count("efetch") == 3


def test_a_stall_past_the_timeout_is_cut_short_and_retried(fake_eutils, settings):
    settings.ENTREZ_TIMEOUT = 0.5
    settings.ENTREZ_MAX_TRIES = 2
    fake_eutils.stall_seconds = 2.0
    fake_eutils.inject("stall", times=None)
    started = time.monotonic()
    with pytest.raises(entrez.EntrezError, match=r"did not answer within 0.5 s \(after 2 tries\)"):
        entrez.fetch_articles([35560368])
    assert time.monotonic() - started < 2.0  # two 0.5 s timeouts and a short pause
    fake_eutils.clear_faults()
    records, _ = entrez.fetch_articles([35560368])
    assert records[0].pmid == 35560368


def test_an_answer_that_trickles_in_is_cut_off_at_the_whole_answer_deadline(fake_eutils, settings):
    # One byte every 0.2 s never trips the 1 s socket timeout; only a deadline
    # on the whole answer stops it (the status line trickles too).
    settings.ENTREZ_TIMEOUT = 1.0
    settings.ENTREZ_DEADLINE = 1.5
    settings.ENTREZ_MAX_TRIES = 2
    fake_eutils.trickle_interval = 0.2
    fake_eutils.trickle_seconds = 12.0
    fake_eutils.inject("trickle", times=None)
    started = time.monotonic()
    with pytest.raises(
        entrez.EntrezError, match=r"did not arrive whole within 1.5 s \(after 2 tries\)"
    ):
        entrez.fetch_articles([35560368])
    # Two tries of 1.5 s and a short pause, not the 12 s the server would go on for.
    assert time.monotonic() - started < 6.0
    assert fake_eutils.count("efetch") == 2
    fake_eutils.clear_faults()
    records, _ = entrez.fetch_articles([35560368])
    assert records[0].pmid == 35560368


@pytest.mark.parametrize(
    ("fault", "message"),
    [
        ("html", "an HTML page, not PubMed XML"),
        ("truncated", "cut short"),
        ("empty", "the answer was empty"),
        ("500", r"server error \(HTTP 500\)"),
    ],
)
def test_garbled_answers_are_retried_then_reported(fake_eutils, fault, message):
    fake_eutils.inject(fault, times=None)
    with pytest.raises(entrez.EntrezError, match=message):
        entrez.fetch_articles([35560368])
    assert fake_eutils.count("efetch") == 3


def test_one_garbled_answer_is_overcome_by_the_retry(fake_eutils):
    fake_eutils.inject("truncated", times=1)
    records, tries = entrez.fetch_articles([35560368])
    assert isinstance(records[0], ParsedArticle)
    assert tries == 2


def test_a_doi_is_resolved_through_esearch(fake_eutils):
    assert entrez.resolve_doi("https://doi.org/10.1111/CUP.14261") == 35560368
    assert entrez.resolve_doi("10.9999/unknown.doi") is None
    terms = [r.params["term"] for r in fake_eutils.requests]
    assert terms == ['"10.1111/cup.14261"[doi]', '"10.9999/unknown.doi"[doi]']
    with pytest.raises(ValueError, match="not a DOI"):
        entrez.resolve_doi("not a doi")


def test_a_pmc_id_is_resolved_through_esearch(fake_eutils):
    assert entrez.resolve_pmcid("PMC5442267") == 27797938
    assert entrez.resolve_pmcid("PMC1") is None
    (request,) = [r for r in fake_eutils.requests if r.endpoint == "esearch"][:1]
    assert request.params["term"] == "PMC5442267[pmcid]"
    with pytest.raises(ValueError, match="not a PMC id"):
        entrez.resolve_pmcid("PMC1 OR cancer")


def test_a_doi_with_a_double_quote_never_reaches_pubmed_as_query_syntax(fake_eutils):
    # Inside the quoted term a `"` would end the phrase: the rest would be
    # read by PubMed as query syntax (here: OR every record with PMID 9997).
    hostile = '10.1000/x"[doi]OR"9997[uid]'
    with pytest.raises(ValueError, match="double quote"):
        entrez.resolve_doi(hostile)
    assert fake_eutils.count() == 0


def test_biopython_caches_dtds_under_the_data_folder(settings):
    entrez.configure()
    assert Entrez.local_cache == str(settings.ENTREZ_CACHE_DIR)
    assert str(settings.ENTREZ_CACHE_DIR).startswith(str(settings.DATA_DIR))
    assert Entrez.max_tries == 1  # retries are ours, with backoff


def _hammer(threads: int, each: int) -> None:
    def work():
        for _ in range(each):
            entrez.fetch_articles([35560368])

    workers = [threading.Thread(target=work) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()


def test_the_in_process_limiter_keeps_to_the_rate(fake_eutils, settings):
    settings.REDIS_URL = ""
    settings.ENTREZ_RATE_LIMIT = 5
    started = time.monotonic()
    _hammer(threads=3, each=3)
    assert fake_eutils.count("efetch") == 9
    assert fake_eutils.max_in_any_second() <= 5
    assert time.monotonic() - started >= 1.6  # 9 requests at 5/s (+10 % headroom)


def test_the_redis_limiter_keeps_to_the_rate(fake_eutils, settings, redis_url):
    settings.REDIS_URL = redis_url
    settings.ENTREZ_RATE_LIMIT = 5
    fake_eutils.rate_limit = 5  # NCBI's answer to a sixth request within a second
    _hammer(threads=3, each=3)
    assert fake_eutils.count("efetch") == 9
    assert fake_eutils.max_in_any_second() <= 5
    assert all(r.status == 200 for r in fake_eutils.requests)


def test_a_refused_connection_is_retried_then_reported(settings):
    import socket

    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings.ENTREZ_BASE_URL = f"http://127.0.0.1:{port}/entrez/eutils/"
    settings.ENTREZ_BACKOFF = 0.01
    settings.ENTREZ_MAX_TRIES = 2
    settings.ENTREZ_RATE_LIMIT = 50
    with pytest.raises(entrez.EntrezError, match=r"could not reach NCBI .*\(after 2 tries\)"):
        entrez.fetch_articles([35560368])
