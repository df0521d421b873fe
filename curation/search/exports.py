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
from curation import molecular
from curation.models import (
    Case,
    ClinicalEvent,
    FusionFinding,
    IHCResult,
    MolecularFinding,
    Treatment,
)
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
    (
        "fusion_details",
        "Per fusion, same order, joined by “; ”: partner status, exons, RefSeq transcripts, "
        "assay as reported (“partner known, exon 2::exon 19, assay “targeted RNA sequencing””)",
    ),
    ("fusion_hgnc_ids", "HGNC ids of each fusion's partners, same order (“HGNC:1::HGNC:427”)"),
    (
        "variants",
        "Sequence variants, “GENE p.(HGVS) c.(HGVS)” joined by “; ” "
        "(“BRAF p.Val600Glu c.1799T>A”)",
    ),
    ("copy_number_changes", "Copy-number changes joined by “; ” (“MDM2 amplification”)"),
    ("other_findings", "Other molecular findings joined by “; ” (TERT promoter, methylation)"),
    (
        "molecular_methods",
        "Method of each variant, copy-number change and other finding, in that order",
    ),
    ("molecular_hgnc_ids", "HGNC ids of those findings' genes, same order"),
    (
        "evidence_grade",
        "A sequencing / B FISH, RT-PCR or another molecular test / C IHC / D morphology only",
    ),
    ("grade_lowered_reason", "Why a curator lowered the grade (empty if not lowered)"),
    ("source_depth", "What the curator read: abstract / full_text / full_text_figures"),
    ("diagnosis_as_reported", "The diagnosis the paper gave, in its words"),
    ("reported_diagnosis", "The vocabulary term of the diagnosis as reported"),
    ("differentials", "Differential diagnoses considered (vocabulary names, “; ”)"),
    ("differentials_as_reported", "Differential diagnoses in the paper's words"),
    ("depth_mm", "Depth of invasion in mm"),
    ("mitoses", "Mitotic count as reported (number)"),
    ("mitoses_unit", "per_mm2 / per_10_hpf"),
    ("necrosis", "present / absent (empty: not reported)"),
    ("lymphovascular_invasion", "present / absent (empty: not reported)"),
    ("perineural_invasion", "present / absent (empty: not reported)"),
    ("focality", "solitary / multifocal"),
    ("treatment", "Treatment as reported (free text)"),
    (
        "treatments",
        "Treatments from the controlled list, “; ” (“Wide local excision, margins negative”)",
    ),
    (
        "events",
        "Clinical course, “; ” (“Local recurrence at 14 months; Death of disease at 30 months”)",
    ),
    ("recurrence_months", "Months to the first local recurrence (empty: none, or not timed)"),
    ("metastasis", "yes when a metastasis is recorded, else no"),
    ("follow_up_months", "Months to the last follow-up"),
    ("outcome", "Status at last follow-up: ned / awd / dod / doc"),
    ("notes", "Curator's notes"),
    ("record_version", "Version of the record (goes up with every published revision)"),
    ("open_flags", "Readers' error reports on the case still open (0: none)"),
    (
        "paper_retracted",
        "yes when PubMed marks the primary paper retracted (the retraction watch), else no",
    ),
    ("last_modified", "When the record last changed (ISO 8601, UTC)"),
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
    "evidence_grade",
    "grade_lowered_reason",
    "source_depth",
    "diagnosis_as_reported",
    "reported_diagnosis__name",
    "differentials_as_reported",
    "depth_mm",
    "mitoses",
    "mitoses_unit",
    "necrosis",
    "lymphovascular_invasion",
    "perineural_invasion",
    "focality",
    "version",
    "updated_at",
]
_INTENSITY = dict(IHCResult.Intensity.choices)
_EXTENT = dict(IHCResult.Extent.choices)
_RESULT = dict(IHCResult.Result.choices)
_METHOD = dict(molecular.METHOD_CHOICES)
_PARTNER = dict(FusionFinding.PartnerStatus.choices)
_COPY_NUMBER = dict(MolecularFinding.CopyNumber.choices)
_TREATMENT = dict(Treatment.Kind.choices)
_MARGINS = dict(Treatment.Margins.choices)
_EVENT = dict(ClinicalEvent.Kind.choices)
_METASTASES = {"regional_metastasis", "distant_metastasis", "metastasis"}


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
    for chunk in _chunks(
        cases.with_open_flags().values(*_CASE_VALUES, "open_flags").iterator(chunk_size=CHUNK),
        CHUNK,
    ):
        ids = [row["id"] for row in chunk]
        ihc = defaultdict(list)
        for row in (
            IHCResult.objects.filter(case_id__in=ids)
            .order_by("case_id", "position", "pk")
            .values("case_id", "marker__name", "result", "intensity", "extent", "percent_cells")
        ):
            ihc[row["case_id"]].append(row)
        rows = {
            "fusions": _by_case(
                FusionFinding,
                ids,
                "five_prime_gene__symbol",
                "three_prime_gene__symbol",
                "five_prime_gene__hgnc_id",
                "three_prime_gene__hgnc_id",
                "method",
                "partner_status",
                "five_prime_exon",
                "three_prime_exon",
                "five_prime_transcript",
                "three_prime_transcript",
                "assay",
            ),
            "molecular": _by_case(
                MolecularFinding,
                ids,
                "kind",
                "gene__symbol",
                "gene__hgnc_id",
                "hgvs_protein",
                "hgvs_cdna",
                "copy_number",
                "description",
                "method",
            ),
            "treatments": _by_case(Treatment, ids, "kind", "agent", "margins", "months"),
            "events": _by_case(ClinicalEvent, ids, "kind", "months", "site"),
            "differentials": defaultdict(list),
        }
        for case_id, name in (
            Case.differentials.through.objects.filter(case_id__in=ids)
            .order_by("case_id", "diagnosis__name")
            .values_list("case_id", "diagnosis__name")
        ):
            rows["differentials"][case_id].append(name)
        citations = Citation.objects.with_authors().in_bulk({row["citation_id"] for row in chunk})
        for row in chunk:
            yield _row(
                row,
                ihc[row["id"]],
                {name: found[row["id"]] for name, found in rows.items()},
                citations[row["citation_id"]],
                f"{site_url}{case_url}{row['id']}/",
            )


def _by_case(model, ids, *columns) -> defaultdict:
    """One query: the rows of `model` of these cases, as dicts by case id, in order."""
    found = defaultdict(list)
    for row in (
        model.objects.filter(case_id__in=ids)
        .order_by("case_id", "position", "pk")
        .values("case_id", *columns)
    ):
        found[row["case_id"]].append(row)
    return found


def _months(value) -> str:
    return "" if value is None else f"{_number(value)}"


def _fusion_details(f: dict) -> str:
    parts = [_PARTNER.get(f["partner_status"], "").split(" (")[0].lower()]
    if f["five_prime_exon"] or f["three_prime_exon"]:
        parts.append(f"exon {f['five_prime_exon'] or '?'}::exon {f['three_prime_exon'] or '?'}")
    transcripts = "::".join(
        t for t in (f["five_prime_transcript"], f["three_prime_transcript"]) if t
    )
    if transcripts:
        parts.append(transcripts)
    if f["assay"]:
        parts.append(f"assay “{f['assay']}”")
    return ", ".join(p for p in parts if p)


def _variant(f: dict) -> str:
    return " ".join(p for p in (f["gene__symbol"], f["hgvs_protein"], f["hgvs_cdna"]) if p)


def _treatment(t: dict) -> str:
    text = _TREATMENT.get(t["kind"], t["kind"])
    if t["agent"]:
        text += f" ({t['agent']})"
    if t["margins"]:
        text += f", margins {_MARGINS.get(t['margins'], t['margins']).lower()}"
    if t["months"] is not None:
        text += f" at {_months(t['months'])} months"
    return text


def _event(e: dict) -> str:
    text = _EVENT.get(e["kind"], e["kind"])
    if e["site"]:
        text += f" ({e['site']})"
    return text + (
        " (time not reported)" if e["months"] is None else f" at {_months(e['months'])} months"
    )


def _row(case: dict, ihc: list, rows: dict, citation, url: str) -> dict:
    authors = citation_exports.authors_of(citation)
    fusions = rows["fusions"]
    findings = sorted(
        rows["molecular"], key=lambda f: ("variant", "copy_number", "other").index(f["kind"])
    )
    recurrences = [
        e["months"]
        for e in rows["events"]
        if e["kind"] == "local_recurrence" and e["months"] is not None
    ]
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
        "fusion_details": "; ".join(_fusion_details(f) for f in fusions),
        "fusion_hgnc_ids": "; ".join(
            f"{f['five_prime_gene__hgnc_id'] or '?'}::{f['three_prime_gene__hgnc_id']}"
            for f in fusions
        ),
        "variants": "; ".join(_variant(f) for f in findings if f["kind"] == "variant"),
        "copy_number_changes": "; ".join(
            f"{f['gene__symbol']} {_COPY_NUMBER.get(f['copy_number'], '').lower()}"
            for f in findings
            if f["kind"] == "copy_number"
        ),
        "other_findings": "; ".join(
            " ".join(p for p in (f["gene__symbol"], f["description"]) if p)
            for f in findings
            if f["kind"] == "other"
        ),
        "molecular_methods": "; ".join(_METHOD.get(f["method"], "") for f in findings),
        "molecular_hgnc_ids": "; ".join(f["gene__hgnc_id"] or "" for f in findings),
        "evidence_grade": case["evidence_grade"],
        "grade_lowered_reason": case["grade_lowered_reason"],
        "source_depth": case["source_depth"],
        "diagnosis_as_reported": case["diagnosis_as_reported"],
        "reported_diagnosis": case["reported_diagnosis__name"] or "",
        "differentials": "; ".join(rows["differentials"]),
        "differentials_as_reported": case["differentials_as_reported"],
        "depth_mm": _number(case["depth_mm"]),
        "mitoses": _number(case["mitoses"]),
        "mitoses_unit": case["mitoses_unit"],
        "necrosis": case["necrosis"],
        "lymphovascular_invasion": case["lymphovascular_invasion"],
        "perineural_invasion": case["perineural_invasion"],
        "focality": case["focality"],
        "treatment": case["treatment"],
        "treatments": "; ".join(_treatment(t) for t in rows["treatments"]),
        "events": "; ".join(_event(e) for e in rows["events"]),
        "recurrence_months": _number(min(recurrences)) if recurrences else None,
        "metastasis": "yes" if any(e["kind"] in _METASTASES for e in rows["events"]) else "no",
        "follow_up_months": _number(case["follow_up_months"]),
        "outcome": case["outcome"],
        "notes": case["notes"],
        "record_version": case["version"],
        "open_flags": case["open_flags"],
        "paper_retracted": "yes" if citation.retracted else "no",
        "last_modified": case["updated_at"].isoformat(),
        "pmid": citation.pmid,
        "doi": citation.doi,
        "first_author": str(authors[0]) if authors else "",
        "year": citation_exports.year_of(citation),
        "journal": citation.journal_iso or citation.journal,
        "citation": citation_exports.ama(citation),
    }


def case_lines(rows: Iterable[dict], **options) -> Iterator[str]:
    """case_rows as CSV lines, one column per CASE_COLUMNS (options: csv_lines's)."""
    return csv_lines(
        COLUMN_NAMES, ([_text(row[name]) for name in COLUMN_NAMES] for row in rows), **options
    )


def stream_csv(cases, site_url: str = "") -> Iterator[str]:
    return case_lines(case_rows(cases, site_url))


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
