"""The review table /search/summary/: Table 1, the per-case table and the references,
on the page and as CSV, XLSX, DOCX and Markdown.

Every number is checked against an independent computation in pure Python over
the search's own CSV export (/search/export/csv/, curation/search/exports.py):
the same registry, read through another code path.
"""

import csv
import io
import re
import statistics
from collections import Counter
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from docx import Document
from openpyxl import load_workbook

from curation.models import Case
from tests.curation.searchdata import build_registry, citation
from tests.factories import diagnosis, make_published_case, topography

PER_YEAR = {"years": 1, "months": 12, "weeks": Decimal("52.1775"), "days": Decimal("365.25")}
METHOD_LABELS = {"rna_seq": "RNA sequencing, not specified"}


def add_cases(count: int, start: int = 0) -> None:
    """More published IMT cases: several per paper, sizes, equivocal stains, treatments,
    a course; ages in years, months and weeks (deterministic)."""
    imt = diagnosis("inflammatory myofibroblastic tumor")
    paper = None
    for i in range(start, start + count):
        if paper is None or i % 3 == 0:  # three cases per paper
            paper = citation(32000000 + i, f"A series of cutaneous IMT, part {i}", 2015 + i % 7)
        followed = i % 2 == 0
        events = []
        if followed and i % 4 == 0:
            events.append(("local_recurrence", 6 + i % 5))
        if followed and i % 8 == 0:
            events.append(("regional_metastasis", 12))
        make_published_case(
            citation=paper,
            final_diagnosis=imt,
            topography=topography(("C44.4", "C44.5", "C49.6")[i % 3]),
            age=(5 + 7 * i) % 90 + (Decimal("0.5") if i % 5 == 0 else 0),
            age_unit=("years", "years", "months", "weeks")[i % 4],
            sex=("female", "male", "")[i % 3],
            size_mm=None if i % 6 == 5 else Decimal(10 + 3 * i) / 2,
            ihc=[("ALK", ("positive", "negative", "equivocal")[i % 3]), ("SMA", "positive")]
            + ([("desmin", "negative")] if i % 2 else [("desmin", "not_performed")]),
            fusions=["TPM3::ALK"] if i % 2 else [("?::ALK", "fish_break_apart")],
            treatments=[("wide_local_excision", {"margins": "negative"})]
            + ([("systemic", {"agent": "crizotinib"})] if i % 4 == 1 else []),
            events=events,
            follow_up_months=24 + i if followed else None,
            outcome=("ned" if not events else "awd") if followed else "",
        )


@pytest.fixture
def registry(db):
    cases = build_registry()
    add_cases(10)
    return cases


def get(client, fmt="", **query):
    if fmt:
        return client.get(reverse("curation:search_summary_download", args=[fmt]), query)
    return client.get(reverse("curation:search_summary"), query)


def exported_rows(client, **query):
    response = client.get(reverse("curation:export", args=["csv"]), query)
    text = b"".join(response.streaming_content).decode("utf-8").removeprefix("\ufeff")
    return list(csv.DictReader(io.StringIO(text)))


def expected(rows):
    """Table 1 computed from the exported rows, as numbers."""
    ages = [Decimal(r["age"]) / PER_YEAR[r["age_unit"]] for r in rows if r["age"]]
    sizes = [Decimal(r["size_mm"]) for r in rows if r["size_mm"]]
    tested, positive = Counter(), Counter()
    for row in rows:
        results = {}
        for entry in filter(None, row["ihc"].split("; ")):
            name, rest = entry.split(": ", 1)
            result = rest.split(",")[0].strip()
            if result in ("positive", "negative", "equivocal") and results.get(name) != "positive":
                results[name] = result
        for name, result in results.items():
            tested[name] += 1
            positive[name] += result == "positive"
    findings = Counter()
    for row in rows:
        pairs = set()
        fusions = [f for f in row["fusions"].split("; ") if f]
        methods = [m for m in row["fusion_methods"].split("; ") if m]
        for fusion, method in zip(fusions, methods, strict=True):
            name = (
                f"{fusion[3:]} rearrangement (partner unknown)" if fusion[:3] == "?::" else fusion
            )
            pairs.add((name, method))
        if row["copy_number_changes"]:
            pairs.add((row["copy_number_changes"], row["molecular_methods"]))
        findings.update(pairs)
    treatments = Counter()
    for row in rows:
        kinds = {t.split(",")[0].split(" (")[0] for t in row["treatments"].split("; ") if t}
        treatments.update(kinds)
    followed = [r for r in rows if r["follow_up_months"]]
    return {
        "cases": len(rows),
        "papers": len({r["pmid"] for r in rows}),
        "age": ages,
        "size": sizes,
        "sex": Counter(r["sex"] for r in rows),
        "sites": Counter(f"{r['topography_code']} {r['topography']}" for r in rows),
        "ihc": {name: (positive[name], tested[name]) for name in tested},
        "findings": findings,
        "treatments": treatments,
        "followed": len(followed),
        "follow_up": [Decimal(r["follow_up_months"]) for r in followed],
        "recurrence": sum("Local recurrence" in r["events"] for r in followed),
        "metastasis": sum(r["metastasis"] == "yes" for r in followed),
        "dod": sum(r["outcome"] == "dod" or "Death of disease" in r["events"] for r in followed),
    }


SPREAD = re.compile(r"median ([\d.]+) \w+ \(range ([\d.]+)\u2013([\d.]+); n = (\d+)\)")


def check_spread(text, values):
    if not values:
        assert text == "not reported"
        return
    low, high = min(values), max(values)
    median, found_low, found_high, n = SPREAD.fullmatch(text).groups()
    assert int(n) == len(values)
    for found, value in (
        (median, statistics.median(values)),
        (found_low, low),
        (found_high, high),
    ):
        assert abs(Decimal(found) - value) <= Decimal("0.05"), (text, value)


def count_of(text):
    return int(text.split(" ")[0])


def check_table_1(table: dict, want: dict):
    assert table["Cases"] == str(want["cases"])
    assert table["Papers"] == str(want["papers"])
    check_spread(table["Age (years)"], want["age"])
    check_spread(table["Size (mm)"], want["size"])
    check_spread(table["Follow-up (months)"], want["follow_up"])
    assert count_of(table["Sex: Female"]) == want["sex"]["female"]
    assert count_of(table["Sex: Male"]) == want["sex"]["male"]
    assert count_of(table.get("Sex: Sex not reported", "0")) == want["sex"][""]
    sites = {k[len("Site: ") :]: count_of(v) for k, v in table.items() if k.startswith("Site: ")}
    assert sites == dict(want["sites"])
    ihc = {}
    for label, value in table.items():
        if label.startswith("IHC: "):
            pos, tested = re.search(r"\((\d+)/(\d+) tested\)", value).groups()
            ihc[label[len("IHC: ") :]] = (int(pos), int(tested))
            assert value.startswith(f"{round(100 * int(pos) / int(tested))}% positive")
    assert ihc == want["ihc"]
    findings = {
        re.fullmatch(r"Finding: (.*?) by (.*)", k).groups(): count_of(v)
        for k, v in table.items()
        if k.startswith("Finding: ")
    }
    assert findings == dict(want["findings"])
    treatments = {
        k[len("Treatment: ") :]: count_of(v)
        for k, v in table.items()
        if k.startswith("Treatment: ")
    }
    assert treatments == dict(want["treatments"])
    assert table["Cases with follow-up"] == f"{want['followed']} of {want['cases']}"
    for label, key in (
        ("Local recurrence", "recurrence"),
        ("Metastasis", "metastasis"),
        ("Died of disease", "dod"),
    ):
        assert table[label].startswith(f"{want[key]} of {want['followed']} ")


def xlsx(response):
    book = load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == ["Table 1", "Cases", "References"]
    sheets = {}
    for name in book.sheetnames:
        values = list(book[name].iter_rows(values_only=True))
        sheets[name] = [["" if v is None else str(v) for v in row] for row in values]
    return sheets


@pytest.mark.parametrize("query", [{}, {"dx": "IMT"}, {"sex": "female"}, {"q": "ALK"}])
def test_table_1_and_the_case_table_agree_with_the_exported_rows(client, registry, query):
    if query.get("dx"):
        query = {"dx": diagnosis("inflammatory myofibroblastic tumor").pk}
    want = expected(exported_rows(client, **query))
    assert want["cases"] >= 2
    response = get(client, "xlsx", **query)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    sheets = xlsx(response)
    check_table_1(dict(sheets["Table 1"][1:]), want)
    cases = sheets["Cases"][1:]
    assert len(cases) == want["cases"]
    assert len(sheets["References"]) - 1 == want["papers"]


def test_every_reference_number_points_to_the_case_s_paper(client, registry):
    sheets = xlsx(get(client, "xlsx"))
    references = {int(n): text for n, text in sheets["References"][1:]}
    assert sorted(references) == list(range(1, len(references) + 1))
    for row in sheets["Cases"][1:]:
        case = Case.objects.get(pk=int(row[1].removeprefix("RareDerm #")))
        assert str(case.citation.year) in references[int(row[0])]
        assert case.citation.title.rstrip(".")[:30] in references[int(row[0])]
    scalp = next(r for r in sheets["Cases"] if r[1] == registry["scalp_imt"].number)
    assert scalp[2] == "38 years/Female"
    assert "posterior scalp" in scalp[3]
    assert scalp[5] == "ALK+, SMA+, S100\u2212, SOX10\u2212"
    assert scalp[6] == "CARS1::ALK (RNA sequencing, not specified)"
    trunk = next(r for r in sheets["Cases"] if r[1] == registry["trunk_imt"].number)
    assert trunk[8] == "20 months, AWD; Local recurrence at 14 months"
    assert "McCollum KJ" in references[int(scalp[0])]


def test_the_page_shows_table_1_the_cases_and_the_downloads(client, registry):
    response = get(client)
    assert response.status_code == 200
    page = response.content.decode()
    want = expected(exported_rows(client))
    table = dict(response.context["table"].lines())
    check_table_1(table, want)
    assert "Table 1. Cohort summary" in page and "Table 2. Reported cases" in page
    assert page.count('<li id="ref-') == want["papers"]
    assert "<i>" in page  # the journal in italics (ama_html)
    for fmt in ("csv", "xlsx", "docx", "md"):
        assert reverse("curation:search_summary_download", args=[fmt]) in page
    assert registry["scalp_imt"].get_absolute_url() in page


def test_the_search_page_links_the_review_table_with_its_search(client, registry):
    page = client.get(reverse("curation:search"), {"sex": "male"}).content.decode()
    assert f'href="{reverse("curation:search_summary")}?sex=male"' in page


def test_docx_opens_and_holds_the_same_tables_and_references(client, registry):
    sheets = xlsx(get(client, "xlsx", sex="female"))
    response = get(client, "docx", sex="female")
    assert response.status_code == 200
    assert response["Content-Disposition"].endswith('.docx"')
    document = Document(io.BytesIO(response.content))
    first, second = document.tables
    read = [[[cell.text for cell in row.cells] for row in table.rows] for table in (first, second)]
    assert read[0] == sheets["Table 1"]
    assert read[1] == sheets["Cases"]
    texts = [p.text for p in document.paragraphs]
    references = [f"{n}. {text}" for n, text in sheets["References"][1:]]
    assert texts[-len(references) :] == references


def test_csv_and_markdown_hold_the_same_rows(client, registry):
    sheets = xlsx(get(client, "xlsx"))
    response = get(client, "csv")
    assert response["Content-Type"].startswith("text/csv")
    text = b"".join(response.streaming_content).decode("utf-8").removeprefix("\ufeff")
    rows = list(csv.reader(io.StringIO(text)))
    n = len(sheets["Cases"])
    assert rows[:n] == sheets["Cases"]
    table_1 = rows.index(["Table 1", "Characteristic", "Value"])
    assert [r[1:] for r in rows[table_1 + 1 : table_1 + len(sheets["Table 1"])]] == sheets[
        "Table 1"
    ][1:]
    markdown = get(client, "md").content.decode()
    lines = markdown.splitlines()
    case_lines = [line for line in lines if line.startswith("| ") and "RareDerm #" in line]
    assert len(case_lines) == n - 1
    assert lines.count("## References") == 1
    assert sum(bool(re.match(r"\d+\. ", line)) for line in lines) == len(sheets["References"]) - 1


def test_a_cell_that_starts_like_a_formula_stays_text(client, db):
    make_published_case(
        site_detail='=HYPERLINK("http://x")', laterality="", topography=None, fusions=[]
    )
    text = b"".join(get(client, "csv").streaming_content).decode("utf-8").removeprefix("\ufeff")
    assert list(csv.reader(io.StringIO(text)))[1][3] == '\'=HYPERLINK("http://x")'
    book = load_workbook(io.BytesIO(get(client, "xlsx").content))
    assert all(cell.data_type != "f" for row in book["Cases"].iter_rows() for cell in row)
    assert book["Cases"]["D2"].value == '=HYPERLINK("http://x")'


@pytest.mark.parametrize("query", [{"site": "Q99"}, {"age": "abc"}, {"profile": "S100++ ALK~"}])
@pytest.mark.parametrize("fmt", ["", "xlsx"])
def test_a_search_that_cannot_be_read_is_refused_saying_why(client, registry, query, fmt):
    response = get(client, fmt, **query)
    assert response.status_code == 400
    page = response.content.decode()
    assert "was not made" in page
    assert next(iter(query.values()))[:3] in page


def test_an_unknown_format_is_not_found(client, registry):
    assert get(client, "pdf").status_code == 404


def test_an_empty_search_says_so(client, registry):
    response = get(client, q="zzzznothingmatches")
    assert response.status_code == 200
    assert "No published case matches this search." in response.content.decode()


def test_the_query_count_is_fixed_whatever_the_number_of_cases(client, registry):
    def queries():
        with CaptureQueriesContext(connection) as captured:
            assert get(client).status_code == 200
            assert get(client, "docx").status_code == 200
        return len(captured)

    registry["scalp_imt"].other_citations.add(citation(33000002, "Another report", 2023))
    before = queries()
    count_before = Case.objects.published().count()
    add_cases(12, start=100)
    registry["trunk_imt"].other_citations.add(citation(33000003, "A third report", 2024))
    assert Case.objects.published().count() == count_before + 12
    assert queries() == before


def test_a_search_too_large_is_refused_with_a_way_out(client, registry, monkeypatch):
    from curation.search import summary

    monkeypatch.setattr(summary, "MAX_CASES", 3)
    page = get(client).content.decode()
    assert "Narrow the search" in page
    assert get(client, "csv").status_code == 400


def test_a_patient_reported_in_two_papers_is_one_case_citing_both(client, registry):
    """Same patient, two papers: one case (other_citations), counted once, both numbered."""
    second = citation(33000001, "Follow-up of a cutaneous IMT of the scalp", 2024)
    scalp = registry["scalp_imt"]
    scalp.other_citations.add(second)
    rows = exported_rows(client, sex="female")
    sheets = xlsx(get(client, "xlsx", sex="female"))
    table = dict(sheets["Table 1"][1:])
    assert table["Cases"] == str(len(rows))
    assert table["Papers"] == str(len({r["pmid"] for r in rows}) + 1)
    references = {int(n): text for n, text in sheets["References"][1:]}
    row = next(r for r in sheets["Cases"] if r[1] == scalp.number)
    first, other = (int(n) for n in row[0].split(", "))
    assert "McCollum KJ" in references[first]
    assert "Follow-up of a cutaneous IMT of the scalp" in references[other]
    assert sum(r[1] == scalp.number for r in sheets["Cases"]) == 1
