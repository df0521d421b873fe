"""tests/fake_eutils.py: the fake NCBI server answers like NCBI, over real HTTP."""

import io
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest
from Bio import Entrez

from citations.pubmed import parse_pubmed_xml
from tests.fake_eutils import FakeEutils, synthetic_doi


@pytest.fixture
def server():
    with FakeEutils() as fake:
        yield fake


def get(server, endpoint, **params):
    url = f"{server.url}{endpoint}.fcgi?{urllib.parse.urlencode(params)}"
    with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 (local server)
        return response.status, response.headers["Content-Type"], response.read()


def test_efetch_serves_each_recorded_article_by_pmid(server):
    assert server.recorded_pmids == sorted(
        [9997, 12091962, 11700088, 11748933, 27797938, 28775130, 30108519, 29963580, 35560368]
    )
    status, content_type, body = get(server, "efetch", db="pubmed", id="11700088")
    assert status == 200
    assert content_type.startswith("text/xml")
    # One article out of the two-article recording pubmed2.xml.
    assert [r.pmid for r in parse_pubmed_xml(body)] == [11700088]


def test_efetch_keeps_the_order_asked_and_skips_unknown_pmids(server):
    _, _, body = get(server, "efetch", db="pubmed", id="9997,1,35560368")
    assert [r.pmid for r in parse_pubmed_xml(body)] == [9997, 35560368]
    _, _, body = get(server, "efetch", db="pubmed", id="1")
    assert parse_pubmed_xml(body) == []


def test_esearch_finds_a_pmid_by_doi_and_nothing_for_an_unknown_one(server):
    _, _, body = get(server, "esearch", db="pubmed", term="10.1111/cup.14261[doi]")
    assert Entrez.read(io.BytesIO(body))["IdList"] == ["35560368"]
    _, _, body = get(server, "esearch", db="pubmed", term='"10.1/none"[doi]')
    result = Entrez.read(io.BytesIO(body))
    assert result["IdList"] == []
    assert result["Count"] == "0"


def test_epost_then_efetch_by_history(server):
    _, _, body = get(server, "epost", db="pubmed", id="35560368")
    webenv = Entrez.read(io.BytesIO(body))["WebEnv"]
    _, _, body = get(server, "efetch", db="pubmed", WebEnv=webenv, query_key="1")
    assert [r.pmid for r in parse_pubmed_xml(body)] == [35560368]


def test_faults_are_served_once_then_normal_answers_resume(server):
    server.inject("503")
    with pytest.raises(urllib.error.HTTPError) as caught:
        get(server, "efetch", db="pubmed", id="9997")
    assert caught.value.code == 503
    assert get(server, "efetch", db="pubmed", id="9997")[0] == 200
    server.inject("html")
    _, content_type, body = get(server, "efetch", db="pubmed", id="9997")
    assert content_type.startswith("text/html") and b"<html" in body.lower()
    server.inject("truncated")
    _, _, body = get(server, "efetch", db="pubmed", id="9997")
    assert not body.rstrip().endswith(b"</PubmedArticleSet>")
    assert [(r.status, r.fault) for r in server.requests] == [
        (503, "503"),
        (200, ""),
        (200, "html"),
        (200, "truncated"),
    ]


def test_a_stall_holds_the_answer_back(server):
    server.stall_seconds = 0.6
    server.inject("stall")
    started = time.monotonic()
    get(server, "efetch", db="pubmed", id="9997")
    assert time.monotonic() - started >= 0.6


def test_the_rate_limit_is_enforced_with_429(server):
    server.rate_limit = 3
    codes = []
    for _ in range(5):
        try:
            codes.append(get(server, "efetch", db="pubmed", id="9997")[0])
        except urllib.error.HTTPError as exc:
            codes.append(exc.code)
    assert codes == [200, 200, 200, 429, 429]
    assert server.max_in_any_second() == 5  # every request is counted, refused or not


def test_synthetic_articles_are_renumbered_copies_with_their_own_doi(server):
    pmids = server.add_synthetic(3, first_pmid=90_000_001)
    _, _, body = get(server, "efetch", db="pubmed", id=",".join(map(str, pmids)))
    records = parse_pubmed_xml(body)
    assert [r.pmid for r in records] == pmids
    assert [r.doi for r in records] == [synthetic_doi(pmid) for pmid in pmids]
    _, _, body = get(server, "esearch", db="pubmed", term=f"{synthetic_doi(90_000_002)}[doi]")
    assert b"<Id>90000002</Id>" in body


def test_a_saved_search_answer_has_the_recorded_history_shape_and_honours_dates(server):
    from tests.fake_eutils import FIXTURES

    recorded = Entrez.read(io.BytesIO((FIXTURES / "esearch2.xml").read_bytes()))
    server.add_search("imt", {35560368: "2022/05/13", 27797938: "2016/11/01"})
    _, _, body = get(server, "esearch", term="imt", usehistory="y", retmax="0")
    answer = Entrez.read(io.BytesIO(body))
    assert set(recorded) <= set(answer) | {"TranslationStack"}
    assert answer["Count"] == "2" and answer["WebEnv"] and answer["QueryKey"] == "1"
    dated = Entrez.read(
        io.BytesIO(
            get(
                server,
                "esearch",
                term="imt",
                datetype="edat",
                mindate="2020/01/01",
                maxdate="2026/12/01",
                usehistory="y",
            )[2]
        )
    )
    assert dated["Count"] == "1"
    fetched = parse_pubmed_xml(
        get(server, "efetch", WebEnv=dated["WebEnv"], query_key="1", retstart="0", retmax="200")[2]
    )
    assert [r.pmid for r in fetched] == [35560368]
