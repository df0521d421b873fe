"""Citation formatters: JSON, CSL-JSON, RIS, BibTeX, CSV and AMA. Free of Django.

Each works on "records": a Citation (authors as its related manager) or a
pubmed.ParsedArticle (authors as a list) -- anything with the same attribute
names. For a queryset, prefetch authors (`Citation.objects.with_authors()`).

Other apps call `ama(citation)` (plain text) or `ama_html(citation)` (safe
HTML, journal in italics) for one reference, and `export(records, fmt)` for a
download.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterable, Iterator
from typing import Any

from citations.pubmed import to_plain
from config.csvfile import csv_lines

FORMATS = {
    "json": ("application/json", "json"),
    "csl-json": ("application/vnd.citationstyles.csl+json", "json"),
    "ris": ("application/x-research-info-systems", "ris"),
    "bibtex": ("application/x-bibtex", "bib"),
    "csv": ("text/csv", "csv"),
    "ama": ("text/plain", "txt"),
}
AMA_MAX_AUTHORS = 6  # AMA 11th ed.: more than 6 authors -> the first 3, then "et al."
AMA_LISTED_WHEN_MORE = 3
MONTH_NAMES = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]


# -- shared helpers ------------------------------------------------------------


def authors_of(record: Any) -> list[Any]:
    """Authors in PubMed order, from a Citation (prefetched or not) or a ParsedArticle."""
    authors = record.authors
    if hasattr(authors, "all"):
        return sorted(authors.all(), key=lambda author: author.position)
    return list(authors)


def plain_title(record: Any) -> str:
    return to_plain(record.title)


def abstract_text(record: Any) -> str:
    parts = []
    for section in record.abstract or []:
        text = to_plain(section.get("text", ""))
        label = section.get("label", "")
        parts.append(f"{label}: {text}" if label else text)
    return "\n".join(parts)


def full_pages(pages: str) -> str:
    """MEDLINE abbreviates page ranges (113-25); AMA and RIS want them whole (113-125)."""
    match = re.fullmatch(r"([A-Za-z]*)(\d+)-([A-Za-z]*)(\d+)", (pages or "").strip())
    if not match:
        return (pages or "").strip()
    prefix, start, end_prefix, end = match.groups()
    if len(end) < len(start):
        end = start[: len(start) - len(end)] + end
    return f"{prefix}{start}-{end_prefix or prefix}{end}"


def page_range(pages: str) -> tuple[str, str]:
    whole = full_pages(pages)
    start, _, end = whole.partition("-")
    return start.strip(), end.strip()


def year_of(record: Any) -> int | None:
    if record.year:
        return record.year
    match = re.search(r"\b(\d{4})\b", record.medline_date or "")
    return int(match.group(1)) if match else None


def _ama_author(author: Any) -> str:
    if author.collective_name:
        return author.collective_name
    name = f"{author.last_name} {author.initials}".strip()
    return f"{name} {author.suffix}".strip() if author.suffix else name


def _ama_authors(record: Any) -> str:
    authors = [_ama_author(author) for author in authors_of(record)]
    if not authors:
        return ""
    if len(authors) > AMA_MAX_AUTHORS:
        return ", ".join(authors[:AMA_LISTED_WHEN_MORE]) + ", et al."
    if not record.authors_complete:
        return ", ".join(authors) + ", et al."
    return ", ".join(authors) + "."


def _end_sentence(text: str) -> str:
    text = text.strip()
    return text if not text or text[-1] in ".?!" else text + "."


def _ama_parts(record: Any) -> tuple[str, str, str, str]:
    """(authors, title, journal, rest) of an AMA reference, plain text."""
    journal = (record.journal_iso or record.journal or "").replace(".", "")
    year = year_of(record)
    rest = ""
    if record.volume or record.pages:
        rest = f"{year or ''};{record.volume or ''}"
        if record.issue:
            rest += f"({record.issue})"
        if record.pages:
            rest += f":{full_pages(record.pages)}"
        rest += "."
    elif record.epub_date:
        date = record.epub_date
        rest = f"Published online {MONTH_NAMES[date.month - 1]} {date.day}, {date.year}."
    elif year:
        rest = f"{year}."
    if record.doi:
        rest = f"{rest} doi:{record.doi}".strip()
    return _ama_authors(record), _end_sentence(plain_title(record)), journal, rest


def ama(record: Any) -> str:
    """One AMA reference as plain text, e.g.
    'Casanova M, Brennan B, Alaggio R, et al. Inflammatory myofibroblastic
    tumor: ... Eur J Cancer. 2020;127:123-129. doi:10.1016/j.ejca.2019.12.021'
    """
    authors, title, journal, rest = _ama_parts(record)
    parts = [authors, title, f"{journal}." if journal else "", rest]
    return " ".join(part for part in parts if part)


format_ama = ama


def ama_html(record: Any) -> str:
    """The AMA reference as safe HTML, journal in italics (mark it safe when rendering)."""
    authors, title, journal, rest = _ama_parts(record)
    parts = [
        html.escape(authors),
        html.escape(title),
        f"<i>{html.escape(journal)}</i>." if journal else "",
        html.escape(rest),
    ]
    return " ".join(part for part in parts if part)


# -- the formats ---------------------------------------------------------------


def to_dict(record: Any) -> dict[str, Any]:
    """The `json` export of one citation (keys fixed by issue 3)."""
    return {
        "pmid": record.pmid,
        "doi": record.doi,
        "pmcid": record.pmcid,
        "title": record.title,
        "abstract": [
            {"label": section.get("label", ""), "text": section.get("text", "")}
            for section in record.abstract or []
        ],
        "journal": record.journal,
        "journal_iso": record.journal_iso,
        "year": record.year,
        "month": record.month,
        "day": record.day,
        "medline_date": record.medline_date,
        "volume": record.volume,
        "issue": record.issue,
        "pages": record.pages,
        "language": record.language,
        "publication_types": list(record.publication_types or []),
        "mesh_terms": list(record.mesh_terms or []),
        "keywords": list(record.keywords or []),
        "authors": [
            {
                "last_name": author.last_name,
                "fore_name": author.fore_name,
                "initials": author.initials,
                "collective_name": author.collective_name,
                "orcid": author.orcid,
                "affiliations": list(author.affiliations or []),
            }
            for author in authors_of(record)
        ],
        "authors_complete": record.authors_complete,
        "retracted": record.retracted,
    }


def to_json(records: Iterable[Any]) -> str:
    return json.dumps([to_dict(record) for record in records], ensure_ascii=False, indent=2)


def to_csl(record: Any) -> dict[str, Any]:
    """One CSL-JSON item (https://citeproc-js.readthedocs.io/en/latest/csl-json/markup.html)."""
    item: dict[str, Any] = {
        "id": f"pmid{record.pmid}",
        "type": "article-journal",
        "title": plain_title(record),
        "container-title": record.journal,
        "container-title-short": record.journal_iso,
        "PMID": str(record.pmid),
    }
    optional = {
        "volume": record.volume,
        "issue": record.issue,
        "page": full_pages(record.pages),
        "DOI": record.doi,
        "PMCID": record.pmcid,
        "language": record.language,
        "abstract": abstract_text(record),
        "keyword": ", ".join(record.keywords or []),
    }
    item.update({key: value for key, value in optional.items() if value})
    authors = []
    for author in authors_of(record):
        if author.collective_name:
            authors.append({"literal": author.collective_name})
        else:
            name = {"family": author.last_name, "given": author.fore_name or author.initials}
            if author.suffix:
                name["suffix"] = author.suffix
            authors.append(name)
    if authors:
        item["author"] = authors
    year = year_of(record)
    if year:
        parts = [year] + [part for part in (record.month, record.day) if part]
        if record.day and not record.month:
            parts = [year]
        item["issued"] = {"date-parts": [parts]}
    return item


def to_csl_json(records: Iterable[Any]) -> str:
    return json.dumps([to_csl(record) for record in records], ensure_ascii=False, indent=2)


def _ris_line(tag: str, value: Any) -> str:
    text = re.sub(r"\s+", " ", str(value)).strip()
    return f"{tag}  - {text}" if text else ""


def to_ris(records: Iterable[Any]) -> str:
    out = []
    for record in records:
        lines = [_ris_line("TY", "JOUR")]
        for author in authors_of(record):
            if author.collective_name:
                lines.append(_ris_line("AU", author.collective_name))
            else:
                given = author.fore_name or author.initials
                name = f"{author.last_name}, {given}" if given else author.last_name
                if author.suffix:
                    name += f", {author.suffix}"
                lines.append(_ris_line("AU", name))
        start, end = page_range(record.pages)
        year = year_of(record)
        date = ""
        if year:
            month = f"{record.month:02d}" if record.month else ""
            day = f"{record.day:02d}" if record.month and record.day else ""
            date = f"{year}/{month}/{day}/"
        lines += [
            _ris_line("TI", plain_title(record)),
            _ris_line("T2", record.journal),
            _ris_line("J2", record.journal_iso),
            _ris_line("PY", year or ""),
            _ris_line("DA", date),
            _ris_line("VL", record.volume),
            _ris_line("IS", record.issue),
            _ris_line("SP", start),
            _ris_line("EP", end),
            _ris_line("AB", abstract_text(record)),
            _ris_line("LA", record.language),
            _ris_line("DO", record.doi),
            _ris_line("AN", record.pmid),
            _ris_line("UR", f"https://pubmed.ncbi.nlm.nih.gov/{record.pmid}/"),
        ]
        lines += [_ris_line("KW", keyword) for keyword in record.keywords or []]
        if record.retracted:
            lines.append(_ris_line("N1", "Retracted publication"))
        lines.append("ER  - ")
        out.append("\n".join(line for line in lines if line))
    return "\n\n".join(out) + ("\n" if out else "")


_BIBTEX_ESCAPES = {
    "\\": r"\textbackslash{}",
    "{": r"\{",
    "}": r"\}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
}


def bibtex_escape(text: str) -> str:
    return "".join(_BIBTEX_ESCAPES.get(char, char) for char in re.sub(r"\s+", " ", text or ""))


def to_bibtex(records: Iterable[Any]) -> str:
    entries = []
    for record in records:
        names = []
        for author in authors_of(record):
            if author.collective_name:
                names.append("{" + bibtex_escape(author.collective_name) + "}")
            else:
                given = author.fore_name or author.initials
                name = bibtex_escape(author.last_name)
                if author.suffix:
                    name += ", " + bibtex_escape(author.suffix)
                names.append(f"{name}, {bibtex_escape(given)}" if given else name)
        if names and not record.authors_complete:
            names.append("others")
        start, end = page_range(record.pages)
        fields = {
            "author": " and ".join(names),
            # Double braces keep capitalisation (gene names, eponyms) as written.
            "title": "{" + bibtex_escape(plain_title(record)) + "}" if record.title else "",
            "journal": bibtex_escape(record.journal),
            "shortjournal": bibtex_escape(record.journal_iso),
            "year": str(year_of(record) or ""),
            "month": str(record.month or ""),
            "volume": bibtex_escape(record.volume),
            "number": bibtex_escape(record.issue),
            "pages": f"{start}--{end}" if end else start,
            "doi": bibtex_escape(record.doi),
            "pmid": str(record.pmid),
            "pmcid": record.pmcid,
            "language": bibtex_escape(record.language),
            "keywords": bibtex_escape(", ".join(record.keywords or [])),
        }
        body = ",\n".join(f"  {key} = {{{value}}}" for key, value in fields.items() if value)
        entries.append(f"@article{{pmid{record.pmid},\n{body}\n}}")
    return "\n\n".join(entries) + ("\n" if entries else "")


CSV_COLUMNS = [
    "pmid",
    "doi",
    "pmcid",
    "title",
    "authors",
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
    "retracted",
    "ama",
]


def csv_rows(records: Iterable[Any]) -> Iterator[list]:
    """One row of CSV_COLUMNS per record."""
    for record in records:
        yield [
            record.pmid,
            record.doi,
            record.pmcid,
            plain_title(record),
            "; ".join(_ama_author(author) for author in authors_of(record)),
            record.journal,
            record.journal_iso,
            record.year or "",
            record.month or "",
            record.day or "",
            record.medline_date,
            record.volume,
            record.issue,
            record.pages,
            record.language,
            "; ".join(record.publication_types or []),
            "; ".join(term.get("descriptor", "") for term in record.mesh_terms or []),
            "; ".join(record.keywords or []),
            "yes" if record.retracted else "no",
            ama(record),
        ]


def to_csv(records: Iterable[Any]) -> str:
    return "".join(csv_lines(CSV_COLUMNS, csv_rows(records)))


def to_ama(records: Iterable[Any]) -> str:
    """Numbered AMA reference list."""
    lines = [f"{number}. {ama(record)}" for number, record in enumerate(records, start=1)]
    return "\n".join(lines) + ("\n" if lines else "")


WRITERS = {
    "json": to_json,
    "csl-json": to_csl_json,
    "ris": to_ris,
    "bibtex": to_bibtex,
    "csv": to_csv,
    "ama": to_ama,
}


def export(records: Iterable[Any], fmt: str) -> str:
    """Records in one of FORMATS; ValueError for an unknown format."""
    try:
        writer = WRITERS[fmt]
    except KeyError:
        raise ValueError(f"unknown format {fmt!r}: use one of {', '.join(FORMATS)}") from None
    return writer(records)
