"""citations/pubmed.py: every recorded PubMed file parses to the values written in it.

Expected values were read by hand from the XML files in tests/fixtures/entrez/.
No database: the parser is free of Django.
"""

import datetime as dt
import gzip
import tracemalloc
from pathlib import Path

import pytest

from citations import pubmed
from citations.pubmed import ParsedArticle, ParsedDeletion, iter_records

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "entrez"


def parse(name: str) -> dict[int, ParsedArticle]:
    return {record.pmid: record for record in iter_records(FIXTURES / name)}


def test_the_founding_paper_parses_to_its_citation():
    record = parse("pubmed_35560368.xml")[35560368]
    assert record.kind == "article"
    assert record.title == (
        "Cutaneous inflammatory myofibroblastic tumor with CARS-ALK fusion: "
        "Case report and literature review."
    )
    assert record.doi == "10.1111/cup.14261"  # from ArticleIdList
    assert record.pmcid == ""
    assert record.journal == "Journal of cutaneous pathology"
    assert record.journal_iso == "J Cutan Pathol"
    assert (record.volume, record.issue, record.pages) == ("49", "9", "795-801")
    assert (record.year, record.month, record.day) == (2022, 9, None)
    assert record.epub_date == dt.date(2022, 6, 6)
    assert record.language == "eng"
    assert record.publication_types == ["Case Reports", "Review"]
    assert record.mesh_terms == []
    assert record.keywords == [
        "ALK",
        "cutaneous spindle cell tumors",
        "inflammatory myofibroblastic tumor",
    ]
    assert [(a.last_name, a.fore_name, a.initials) for a in record.authors] == [
        ("McCollum", "Kasey J", "KJ")
    ]
    assert record.authors_complete is False  # CompleteYN="N"
    assert record.retracted is False
    assert len(record.abstract) == 1
    assert record.abstract[0]["label"] == ""
    assert record.abstract[0]["text"].startswith("Cutaneous inflammatory myofibroblastic tumors")
    assert record.abstract[0]["text"].endswith(
        "confirming the accurate diagnosis of a cutaneous IMT."
    )
    assert record.raw_xml.startswith("<PubmedArticle>")
    assert record.raw_xml.endswith("</PubmedArticle>")
    assert '<PMID Version="1">35560368</PMID>' in record.raw_xml


def test_a_review_without_abstract_keeps_its_season_and_full_mesh():
    record = parse("pubmed1.xml")[12091962]
    assert record.title == "The treatment of AIDS behind the walls of correctional facilities."
    assert record.abstract == []
    assert (record.year, record.month, record.season) == (1990, None, "Spring")
    assert record.pages == "113-25"
    assert record.publication_types == ["Journal Article", "Review"]
    assert record.doi == ""
    assert len(record.mesh_terms) == 19
    assert record.mesh_terms[1] == {
        "descriptor": "Acquired Immunodeficiency Syndrome",
        "ui": "D000163",
        "major": True,
        "qualifiers": [],
    }
    assert record.keywords == ["Health Care and Public Health", "Legal Approach"]
    assert [(a.last_name, a.fore_name) for a in record.authors] == [("Olivero", "J Michael")]


def test_a_full_date_and_mesh_qualifiers_are_read():
    record = parse("pubmed1.xml")[9997]
    assert (record.year, record.month, record.day) == (1976, 9, 28)
    assert record.volume == "446"
    assert record.journal_iso == "Biochim Biophys Acta"
    chromatium = next(t for t in record.mesh_terms if t["descriptor"] == "Chromatium")
    assert chromatium["qualifiers"] == [{"name": "enzymology", "ui": "Q000201", "major": True}]


def test_affiliations_copyright_and_all_authors_of_pubmed2():
    records = parse("pubmed2.xml")
    assert set(records) == {11748933, 11700088}
    cryo = records[11748933]
    assert cryo.doi == "10.1006/cryo.2001.2328"
    assert cryo.copyright == "Copyright 2001 Elsevier Science."
    assert [a.last_name for a in cryo.authors] == [
        "Taddei",
        "Barbato",
        "Abelli",
        "Canese",
        "Moretti",
        "Rana",
        "Fausto",
        "Mazzini",
    ]
    # &#xe0; in the XML becomes à
    assert cryo.authors[0].affiliations == [
        "Dipartimento di Scienze Ambientali, Università degli Studi della Tuscia, "
        "01100 Viterbo, Italy."
    ]
    assert cryo.authors[1].affiliations == []
    # "P &lt; 0.001" in the XML stays text, escaped once, never a tag
    assert "(P &lt; 0.001)" in cryo.abstract[0]["text"]
    sea_bream = next(t for t in cryo.mesh_terms if t["descriptor"] == "Sea Bream")
    assert [q["name"] for q in sea_bream["qualifiers"]] == ["anatomy & histology", "physiology"]
    assert (records[11700088].year, records[11700088].month) == (2001, 11)


def test_italic_title_structured_abstract_and_pmc_id_of_pubmed4():
    record = parse("pubmed4.xml")[27797938]
    assert record.title == (
        "Leucocyte telomere length, genetic variants at the <i>TERT</i> gene region "
        "and risk of pancreatic cancer."
    )
    assert record.pmcid == "PMC5442267"
    assert record.doi == "10.1136/gutjnl-2016-312510"
    assert [s["label"] for s in record.abstract] == [
        "OBJECTIVE",
        "DESIGN",
        "RESULTS",
        "CONCLUSIONS",
    ]
    assert "r<sup>2</sup>&lt;0.25" in record.abstract[2]["text"]
    assert "p<sub>trend</sub>=0.048" in record.abstract[2]["text"]
    assert (record.year, record.month) == (2017, 6)
    assert record.epub_date == dt.date(2016, 10, 21)
    assert len(record.mesh_terms) == 21
    assert record.keywords == ["PANCREATIC CANCER"]
    assert record.copyright.startswith("Published by the BMJ Publishing Group Limited.")
    assert len(record.authors) == 22


def test_nlm_categories_of_a_structured_abstract_are_kept():
    record = parse("pubmed5.xml")[28775130]
    assert [(s["label"], s["category"]) for s in record.abstract] == [
        ("OBJECTIVES", "OBJECTIVE"),
        ("METHODS", "METHODS"),
        ("RESULTS", "RESULTS"),
        ("CONCLUSIONS", "CONCLUSIONS"),
    ]
    assert (record.year, record.month, record.pages) == (2018, 2, "79-89")
    assert record.pmcid == "PMC5771820"
    assert "thyroid stimulating hormone" in record.keywords


def test_mathml_becomes_readable_text_and_markup_stays_inline():
    record = parse("pubmed6.xml")[30108519]
    assert record.title == (
        'A "<i>Blood Relationship"</i> Between the Overlooked Minimum Lactate Equivalent '
        "and Maximal Lactate Steady State in Trained Runners. Back to the Old Days?"
    )
    text = record.abstract[0]["text"]
    assert "<math" not in text and "<mi>" not in text and "<msub>" not in text
    # V̇O2max: V with a dot above, O, subscript "2max"
    assert "maximal oxygen uptake ( V\u0307O<sub>2max</sub> ) 67.6" in text
    assert "km·h<sup>-1</sup>" in text
    assert (record.year, record.month, record.volume, record.pages) == (2018, None, "9", "1034")
    assert record.doi == "10.3389/fphys.2018.01034"


def test_orcid_and_a_collective_author_of_pubmed7():
    record = parse("pubmed7.xml")[29963580]
    names = [a.collective_name or a.last_name for a in record.authors]
    assert names == [
        "Guo",
        "Capaldi",
        "Kirby",
        "Sheikh",
        "Svenningsen",
        "McCormack",
        "Fenster",
        "Parraga",
        "Canadian Respiratory Research Network",
    ]
    assert record.authors[1].orcid == "0000-0002-4590-7461"
    assert record.authors[6].orcid == "0000-0003-3525-2788"
    assert record.authors[0].orcid == ""
    assert record.authors[8].last_name == ""
    # DOI lower-cased: 10.1117/1.JMI.5.2.026002 in the XML
    assert record.doi == "10.1117/1.jmi.5.2.026002"
    assert record.pmcid == "PMC6022861"
    assert record.pages == "026002"


DOCTYPE = pubmed.DEFAULT_DOCTYPE


def document(body: str) -> bytes:
    return (
        f'<?xml version="1.0"?>\n{DOCTYPE}\n<PubmedArticleSet>{body}</PubmedArticleSet>'.encode()
    )


def article(pmid: int, title: str = "A title.", extra: str = "", pub_date: str = "") -> str:
    pub_date = pub_date or "<Year>2020</Year>"
    return (
        '<PubmedArticle><MedlineCitation Status="MEDLINE" Owner="NLM">'
        f'<PMID Version="1">{pmid}</PMID>'
        '<Article PubModel="Print"><Journal><JournalIssue CitedMedium="Print">'
        f"<PubDate>{pub_date}</PubDate></JournalIssue>"
        "<Title>Journal</Title></Journal>"
        f"<ArticleTitle>{title}</ArticleTitle><Language>eng</Language>"
        '<PublicationTypeList><PublicationType UI="D016428">Journal Article</PublicationType>'
        f"{extra}</PublicationTypeList></Article></MedlineCitation></PubmedArticle>"
    )


def test_hostile_markup_in_a_title_is_made_safe():
    title = "Safe &lt;script&gt;alert(1)&lt;/script&gt; <i>x</i> <b>bold</b> <u>u</u>"
    record = next(iter_records(document(article(1, title))))
    assert (
        record.title == "Safe &lt;script&gt;alert(1)&lt;/script&gt; <i>x</i> <b>bold</b> <u>u</u>"
    )
    assert pubmed.sanitize_inline('<a href="javascript:x">l</a><img src=x onerror=y>') == "l"
    assert pubmed.to_plain(record.title) == "Safe <script>alert(1)</script> x bold u"


def test_medline_date_is_kept_verbatim_with_its_year():
    record = next(
        iter_records(document(article(2, pub_date="<MedlineDate>1998 Dec-1999 Jan</MedlineDate>")))
    )
    assert record.medline_date == "1998 Dec-1999 Jan"
    assert record.year == 1998
    assert record.month is None


def test_a_retracted_publication_type_marks_the_article_retracted():
    extra = '<PublicationType UI="D016441">Retracted Publication</PublicationType>'
    record = next(iter_records(document(article(3, extra=extra))))
    assert record.retracted is True


def test_a_delete_citation_is_reported_not_crashed_on():
    body = (
        article(4)
        + '<DeleteCitation><PMID Version="1">123</PMID>'
        + '<PMID Version="1">456</PMID></DeleteCitation>'
    )
    records = list(iter_records(document(body)))
    assert isinstance(records[0], ParsedArticle) and records[0].pmid == 4
    assert isinstance(records[1], ParsedDeletion)
    assert records[1].pmids == [123, 456]


# A GeneReviews chapter as PubMed gives it (written for the tests, not recorded).
BOOK_ARTICLE = (
    "<PubmedBookArticle><BookDocument>"
    '<PMID Version="1">20301295</PMID>'
    '<ArticleIdList><ArticleId IdType="bookaccession">NBK1116</ArticleId></ArticleIdList>'
    "<Book><Publisher><PublisherName>University of Washington, Seattle</PublisherName>"
    '</Publisher><BookTitle book="gene">GeneReviews<sup>®</sup></BookTitle>'
    "<PubDate><Year>1993</Year></PubDate></Book>"
    "<ArticleTitle>Neurofibromatosis 1</ArticleTitle>"
    '<Language>eng</Language><AuthorList Type="authors">'
    '<Author ValidYN="Y"><LastName>Friedman</LastName><ForeName>Jan M</ForeName>'
    "<Initials>JM</Initials></Author></AuthorList>"
    '<PublicationType UI="D016454">Review</PublicationType>'
    "</BookDocument><PubmedBookData><History/><PublicationStatus>ppublish</PublicationStatus>"
    '<ArticleIdList><ArticleId IdType="pubmed">20301295</ArticleId></ArticleIdList>'
    "</PubmedBookData></PubmedBookArticle>"
)


def test_a_book_article_is_parsed_as_a_book():
    (record,) = list(iter_records(document(BOOK_ARTICLE)))
    assert record.kind == "book"
    assert record.pmid == 20301295
    assert record.title == "Neurofibromatosis 1"
    assert record.journal == "GeneReviews®"
    assert record.year == 1993
    assert [a.last_name for a in record.authors] == ["Friedman"]


def test_an_html_page_is_refused_with_a_clear_message():
    with pytest.raises(pubmed.PubmedXMLError, match="HTML page"):
        list(iter_records(FIXTURES / "pubmed3.html"))


def test_truncated_xml_is_refused_after_the_complete_articles():
    data = (FIXTURES / "pubmed2.xml").read_bytes()
    cut = data[: data.index(b'<PMID Version="1">11700088') + 40]
    records = iter_records(cut)
    assert next(records).pmid == 11748933
    with pytest.raises(pubmed.PubmedXMLError, match="cut short"):
        next(records)


def test_an_empty_answer_is_refused():
    with pytest.raises(pubmed.PubmedXMLError, match="empty"):
        pubmed.parse_pubmed_xml(b"")


def test_an_unknown_pmid_answer_is_an_empty_set():
    assert pubmed.parse_pubmed_xml(document("")) == []


def _baseline_file(path: Path, count: int) -> int:
    """A gzipped baseline-like file of `count` renumbered copies of the founding paper."""
    one = (FIXTURES / "pubmed_35560368.xml").read_text(encoding="utf-8")
    template = one[one.index("<PubmedArticle>") : one.index("</PubmedArticle>") + 16]
    size = 0
    with gzip.open(path, "wt", encoding="utf-8") as out:
        out.write(f'<?xml version="1.0"?>\n{DOCTYPE}\n<PubmedArticleSet>\n')
        for n in range(count):
            text = template.replace(">35560368<", f">{50_000_000 + n}<", 1)
            size += len(text)
            out.write(text)
        out.write("</PubmedArticleSet>\n")
    return size


def _peak_while_reading(path: Path, count: int) -> int:
    tracemalloc.start()
    try:
        seen = 0
        for record in iter_records(path):
            assert record.pmid == 50_000_000 + seen
            seen += 1
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert seen == count
    return peak


def test_a_gzipped_baseline_file_streams_in_bounded_memory(tmp_path):
    _baseline_file(tmp_path / "small.xml.gz", 100)
    big_size = _baseline_file(tmp_path / "big.xml.gz", 1600)
    small_peak = _peak_while_reading(tmp_path / "small.xml.gz", 100)
    big_peak = _peak_while_reading(tmp_path / "big.xml.gz", 1600)
    # Sixteen times the articles, about the same memory (~4 MB, most of it the DTDs):
    # it does not grow with the file, and stays under the size of its text (~4.7 MB).
    # Without the cycle cut in pubmed._entrez_read it reached 31 MB.
    assert big_peak < small_peak * 1.25 + 250_000, (small_peak, big_peak)
    assert big_peak < big_size, (big_peak, big_size)


def test_normalize_doi_accepts_urls_and_refuses_non_dois():
    assert pubmed.normalize_doi("https://doi.org/10.1111/CUP.14261") == "10.1111/cup.14261"
    assert pubmed.normalize_doi("doi: 10.1111/cup.14261") == "10.1111/cup.14261"
    assert pubmed.normalize_doi("35560368") == ""
    assert pubmed.normalize_doi("10.1/x") == ""


def _bogus(pmid: int) -> str:
    """An article the PubMed DTD refuses (an element it does not define)."""
    return article(pmid).replace("</Article>", "<Bogus>not in the DTD</Bogus></Article>")


def test_a_malformed_article_fails_alone_and_its_neighbours_are_read():
    records = pubmed.parse_pubmed_xml(document(article(101) + _bogus(102) + article(103)))
    assert [type(r).__name__ for r in records] == [
        "ParsedArticle",
        "ParsedFailure",
        "ParsedArticle",
    ]
    assert [r.pmid for r in records] == [101, 102, 103]
    failure = records[1]
    assert "Bogus" in failure.reason
    assert failure.raw_xml.startswith("<PubmedArticle>")


def test_an_article_lacking_what_every_record_has_fails_alone():
    good = article(202)
    no_article = good[: good.index("<Article ")] + good[good.index("</Article>") + 10 :]
    records = list(iter_records(document(article(201) + no_article)))
    assert isinstance(records[0], ParsedArticle)
    assert (type(records[1]).__name__, records[1].pmid) == ("ParsedFailure", 202)


def test_an_element_that_never_closes_is_skipped_in_bounded_memory(tmp_path):
    # An opened <PubmedArticle> followed by 20 MB that never close it, then
    # good articles: the file is read within a cap, the runaway element is
    # reported, and the articles after it still arrive.
    path = tmp_path / "runaway.xml.gz"
    with gzip.open(path, "wt", encoding="utf-8") as out:
        out.write(f'<?xml version="1.0"?>\n{DOCTYPE}\n<PubmedArticleSet>\n')
        out.write(article(301))
        out.write('<PubmedArticle><MedlineCitation><PMID Version="1">302</PMID>')
        for _ in range(20_000):
            out.write("<Junk>" + "x" * 1000 + "</Junk>\n")
        out.write(article(303))
        out.write("</PubmedArticleSet>\n")
    tracemalloc.start()
    try:
        records = list(iter_records(path, max_element_chars=1_000_000))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert [(type(r).__name__, r.pmid) for r in records] == [
        ("ParsedArticle", 301),
        ("ParsedFailure", 302),
        ("ParsedArticle", 303),
    ]
    assert "longer than 1,000,000 characters" in records[1].reason
    assert peak < 12_000_000, peak  # the 20 MB never sit in memory


def test_retraction_erratum_and_concern_notices_are_read_from_commentscorrections():
    records = parse("edited_notices.xml")
    assert records[28775130].retracted is True
    assert records[28775130].notices == [
        {
            "type": "RetractionIn",
            "source": "RareDerm test fixture: invented retraction notice "
            "(not a real PubMed record)",
            "pmid": 99000001,
        }
    ]
    assert records[30108519].retracted is False
    assert [(n["type"], n["pmid"]) for n in records[30108519].notices] == [
        ("ErratumIn", 99000002),
        ("ExpressionOfConcernIn", None),
    ]
    # The recorded originals: CommentIn and Cites only, no notice.
    assert parse("pubmed5.xml")[28775130].notices == []
