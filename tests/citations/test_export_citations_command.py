"""manage.py export_citations --format ... [--pmid ...]: the founding paper in every format."""

import json
from io import StringIO
from pathlib import Path

import bibtexparser
import pytest
import rispy
from django.core.management import CommandError, call_command

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "entrez"
pytestmark = pytest.mark.django_db


@pytest.fixture
def imported():
    call_command(
        "import_pubmed_xml",
        *sorted(str(p) for p in FIXTURES.glob("pubmed*.xml")),
        stdout=StringIO(),
    )


def export(*args) -> str:
    out = StringIO()
    call_command("export_citations", *args, stdout=out)
    return out.getvalue()


def test_the_founding_paper_exports_in_every_format(imported):
    ama = export("--format", "ama", "--pmid", "35560368")
    assert ama == (
        "1. McCollum KJ, et al. Cutaneous inflammatory myofibroblastic tumor with CARS-ALK "
        "fusion: Case report and literature review. J Cutan Pathol. 2022;49(9):795-801. "
        "doi:10.1111/cup.14261\n"
    )
    (item,) = json.loads(export("--format", "json", "--pmid", "35560368"))
    assert item["doi"] == "10.1111/cup.14261"
    assert item["authors"][0]["last_name"] == "McCollum"
    (csl,) = json.loads(export("--format", "csl-json", "--pmid", "35560368"))
    assert csl["DOI"] == "10.1111/cup.14261"
    (ris,) = rispy.loads(export("--format", "ris", "--pmid", "35560368"))
    assert ris["doi"] == "10.1111/cup.14261"
    (entry,) = bibtexparser.parse_string(
        export("--format", "bibtex", "--pmid", "35560368")
    ).entries
    assert entry.key == "pmid35560368"
    csv_text = export("--format", "csv", "--pmid", "35560368")
    assert csv_text.splitlines()[1].startswith("35560368,10.1111/cup.14261,")


def test_without_pmids_every_citation_is_exported_in_pmid_order(imported):
    items = json.loads(export("--format", "json"))
    assert [item["pmid"] for item in items] == sorted(item["pmid"] for item in items)
    assert len(items) == 9
    # Authors keep PubMed's order through the prefetch.
    guo = next(item for item in items if item["pmid"] == 29963580)
    assert guo["authors"][0]["last_name"] == "Guo"
    assert guo["authors"][-1]["collective_name"] == "Canadian Respiratory Research Network"


def test_unknown_or_malformed_pmids_are_refused(imported):
    with pytest.raises(CommandError, match=r"No stored citation with 1$"):
        export("--format", "ris", "--pmid", "35560368", "1")
    with pytest.raises(CommandError, match="“x1” is not a PMID"):
        export("--format", "ris", "--pmid", "x1")


def test_citations_are_named_in_the_one_identifier_grammar(imported):
    """The same forms the new-report page and fetch_pubmed take: a link, a DOI, a PMC id."""
    items = json.loads(
        export(
            "--format",
            "json",
            "--id",
            "pubmed.ncbi.nlm.nih.gov/35560368/",
            "https://doi.org/10.1111/CUP.14261",
            "PMC5442267",
        )
    )
    assert sorted(item["pmid"] for item in items) == [27797938, 35560368]


def test_an_unknown_format_is_refused():
    with pytest.raises(CommandError, match="invalid choice"):
        export("--format", "docx")
