"""What a user may ask PubMed for: a PMID, a PubMed URL, a DOI or a DOI URL."""

from __future__ import annotations

import re
from dataclasses import dataclass

from citations import pubmed

_PMID_RE = re.compile(
    r"^(?:pmid\s*:?\s*|https?://(?:www\.)?(?:pubmed\.ncbi\.nlm\.nih\.gov|ncbi\.nlm\.nih\.gov/pubmed)/)?"
    r"(\d{1,12})/?$",
    re.IGNORECASE,
)


@dataclass
class Identifier:
    query: str
    pmid: int | None = None
    doi: str = ""
    error: str = ""


def parse_identifier(text: str) -> Identifier:
    """'PMID: 35560368', a PubMed URL, a DOI or a DOI URL; anything else is an error."""
    raw = (text or "").strip()
    match = _PMID_RE.match(raw)
    if match:
        pmid = int(match.group(1))
        if pmid > 0:
            return Identifier(query=str(pmid), pmid=pmid)
    doi = pubmed.normalize_doi(raw)
    if doi and len(doi) <= 255:
        return Identifier(query=doi, doi=doi)
    shown = raw if len(raw) <= 60 else raw[:57] + "..."
    return Identifier(
        query=raw[:255],
        error=f"“{shown}” is neither a PMID (a positive whole number) nor a DOI (10.xxxx/...).",
    )


def split_identifiers(text: str) -> list[str]:
    """PMIDs/DOIs pasted as lines, commas, semicolons or spaces."""
    return [part for part in re.split(r"[\s,;]+", text or "") if part]
