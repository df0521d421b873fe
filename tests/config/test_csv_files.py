"""Every CSV RareDerm writes: one writer, UTF-8 with a BOM, no cell a spreadsheet would run.

OWASP's rule for CSV injection (https://owasp.org/www-community/attacks/CSV_Injection):
a cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage return is
prefixed with a single quote. The case export, the citation export (page and
command) and the activity log are read back as a spreadsheet would read them.
"""

import ast
import csv
import io
from pathlib import Path

import pytest
from django.core.management import call_command
from django.urls import reverse

from config.csvfile import spreadsheet_safe
from curation import workflow
from curation.actions.cases import transition
from curation.actions.review import comment_on_case
from tests.factories import CaseFactory, CitationFactory, make_published_case

ROOT = Path(__file__).resolve().parent.parent.parent
PAYLOAD = "-1+cmd|' /C calc'!A0"  # passed unguarded before: '-' then a digit


def rows_of(data: bytes) -> list[dict]:
    assert data.startswith(b"\xef\xbb\xbf"), "no UTF-8 BOM: spreadsheets would misread accents"
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))


@pytest.mark.parametrize("first", ["=", "+", "-", "@", "\t", "\r"])
def test_each_character_that_starts_a_formula_is_defused(first):
    assert spreadsheet_safe(first + "1+1") == "'" + first + "1+1"


@pytest.mark.parametrize(
    "text", ["", "ALK", "1+1", "CARS1::ALK", "Spitz tumour, ALK-positive", "'quoted"]
)
def test_plain_text_is_left_as_it_is(text):
    assert spreadsheet_safe(text) == text


def test_empty_values_are_empty_cells():
    assert spreadsheet_safe(None) == ""


@pytest.mark.django_db
def test_the_case_export_defuses_a_minus_then_a_digit(client):
    make_published_case(notes=PAYLOAD, histology="Spindle cells, café-au-lait")
    response = client.get(reverse("curation:export", args=["csv"]))
    (row,) = rows_of(b"".join(response.streaming_content))
    assert row["notes"] == "'" + PAYLOAD
    assert row["histology"] == "Spindle cells, café-au-lait"


@pytest.mark.django_db
def test_the_citation_export_has_a_bom_and_defuses_a_minus_then_a_digit(client):
    CitationFactory(pmid=39100001, journal=PAYLOAD, title="Tumeur cutanée rare.")
    response = client.get(reverse("citations:export"), {"format": "csv", "pmid": "39100001"})
    (row,) = rows_of(response.getvalue())
    assert row["journal"] == "'" + PAYLOAD
    assert row["title"] == "Tumeur cutanée rare."


@pytest.mark.django_db
def test_the_export_citations_command_writes_the_same_file(capsys):
    CitationFactory(pmid=39100002, journal=PAYLOAD)
    call_command("export_citations", "--format", "csv", "--pmid", "39100002")
    (row,) = rows_of(capsys.readouterr().out.encode())
    assert row["journal"] == "'" + PAYLOAD


@pytest.mark.django_db
def test_the_activity_log_has_a_bom_and_defuses_a_minus_then_a_digit(
    client, admin, curator, reviewer
):
    case = CaseFactory(created_by=curator)
    transition(case, workflow.SUBMITTED, curator)
    comment_on_case(case, reviewer, PAYLOAD)
    client.force_login(admin)
    response = client.get(reverse("curation:activity_csv"))
    rows = rows_of(b"".join(response.streaming_content))
    assert "'" + PAYLOAD in [row["comment"] for row in rows]


def test_no_module_writes_csv_but_the_one_writer():
    """csv.writer / csv.DictWriter appear in config/csvfile.py only."""
    writers = []
    for app in ("accounts", "citations", "config", "curation", "outbox"):
        for path in sorted((ROOT / app).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
                if (
                    isinstance(node, ast.Attribute)
                    and isinstance(node.value, ast.Name)
                    and node.value.id == "csv"
                    and node.attr in ("writer", "DictWriter")
                ):
                    writers.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert writers and all(w.startswith("config/csvfile.py:") for w in writers), writers
