"""citations/exports.py: every format is read back by a real parser.

The formatters are Django-free and take parsed records; the same code runs on
Citation rows (see test_export_citations_command.py).
"""

import csv
import io
import json
from pathlib import Path

import bibtexparser
import jsonschema
import pytest
import rispy
from citeproc import (
    Citation,
    CitationItem,
    CitationStylesBibliography,
    CitationStylesStyle,
    formatter,
)
from citeproc.source.json import CiteProcJSON

from citations import exports
from citations.pubmed import ParsedArticle, ParsedAuthor, iter_records

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "entrez"
CSL_SCHEMA = Path(__file__).resolve().parent.parent / "fixtures" / "csl"


def founding() -> ParsedArticle:
    return next(iter_records(FIXTURES / "pubmed_35560368.xml"))


def recorded() -> list[ParsedArticle]:
    return [
        record for name in sorted(FIXTURES.glob("pubmed*.xml")) for record in iter_records(name)
    ]


def casanova() -> ParsedArticle:
    """The issue's AMA example: more than six authors, no issue number."""
    names = [
        ("Casanova", "M"),
        ("Brennan", "B"),
        ("Alaggio", "R"),
        ("Kelsey", "A"),
        ("Orbach", "D"),
        ("van Noesel", "MM"),
        ("Corradini", "N"),
    ]
    return ParsedArticle(
        pmid=32004796,
        doi="10.1016/j.ejca.2019.12.021",
        title=(
            "Inflammatory myofibroblastic tumor: the experience of the European Pediatric "
            "Soft Tissue Sarcoma Study Group (EpSSG)."
        ),
        journal="European journal of cancer (Oxford, England : 1990)",
        journal_iso="Eur J Cancer",
        volume="127",
        pages="123-129",
        year=2020,
        authors=[ParsedAuthor(last_name=last, initials=initials) for last, initials in names],
    )


def test_ama_matches_the_example_of_the_issue():
    assert exports.ama(casanova()) == (
        "Casanova M, Brennan B, Alaggio R, et al. Inflammatory myofibroblastic tumor: the "
        "experience of the European Pediatric Soft Tissue Sarcoma Study Group (EpSSG). "
        "Eur J Cancer. 2020;127:123-129. doi:10.1016/j.ejca.2019.12.021"
    )


def test_ama_of_the_founding_paper_marks_the_incomplete_author_list():
    assert exports.ama(founding()) == (
        "McCollum KJ, et al. Cutaneous inflammatory myofibroblastic tumor with CARS-ALK "
        "fusion: Case report and literature review. J Cutan Pathol. 2022;49(9):795-801. "
        "doi:10.1111/cup.14261"
    )


def test_ama_expands_medline_page_ranges_and_lists_up_to_six_authors():
    record = next(r for r in recorded() if r.pmid == 11700088)
    assert exports.ama(record) == (
        "Casieri C, Testa C, Carpinelli G, Canese R, Podo F, De Luca F. Proton MRI of (13)C "
        "distribution by J and chemical shift editing. J Magn Reson. 2001;153(1):117-123. "
        "doi:10.1006/jmre.2001.2429"
    )


def test_ama_html_escapes_and_italicises_the_journal():
    record = founding()
    record.title = "A &lt;script&gt; <i>title</i>"
    html = exports.ama_html(record)
    assert "<i>J Cutan Pathol</i>." in html
    assert "<script>" not in html and "&lt;script&gt;" in html


def test_json_has_the_keys_the_issue_fixes():
    (item,) = json.loads(exports.to_json([founding()]))
    assert list(item) == [
        "pmid",
        "doi",
        "pmcid",
        "title",
        "abstract",
        "journal",
        "journal_iso",
        "year",
        "month",
        "day",
        "medline_date",
        "volume",
        "issue",
        "pages",
        "language",
        "publication_types",
        "mesh_terms",
        "keywords",
        "authors",
        "authors_complete",
        "retracted",
    ]
    assert item["pmid"] == 35560368
    assert item["authors"] == [
        {
            "last_name": "McCollum",
            "fore_name": "Kasey J",
            "initials": "KJ",
            "collective_name": "",
            "orcid": "",
            "affiliations": [],
        }
    ]
    assert list(item["abstract"][0]) == ["label", "text"]
    assert item["authors_complete"] is False


def test_rispy_reads_back_every_recorded_article():
    records = recorded()
    entries = rispy.loads(exports.to_ris(records))
    assert len(entries) == len(records)
    by_pmid = {int(entry["accession_number"]): entry for entry in entries}
    entry = by_pmid[35560368]
    assert entry["type_of_reference"] == "JOUR"
    assert entry["authors"] == ["McCollum, Kasey J"]
    assert entry["title"] == (
        "Cutaneous inflammatory myofibroblastic tumor with CARS-ALK fusion: "
        "Case report and literature review."
    )
    assert entry["secondary_title"] == "Journal of cutaneous pathology"
    assert (entry["volume"], entry["number"]) == ("49", "9")
    assert (entry["start_page"], entry["end_page"]) == ("795", "801")
    assert entry["doi"] == "10.1111/cup.14261"
    assert entry["year"] == "2022"
    assert entry["keywords"] == [
        "ALK",
        "cutaneous spindle cell tumors",
        "inflammatory myofibroblastic tumor",
    ]
    # The italic TERT of the title is plain text in RIS; the collective author survives.
    assert "<i>" not in by_pmid[27797938]["title"]
    assert by_pmid[29963580]["authors"][-1] == "Canadian Respiratory Research Network"
    assert (by_pmid[12091962]["start_page"], by_pmid[12091962]["end_page"]) == ("113", "125")


def test_bibtexparser_reads_back_every_recorded_article():
    records = recorded()
    library = bibtexparser.parse_string(exports.to_bibtex(records))
    assert library.failed_blocks == []
    assert len(library.entries) == len(records)
    entries = {entry.key: entry.fields_dict for entry in library.entries}
    fields = entries["pmid35560368"]
    assert fields["author"].value == "McCollum, Kasey J and others"
    assert fields["journal"].value == "Journal of cutaneous pathology"
    assert fields["pages"].value == "795--801"
    assert fields["doi"].value == "10.1111/cup.14261"
    assert fields["year"].value == "2022"
    guo = entries["pmid29963580"]["author"].value
    assert guo.endswith("and {Canadian Respiratory Research Network}")


def test_bibtex_escapes_special_characters():
    record = founding()
    record.title = "50% of {cases} &amp; $x_1$ #1"
    out = exports.to_bibtex([record])
    assert r"{50\% of \{cases\} \& \$x\_1\$ \#1}" in out
    assert bibtexparser.parse_string(out).failed_blocks == []


def test_citeproc_renders_the_csl_json():
    records = [founding(), casanova()]
    data = json.loads(exports.to_csl_json(records))
    assert data[0]["id"] == "pmid35560368"
    assert data[0]["issued"] == {"date-parts": [[2022, 9]]}
    assert data[0]["author"] == [{"family": "McCollum", "given": "Kasey J"}]
    source = CiteProcJSON(data)
    style = CitationStylesStyle("harvard-cite-them-right", validate=False)
    bibliography = CitationStylesBibliography(style, source, formatter.plain)
    bibliography.register(Citation([CitationItem("pmid35560368")]))
    bibliography.register(Citation([CitationItem("pmid32004796")]))
    rendered = [str(entry) for entry in bibliography.bibliography()]
    founding_entry = next(entry for entry in rendered if "McCollum" in entry)
    assert "Cutaneous inflammatory myofibroblastic tumor with CARS-ALK fusion" in founding_entry
    assert "2022" in founding_entry
    assert "Journal of cutaneous pathology" in founding_entry
    assert "49(9), pp. 795\u2013801" in founding_entry  # citeproc sets an en dash
    assert any("Casanova" in entry and "127" in entry for entry in rendered)


def test_the_csl_json_export_validates_against_the_csl_data_schema():
    """The schema of the CSL project (tests/fixtures/csl/, MIT), every recorded article."""
    schema = json.loads((CSL_SCHEMA / "csl-data.json").read_text(encoding="utf-8"))
    jsonschema.Draft7Validator.check_schema(schema)
    data = json.loads(exports.to_csl_json([*recorded(), casanova()]))
    assert len(data) == len(recorded()) + 1
    jsonschema.validate(data, schema, cls=jsonschema.Draft7Validator)
    # ... and the schema does reject what is not CSL data.
    broken = [{**data[0], "type": "journal article", "author": "McCollum KJ"}]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, schema, cls=jsonschema.Draft7Validator)


def test_the_ama_style_shipped_is_the_csl_projects_with_its_licence():
    style = (exports.AMA_STYLE).read_text(encoding="utf-8")
    assert "<id>http://www.zotero.org/styles/american-medical-association</id>" in style
    assert 'license="http://creativecommons.org/licenses/by-sa/3.0/"' in style
    licence = exports.AMA_STYLE.parent / "LICENSE-CC-BY-SA-3.0.txt"
    assert "Attribution-ShareAlike 3.0 Unported" in licence.read_text(encoding="utf-8")


def test_csv_has_one_row_per_article_and_defuses_formulas():
    record = founding()
    record.title = "=HYPERLINK(&quot;http://evil&quot;)"
    text = exports.to_csv([record, casanova()])
    assert text.startswith("\ufeff")
    rows = list(csv.DictReader(io.StringIO(text.removeprefix("\ufeff"))))
    assert [row["pmid"] for row in rows] == ["35560368", "32004796"]
    assert rows[0]["title"].startswith("'=")
    assert rows[0]["authors"] == "McCollum KJ"
    assert rows[1]["ama"].startswith("Casanova M, Brennan B, Alaggio R, et al.")
    assert rows[0]["pages"] == "795-801"


def test_unknown_format_is_refused():
    with pytest.raises(ValueError, match="docx"):
        exports.export([], "docx")
