"""Exports of a search: CSV and JSON of the cases, RIS and BibTeX of their citations, streamed."""

import csv
import io
import json

import bibtexparser
import pytest
import rispy
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from curation.search import exports
from tests.curation.searchdata import DRAFT_WORD, build_registry
from tests.factories import make_published_case


@pytest.fixture
def registry(db):
    return build_registry()


def download(client, fmt, **query):
    response = client.get(reverse("curation:export", args=[fmt]), query)
    assert response.status_code == 200
    assert response.streaming
    return response, b"".join(response.streaming_content).decode("utf-8")


def read_csv(text):
    return list(csv.DictReader(io.StringIO(text.removeprefix("\ufeff"))))


def test_csv_has_one_row_per_published_case_in_the_documented_columns(client, registry):
    response, text = download(client, "csv")
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"].startswith('attachment; filename="rarederm-cases-')
    rows = read_csv(text)
    assert list(rows[0]) == exports.COLUMN_NAMES
    assert {int(r["case_id"]) for r in rows} == {
        c.pk for name, c in registry.items() if name != "draft"
    }
    scalp = next(r for r in rows if int(r["case_id"]) == registry["scalp_imt"].pk)
    assert scalp["final_diagnosis"] == "inflammatory myofibroblastic tumor"
    assert scalp["final_diagnosis_icdo3"] == "8825/1"
    assert scalp["topography_code"] == "C44.4"
    assert scalp["age"] == "38" and scalp["age_unit"] == "years" and scalp["sex"] == "female"
    assert scalp["ihc"] == "ALK: positive; SMA: positive; S100: negative; SOX10: negative"
    assert scalp["ihc_positive"] == "ALK; SMA"
    assert scalp["ihc_negative"] == "S100; SOX10"
    assert scalp["fusions"] == "CARS1::ALK"
    assert scalp["fusion_methods"] == "RNA sequencing, not specified"
    assert scalp["pmid"] == "35560368"
    assert scalp["first_author"] == "McCollum KJ"
    assert scalp["year"] == "2022"
    assert scalp["url"].endswith(registry["scalp_imt"].get_absolute_url())
    infant = next(r for r in rows if int(r["case_id"]) == registry["infant"].pk)
    assert infant["age"] == "18" and infant["age_unit"] == "months"
    assert infant["fusions"] == "?::ALK"


def test_every_column_is_documented():
    assert all(meaning for _, meaning in exports.CASE_COLUMNS)
    assert len(set(exports.COLUMN_NAMES)) == len(exports.COLUMN_NAMES)


def test_an_export_follows_the_search_it_was_made_from(client, registry):
    _, text = download(client, "csv", q="scalp", ihc="ALK:positive")
    assert [int(r["case_id"]) for r in read_csv(text)] == [registry["scalp_imt"].pk]
    _, text = download(client, "csv", profile="S100-", sort="age")
    assert [int(r["case_id"]) for r in read_csv(text)] == [
        registry["scalp_imt"].pk,
        registry["dfsp"].pk,
    ]


def test_json_holds_the_same_rows(client, registry):
    response, text = download(client, "json", sex="male")
    assert response["Content-Type"] == "application/json"
    data = json.loads(text)
    assert {row["case_id"] for row in data} == {registry["trunk_imt"].pk, registry["dfsp"].pk}
    assert all(list(row) == exports.COLUMN_NAMES for row in data)
    dfsp = next(row for row in data if row["case_id"] == registry["dfsp"].pk)
    assert dfsp["age"] == 45 and dfsp["fusions"] == "COL1A1::PDGFB"


def test_an_empty_result_is_valid_csv_and_json(client, registry):
    _, text = download(client, "csv", q="nothingmatchesthis")
    assert read_csv(text) == []
    _, text = download(client, "json", q="nothingmatchesthis")
    assert json.loads(text) == []


def test_ris_lists_the_citations_of_the_cases_once_each(client, registry):
    make_published_case(citation=registry["scalp_imt"].citation, label="Case 2")
    response, text = download(client, "ris", three="ALK")
    assert response["Content-Type"] == "application/x-research-info-systems"
    entries = rispy.loads(text)
    assert sorted(int(e["accession_number"]) for e in entries) == [31000001, 31000002, 35560368]
    founding = next(e for e in entries if e["accession_number"] == "35560368")
    assert founding["title"].startswith("Cutaneous inflammatory myofibroblastic tumor")
    assert founding["authors"][0] == "McCollum, KJ"


def test_bibtex_reads_back(client, registry):
    _, text = download(client, "bibtex")
    library = bibtexparser.parse_string(text)
    assert not library.failed_blocks
    assert sorted(e.key for e in library.entries) == [
        "pmid31000001",
        "pmid31000002",
        "pmid31000003",
        "pmid31000004",
        "pmid35560368",
    ]


def test_no_export_contains_a_draft(client, registry):
    for fmt in ("csv", "json", "ris", "bibtex"):
        _, text = download(client, fmt)
        assert DRAFT_WORD not in text
        assert "31000005" not in text


def test_cells_a_spreadsheet_would_run_as_formulas_are_defused(client, db):
    make_published_case(notes='=HYPERLINK("http://evil.example","click")')
    _, text = download(client, "csv")
    assert read_csv(text)[0]["notes"].startswith("'=HYPERLINK")


def test_an_unknown_format_is_not_found(client, db):
    assert client.get(reverse("curation:export", args=["xlsx"])).status_code == 404


def test_rows_are_read_in_chunks_not_all_at_once(client, db, monkeypatch):
    """The export streams: the database is read a chunk at a time as the body is sent."""
    monkeypatch.setattr(exports, "CHUNK", 3)
    for _ in range(7):
        make_published_case(fusions=["TPM3::ALK"])
    response = client.get(reverse("curation:export", args=["csv"]))
    body = iter(response.streaming_content)
    with CaptureQueriesContext(connection) as before_first_row:
        header = [next(body), next(body)]  # BOM, header line
    assert b"case_id" in header[1]
    with CaptureQueriesContext(connection) as queries:
        rows = list(body)
    assert len(rows) == 7
    # Each chunk of 3 rows: its cases, then IHC, fusions and authors for those only.
    prefetches = [q["sql"] for q in queries.captured_queries if "curation_ihcresult" in q["sql"]]
    assert len(prefetches) == 3  # chunks of 3, 3 and 1
    assert len(before_first_row.captured_queries) <= 4  # gene/marker look-ups, nothing per row


def test_links_point_at_the_address_the_export_was_asked_at_when_site_url_is_unset(
    client, registry, settings
):
    # `manage.py runserver 127.0.0.1:8123`: the links must say 8123, not 8000.
    settings.SITE_URL = ""
    response = client.get(reverse("curation:export", args=["csv"]), HTTP_HOST="127.0.0.1:8123")
    rows = read_csv(b"".join(response.streaming_content).decode("utf-8"))
    scalp = next(r for r in rows if int(r["case_id"]) == registry["scalp_imt"].pk)
    assert scalp["url"] == f"http://127.0.0.1:8123{registry['scalp_imt'].get_absolute_url()}"


def test_links_use_site_url_when_it_is_set(client, registry, settings):
    settings.SITE_URL = "https://rarederm.example.org"
    response = client.get(reverse("curation:export", args=["json"]), HTTP_HOST="127.0.0.1:8123")
    rows = json.loads(b"".join(response.streaming_content))
    assert all(row["url"].startswith("https://rarederm.example.org/cases/") for row in rows)


@pytest.mark.parametrize("query", [{"site": "Q99"}, {"age": "abc"}, {"profile": "S100++ ALK~"}])
def test_an_export_of_a_search_that_cannot_be_read_is_refused_saying_why(client, registry, query):
    """Before: the bad filter was dropped and every published case was exported."""
    response = client.get(reverse("curation:export", args=["csv"]), query)
    assert response.status_code == 400
    assert not response.streaming
    page = response.content.decode()
    assert "This export was not made" in page
    assert next(iter(query.values()))[:3] in page


def test_every_column_of_the_record_reads_back_from_csv_and_json(client, db):
    case = make_published_case(
        fusions=[],
        ihc=[("S100", "positive")],
        molecular=[
            (
                "variant",
                "BRAF",
                {
                    "hgvs_protein": "V600E",
                    "hgvs_cdna": "c.1799T>A",
                    "method": "dna_panel",
                    "assay": "targeted DNA panel",
                },
            ),
            (
                "copy_number",
                "CDKN2A",
                {"copy_number": "homozygous_deletion", "method": "dna_panel"},
            ),
            (
                "other",
                "",
                {"description": "methylation class: melanoma", "method": "methylation_array"},
            ),
        ],
        treatments=[
            ("wide_local_excision", {"margins": "close"}),
            ("systemic", {"agent": "dabrafenib", "months": 20}),
        ],
        events=[("local_recurrence", 14), ("distant_metastasis", 20, {"site": "lung"})],
        follow_up_months=30,
        outcome="awd",
        source_depth="full_text_figures",
        diagnosis_as_reported="malignant spindle cell tumour",
        differentials_as_reported="AFX, leiomyosarcoma",
        depth_mm=4.5,
        mitoses=6,
        mitoses_unit="per_mm2",
        necrosis="present",
        lymphovascular_invasion="absent",
        perineural_invasion="present",
        focality="solitary",
    )
    expected = {
        "variants": "BRAF p.Val600Glu c.1799T>A",
        "copy_number_changes": "CDKN2A homozygous deletion",
        "other_findings": "methylation class: melanoma",
        "molecular_methods": (
            "Targeted DNA sequencing panel; Targeted DNA sequencing panel; DNA methylation array"
        ),
        "evidence_grade": "A",
        "source_depth": "full_text_figures",
        "diagnosis_as_reported": "malignant spindle cell tumour",
        "differentials_as_reported": "AFX, leiomyosarcoma",
        "treatments": (
            "Wide local excision, margins close; Systemic therapy (dabrafenib) at 20 months"
        ),
        "events": "Local recurrence at 14 months; Distant metastasis (lung) at 20 months",
        "recurrence_months": "14",
        "metastasis": "yes",
        "outcome": "awd",
        "depth_mm": "4.5",
        "mitoses": "6",
        "mitoses_unit": "per_mm2",
        "necrosis": "present",
        "lymphovascular_invasion": "absent",
        "perineural_invasion": "present",
        "focality": "solitary",
        "record_version": "3",
    }
    _, text = download(client, "csv")
    [row] = read_csv(text)
    assert {name: row[name] for name in expected} == expected
    assert row["molecular_hgnc_ids"].startswith("HGNC:1097; HGNC:1787")
    assert row["last_modified"].startswith(str(case.updated_at.year))
    _, text = download(client, "json")
    [obj] = json.loads(text)
    assert obj["recurrence_months"] == 14 and obj["mitoses"] == 6
    assert {name: str(obj[name]) for name in expected} == expected
