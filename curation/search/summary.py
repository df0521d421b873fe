"""The review table of a search: a cohort summary ("Table 1"), one row per case,
and the numbered AMA references, as a page and as CSV, XLSX, DOCX and Markdown.

Every number is computed here in Python from the cases of the search, loaded
with their whole record in a fixed number of queries (Case.with_record).
Medians by `statistics.median`. Follow-up figures (recurrence, metastasis,
death of disease, median follow-up) use only the cases with a follow-up.
"""

from __future__ import annotations

import io
import statistics
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Prefetch

from citations.exports import ama
from citations.models import Author, Citation
from config.csvfile import csv_lines
from curation.models import Case
from curation.search.engine import Counting, Resolved
from curation.search.facets import age_in_years
from curation.search.immunoprofile import TESTED
from curation.search.params import SearchParams

MAX_CASES = 5_000  # a larger search is refused: narrow it (the page says so)
SIGN = {"positive": "+", "negative": "\u2212", "equivocal": "\u00b1"}
METASTASES = ("regional_metastasis", "distant_metastasis", "metastasis")
RECURRENCE = "local_recurrence"
DEATH_OF_DISEASE = "death_of_disease"
CASE_COLUMNS = (
    "Ref.",
    "Case",
    "Age/sex",
    "Site",
    "Size (mm)",
    "Key IHC",
    "Finding (method)",
    "Treatment",
    "Follow-up and status",
)


def count(params: SearchParams, resolved: Resolved) -> int:
    """The search's cases, as its page counts them (the facet index: no query)."""
    return Counting(params, resolved).total


def cohort(params: SearchParams, resolved: Resolved) -> list[Case]:
    """Every case of the search with its whole record, oldest paper first
    (a fixed number of queries whatever the number of cases); their ids from the facet
    index, as the search page counts them."""
    ids = list(Counting(params, resolved).cases())
    authors = Prefetch("authors", queryset=Author.objects.order_by("position"))
    return list(
        Case.objects.with_record()
        .prefetch_related(
            Prefetch("citation__authors", queryset=Author.objects.order_by("position")),
            # The patient's other reports: one case, every paper numbered.
            Prefetch(
                "other_citations",
                queryset=Citation.objects.order_by("year", "pk").prefetch_related(authors),
            ),
        )
        .filter(pk__in=ids)
        .annotate(age_years=age_in_years())
        .order_by("citation__year", "citation_id", "pk")
    )


def _number(value) -> str:
    """12.50 -> '12.5', 8.000 -> '8' (no exponent)."""
    if value is None:
        return ""
    value = Decimal(value).quantize(Decimal("0.1")).normalize()
    return f"{value:f}"


def _percent(part: int, whole: int) -> str:
    return f"{round(100 * part / whole)}%" if whole else "\u2013"


@dataclass
class Spread:
    """Median and range of the reported values, and how many were reported."""

    values: list

    @property
    def n(self) -> int:
        return len(self.values)

    @property
    def median(self):
        return statistics.median(self.values) if self.values else None

    def text(self, unit: str) -> str:
        if not self.values:
            return "not reported"
        low, high = min(self.values), max(self.values)
        return (
            f"median {_number(self.median)} {unit} (range {_number(low)}\u2013{_number(high)}; "
            f"n = {self.n})"
        )


@dataclass
class MarkerLine:
    marker: str
    positive: int
    tested: int

    @property
    def text(self) -> str:
        share = _percent(self.positive, self.tested)
        return f"{share} positive ({self.positive}/{self.tested} tested)"


@dataclass
class Summary:
    cases: list
    papers: list  # citations in reference order (their number is index + 1)
    age: Spread
    size: Spread
    sex: Counter
    sites: Counter
    markers: list
    findings: Counter  # (finding, method label) -> cases
    treatments: Counter  # treatment label -> cases
    followed: int
    follow_up: Spread
    recurrence: int
    metastasis: int
    died_of_disease: int
    rows: list = field(default_factory=list)

    def lines(self) -> list[tuple[str, str]]:
        """Table 1 as (characteristic, value) pairs: what every format prints."""
        n = len(self.cases)
        out = [
            ("Cases", str(n)),
            ("Papers", str(len(self.papers))),
            ("Age (years)", self.age.text("years")),
        ]
        for sex in ("female", "male", ""):
            count = self.sex.get(sex, 0)
            if count or sex:
                label = dict(Case.Sex.choices).get(sex, "Sex not reported")
                out.append((f"Sex: {label}", f"{count} ({_percent(count, n)})"))
        for site, count in self.sites.most_common():
            out.append((f"Site: {site}", f"{count} ({_percent(count, n)})"))
        out.append(("Size (mm)", self.size.text("mm")))
        for line in self.markers:
            out.append((f"IHC: {line.marker}", line.text))
        for (finding, method), count in sorted(self.findings.items(), key=lambda i: (-i[1], i[0])):
            out.append((f"Finding: {finding} by {method}", f"{count} ({_percent(count, n)})"))
        for label, count in self.treatments.most_common():
            out.append((f"Treatment: {label}", f"{count} ({_percent(count, n)})"))
        f = self.followed
        out.append(("Cases with follow-up", f"{f} of {n}"))
        out.append(("Follow-up (months)", self.follow_up.text("months")))
        out.append(
            ("Local recurrence", f"{self.recurrence} of {f} ({_percent(self.recurrence, f)})")
        )
        out.append(("Metastasis", f"{self.metastasis} of {f} ({_percent(self.metastasis, f)})"))
        out.append(
            (
                "Died of disease",
                f"{self.died_of_disease} of {f} ({_percent(self.died_of_disease, f)})",
            )
        )
        return out

    def references(self) -> list[tuple[int, str]]:
        return [(number, ama(citation)) for number, citation in enumerate(self.papers, 1)]


def _method(finding) -> str:
    return finding.get_method_display() if finding.method else "method not reported"


def findings_of(case) -> list[tuple[str, str]]:
    """(finding, method label) of a case, fusions first, each once."""
    seen = []
    for fusion in case.fusions.all():
        pair = (fusion.display, _method(fusion))
        if pair not in seen:
            seen.append(pair)
    for finding in case.molecular_findings.all():
        pair = (finding.display, _method(finding))
        if pair not in seen:
            seen.append(pair)
    return seen


def marker_results(case) -> dict[str, str]:
    """marker -> positive/negative/equivocal for each tested marker (positive wins)."""
    results: dict[str, str] = {}
    for result in case.ihc_results.all():
        if result.result not in TESTED:
            continue
        name = result.marker.name
        if results.get(name) != "positive":
            results[name] = result.result
    return results


def _events(case) -> set[str]:
    return {event.kind for event in case.clinical_events.all()}


def papers_of(case) -> list:
    """The case's paper, then the other papers reporting the same patient."""
    others = [c for c in case.other_citations.all() if c.pk != case.citation_id]
    return [case.citation, *others]


def ihc_text(case) -> str:
    """Key IHC, each tested marker once with its sign (summary.SIGN): `ALK+, SMA+`."""
    return ", ".join(f"{name}{SIGN[result]}" for name, result in marker_results(case).items())


def treatment_text(case) -> str:
    """The controlled treatment rows, else the treatment as reported."""
    return "; ".join(t.display for t in case.treatments.all()) or case.treatment


def site_text(case) -> str:
    """`Skin of scalp and neck, posterior scalp`: the topography and the site as reported."""
    return ", ".join(
        p for p in (case.topography.name if case.topography_id else "", case.site_display) if p
    )


def _case_row(case, reference: str) -> list[str]:
    age = case.age_display
    age_sex = "/".join(p for p in (age, case.get_sex_display() if case.sex else "") if p)
    site = site_text(case)
    finding = "; ".join(f"{text} ({method})" for text, method in findings_of(case))
    course = []
    if case.follow_up_months is not None:
        course.append(f"{_number(case.follow_up_months)} months")
    if case.outcome:
        course.append(case.outcome.upper())
    events = "; ".join(event.display for event in case.clinical_events.all())
    status = ", ".join(course)
    if events:
        status = f"{status}; {events}" if status else events
    return [
        reference,
        case.number,
        age_sex,
        site,
        _number(case.size_mm),
        ihc_text(case),
        finding,
        treatment_text(case),
        status,
    ]


def result_cells(case) -> dict[str, str]:
    """A search result as the table view's cells (params.COLUMNS), in the review table's
    words: the same IHC, finding, method, treatment and status texts (the site shorter)."""
    findings = findings_of(case)
    return {
        "grade": case.evidence_grade,
        "diagnosis": case.final_diagnosis.name if case.final_diagnosis_id else "",
        "age": case.age_display,
        "sex": case.get_sex_display() if case.sex else "",
        # Dense: the ICD-O-3 code and the site as reported (the page gives the name).
        "site": " ".join(
            p for p in (case.topography.code if case.topography_id else "", case.site_display) if p
        ),
        "size": _number(case.size_mm),
        "ihc": ihc_text(case),
        "finding": "; ".join(text for text, _ in findings),
        "method": "; ".join(dict.fromkeys(method for _, method in findings)),
        "treatment": treatment_text(case),
        "outcome": case.outcome.upper(),  # NED, AWD, DOD, DOC as in the review rows
        "follow_up": _number(case.follow_up_months),
    }


def summarise(cases: list) -> Summary:
    papers: list = []
    paper_numbers: dict[int, int] = {}
    for case in cases:
        for paper in papers_of(case):
            if paper.pk not in paper_numbers:
                papers.append(paper)
                paper_numbers[paper.pk] = len(papers)
    tested: Counter = Counter()
    positive: Counter = Counter()
    findings: Counter = Counter()
    treatments: Counter = Counter()
    for case in cases:
        for name, result in marker_results(case).items():
            tested[name] += 1
            positive[name] += result == "positive"
        findings.update(findings_of(case))
        treatments.update({t.get_kind_display() for t in case.treatments.all()})
    followed = [case for case in cases if case.follow_up_months is not None]
    summary = Summary(
        cases=cases,
        papers=papers,
        age=Spread([c.age_years for c in cases if c.age_years is not None]),
        size=Spread([c.size_mm for c in cases if c.size_mm is not None]),
        sex=Counter(case.sex for case in cases),
        sites=Counter(
            str(c.topography) if c.topography_id else "Site not reported" for c in cases
        ),
        markers=[
            MarkerLine(name, positive[name], count)
            for name, count in sorted(tested.items(), key=lambda i: (-i[1], i[0].lower()))
        ],
        findings=findings,
        treatments=treatments,
        followed=len(followed),
        follow_up=Spread([c.follow_up_months for c in followed]),
        recurrence=sum(RECURRENCE in _events(c) for c in followed),
        metastasis=sum(bool(_events(c) & set(METASTASES)) for c in followed),
        died_of_disease=sum(
            c.outcome == Case.Outcome.DOD or DEATH_OF_DISEASE in _events(c) for c in followed
        ),
    )
    summary.rows = [
        _case_row(case, ", ".join(str(paper_numbers[p.pk]) for p in papers_of(case)))
        for case in cases
    ]
    return summary


# -- the downloads --------------------------------------------------------------


def csv_file(summary: Summary):
    """The per-case table, then Table 1 and the references under their own headers."""
    rows = [list(row) for row in summary.rows]
    blank = [""] * len(CASE_COLUMNS)
    rows += [blank, ["Table 1", "Characteristic", "Value"]]
    rows += [["", label, value] for label, value in summary.lines()]
    rows += [blank, ["References"]]
    rows += [[str(number), text] for number, text in summary.references()]
    return csv_lines(CASE_COLUMNS, rows)


def xlsx_bytes(summary: Summary) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheets = (
        ("Table 1", ("Characteristic", "Value"), summary.lines()),
        ("Cases", CASE_COLUMNS, summary.rows),
        ("References", ("No.", "Reference (AMA)"), summary.references()),
    )
    for index, (title, header, rows) in enumerate(sheets):
        sheet = book.active if index == 0 else book.create_sheet()
        sheet.title = title
        sheet.append(list(header))
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for row in rows:
            sheet.append([_xlsx_cell(value) for value in row])
            for cell in sheet[sheet.max_row]:
                # Text stays text: openpyxl takes a leading "=" for a formula otherwise.
                if cell.data_type == "f":
                    cell.data_type = "s"
        sheet.freeze_panes = "A2"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _xlsx_cell(value):
    if isinstance(value, int):
        return value
    text = str(value)
    return int(text) if text.isdigit() else text


def docx_bytes(summary: Summary, title: str) -> bytes:
    from docx import Document
    from docx.enum.section import WD_ORIENT
    from docx.shared import Pt

    document = Document()
    section = document.sections[0]
    section.orientation = WD_ORIENT.LANDSCAPE
    section.page_width, section.page_height = section.page_height, section.page_width
    document.add_heading(title, level=1)
    document.add_heading("Table 1. Cohort summary", level=2)
    _docx_table(document, ("Characteristic", "Value"), summary.lines())
    document.add_heading("Table 2. Reported cases", level=2)
    table = _docx_table(document, CASE_COLUMNS, summary.rows)
    for row in table.rows:
        for cell in row.cells:
            for paragraph in cell.paragraphs:
                for run in paragraph.runs:
                    run.font.size = Pt(8)
    document.add_heading("References", level=2)
    for number, text in summary.references():
        document.add_paragraph(f"{number}. {text}")
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def _docx_table(document, header, rows):
    table = document.add_table(rows=1, cols=len(header))
    table.style = "Table Grid"
    for cell, text in zip(table.rows[0].cells, header, strict=True):
        cell.text = text
        for run in cell.paragraphs[0].runs:
            run.bold = True
    for row in rows:
        cells = table.add_row().cells
        for cell, text in zip(cells, row, strict=True):
            cell.text = str(text)
    return table


def _md_cell(value) -> str:
    return str(value).replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def _md_table(header, rows) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_md_cell(v) for v in row) + " |" for row in rows]
    return lines


def markdown(summary: Summary, title: str) -> str:
    lines = [f"# {title}", "", "## Table 1. Cohort summary", ""]
    lines += _md_table(("Characteristic", "Value"), summary.lines())
    lines += ["", "## Table 2. Reported cases", ""]
    lines += _md_table(CASE_COLUMNS, summary.rows)
    lines += ["", "## References", ""]
    lines += [f"{number}. {_md_cell(text)}" for number, text in summary.references()]
    return "\n".join(lines) + "\n"
