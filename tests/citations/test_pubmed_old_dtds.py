"""citations/pubmed.py reads PubMed XML of every DTD NCBI has used since 2012, offline.

Files saved from PubMed before 2019 name an http:// DTD (www.ncbi.nlm.nih.gov/
corehtml/query/DTD/ until 2016, dtd.nlm.nih.gov/ncbi/pubmed/out/ from 2017).
The DTD is read from the copy shipped with RareDerm or Biopython by its file
name, never downloaded (the suite's network guard fails any connection).
The real files are described in tests/fixtures/entrez/old-dtds/README.md.
No database: the parser is free of Django.
"""

import re
from pathlib import Path

import pytest
from Bio.Entrez.Parser import DataHandler

from citations import pubmed, pubmed_dtds
from citations.pubmed import ParsedArticle, iter_records
from tests.citations.test_pubmed_parser import BOOK_ARTICLE

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "entrez"
OLD = FIXTURES / "old-dtds"
ROBINSON_AFFILIATION = (
    "Institute for Medical Genetics, Augustenburger Platz 1, 13353 Berlin, Germany. "
    "peter.robinson@charite.de"
)
KHAN_AFFILIATION = "Department of Botany, Jamia Hamdard, Hamdard Nagar, New Delhi 110062, India."


def only(data: bytes | Path) -> ParsedArticle:
    (record,) = list(iter_records(data))
    assert isinstance(record, ParsedArticle), record
    return record


def fixture(name: str) -> Path:
    return OLD / name if (OLD / name).is_file() else FIXTURES / name


def body(name: str) -> str:
    """The PubmedArticle elements of a fixture, without its prolog and DOCTYPE."""
    text = fixture(name).read_text(encoding="utf-8")
    return text[text.index("<PubmedArticleSet>") :]


def under(doctype: str, articles: str) -> bytes:
    return f'<?xml version="1.0"?>\n{doctype}\n{articles}'.encode()


def as_2014(articles: str) -> str:
    """The 2014 DTD's placement: Affiliation directly under Author (no AffiliationInfo)."""
    return re.sub(
        r"<AffiliationInfo>\s*(<Affiliation>.*?</Affiliation>)\s*</AffiliationInfo>",
        r"\1",
        articles,
        flags=re.DOTALL,
    )


def test_a_2013_file_naming_an_http_corehtml_dtd_is_read():
    record = only(OLD / "pubmed_20412080_2013.xml")
    assert record.pmid == 20412080
    assert record.title == "The human phenotype ontology."
    assert record.journal_iso == "Clin. Genet."
    assert (record.volume, record.issue, record.pages) == ("77", "6", "525-34")
    assert record.doi == "10.1111/j.1399-0004.2010.01436.x"
    assert [a.last_name for a in record.authors][:2] == ["Robinson", "Mundlos"]


def test_the_article_level_affiliation_of_2012_2013_files_goes_to_the_first_author():
    """Until 2013 PubMed kept one Affiliation under Article: the first author's."""
    record = only(OLD / "pubmed_20412080_2013.xml")
    assert record.authors[0].affiliations == [ROBINSON_AFFILIATION]
    assert all(author.affiliations == [] for author in record.authors[1:])


def test_a_2015_file_naming_an_http_corehtml_dtd_is_read():
    record = only(OLD / "pubmed_22351513_2015.xml")
    assert record.pmid == 22351513
    assert record.doi == "10.1002/jsfa.5627"
    assert [section["label"] for section in record.abstract] == [
        "BACKGROUND",
        "RESULTS",
        "CONCLUSION",
    ]
    assert record.authors[0].affiliations == [KHAN_AFFILIATION]


def test_a_2017_file_of_a_dtd_biopython_does_not_ship_is_read():
    record = only(OLD / "pubmed_20412080_2017.xml")
    assert record.pmid == 20412080
    assert record.authors[0].affiliations == [ROBINSON_AFFILIATION]
    assert record.publication_types == ["Journal Article", "Review"]


def test_a_2008_biopython_test_file_is_read_with_its_affiliations():
    records = {record.pmid: record for record in iter_records(OLD / "pubmed2_2008.xml")}
    assert records[11748933].authors[0].affiliations == [
        "Dipartimento di Scienze Ambientali, Università degli Studi della Tuscia, "
        "01100 Viterbo, Italy."
    ]
    assert records[11700088].authors[0].last_name == "Casieri"
    assert records[11700088].authors[0].affiliations == [
        "INFM and Department of Physics, University of L'Aquila, I-67100 L'Aquila, Italy."
    ]


def test_the_one_abstracttext_of_a_pre_2010_dtd_is_read_whole():
    """The DTDs before 2010 allow one AbstractText, which Biopython reads as a string."""
    records = {record.pmid: record for record in iter_records(OLD / "pubmed2_2008.xml")}
    modern = {record.pmid: record for record in iter_records(FIXTURES / "pubmed2.xml")}
    (section,) = records[11748933].abstract
    assert section["text"].startswith("This study subdivides the cryopreservation procedure")
    assert records[11748933].abstract == modern[11748933].abstract
    assert records[11700088].copyright == "Copyright 2001 Academic Press."


def test_an_affiliation_directly_under_an_author_of_the_2014_dtd_is_kept():
    doctype = (
        '<!DOCTYPE PubmedArticleSet PUBLIC "-//NLM//DTD PubMedArticle, 1st January 2014//EN" '
        '"http://www.ncbi.nlm.nih.gov/corehtml/query/DTD/pubmed_140101.dtd">'
    )
    record = only(under(doctype, as_2014(body("pubmed_22351513_2015.xml"))))
    assert record.authors[0].affiliations == [KHAN_AFFILIATION]


# Each DTD NCBI has published since 2012, with the DOCTYPE lines it was used with
# (README of citations/dtds/ gives the sources), and a real article of its era.
ERAS = [
    ("pubmed_120101.dtd", "1st January 2012", "pubmed_20412080_2013.xml"),
    ("pubmed_130101.dtd", "1st January 2013", "pubmed_20412080_2013.xml"),
    ("pubmed_130501.dtd", "1st May 2013", "pubmed_20412080_2013.xml"),
    ("pubmed_140101.dtd", "1st January 2014", "2014:pubmed_22351513_2015.xml"),
    ("pubmed_150101.dtd", "1st January 2015", "pubmed_22351513_2015.xml"),
    ("pubmed_160101.dtd", "1st January 2016", "pubmed_22351513_2015.xml"),
    ("pubmed_170101.dtd", "1st January 2017", "pubmed_20412080_2017.xml"),
    ("pubmed_180101.dtd", "1st January 2018", "pubmed4.xml"),
    ("pubmed_180601.dtd", "1st June 2018", "pubmed5.xml"),
    ("pubmed_190101.dtd", "1st January 2019", "pubmed7.xml"),
    ("pubmed_230101.dtd", "1st January 2023", "pubmed7.xml"),
    ("pubmed_240101.dtd", "1st January 2024", "pubmed1.xml"),
    ("pubmed_250101.dtd", "1st January 2025", "pubmed1.xml"),
]
LOCATIONS = [
    'PUBLIC "-//NLM//DTD PubMedArticle, {date}//EN" '
    '"http://www.ncbi.nlm.nih.gov/corehtml/query/DTD/{dtd}"',
    'PUBLIC "-//NLM//DTD PubMedArticle, {date}//EN" "https://dtd.nlm.nih.gov/ncbi/pubmed/out/{dtd}"',
    'SYSTEM "http://dtd.nlm.nih.gov/ncbi/pubmed/out/{dtd}"',
    # A file saved through a university's web proxy names the proxy's host.
    'PUBLIC "-//NLM//DTD PubMedArticle, {date}//EN" '
    '"http://www-ncbi-nlm-nih-gov.ezp-prod1.hul.harvard.edu/corehtml/query/DTD/{dtd}"',
]


@pytest.mark.parametrize("location", LOCATIONS, ids=["corehtml", "https", "baseline", "proxy"])
@pytest.mark.parametrize(("dtd", "date", "name"), ERAS, ids=[era[0][7:13] for era in ERAS])
def test_every_pubmed_dtd_since_2012_is_read_offline_wherever_its_doctype_points(
    dtd, date, name, location
):
    doctype = "<!DOCTYPE PubmedArticleSet " + location.format(dtd=dtd, date=date) + ">"
    articles = as_2014(body(name[5:])) if name.startswith("2014:") else body(name)
    expected = list(iter_records(fixture(name.removeprefix("2014:"))))
    records = list(iter_records(under(doctype, articles)))
    assert [type(record) for record in records] == [ParsedArticle] * len(expected)
    assert [record.pmid for record in records] == [record.pmid for record in expected]
    assert [record.title for record in records] == [record.title for record in expected]


OLDER = ["pubmed_080101.dtd", "pubmed_090101.dtd", "pubmed_100101.dtd", "pubmed_100301.dtd"]
OLDER += ["pubmed_110101.dtd"]


@pytest.mark.parametrize("dtd", OLDER)
def test_the_2008_to_2011_dtds_biopython_ships_are_read_too(dtd):
    doctype = (
        '<!DOCTYPE PubmedArticleSet PUBLIC "-//NLM//DTD PubMedArticle, 1st January 2008//EN" '
        f'"http://www.ncbi.nlm.nih.gov/entrez/query/DTD/{dtd}">'
    )
    records = list(iter_records(under(doctype, body("pubmed2_2008.xml"))))
    assert [record.pmid for record in records] == [11748933, 11700088]


def test_every_dtd_the_parser_accepts_is_tested_above():
    assert [*OLDER, *(era[0] for era in ERAS)] == list(pubmed_dtds.PUBMED_DTDS)


BOOK_ERAS = [f"pubmed_{version}.dtd" for version in ("120101", "130101", "130501", "140101")]
BOOK_ERAS += [f"pubmed_{version}.dtd" for version in ("150101", "160101", "170101", "180101")]


@pytest.mark.parametrize("dtd", BOOK_ERAS)
def test_a_book_article_is_read_under_each_book_dtd(dtd):
    """Book DTDs: bookdoc_120101 ... bookdoc_150101 (and 2016), inside the pubmed DTD from 2017."""
    doctype = f'<!DOCTYPE PubmedArticleSet SYSTEM "http://www.ncbi.nlm.nih.gov/corehtml/query/DTD/{dtd}">'
    record = only(under(doctype, f"<PubmedArticleSet>{BOOK_ARTICLE}</PubmedArticleSet>"))
    assert record.kind == "book"
    assert (record.pmid, record.title, record.journal) == (
        20301295,
        "Neurofibromatosis 1",
        "GeneReviews®",
    )
    assert [author.last_name for author in record.authors] == ["Friedman"]


def test_an_unknown_dtd_is_refused_by_name_and_never_downloaded():
    doctype = (
        '<!DOCTYPE PubmedArticleSet PUBLIC "-//NLM//DTD PubMedArticle, 1st January 2099//EN" '
        '"https://dtd.nlm.nih.gov/ncbi/pubmed/out/pubmed_990101.dtd">'
    )
    with pytest.raises(pubmed.PubmedXMLError, match=r"pubmed_990101\.dtd") as caught:
        list(iter_records(under(doctype, body("pubmed_35560368.xml"))))
    assert "never downloads" in str(caught.value)


def test_a_dtd_that_is_not_a_pubmed_dtd_is_refused_by_name():
    doctype = '<!DOCTYPE PubmedArticleSet SYSTEM "https://example.org/evil/../../etc/passwd">'
    with pytest.raises(pubmed.PubmedXMLError, match="passwd"):
        list(iter_records(under(doctype, body("pubmed_35560368.xml"))))


def test_biopythons_download_cache_is_never_read(tmp_path, monkeypatch):
    """A DTD once downloaded by Biopython elsewhere on the machine is not trusted."""
    monkeypatch.setattr(DataHandler, "local_dtd_dir", str(tmp_path))
    (tmp_path / "pubmed_170101.dtd").write_text("<!ELEMENT PubmedArticleSet (Nothing)>")
    (tmp_path / "pubmed_150101.dtd").write_text("<!ELEMENT PubmedArticleSet (Nothing)>")
    assert only(OLD / "pubmed_20412080_2017.xml").pmid == 20412080
    assert only(OLD / "pubmed_22351513_2015.xml").pmid == 22351513
