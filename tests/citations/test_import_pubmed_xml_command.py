"""manage.py import_pubmed_xml FILE [FILE ...]"""

import gzip
import json
import re
import shutil
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from citations import actions, exports
from citations.models import Author, Citation

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "entrez"
OLD = FIXTURES / "old-dtds"
pytestmark = pytest.mark.django_db


def test_recorded_files_are_imported_with_counts(capsys):
    files = sorted(str(path) for path in FIXTURES.glob("pubmed*.xml"))
    call_command("import_pubmed_xml", *files)
    out = capsys.readouterr().out
    assert "pubmed2.xml: new 2, updated 0, failed 0" in out
    assert out.strip().endswith("new 9, updated 0, failed 0")
    assert Citation.objects.count() == 9
    assert Citation.objects.get(pmid=29963580).authors.count() == 9


def test_a_gzipped_file_is_read_and_a_second_import_updates(tmp_path, capsys):
    path = tmp_path / "pubmed25n0001.xml.gz"
    with (FIXTURES / "pubmed2.xml").open("rb") as src, gzip.open(path, "wb") as dst:
        shutil.copyfileobj(src, dst)
    call_command("import_pubmed_xml", str(path))
    call_command("import_pubmed_xml", str(path))
    out = capsys.readouterr().out
    assert "new 2, updated 0, failed 0" in out
    assert out.strip().endswith("new 0, updated 2, failed 0")
    assert Citation.objects.count() == 2


def test_a_bad_file_is_counted_as_failed_and_the_good_ones_kept(tmp_path, capsys):
    truncated = tmp_path / "cut.xml"
    data = (FIXTURES / "pubmed2.xml").read_bytes()
    truncated.write_bytes(data[: data.index(b'<PMID Version="1">11700088') + 40])
    with pytest.raises(CommandError, match="new 1, updated 0, failed 2"):
        call_command("import_pubmed_xml", str(truncated), str(FIXTURES / "pubmed3.html"))
    err = capsys.readouterr().err
    assert "cut short" in err
    assert "HTML page" in err
    assert list(Citation.objects.values_list("pmid", flat=True)) == [11748933]


def test_a_missing_file_is_refused_before_anything_is_imported():
    with pytest.raises(CommandError, match="No such file"):
        call_command("import_pubmed_xml", str(FIXTURES / "pubmed1.xml"), "/nonexistent.xml")
    assert Citation.objects.count() == 0


def test_a_delete_citation_marks_the_stored_record_withdrawn(tmp_path, capsys):
    call_command("import_pubmed_xml", str(FIXTURES / "pubmed_35560368.xml"))
    update = tmp_path / "pubmed25n1300.xml"
    update.write_text(
        '<?xml version="1.0"?>\n<PubmedArticleSet><DeleteCitation>'
        '<PMID Version="1">35560368</PMID></DeleteCitation></PubmedArticleSet>\n'
    )
    call_command("import_pubmed_xml", str(update))
    assert "withdrawn 1" in capsys.readouterr().out
    assert Citation.objects.get().fetch_status == Citation.FetchStatus.DELETED


def test_a_file_longer_than_a_batch_is_stored_batch_by_batch_in_file_order(
    tmp_path, capsys, monkeypatch
):
    monkeypatch.setattr(
        actions.storage, "IMPORT_BATCH", 2
    )  # 500 articles per transaction, normally
    articles = [
        article
        for name in ("pubmed1.xml", "pubmed2.xml", "pubmed_35560368.xml", "pubmed2.xml")
        for article in re.findall(
            r"<PubmedArticle>.*?</PubmedArticle>", (FIXTURES / name).read_text(), re.DOTALL
        )
    ]
    withdrawn = '<DeleteCitation><PMID Version="1">35560368</PMID></DeleteCitation>'
    path = tmp_path / "pubmed25n0002.xml"
    path.write_text(
        "<?xml version='1.0'?>\n<PubmedArticleSet>\n"
        + "\n".join([*articles[:-2], withdrawn, *articles[-2:]])
        + "\n</PubmedArticleSet>\n"
    )
    call_command("import_pubmed_xml", str(path))
    out = capsys.readouterr().out
    # pubmed2.xml's two articles come twice: new, then updated.
    assert out.strip().endswith("new 5, updated 2, failed 0")
    assert "withdrawn 1" in out
    assert Citation.objects.count() == 5
    # The DeleteCitation came after the article it withdraws, and applied to it.
    assert Citation.objects.get(pmid=35560368).fetch_status == Citation.FetchStatus.DELETED


def test_a_malformed_article_fails_alone_and_the_file_goes_on(tmp_path, capsys):
    data = (FIXTURES / "pubmed2.xml").read_text(encoding="utf-8")
    marker = '<PMID Version="1">11748933</PMID>'
    assert marker in data
    head, tail = data.split(marker, 1)
    # The first of the file's two articles gets an element the DTD does not define.
    bad = head + marker + tail.replace("</Article>", "<Bogus>x</Bogus></Article>", 1)
    path = tmp_path / "one-bad.xml"
    path.write_text(bad, encoding="utf-8")
    with pytest.raises(CommandError, match="new 1, updated 0, failed 1"):
        call_command("import_pubmed_xml", str(path))
    err = capsys.readouterr().err
    assert "PubMed's record of PMID 11748933 could not be read" in err
    assert list(Citation.objects.values_list("pmid", flat=True)) == [11700088]


def test_an_article_that_never_closes_is_skipped_within_the_cap(tmp_path, capsys, settings):
    settings.PUBMED_MAX_ARTICLE_CHARS = 200_000
    data = (FIXTURES / "pubmed2.xml").read_text(encoding="utf-8")
    start = data.index("<PubmedArticle>")
    runaway = (
        '<PubmedArticle><MedlineCitation><PMID Version="1">77</PMID>'
        + ("<Junk>" + "x" * 1000 + "</Junk>\n") * 1000
    )
    path = tmp_path / "runaway.xml.gz"
    with gzip.open(path, "wt", encoding="utf-8") as out:
        out.write(data[:start] + runaway + data[start:])
    with pytest.raises(CommandError, match="new 2, updated 0, failed 1"):
        call_command("import_pubmed_xml", str(path))
    err = capsys.readouterr().err
    assert "PMID 77" in err
    assert "longer than 200,000 characters" in err
    assert Citation.objects.count() == 2


# -- files saved under old DTDs give what their modern counterparts give ----------

ROBINSON_AFFILIATION = (
    "Institute for Medical Genetics, Augustenburger Platz 1, 13353 Berlin, Germany. "
    "peter.robinson@charite.de"
)


def _imported(path: Path, pmid: int) -> dict[str, object]:
    """What users get of one imported article: every export format and its Author rows."""
    call_command("import_pubmed_xml", str(path))
    rows = Citation.objects.with_authors().filter(pmid=pmid)
    seen: dict[str, object] = {fmt: exports.export(rows, fmt) for fmt in exports.FORMATS}
    seen["authors"] = list(
        Author.objects.filter(citation__pmid=pmid)
        .order_by("position")
        .values_list("position", "last_name", "fore_name", "initials", "affiliations")
    )
    Citation.objects.filter(pmid=pmid).delete()
    return seen


def _as_2014(text: str) -> str:
    """The 2014 DTD's placement: Affiliation directly under Author (no AffiliationInfo)."""
    text = text.replace("pubmed_150101.dtd", "pubmed_140101.dtd").replace(
        "1st January 2015", "1st January 2014"
    )
    return re.sub(
        r"<AffiliationInfo>\s*(<Affiliation>.*?</Affiliation>)\s*</AffiliationInfo>",
        r"\1",
        text,
        flags=re.DOTALL,
    )


def test_an_author_affiliation_of_the_2014_dtd_exports_as_the_2015_one(tmp_path, capsys):
    modern = OLD / "pubmed_22351513_2015.xml"
    old = tmp_path / "pubmed_22351513_2014.xml"
    old.write_text(_as_2014(modern.read_text(encoding="utf-8")), encoding="utf-8")
    assert "<AffiliationInfo>" not in old.read_text(encoding="utf-8")

    before, after = _imported(old, 22351513), _imported(modern, 22351513)
    assert before == after
    assert before["authors"][0][4] == [
        "Department of Botany, Jamia Hamdard, Hamdard Nagar, New Delhi 110062, India."
    ]
    assert "new 1, updated 0, failed 0" in capsys.readouterr().out


def test_a_2013_file_exports_as_the_same_article_recorded_in_2017():
    """2013: Affiliation under Article (the first author's); 2017: under the first author."""
    before = _imported(OLD / "pubmed_20412080_2013.xml", 20412080)
    after = _imported(OLD / "pubmed_20412080_2017.xml", 20412080)
    for fmt in ("csv", "ris", "bibtex", "csl-json", "ama"):
        assert before[fmt] == after[fmt], fmt
    assert before["authors"] == after["authors"]
    assert before["authors"][0][4] == [ROBINSON_AFFILIATION]
    assert [row[4] for row in before["authors"][1:]] == [[]] * (len(before["authors"]) - 1)
    # The json export differs only where PubMed's data did: MeSH unique ids were
    # added to the record between 2013 and 2017.
    old, new = json.loads(before["json"])[0], json.loads(after["json"])[0]
    assert old["authors"] == new["authors"]
    assert {key for key in old if old[key] != new[key]} == {"mesh_terms"}
    assert [term["descriptor"] for term in old["mesh_terms"]] == [
        term["descriptor"] for term in new["mesh_terms"]
    ]


def test_a_2008_file_exports_as_the_same_articles_recorded_in_2025():
    """2008: one AbstractText, Affiliation under Article; 2025: AffiliationInfo."""
    for pmid in (11748933, 11700088):
        before = _imported(OLD / "pubmed2_2008.xml", pmid)
        after = _imported(FIXTURES / "pubmed2.xml", pmid)
        assert before["authors"] == after["authors"]
        assert before["authors"][0][4] and before["authors"][0][4] == after["authors"][0][4]
        assert before["ama"] == after["ama"]
        old, new = json.loads(before["json"])[0], json.loads(after["json"])[0]
        assert old["abstract"] == new["abstract"]
        # What differs is PubMed's data: MeSH unique ids were added to the
        # record, and NLM's ISO abbreviation of the journal lost its full stops.
        if pmid == 11748933:
            for fmt in ("csv", "ris", "bibtex", "csl-json"):
                assert before[fmt] == after[fmt], fmt
            assert {key for key in old if old[key] != new[key]} == {"mesh_terms"}
        else:
            assert (old["journal_iso"], new["journal_iso"]) == ("J. Magn. Reson.", "J Magn Reson")
            assert {key for key in old if old[key] != new[key]} == {"journal_iso"}
