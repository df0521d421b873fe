"""The one grammar of what a user may ask PubMed for, used by the new-report form,
bulk import and every management command (fetch_pubmed, ...).

Understood, in any letter case, with spaces around them and a trailing full stop:

- a PMID: `35560368`, `PMID: 35560368`, `PMID35560368`;
- a PubMed link, with or without `https://` and `www.`, with a query string:
  `pubmed.ncbi.nlm.nih.gov/35560368/`, `www.ncbi.nlm.nih.gov/pubmed/35560368`;
- a DOI: `10.1111/cup.14261`, `doi:10.1111/cup.14261`, `https://doi.org/10.1111/cup.14261`
  (also `dx.doi.org` and without the scheme);
- a PubMed Central id: `PMC5442267`, `PMCID: PMC5442267`, or a PMC link
  (`pmc.ncbi.nlm.nih.gov/articles/PMC5442267/`, `www.ncbi.nlm.nih.gov/pmc/articles/PMC5442267`,
  `europepmc.org/article/PMC/PMC5442267`). A DOI or a PMC id becomes a PMID when the fetch
  job runs, through citations.entrez (esearch).

Anything else is an `Identifier` with an `error` that says what was expected.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from urllib.parse import unquote

from citations import pubmed

MAX_CHARS = 300  # a DOI is at most 255 (Citation.doi); a link a little more
MAX_PMID = 99_999_999_999  # far above PubMed's 8 digits; keeps the number in a bigint

_PMID_RE = re.compile(r"(?:pmid\s*:?\s*)?(\d{1,12})", re.IGNORECASE)
_PUBMED_URL_RE = re.compile(
    r"(?:https?://)?(?:www\.)?(?:pubmed\.ncbi\.nlm\.nih\.gov|ncbi\.nlm\.nih\.gov/pubmed)/"
    r"(\d{1,12})/?(?:[?#].*)?",
    re.IGNORECASE,
)
_PMC_RE = re.compile(r"(?:pmcid\s*:?\s*)?(pmc\d{1,10})|pmcid\s*:?\s*(\d{1,10})", re.IGNORECASE)
_PMC_URL_RE = re.compile(
    r"(?:https?://)?(?:www\.)?"
    r"(?:pmc\.ncbi\.nlm\.nih\.gov/articles|ncbi\.nlm\.nih\.gov/pmc/articles"
    r"|europepmc\.org/(?:article|abstract)/pmc)/"
    r"(pmc\d{1,10})/?(?:[?#].*)?",
    re.IGNORECASE,
)
_DOI_URL_RE = re.compile(r"(?:https?://)?(?:dx\.|www\.)?doi\.org/(.+)", re.IGNORECASE)

EXPECTED = (
    "a PMID (35560368), a DOI (10.1111/cup.14261), a PMC id (PMC5442267) or a PubMed, "
    "doi.org or PMC link"
)


@dataclass
class Identifier:
    query: str
    pmid: int | None = None
    doi: str = ""
    pmcid: str = ""
    error: str = ""

    @property
    def lookup(self) -> dict:
        """How to find the citation among the stored ones: {"pmid": ...} or DOI or PMC id."""
        if self.pmid:
            return {"pmid": self.pmid}
        return {"doi": self.doi} if self.doi else {"pmcid": self.pmcid}


def parse_identifier(text: str) -> Identifier:
    """One PMID, DOI or PMC id in any of the forms above; anything else is an error."""
    raw = str(text or "")
    shown = _shown(raw)
    if len(raw) > MAX_CHARS:
        return _error(raw, f"“{shown}” is too long ({len(raw):,} characters) for {EXPECTED}.")
    if any(unicodedata.category(c) in ("Cc", "Cf") and not c.isspace() for c in raw):
        return _error(raw, f"“{shown}” contains invisible control characters: type it again.")
    tidy = " ".join(raw.split()).strip("<>\"' \u201c\u201d\u2018\u2019").rstrip(".")
    match = _PMID_RE.fullmatch(tidy) or _PUBMED_URL_RE.fullmatch(tidy)
    if match:
        pmid = int(match.group(1))
        if 0 < pmid <= MAX_PMID:
            return Identifier(query=str(pmid), pmid=pmid)
        return _error(raw, f"“{shown}” is not a PMID: a PMID is a positive whole number.")
    match = _PMC_RE.fullmatch(tidy) or _PMC_URL_RE.fullmatch(tidy)
    if match:
        pmcid = (match.group(1) or "PMC" + match.group(2)).upper()
        return Identifier(query=pmcid, pmcid=pmcid)
    url = _DOI_URL_RE.fullmatch(tidy)
    doi = pubmed.normalize_doi(unquote(url.group(1)) if url else tidy)
    if doi and len(doi) <= 255:
        return Identifier(query=doi, doi=doi)
    return _error(raw, f"“{shown}” is not {EXPECTED}.")


def split_identifiers(text: str) -> list[str]:
    """Identifiers pasted as lines, commas, semicolons or spaces ("PMID: 123" is one)."""
    joined = re.sub(r"\b(pmcid|pmid)\s*:?\s+(?=(?:pmc)?\d)", r"\1:", text or "", flags=re.I)
    return [part for part in re.split(r"[\s,;]+", joined) if part]


def _shown(raw: str) -> str:
    printable = "".join(c if c.isprintable() else "?" for c in " ".join(raw.split()))
    return printable if len(printable) <= 60 else printable[:57] + "..."


def _error(raw: str, message: str) -> Identifier:
    return Identifier(query=" ".join(raw.split())[:255], error=message)
