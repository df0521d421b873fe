"""What a release holds (issue 17): every file, built from the published cases.

curation/actions/releases.py writes them through the "releases" storage;
this module only makes their content. Each table's columns are documented
once, here, and the release's README is generated from these lists (for the
cases: curation/search/exports.CASE_COLUMNS, the search exports' columns).
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from citations import exports as citation_exports
from config.csvfile import csv_lines
from curation import licences
from curation.models import (
    Diagnosis,
    FusionFinding,
    Gene,
    IHCResult,
    Marker,
    MolecularFinding,
    Topography,
    VocabularyVersion,
)
from curation.search import exports as case_exports

# (file, what it holds), in the README's order. SHA256SUMS comes last, over all of them.
FILES = [
    ("README.md", "This file: contents, column definitions, licence, how to cite"),
    ("LICENSE.txt", "The licence of the data"),
    ("CITATION.txt", "How to cite this release"),
    ("CHANGELOG.md", "What changed since the previous release"),
    ("changelog.json", "The same, for programs"),
    ("cases.csv", "One row per case (UTF-8 with BOM, comma-separated)"),
    ("cases.tsv", "The same, tab-separated, UTF-8 without BOM"),
    ("cases.json", "The same, a JSON array of objects"),
    ("ihc.csv", "IHC results in long format: one row per case and marker"),
    (
        "molecular.csv",
        "Molecular findings (fusions, variants, copy-number changes, others) in long "
        "format: one row per finding",
    ),
    ("citations.csv", "The cases' primary citations"),
    ("citations.ris", "The same citations, RIS"),
    ("citations.csl.json", "The same citations, CSL-JSON"),
    ("diagnoses.csv", "Diagnosis vocabulary (ICD-O-3.2 morphology)"),
    ("topography.csv", "Topography vocabulary (ICD-O-3)"),
    ("genes.csv", "Gene vocabulary (HGNC)"),
    ("markers.csv", "IHC marker vocabulary"),
    ("vocabularies.json", "Each vocabulary's code system, version and sources"),
    ("SHA256SUMS", "SHA-256 of every other file (`sha256sum -c SHA256SUMS`)"),
]

IHC_COLUMNS = [
    ("case_id", "RareDerm case number (cases.csv case_id)"),
    ("case_version", "Version of the case record in this release"),
    ("position", "Order in the paper's table"),
    ("marker", "Marker (vocabulary name)"),
    ("clone", "Antibody clone as reported"),
    ("result", "positive / negative / equivocal / not_reported"),
    ("intensity", "strong / moderate / weak / variable (empty: not reported)"),
    ("extent", "Extent code (empty: not reported)"),
    ("pattern", "Staining pattern code (empty: not reported)"),
    ("percent_cells", "% of cells stained (empty: not reported)"),
    ("as_reported", "The paper's words"),
]
MOLECULAR_COLUMNS = [
    ("case_id", "RareDerm case number"),
    ("case_version", "Version of the case record in this release"),
    ("position", "Order on the case, within its kind"),
    ("kind", "fusion / variant / copy_number / other"),
    ("finding", "The finding as the case page shows it: “CARS1::ALK”, “BRAF p.V600E”"),
    ("gene", "The gene (HGNC symbol); for a fusion the 5' partner (empty: unknown)"),
    ("gene_hgnc_id", "HGNC id of that gene"),
    ("three_prime_gene", "A fusion's 3' partner (HGNC symbol)"),
    ("three_prime_hgnc_id", "HGNC id of the 3' partner"),
    ("exons", "A fusion's exons, 5'::3', as reported"),
    ("transcripts", "RefSeq transcript(s) (a fusion's: 5'::3')"),
    ("hgvs_protein", "A variant's HGVS protein change"),
    ("hgvs_cdna", "A variant's HGVS cDNA change"),
    ("copy_number", "A copy-number change: amplification / gain / loss / ..."),
    ("description", "Another finding's description"),
    ("method", "Method code (the controlled list of methods)"),
    ("assay", "The assay as the paper names it"),
    ("as_reported", "As the paper wrote it"),
]
VOCABULARY_COLUMNS = {
    "diagnoses.csv": [
        ("id", "Term number (stable across releases)"),
        ("name", "Name"),
        ("icdo3_code", "ICD-O-3.2 morphology code"),
        ("synonyms", "Synonyms joined by “; ”"),
    ],
    "topography.csv": [("id", "Term number"), ("code", "ICD-O-3 code"), ("name", "Name")],
    "genes.csv": [
        ("id", "Term number"),
        ("hgnc_id", "HGNC id"),
        ("symbol", "Approved symbol"),
        ("name", "Approved name"),
        ("previous_symbols", "Previous symbols joined by “; ”"),
        ("alias_symbols", "Alias symbols joined by “; ”"),
    ],
    "markers.csv": [
        ("id", "Term number"),
        ("name", "Name"),
        ("gene", "HGNC symbol of the marker's gene (empty: none)"),
        ("synonyms", "Synonyms joined by “; ”"),
    ],
}


def _names(columns) -> list[str]:
    return [name for name, _ in columns]


def _csv(columns, rows: Iterable[Iterable]) -> str:
    return "".join(csv_lines(_names(columns), rows))


def _joined(values) -> str:
    return "; ".join(values or [])


def case_files(cases, versions: dict[int, int], site_url: str) -> dict[str, str]:
    """cases.csv / .tsv / .json, ihc.csv and molecular.csv of the cases (a queryset)."""
    rows = list(case_exports.case_rows(cases, site_url))
    files = {
        "cases.csv": "".join(case_exports.case_lines(rows)),
        "cases.tsv": "".join(case_exports.case_lines(rows, delimiter="\t", bom=False)),
        "cases.json": json.dumps(rows, ensure_ascii=False, indent=1) + "\n",
    }
    ids = list(versions)
    ihc = (
        IHCResult.objects.filter(case_id__in=ids)
        .select_related("marker")
        .order_by("case_id", "position", "pk")
    )
    files["ihc.csv"] = _csv(
        IHC_COLUMNS,
        (
            [
                r.case_id,
                versions[r.case_id],
                r.position,
                r.marker.name,
                r.clone,
                r.result,
                r.intensity,
                r.extent,
                r.pattern,
                "" if r.percent_cells is None else r.percent_cells,
                r.as_reported,
            ]
            for r in ihc
        ),
    )
    files["molecular.csv"] = _csv(MOLECULAR_COLUMNS, _molecular_rows(ids, versions))
    return files


def _symbol(gene, attribute="symbol") -> str:
    return getattr(gene, attribute) if gene is not None else ""


def _molecular_rows(ids: list[int], versions: dict[int, int]):
    """Fusions, then the other molecular findings, of each case: one row each."""
    fusions = (
        FusionFinding.objects.filter(case_id__in=ids)
        .select_related("five_prime_gene", "three_prime_gene")
        .order_by("case_id", "position", "pk")
    )
    others = (
        MolecularFinding.objects.filter(case_id__in=ids)
        .select_related("gene")
        .order_by("case_id", "position", "pk")
    )
    rows = []
    for f in fusions:
        five, three = f.five_prime_gene, f.three_prime_gene
        exons = (
            f"{f.five_prime_exon}::{f.three_prime_exon}"
            if f.five_prime_exon or f.three_prime_exon
            else ""
        )
        transcripts = (
            f"{f.five_prime_transcript}::{f.three_prime_transcript}"
            if f.five_prime_transcript or f.three_prime_transcript
            else ""
        )
        rows.append(
            (
                f.case_id,
                0,
                f.position,
                f.pk,
                [
                    f.case_id,
                    versions[f.case_id],
                    f.position,
                    "fusion",
                    f.notation,
                    _symbol(five),
                    _symbol(five, "hgnc_id"),
                    three.symbol,
                    three.hgnc_id,
                    exons,
                    transcripts,
                    "",
                    "",
                    "",
                    "",
                    f.method,
                    f.assay,
                    f.as_reported,
                ],
            )
        )
    for m in others:
        rows.append(
            (
                m.case_id,
                1,
                m.position,
                m.pk,
                [
                    m.case_id,
                    versions[m.case_id],
                    m.position,
                    m.kind,
                    m.display,
                    _symbol(m.gene),
                    _symbol(m.gene, "hgnc_id"),
                    "",
                    "",
                    "",
                    m.transcript,
                    m.hgvs_protein,
                    m.hgvs_cdna,
                    m.copy_number,
                    m.description,
                    m.method,
                    m.assay,
                    m.as_reported,
                ],
            )
        )
    return [row for *_, row in sorted(rows, key=lambda r: r[:4])]


def citation_files(cases) -> tuple[dict[str, str], int]:
    citations = list(case_exports.citations_of(cases))
    return (
        {
            "citations.csv": citation_exports.to_csv(citations),
            "citations.ris": citation_exports.to_ris(citations),
            "citations.csl.json": citation_exports.to_csl_json(citations),
        },
        len(citations),
    )


def vocabulary_snapshot() -> dict:
    """Versions and term names: the next release's changelog compares with this."""
    return {
        "versions": {
            v.vocabulary: {"code_system": v.code_system, "version": v.version}
            for v in VocabularyVersion.objects.order_by("vocabulary")
        },
        "terms": {
            "diagnoses": {
                str(pk): name for pk, name in Diagnosis.objects.values_list("pk", "name")
            },
            "topography": {
                str(pk): f"{code} {name}"
                for pk, code, name in Topography.objects.values_list("pk", "code", "name")
            },
            "genes": {str(pk): symbol for pk, symbol in Gene.objects.values_list("pk", "symbol")},
            "markers": {str(pk): name for pk, name in Marker.objects.values_list("pk", "name")},
        },
    }


def vocabulary_files() -> dict[str, str]:
    columns = VOCABULARY_COLUMNS
    return {
        "diagnoses.csv": _csv(
            columns["diagnoses.csv"],
            (
                [d.pk, d.name, d.icdo3_code, _joined(d.synonyms)]
                for d in Diagnosis.objects.order_by("pk")
            ),
        ),
        "topography.csv": _csv(
            columns["topography.csv"],
            ([t.pk, t.code, t.name] for t in Topography.objects.order_by("code", "pk")),
        ),
        "genes.csv": _csv(
            columns["genes.csv"],
            (
                [
                    g.pk,
                    g.hgnc_id,
                    g.symbol,
                    g.name,
                    _joined(g.previous_symbols),
                    _joined(g.alias_symbols),
                ]
                for g in Gene.objects.order_by("symbol", "pk")
            ),
        ),
        "markers.csv": _csv(
            columns["markers.csv"],
            (
                [m.pk, m.name, m.gene.symbol if m.gene_id else "", _joined(m.synonyms)]
                for m in Marker.objects.select_related("gene").order_by("name", "pk")
            ),
        ),
        "vocabularies.json": json.dumps(
            [
                {
                    "vocabulary": v.vocabulary,
                    "code_system": v.code_system,
                    "version": v.version,
                    "sources": v.sources,
                }
                for v in VocabularyVersion.objects.order_by("vocabulary")
            ],
            ensure_ascii=False,
            indent=1,
        )
        + "\n",
    }


def changelog(
    previous_name: str | None,
    previous_versions: dict[int, int],
    versions: dict[int, int],
    previous_vocabularies: dict,
    vocabularies: dict,
) -> dict:
    """Cases added, changed (old and new version) and withdrawn; terms added and renamed."""
    added = sorted(pk for pk in versions if pk not in previous_versions)
    changed = sorted(
        pk for pk in versions if pk in previous_versions and previous_versions[pk] != versions[pk]
    )
    withdrawn = sorted(pk for pk in previous_versions if pk not in versions)
    terms: dict[str, dict] = {}
    old_terms = previous_vocabularies.get("terms", {})
    for vocabulary, names in vocabularies.get("terms", {}).items():
        before = old_terms.get(vocabulary, {}) if previous_name else names
        new = sorted((k for k in names if k not in before), key=int)
        renamed = sorted((k for k in names if k in before and before[k] != names[k]), key=int)
        if new or renamed:
            terms[vocabulary] = {
                "added": [{"id": int(k), "name": names[k]} for k in new],
                "renamed": [{"id": int(k), "from": before[k], "to": names[k]} for k in renamed],
            }
    old_versions = previous_vocabularies.get("versions", {}) if previous_name else {}
    return {
        "previous_release": previous_name,
        "cases_added": [{"case_id": pk, "version": versions[pk]} for pk in added],
        "cases_changed": [
            {"case_id": pk, "from_version": previous_versions[pk], "to_version": versions[pk]}
            for pk in changed
        ],
        "cases_withdrawn": [
            {"case_id": pk, "last_version": previous_versions[pk]} for pk in withdrawn
        ],
        "terms": terms,
        "vocabulary_versions_changed": sorted(
            name
            for name, value in vocabularies.get("versions", {}).items()
            if previous_name and old_versions.get(name) != value
        ),
    }


def is_empty(log: dict) -> bool:
    return not any(
        log[key]
        for key in (
            "cases_added",
            "cases_changed",
            "cases_withdrawn",
            "terms",
            "vocabulary_versions_changed",
        )
    )


def changelog_markdown(name: str, log: dict) -> str:
    lines = [f"# Changes in RareDerm release {name}", ""]
    if not log["previous_release"]:
        lines += ["The first release: every case is new.", ""]
    else:
        lines += [f"Compared with release {log['previous_release']}.", ""]
        if is_empty(log):
            lines += ["No changes.", ""]
    sections = [
        (
            "Cases added",
            [f"- case {c['case_id']} (version {c['version']})" for c in log["cases_added"]],
        ),
        (
            "Cases changed",
            [
                f"- case {c['case_id']}: version {c['from_version']} → {c['to_version']}"
                for c in log["cases_changed"]
            ],
        ),
        (
            "Cases withdrawn",
            [
                f"- case {c['case_id']} (last in version {c['last_version']})"
                for c in log["cases_withdrawn"]
            ],
        ),
    ]
    for vocabulary, change in log["terms"].items():
        items = [f"- added: {t['name']} (id {t['id']})" for t in change["added"]]
        items += [f"- renamed: {t['from']} → {t['to']} (id {t['id']})" for t in change["renamed"]]
        sections.append((f"Terms: {vocabulary}", items))
    if log["vocabulary_versions_changed"]:
        sections.append(
            ("Vocabulary versions changed", [f"- {v}" for v in log["vocabulary_versions_changed"]])
        )
    for title, items in sections:
        if items:
            lines += [f"## {title}", "", *items, ""]
    return "\n".join(lines)


def how_to_cite(name: str, year: int, url: str, licence: licences.Licence) -> str:
    return (
        f"RareDerm contributors. RareDerm: a registry of rare skin tumour case reports, "
        f"release {name} ({year}). {url}. Data licensed under {licence.short}."
    )


def readme(
    name: str,
    created: str,
    citation: str,
    licence: licences.Licence,
    counts: dict,
    vocabularies: dict,
) -> str:
    def table(columns) -> list[str]:
        return ["| column | meaning |", "|---|---|"] + [
            f"| `{column}` | {meaning} |" for column, meaning in columns
        ]

    lines = [
        f"# RareDerm release {name}",
        "",
        f"Made {created}. {counts['cases']} published cases from {counts['citations']} papers.",
        "A release is never rewritten: what it holds and the checksums below stay the same.",
        "",
        "## Licence",
        "",
        f"{licence.name} ({licence.id}), {licence.url}. See LICENSE.txt.",
        "",
        "## How to cite",
        "",
        citation,
        "",
        "Cite each case's source paper too (citations.*): the registry curates published reports.",
        "",
        "## Files",
        "",
        "| file | contents |",
        "|---|---|",
        *[f"| `{file}` | {what} |" for file, what in FILES],
        "",
        "Check them with `sha256sum -c SHA256SUMS`.",
        "",
        "## Vocabularies",
        "",
        *[
            f"- {vocabulary}: {value['code_system']}, {value['version']}"
            for vocabulary, value in vocabularies.get("versions", {}).items()
        ],
        "",
        "## Columns of cases.csv, cases.tsv and cases.json",
        "",
        *table(case_exports.CASE_COLUMNS),
        "",
        "## Columns of ihc.csv",
        "",
        *table(IHC_COLUMNS),
        "",
        "## Columns of molecular.csv",
        "",
        *table(MOLECULAR_COLUMNS),
        "",
        "## Columns of citations.csv",
        "",
        *table((column, "") for column in citation_exports.CSV_COLUMNS),
        "",
    ]
    for file, columns in VOCABULARY_COLUMNS.items():
        lines += [f"## Columns of {file}", "", *table(columns), ""]
    return "\n".join(lines)


def licence_text(licence: licences.Licence, citation: str) -> str:
    return (
        f"The data of this release are licensed under the {licence.name} ({licence.id}).\n"
        f"The licence's text: {licence.url}\n\n"
        f"Attribution: {citation}\n"
    )
