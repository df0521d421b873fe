"""Streaming exports of a search: cases as CSV / JSON, their citations as RIS / BibTeX.

Rows are read with `.iterator(chunk_size=...)` (prefetches run per chunk) and
written one at a time into a StreamingHttpResponse, so an export of 100,000
cases holds one chunk in memory, never the whole result.

CSV and JSON: one row (object) per case, the columns of CASE_COLUMNS, IHC
results and fusions flattened into text columns (documented in README).
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Iterator

from django.urls import reverse

from citations import exports as citation_exports
from citations.models import Citation
from config.csvfile import csv_lines
from curation.models import FusionFinding, IHCResult
from curation.notation import format_fusion

CHUNK = 500
FORMATS = {
    "csv": ("text/csv; charset=utf-8", "csv"),
    "json": ("application/json", "json"),
    "ris": ("application/x-research-info-systems", "ris"),
    "bibtex": ("application/x-bibtex", "bib"),
}

# (column, meaning) -- the README's table is this list.
CASE_COLUMNS = [
    ("case_id", "RareDerm case number"),
    ("url", "Public page of the case"),
    ("label", "Label in the paper (“Case 2”)"),
    ("final_diagnosis", "Final diagnosis (vocabulary name)"),
    ("final_diagnosis_icdo3", "ICD-O-3.2 morphology code of the final diagnosis"),
    ("topography_code", "ICD-O-3 topography code (C44.x skin, C49.x soft tissue, C51.x vulva...)"),
    ("topography", "Topography name"),
    ("site_detail", "Site as reported (“posterior scalp”)"),
    ("laterality", "left / right / midline / bilateral"),
    ("age", "Age as reported (number)"),
    ("age_unit", "years / months / weeks / days"),
    ("sex", "female / male"),
    ("size_mm", "Greatest dimension in mm"),
    ("clinical_presentation", "Clinical presentation"),
    ("histology", "Histology (description)"),
    ("cell_type", "spindle / epithelioid / mixed / pleomorphic / round / other"),
    (
        "ihc",
        "Every IHC result, “marker: result (details)” joined by “; ” in the paper's order, "
        "e.g. “ALK: positive, strong, diffuse; S100: negative”",
    ),
    ("ihc_positive", "Markers reported positive, joined by “; ”"),
    ("ihc_negative", "Markers reported negative, joined by “; ”"),
    (
        "fusions",
        "Fusions in HGNC notation joined by “; ” (“CARS1::ALK”; “?::ALK” partner unknown)",
    ),
    ("fusion_methods", "Method of each fusion, same order, joined by “; ”"),
    ("treatment", "Treatment"),
    ("follow_up_months", "Follow-up in months"),
    ("outcome", "ned / recurrence / metastasis / awd / dod / doc"),
    ("notes", "Curator's notes"),
    ("pmid", "PubMed ID of the primary citation"),
    ("doi", "DOI of the primary citation"),
    ("first_author", "First author (“McCollum KJ”)"),
    ("year", "Publication year"),
    ("journal", "Journal (ISO abbreviation when known)"),
    ("citation", "The reference in AMA style"),
]
COLUMN_NAMES = [name for name, _ in CASE_COLUMNS]


def _text(value) -> str:
    return "" if value is None else str(value)


def _number(value):
    if value is None:
        return None
    return int(value) if value == int(value) else float(value)


# What a row reads from the case itself (plain values: no model instances per row).
_CASE_VALUES = [
    "id",
    "citation_id",
    "label",
    "final_diagnosis__name",
    "final_diagnosis__icdo3_code",
    "topography__code",
    "topography__name",
    "site_detail",
    "laterality",
    "age",
    "age_unit",
    "sex",
    "size_mm",
    "clinical_presentation",
    "histology",
    "cell_type",
    "treatment",
    "follow_up_months",
    "outcome",
    "notes",
]
_INTENSITY = dict(IHCResult.Intensity.choices)
_EXTENT = dict(IHCResult.Extent.choices)
_RESULT = dict(IHCResult.Result.choices)
_METHOD = dict(FusionFinding.Method.choices)


def _ihc_summary(row: dict) -> str:
    """As IHCResult.summary: “positive, strong, diffuse, 80% of cells”."""
    parts = [_RESULT.get(row["result"], row["result"]).lower()]
    if row["intensity"]:
        parts.append(_INTENSITY.get(row["intensity"], row["intensity"]).lower())
    if row["extent"]:
        parts.append(_EXTENT.get(row["extent"], row["extent"]).lower())
    if row["percent_cells"] is not None:
        parts.append(f"{row['percent_cells']}% of cells")
    return ", ".join(parts)


def case_rows(cases, site_url: str = "") -> Iterator[dict]:
    """Every case of `cases` as a flat dict (the CSV row / JSON object), in order.

    Read a chunk at a time: the chunk's cases as plain values, then its IHC
    results, fusions and citations (with authors) in one query each.
    """
    case_url = reverse("curation:case_detail", args=[0]).removesuffix("0/")
    for chunk in _chunks(cases.values(*_CASE_VALUES).iterator(chunk_size=CHUNK), CHUNK):
        ids = [row["id"] for row in chunk]
        ihc = defaultdict(list)
        for row in (
            IHCResult.objects.filter(case_id__in=ids)
            .order_by("case_id", "position", "pk")
            .values("case_id", "marker__name", "result", "intensity", "extent", "percent_cells")
        ):
            ihc[row["case_id"]].append(row)
        fusions = defaultdict(list)
        for row in (
            FusionFinding.objects.filter(case_id__in=ids)
            .order_by("case_id", "position", "pk")
            .values("case_id", "five_prime_gene__symbol", "three_prime_gene__symbol", "method")
        ):
            fusions[row["case_id"]].append(row)
        citations = Citation.objects.with_authors().in_bulk({row["citation_id"] for row in chunk})
        for row in chunk:
            yield _row(
                row,
                ihc[row["id"]],
                fusions[row["id"]],
                citations[row["citation_id"]],
                f"{site_url}{case_url}{row['id']}/",
            )


def _row(case: dict, ihc: list, fusions: list, citation, url: str) -> dict:
    authors = citation_exports.authors_of(citation)
    return {
        "case_id": case["id"],
        "url": url,
        "label": case["label"],
        "final_diagnosis": case["final_diagnosis__name"] or "",
        "final_diagnosis_icdo3": case["final_diagnosis__icdo3_code"] or "",
        "topography_code": case["topography__code"] or "",
        "topography": case["topography__name"] or "",
        "site_detail": case["site_detail"],
        "laterality": case["laterality"],
        "age": _number(case["age"]),
        "age_unit": case["age_unit"],
        "sex": case["sex"],
        "size_mm": _number(case["size_mm"]),
        "clinical_presentation": case["clinical_presentation"],
        "histology": case["histology"],
        "cell_type": case["cell_type"],
        "ihc": "; ".join(f"{r['marker__name']}: {_ihc_summary(r)}" for r in ihc),
        "ihc_positive": "; ".join(r["marker__name"] for r in ihc if r["result"] == "positive"),
        "ihc_negative": "; ".join(r["marker__name"] for r in ihc if r["result"] == "negative"),
        "fusions": "; ".join(
            format_fusion(f["five_prime_gene__symbol"], f["three_prime_gene__symbol"])
            for f in fusions
        ),
        "fusion_methods": "; ".join(_METHOD.get(f["method"], "") for f in fusions),
        "treatment": case["treatment"],
        "follow_up_months": _number(case["follow_up_months"]),
        "outcome": case["outcome"],
        "notes": case["notes"],
        "pmid": citation.pmid,
        "doi": citation.doi,
        "first_author": str(authors[0]) if authors else "",
        "year": citation_exports.year_of(citation),
        "journal": citation.journal_iso or citation.journal,
        "citation": citation_exports.ama(citation),
    }


def stream_csv(cases, site_url: str = "") -> Iterator[str]:
    rows = case_rows(cases, site_url)
    return csv_lines(COLUMN_NAMES, ([_text(row[name]) for name in COLUMN_NAMES] for row in rows))


def stream_json(cases, site_url: str = "") -> Iterator[str]:
    yield "[\n"
    first = True
    for row in case_rows(cases, site_url):
        prefix = "" if first else ",\n"
        first = False
        yield prefix + json.dumps(row, ensure_ascii=False)
    yield "\n]\n"


def citations_of(cases):
    """The distinct primary citations of the cases, newest first, authors prefetched."""
    return (
        Citation.objects.filter(pk__in=cases.order_by().values("citation_id"))
        .with_authors()
        .order_by("-year", "-pmid")
    )


def _chunks(rows: Iterable, size: int) -> Iterator[list]:
    chunk = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def stream_citations(cases, fmt: str) -> Iterator[str]:
    """RIS or BibTeX through citations.exports, one chunk of citations at a time."""
    first = True
    for chunk in _chunks(citations_of(cases).iterator(chunk_size=CHUNK), CHUNK):
        text = citation_exports.export(chunk, fmt)
        yield text if first else "\n" + text
        first = False


def stream(cases, fmt: str, site_url: str = "") -> Iterator[str]:
    if fmt == "csv":
        return stream_csv(cases, site_url)
    if fmt == "json":
        return stream_json(cases, site_url)
    if fmt in ("ris", "bibtex"):
        return stream_citations(cases, fmt)
    raise ValueError(f"unknown format {fmt!r}")
