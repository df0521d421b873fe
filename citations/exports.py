"""Citation formatters: JSON, CSL-JSON, RIS, BibTeX, CSV and AMA. Free of Django.

Each works on "records": a Citation (authors as its related manager) or a
pubmed.ParsedArticle (authors as a list) -- anything with the same attribute
names. For a queryset, prefetch authors (`Citation.objects.with_authors()`).

Other apps call `ama(citation)` (plain text) or `ama_html(citation)` (safe
HTML, journal in italics) for one reference, and `export(records, fmt)` for a
download.
"""

from __future__ import annotations

import functools
import html
import json
import re
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import bibtexparser
import bibtexparser.middlewares
import rispy
from citeproc import (
    Citation,
    CitationItem,
    CitationStylesBibliography,
    CitationStylesStyle,
    formatter,
)
from citeproc.source.json import CiteProcJSON

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
# The AMA reference style: american-medical-association.csl of the CSL styles repository
# (citations/csl/README.md: source, commit, licence CC BY-SA 3.0), rendered by citeproc-py.
AMA_STYLE = Path(__file__).resolve().parent / "csl" / "american-medical-association.csl"
_AMA = threading.local()
_CITATION_NUMBER = re.compile(r"^\s*\d+\.\s*")


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


def _ama_style():
    """The AMA CSL style (citations/csl/, CC BY-SA 3.0), parsed once per thread."""
    style = getattr(_AMA, "style", None)
    if style is None:
        style = _AMA.style = CitationStylesStyle(str(AMA_STYLE), validate=False)
    return style


def _ama_render(records: Iterable[Any], output) -> list[str]:
    """AMA references rendered by citeproc-py from the CSL-JSON of `to_csl`, in order."""
    items = []
    for number, record in enumerate(records):
        csl = record.item if isinstance(record, _CSLRecord) else to_csl(record)
        item = {**csl, "id": f"ref{number}"}
        # PubMed lists only some authors (CompleteYN="N"): AMA ends the list "et al.".
        if item.get("author") and not record.authors_complete:
            item["author"] = [*item["author"], {"literal": "et al"}]
        # citeproc-py's HTML output adds its tags (<i>) but escapes nothing: the text does.
        items.append(_escaped(item) if output is formatter.html else item)
    if not items:
        return []
    bibliography = CitationStylesBibliography(_ama_style(), CiteProcJSON(items), output)
    for item in items:
        bibliography.register(Citation([CitationItem(item["id"])]))
    # The style numbers its entries (citation-number); callers number their own lists.
    return [_CITATION_NUMBER.sub("", str(entry)) for entry in bibliography.bibliography()]


def _escaped(value: Any) -> Any:
    if isinstance(value, str):
        return html.escape(value, quote=False)
    if isinstance(value, dict):
        return {key: _escaped(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_escaped(item) for item in value]
    return value


def ama(record: Any) -> str:
    """One AMA reference as plain text, e.g.
    'Casanova M, Brennan B, Alaggio R, et al. Inflammatory myofibroblastic
    tumor: ... Eur J Cancer. 2020;127:123-129. doi:10.1016/j.ejca.2019.12.021'
    """
    return _ama_one(_csl_key(record), html=False)


def ama_html(record: Any) -> str:
    """The AMA reference as safe HTML, journal in italics (mark it safe when rendering)."""
    return _ama_one(_csl_key(record), html=True)


def _csl_key(record: Any) -> str:
    return json.dumps([to_csl(record), bool(record.authors_complete)], sort_keys=True)


@functools.lru_cache(maxsize=4096)
def _ama_one(key: str, *, html: bool) -> str:
    """One reference, rendered once per content (a case export repeats its papers)."""
    item, complete = json.loads(key)
    record = _CSLRecord(item, complete)
    (text,) = _ama_render([record], formatter.html if html else formatter.plain)
    return text


class _CSLRecord:
    """What _ama_render reads of a record, from its CSL-JSON (for the cache above)."""

    def __init__(self, item: dict, complete: bool):
        self.item, self.authors_complete = item, complete


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
            # Initials alone are given as "K. J." so that CSL processors read two names.
            initials = " ".join(f"{letter}." for letter in author.initials or "")
            name = {"family": author.last_name, "given": author.fore_name or initials}
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


class _RisWriter(rispy.RisWriter):
    """rispy's RIS writer without its "1." counter line before each reference."""

    def set_header(self, count: int) -> str:
        return ""


def _one_line(value: Any) -> str:
    return re.sub(r"\s+", " ", str(value or "")).strip()


def _ris_entry(record: Any) -> dict[str, Any]:
    """One reference as rispy's keys (TY, AU, TI, ...: rispy.TAG_KEY_MAPPING)."""
    authors = []
    for author in authors_of(record):
        if author.collective_name:
            authors.append(_one_line(author.collective_name))
            continue
        given = author.fore_name or author.initials
        name = f"{author.last_name}, {given}" if given else author.last_name
        authors.append(_one_line(f"{name}, {author.suffix}" if author.suffix else name))
    start, end = page_range(record.pages)
    year = year_of(record)
    date = ""
    if year:
        month = f"{record.month:02d}" if record.month else ""
        day = f"{record.day:02d}" if record.month and record.day else ""
        date = f"{year}/{month}/{day}/"
    entry = {
        "type_of_reference": "JOUR",
        "authors": authors,
        "title": _one_line(plain_title(record)),
        "secondary_title": _one_line(record.journal),
        "alternate_title1": _one_line(record.journal_iso),  # J2
        "year": year or "",
        "date": date,
        "volume": _one_line(record.volume),
        "number": _one_line(record.issue),
        "start_page": start,
        "end_page": end,
        "abstract": _one_line(abstract_text(record)),
        "language": _one_line(record.language),
        "doi": _one_line(record.doi),
        "accession_number": record.pmid,
        "urls": [f"https://pubmed.ncbi.nlm.nih.gov/{record.pmid}/"],
        "keywords": [_one_line(keyword) for keyword in record.keywords or []],
        "notes": ["Retracted publication"] if record.retracted else [],
    }
    return {key: value for key, value in entry.items() if value not in ("", [], None)}


def to_ris(records: Iterable[Any]) -> str:
    """RIS, written by rispy."""
    entries = [_ris_entry(record) for record in records]
    return rispy.dumps(entries, implementation=_RisWriter) if entries else ""


def to_bibtex(records: Iterable[Any]) -> str:
    """BibTeX, written by bibtexparser; LaTeX's special characters escaped by
    pylatexenc (bibtexparser's LatexEncodingMiddleware)."""
    library = bibtexparser.Library()
    for record in records:
        names = []
        for author in authors_of(record):
            if author.collective_name:
                names.append("{" + _latex(author.collective_name) + "}")
            else:
                given = author.fore_name or author.initials
                name = _latex(author.last_name)
                if author.suffix:
                    name += ", " + _latex(author.suffix)
                names.append(f"{name}, {_latex(given)}" if given else name)
        if names and not record.authors_complete:
            names.append("others")
        start, end = page_range(record.pages)
        fields = {
            "author": " and ".join(names),
            # Double braces keep capitalisation (gene names, eponyms) as written.
            "title": "{" + _latex(plain_title(record)) + "}" if record.title else "",
            "journal": _latex(record.journal),
            "shortjournal": _latex(record.journal_iso),
            "year": str(year_of(record) or ""),
            "month": str(record.month or ""),
            "volume": _latex(record.volume),
            "number": _latex(record.issue),
            "pages": f"{start}--{end}" if end else start,
            "doi": _latex(record.doi),
            "pmid": str(record.pmid),
            "pmcid": record.pmcid,
            "language": _latex(record.language),
            "keywords": _latex(", ".join(record.keywords or [])),
        }
        library.add(
            bibtexparser.model.Entry(
                "article",
                f"pmid{record.pmid}",
                [bibtexparser.model.Field(key, value) for key, value in fields.items() if value],
            )
        )
    if not library.entries:
        return ""
    text = bibtexparser.write_string(
        library,
        unparse_stack=[
            bibtexparser.middlewares.AddEnclosingMiddleware(
                reuse_previous_enclosing=False, enclose_integers=True, default_enclosing="{"
            )
        ],
    )
    return text.strip() + "\n"


_LATEX = None


def _latex(text: str) -> str:
    """Plain text as LaTeX (pylatexenc, the encoder bibtexparser's middleware uses)."""
    global _LATEX
    if _LATEX is None:
        from pylatexenc.latexencode import UnicodeToLatexEncoder

        # Non-ASCII letters stay (BibTeX files are UTF-8 today); LaTeX's specials are escaped.
        _LATEX = UnicodeToLatexEncoder(non_ascii_only=False, unknown_char_policy="keep")
    return _LATEX.unicode_to_latex(_one_line(text))


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
    rendered = _ama_render(records, formatter.plain)
    lines = [f"{number}. {text}" for number, text in enumerate(rendered, start=1)]
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
