"""PubMed XML to plain records. Free of Django: unit-tested without a database.

Input is what NCBI sends: an efetch answer (`<PubmedArticleSet>`) or a PubMed
baseline/update file, `.xml` or `.xml.gz`. Biopython 1.88 reads a
PubmedArticleSet as one dictionary (PubmedArticle, PubmedBookArticle,
DeleteCitation), so `Entrez.parse` refuses it ("does not represent a list")
and `Entrez.read` would hold a whole 30,000-article baseline file in memory.
`iter_records` therefore cuts the stream into article elements as it reads
(also keeping each article's raw XML, which the Citation row stores), and
hands small groups of them, under the file's own DOCTYPE, to `Entrez.read`:
memory is bounded by one group, whatever the file size.
"""

from __future__ import annotations

import codecs
import datetime as dt
import gzip
import html
import io
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import IO, Any

import nh3
from Bio.Entrez.Parser import CorruptedXMLError, NotXMLError, ValidationError

from citations import pubmed_dtds

INLINE_TAGS = {"i", "b", "sup", "sub", "u"}
DEFAULT_DOCTYPE = (
    '<!DOCTYPE PubmedArticleSet PUBLIC "-//NLM//DTD PubMedArticle, 1st January 2025//EN" '
    '"https://dtd.nlm.nih.gov/ncbi/pubmed/out/pubmed_250101.dtd">'
)
MONTHS = {
    name: number
    for number, name in enumerate(
        ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"],
        start=1,
    )
}


class PubmedXMLError(ValueError):
    """The data is not PubMed XML, or it is cut short or malformed."""


class PubmedDTDError(PubmedXMLError):
    """The file names a DTD RareDerm does not have (none is downloaded): the whole file fails."""


# -- records -------------------------------------------------------------------


@dataclass
class ParsedAuthor:
    last_name: str = ""
    fore_name: str = ""
    initials: str = ""
    suffix: str = ""
    collective_name: str = ""
    orcid: str = ""
    affiliations: list[str] = field(default_factory=list)


@dataclass
class ParsedArticle:
    pmid: int
    kind: str = "article"  # "article" (PubmedArticle) or "book" (PubmedBookArticle)
    doi: str = ""
    pmcid: str = ""
    title: str = ""
    abstract: list[dict[str, str]] = field(default_factory=list)
    copyright: str = ""
    journal: str = ""
    journal_iso: str = ""
    volume: str = ""
    issue: str = ""
    pages: str = ""
    year: int | None = None
    month: int | None = None
    day: int | None = None
    season: str = ""
    medline_date: str = ""
    epub_date: dt.date | None = None
    language: str = ""
    publication_types: list[str] = field(default_factory=list)
    mesh_terms: list[dict[str, Any]] = field(default_factory=list)
    keywords: list[str] = field(default_factory=list)
    authors: list[ParsedAuthor] = field(default_factory=list)
    authors_complete: bool = True
    retracted: bool = False
    # Notices PubMed links to the article (WATCHED_NOTICES): [{"type": "RetractionIn",
    # "source": "J Cutan Pathol. 2023;50(1):99", "pmid": 36000000 or None}], in order.
    notices: list[dict[str, Any]] = field(default_factory=list)
    raw_xml: str = ""


@dataclass
class ParsedDeletion:
    """A DeleteCitation element: PubMed withdrew these PMIDs."""

    pmids: list[int]
    raw_xml: str = ""


@dataclass
class ParsedFailure:
    """An article that could not be read, and why; the rest of its answer or file is read.

    Such a failure is in the data and will not change by asking again: it is
    reported for its PMID (None when even that could not be found), never retried.
    """

    pmid: int | None
    reason: str
    raw_xml: str = ""


Record = ParsedArticle | ParsedDeletion | ParsedFailure


# -- sanitising ----------------------------------------------------------------

_MATH_RE = re.compile(r"<math\b.*?</math\s*>", re.DOTALL | re.IGNORECASE)
_SPACE_RE = re.compile(r"\s+")
# An accent over a symbol (mover) becomes the combining character: V + "." -> V̇.
_ACCENTS = {
    ".": "\u0307",
    "\u02d9": "\u0307",
    "\u00a8": "\u0308",
    "..": "\u0308",
    "\u00af": "\u0304",
    "\u203e": "\u0305",
    "^": "\u0302",
    "\u02c6": "\u0302",
    "~": "\u0303",
    "\u02dc": "\u0303",
}


class _Node:
    def __init__(self, tag: str):
        self.tag = tag
        self.children: list[_Node | str] = []


class _MathTreeBuilder(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.root = _Node("root")
        self.stack = [self.root]

    def handle_starttag(self, tag, attrs):
        node = _Node(tag.split(":")[-1].lower())
        self.stack[-1].children.append(node)
        self.stack.append(node)

    def handle_startendtag(self, tag, attrs):
        self.stack[-1].children.append(_Node(tag.split(":")[-1].lower()))

    def handle_endtag(self, tag):
        tag = tag.split(":")[-1].lower()
        for depth in range(len(self.stack) - 1, 0, -1):
            if self.stack[depth].tag == tag:
                del self.stack[depth:]
                break

    def handle_data(self, data):
        self.stack[-1].children.append(data)


def _render_math(node: _Node | str) -> str:
    """MathML to readable text with <sub>/<sup>; text comes out HTML-escaped."""
    if isinstance(node, str):
        return html.escape(node.strip(), quote=False)
    kids = [child for child in node.children if not (isinstance(child, str) and not child.strip())]
    parts = [_render_math(child) for child in kids]
    tag = node.tag
    if tag in {"annotation", "annotation-xml", "none", "mprescripts"}:
        return ""
    if tag == "semantics":
        return parts[0] if parts else ""
    if tag in {"msub", "munder"} and len(parts) >= 2:
        return f"{parts[0]}<sub>{parts[1]}</sub>"
    if tag == "msup" and len(parts) >= 2:
        return f"{parts[0]}<sup>{parts[1]}</sup>"
    if tag in {"msubsup", "munderover"} and len(parts) >= 3:
        return f"{parts[0]}<sub>{parts[1]}</sub><sup>{parts[2]}</sup>"
    if tag == "mover" and len(parts) >= 2:
        accent = _ACCENTS.get(html.unescape(parts[1]))
        return f"{parts[0]}{accent}" if accent else f"{parts[0]}<sup>{parts[1]}</sup>"
    if tag == "mfrac" and len(parts) >= 2:
        return f"{_group(parts[0])}/{_group(parts[1])}"
    if tag == "msqrt":
        return f"√{_group(''.join(parts))}"
    if tag == "mroot" and len(parts) >= 2:
        return f"{_group(parts[0])}<sup>1/{parts[1]}</sup>"
    if tag == "mfenced":
        return f"({', '.join(parts)})"
    if tag == "mspace":
        return " "
    return "".join(parts)


def _group(text: str) -> str:
    return text if len(html.unescape(re.sub(r"<[^>]+>", "", text))) <= 1 else f"({text})"


def mathml_to_text(fragment: str) -> str:
    builder = _MathTreeBuilder()
    builder.feed(fragment)
    builder.close()
    return _render_math(builder.root)


def sanitize_inline(value: str) -> str:
    """Keep <i> <b> <sup> <sub> <u>, make everything else safe; MathML becomes text.

    The input is an `Entrez.read(..., escape=True)` string: text is
    HTML-escaped and inline markup is left as tags.
    """
    if not value:
        return ""
    value = _MATH_RE.sub(lambda match: mathml_to_text(match.group(0)), str(value))
    cleaned = nh3.clean(
        value,
        tags=INLINE_TAGS,
        attributes={"*": set()},
        clean_content_tags={"script", "style"},
    )
    return _SPACE_RE.sub(" ", cleaned).strip()


def to_plain(value: str) -> str:
    """Sanitised inline HTML to plain text (exports, page titles)."""
    if not value:
        return ""
    return _SPACE_RE.sub(" ", html.unescape(nh3.clean(value, tags=set()))).strip()


def _raw(value: Any) -> str:
    """A string that never carries markup (ids, MeSH names, dates), unescaped."""
    return html.unescape(str(value)).strip() if value is not None else ""


def _text(value: Any) -> str:
    """A plain string from a StringElement that may contain markup."""
    return to_plain(sanitize_inline(str(value))) if value is not None else ""


# -- field helpers -------------------------------------------------------------


def _int(value: Any) -> int | None:
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return None


def _month(value: Any) -> int | None:
    text = str(value or "").strip().lower()
    if not text:
        return None
    if text.isdigit():
        number = int(text)
        return number if 1 <= number <= 12 else None
    return MONTHS.get(text[:3])


def normalize_doi(value: str) -> str:
    """'https://doi.org/10.1111/CUP.14261' -> '10.1111/cup.14261'; '' if not a DOI."""
    text = (value or "").strip()
    text = re.sub(r"^(?:https?://(?:dx\.)?doi\.org/|doi:\s*)", "", text, flags=re.IGNORECASE)
    return text.lower() if re.fullmatch(r"10\.\d{4,9}/\S+", text) else ""


def normalize_orcid(value: str) -> str:
    match = re.search(r"(\d{4}-?\d{4}-?\d{4}-?\d{3}[\dXx])", value or "")
    if not match:
        return ""
    digits = match.group(1).replace("-", "").upper()
    return "-".join(digits[i : i + 4] for i in range(0, 16, 4))


def _article_ids(id_list: Iterable[Any]) -> dict[str, str]:
    found: dict[str, str] = {}
    for article_id in id_list or []:
        kind = getattr(article_id, "attributes", {}).get("IdType", "")
        if kind and kind not in found:
            found[kind] = _raw(article_id)
    return found


def _parse_authors(author_list: Any) -> tuple[list[ParsedAuthor], bool]:
    if author_list is None:
        return [], True
    complete = getattr(author_list, "attributes", {}).get("CompleteYN", "Y") != "N"
    authors = []
    for raw in author_list:
        if getattr(raw, "attributes", {}).get("ValidYN", "Y") == "N":
            continue  # PubMed keeps wrong names of errata as ValidYN="N"
        author = ParsedAuthor(
            last_name=_text(raw.get("LastName", "")),
            fore_name=_text(raw.get("ForeName", "")),
            initials=_text(raw.get("Initials", "")),
            suffix=_text(raw.get("Suffix", "")),
            collective_name=_text(raw.get("CollectiveName", "")),
        )
        for identifier in raw.get("Identifier", []):
            if getattr(identifier, "attributes", {}).get("Source", "").upper() == "ORCID":
                author.orcid = normalize_orcid(_raw(identifier))
                break
        # AffiliationInfo/Affiliation since the 2015 DTD; Affiliation directly
        # under Author in the 2014 DTD (NLM's nlmmedlinecitationset_150101.dtd,
        # revision notes c and d).
        placed = [info.get("Affiliation", "") for info in raw.get("AffiliationInfo", [])]
        for text in [*placed, raw.get("Affiliation", "")]:
            text = _text(text)
            if text and text not in author.affiliations:
                author.affiliations.append(text)
        if author.last_name or author.collective_name:
            authors.append(author)
    return authors, complete


def _parse_abstract(abstract: Any) -> tuple[list[dict[str, str]], str]:
    if not abstract:
        return [], ""
    sections = []
    parts = abstract.get("AbstractText", [])
    if isinstance(parts, str):
        parts = [parts]  # DTDs before 2010 allow one AbstractText, read as a string
    for part in parts:
        attributes = getattr(part, "attributes", {})
        text = sanitize_inline(str(part))
        if text:
            sections.append(
                {
                    "label": attributes.get("Label", ""),
                    "category": attributes.get("NlmCategory", ""),
                    "text": text,
                }
            )
    return sections, _text(abstract.get("CopyrightInformation", ""))


def _apply_pub_date(record: ParsedArticle, pub_date: Any) -> None:
    pub_date = pub_date or {}
    record.year = _int(pub_date.get("Year"))
    record.month = _month(pub_date.get("Month"))
    record.day = _int(pub_date.get("Day")) if record.month else None
    record.season = _raw(pub_date.get("Season", ""))
    record.medline_date = _raw(pub_date.get("MedlineDate", ""))
    if record.year is None and record.medline_date:
        match = re.search(r"\b(1[89]\d\d|20\d\d)\b", record.medline_date)
        record.year = int(match.group(1)) if match else None


def _epub_date(article: Any) -> dt.date | None:
    for article_date in article.get("ArticleDate", []):
        if getattr(article_date, "attributes", {}).get("DateType", "") == "Electronic":
            try:
                return dt.date(
                    int(article_date["Year"]),
                    _month(article_date.get("Month")) or 1,
                    _int(article_date.get("Day")) or 1,
                )
            except (KeyError, TypeError, ValueError):
                return None
    return None


def _place_article_affiliation(authors: list[ParsedAuthor], affiliation: Any) -> None:
    """Until the 2014 DTD, PubMed kept one Affiliation under Article: the first author's.

    NLM's nlmmedlinecitationset_140101.dtd notes "Moved Affiliation element from
    Article to Author element", and PubMed now gives such an article's affiliation
    as its first author's AffiliationInfo: so it is read as that here too.
    """
    text = _text(affiliation)
    if text and authors and not authors[0].affiliations:
        authors[0].affiliations.append(text)


def _mesh(heading_list: Any) -> list[dict[str, Any]]:
    terms = []
    for heading in heading_list or []:
        descriptor = heading.get("DescriptorName", "")
        attributes = getattr(descriptor, "attributes", {})
        terms.append(
            {
                "descriptor": _raw(descriptor),
                "ui": attributes.get("UI", ""),
                "major": attributes.get("MajorTopicYN", "N") == "Y",
                "qualifiers": [
                    {
                        "name": _raw(qualifier),
                        "ui": getattr(qualifier, "attributes", {}).get("UI", ""),
                        "major": getattr(qualifier, "attributes", {}).get("MajorTopicYN", "N")
                        == "Y",
                    }
                    for qualifier in heading.get("QualifierName", [])
                ],
            }
        )
    return terms


# CommentsCorrections RefType values that say something happened to the article
# itself (the attribute's list of values in NCBI's PubMed DTD: pubmed_180101.dtd,
# which citations/dtds/pubmed_170101.dtd includes, and pubmed_250101.dtd, both as
# Biopython 1.88 ships them). The element is CommentsCorrections (RefSource, PMID?,
# Note?) in MedlineCitation's CommentsCorrectionsList.
RETRACTION = "RetractionIn"
ERRATUM = "ErratumIn"
EXPRESSION_OF_CONCERN = "ExpressionOfConcernIn"
WATCHED_NOTICES = (RETRACTION, ERRATUM, EXPRESSION_OF_CONCERN)


def _notices(comments: Any) -> list[dict[str, Any]]:
    """The retraction, erratum and expression-of-concern notices of an article, in order."""
    notices = []
    for comment in comments or []:
        kind = getattr(comment, "attributes", {}).get("RefType", "")
        if kind not in WATCHED_NOTICES:
            continue
        notice = {
            "type": kind,
            "source": _text(comment.get("RefSource", "")),
            "pmid": _int(comment.get("PMID")),
        }
        if notice not in notices:
            notices.append(notice)
    return notices


def _keywords(keyword_lists: Any) -> list[str]:
    keywords: list[str] = []
    for keyword_list in keyword_lists or []:
        for keyword in keyword_list:
            text = _text(keyword)
            if text and text not in keywords:
                keywords.append(text)
    return keywords


# -- articles ------------------------------------------------------------------


def parse_pubmed_article(raw: Any) -> ParsedArticle:
    """One `PubmedArticle` of Entrez.read(..., escape=True) to a ParsedArticle."""
    citation = raw["MedlineCitation"]
    article = citation["Article"]
    journal = article.get("Journal", {})
    journal_issue = journal.get("JournalIssue", {})
    pubmed_data = raw.get("PubmedData", {})
    pmid = _int(citation["PMID"])
    if pmid is None:
        raise PubmedXMLError(f"PubmedArticle without a numeric PMID ({citation['PMID']!r})")
    record = ParsedArticle(pmid=pmid)

    ids = _article_ids(pubmed_data.get("ArticleIdList", []))
    record.doi = normalize_doi(ids.get("doi", ""))
    if not record.doi:
        for location in article.get("ELocationID", []):
            attributes = getattr(location, "attributes", {})
            if attributes.get("EIdType") == "doi" and attributes.get("ValidYN", "Y") != "N":
                record.doi = normalize_doi(_raw(location))
                break
    record.pmcid = ids.get("pmc", "").upper()

    record.title = sanitize_inline(str(article.get("ArticleTitle", ""))) or sanitize_inline(
        str(article.get("VernacularTitle", ""))
    )
    record.abstract, record.copyright = _parse_abstract(article.get("Abstract"))
    record.journal = _text(journal.get("Title", ""))
    record.journal_iso = _text(journal.get("ISOAbbreviation", "")) or _text(
        citation.get("MedlineJournalInfo", {}).get("MedlineTA", "")
    )
    record.volume = _text(journal_issue.get("Volume", ""))
    record.issue = _text(journal_issue.get("Issue", ""))
    pagination = article.get("Pagination", {})
    record.pages = _text(pagination.get("MedlinePgn", ""))
    if not record.pages and pagination.get("StartPage"):
        end = _text(pagination.get("EndPage", ""))
        record.pages = _text(pagination["StartPage"]) + (f"-{end}" if end else "")
    _apply_pub_date(record, journal_issue.get("PubDate"))
    record.epub_date = _epub_date(article)
    record.language = ", ".join(_raw(language) for language in article.get("Language", []))
    record.publication_types = [_raw(kind) for kind in article.get("PublicationTypeList", [])]
    record.mesh_terms = _mesh(citation.get("MeshHeadingList"))
    record.keywords = _keywords(citation.get("KeywordList"))
    record.authors, record.authors_complete = _parse_authors(article.get("AuthorList"))
    _place_article_affiliation(record.authors, article.get("Affiliation", ""))
    record.notices = _notices(citation.get("CommentsCorrectionsList", []))
    record.retracted = "Retracted Publication" in record.publication_types or any(
        notice["type"] == RETRACTION for notice in record.notices
    )
    return record


def _first_author_list(value: Any) -> Any:
    """The first AuthorList of a book: repeatable since the 2010 DTDs, single before."""
    if not value:
        return None
    return value if getattr(value, "tag", "") == "AuthorList" else value[0]


def parse_pubmed_book_article(raw: Any) -> ParsedArticle:
    """A `PubmedBookArticle` (a chapter or book on NCBI Bookshelf)."""
    document = raw["BookDocument"]
    book = document.get("Book", {})
    pmid = _int(document["PMID"])
    if pmid is None:
        raise PubmedXMLError(f"PubmedBookArticle without a numeric PMID ({document['PMID']!r})")
    record = ParsedArticle(pmid=pmid, kind="book")
    ids = _article_ids(raw.get("PubmedBookData", {}).get("ArticleIdList", []))
    ids.update(_article_ids(document.get("ArticleIdList", [])))
    record.doi = normalize_doi(ids.get("doi", ""))
    record.pmcid = ids.get("pmc", "").upper()
    book_title = sanitize_inline(str(book.get("BookTitle", "")))
    record.title = sanitize_inline(str(document.get("ArticleTitle", ""))) or book_title
    record.journal = to_plain(book_title)
    record.abstract, record.copyright = _parse_abstract(document.get("Abstract"))
    _apply_pub_date(record, book.get("PubDate"))
    record.language = ", ".join(_raw(language) for language in document.get("Language", []))
    record.publication_types = [_raw(kind) for kind in document.get("PublicationType", [])]
    record.keywords = _keywords(document.get("KeywordList"))
    author_list = _first_author_list(document.get("AuthorList") or book.get("AuthorList"))
    if author_list is not None:
        record.authors, record.authors_complete = _parse_authors(author_list)
    record.retracted = "Retracted Publication" in record.publication_types
    return record


# -- streaming -----------------------------------------------------------------

_ELEMENT_START = re.compile(r"<(PubmedArticle|PubmedBookArticle|DeleteCitation)[\s>]")
_DOCTYPE_RE = re.compile(r"<!DOCTYPE\s+PubmedArticleSet\b[^>]*>", re.IGNORECASE)
_SET_RE = re.compile(r"<PubmedArticleSet[\s>]")
_SET_END = "</PubmedArticleSet>"


# PubMed records are well under 1 MB; an element still open after this many
# characters is skipped (a file that never closes one must not fill memory).
MAX_ELEMENT_CHARS = 5_000_000
_PMID_IN_RAW = re.compile(r"<PMID[^>]*>\s*(\d+)\s*</PMID>")
# An element skipped for its size comes as (doctype, _OVERSIZE, its ParsedFailure).
_OVERSIZE = "oversize"


def _iter_elements(
    stream: IO[bytes], chunk_size: int, max_element_chars: int
) -> Iterator[tuple[str, str, str]]:
    """(doctype, tag, raw element XML) for each top-level element, read as it comes.

    Memory is bounded by max_element_chars plus one chunk: an element still
    open beyond that is given as (doctype, "oversize", its head), and reading
    resumes at the next element. The closing tag is looked for only in what
    arrived since the last look.
    """
    decoder = codecs.getincrementaldecoder("utf-8")(errors="strict")
    buffer = ""
    doctype = ""
    seen_set = False
    finished = False
    # The element being read (it starts at buffer[0]) and where its end tag may start.
    open_tag = ""
    look_from = 0
    while True:
        data = stream.read(chunk_size)
        try:
            chunk = decoder.decode(data, final=not data)
        except UnicodeDecodeError as exc:
            raise PubmedXMLError(f"the data is not UTF-8 text: {exc}") from None
        buffer += chunk
        if not seen_set:
            match = _SET_RE.search(buffer)
            if match is None:
                if not data or len(buffer) > 1_000_000:
                    raise PubmedXMLError(_not_pubmed_message(buffer))
                continue
            head = buffer[: match.start()]
            found = _DOCTYPE_RE.search(head)
            doctype = found.group(0) if found else DEFAULT_DOCTYPE
            try:
                pubmed_dtds.check_doctype(doctype)
            except pubmed_dtds.DTDNotAvailable as exc:
                raise PubmedDTDError(str(exc)) from None
            seen_set = True
            buffer = buffer[match.start() :]
        while True:
            if not open_tag:
                match = _ELEMENT_START.search(buffer)
                if match is None:
                    if _SET_END in buffer:
                        finished = True
                    # Keep a tail in case a start tag is split across reads.
                    buffer = buffer[-40:]
                    break
                open_tag = match.group(1)
                buffer = buffer[match.start() :]
                look_from = match.end() - match.start()
            closing = f"</{open_tag}>"
            end = buffer.find(closing, look_from)
            if end < 0:
                if len(buffer) > max_element_chars:
                    reason = (
                        f"a <{open_tag}> element is longer than {max_element_chars:,} "
                        "characters without its closing tag; it was skipped"
                    )
                    yield doctype, _OVERSIZE, _failure(buffer[:4000], reason)
                    following = _ELEMENT_START.search(buffer, 1)
                    buffer = buffer[following.start() :] if following else buffer[-40:]
                    open_tag = ""
                    continue
                look_from = max(look_from, len(buffer) - len(closing))
                break
            end += len(closing)
            yield doctype, open_tag, buffer[:end]
            buffer = buffer[end:]
            open_tag = ""
        if not data:
            break
    if not finished:
        raise PubmedXMLError("the XML ends before </PubmedArticleSet>: the answer was cut short")


def _not_pubmed_message(buffer: str) -> str:
    head = buffer.lstrip()[:200].lower()
    if not head:
        return "the answer was empty"
    if "<html" in head or "<!doctype html" in head:
        return "the answer was an HTML page, not PubMed XML"
    return "the answer is not PubMed XML (no <PubmedArticleSet>)"


def _entrez_read(doctype: str, raws: list[str]) -> Any:
    document = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"{doctype}\n<PubmedArticleSet>\n" + "\n".join(raws) + "\n</PubmedArticleSet>\n"
    )
    # What Entrez.read(..., escape=True) does, keeping the handler so that its
    # reference cycles (expat callbacks, DTD closures) can be cut afterwards:
    # left to the cyclic garbage collector, each group's whole record tree
    # lingers (measured: 14 MB after 200 articles, 31 MB after 1,200), and a
    # baseline file would not be read in bounded memory (3.9 MB with the cut).
    # The DTD is read from RareDerm's or Biopython's copy, never downloaded.
    handler = pubmed_dtds.OfflineDataHandler(validate=True, escape=True, ignore_errors=False)
    try:
        return handler.read(io.BytesIO(document.encode("utf-8")))
    except pubmed_dtds.DTDNotAvailable as exc:
        raise PubmedDTDError(str(exc)) from None
    except (CorruptedXMLError, NotXMLError, ValidationError, RuntimeError, ValueError) as exc:
        raise PubmedXMLError(f"malformed PubMed XML: {exc}") from None
    finally:
        vars(handler).clear()


def _articles_by_tag(parsed: Any) -> dict[str, list[Any]]:
    """The articles and book articles of an Entrez.read PubmedArticleSet, each in order.

    Since the 2018 DTD the set is read as a dictionary of lists; under the older
    DTDs, which declare it as a list of (PubmedArticle | PubmedBookArticle), as a
    list of elements that carry their tag.
    """
    tags = ("PubmedArticle", "PubmedBookArticle")
    if hasattr(parsed, "get"):
        return {tag: list(parsed.get(tag, [])) for tag in tags}
    return {tag: [element for element in parsed if element.tag == tag] for tag in tags}


def _pmid_of(raw_xml: str) -> int | None:
    found = _PMID_IN_RAW.search(raw_xml)
    return int(found.group(1)) if found else None


def _failure(raw_xml: str, reason: str) -> ParsedFailure:
    pmid = _pmid_of(raw_xml)
    shown = f"PMID {pmid}" if pmid is not None else "an article without a readable PMID"
    return ParsedFailure(pmid, f"PubMed's record of {shown} could not be read: {reason}", raw_xml)


def _record_of(tag: str, raw: Any, raw_xml: str) -> Record:
    try:
        if tag == "PubmedArticle":
            record = parse_pubmed_article(raw)
        else:
            record = parse_pubmed_book_article(raw)
    except PubmedXMLError as exc:
        return _failure(raw_xml, str(exc))
    except (KeyError, TypeError, AttributeError, IndexError) as exc:
        return _failure(raw_xml, f"a {tag} lacks a required element ({exc})")
    record.raw_xml = raw_xml
    return record


def _read_alone(doctype: str, tag: str, raw_xml: str) -> Record:
    """One article read on its own: its record, or why it could not be read."""
    try:
        parsed = _entrez_read(doctype, [raw_xml])
    except PubmedDTDError:
        raise
    except PubmedXMLError as exc:
        return _failure(raw_xml, str(exc).removeprefix("malformed PubMed XML: "))
    found = _articles_by_tag(parsed)[tag]
    if len(found) != 1:
        return _failure(raw_xml, f"the {tag} element could not be read")
    return _record_of(tag, found[0], raw_xml)


def _records_of(doctype: str, group: list[tuple[str, str]]) -> Iterator[Record]:
    """Entrez.read a small group of elements; yield their records in document order.

    The group is read at once (each Entrez.read costs ~15 ms of DTD set-up);
    if that fails, each article is read alone, so that a malformed one fails
    by itself and its neighbours are kept.
    """
    start = 0
    while start < len(group):
        tag, raw_xml = group[start]
        if tag == _OVERSIZE:
            yield raw_xml  # the failure _iter_elements made of an element too long
            start += 1
            continue
        if tag == "DeleteCitation":
            # Entrez.read merges all DeleteCitation elements of a document into
            # one list, so each is read alone to keep its raw XML beside it.
            try:
                parsed = _entrez_read(doctype, [raw_xml])
            except PubmedDTDError:
                raise
            except PubmedXMLError as exc:
                yield ParsedFailure(None, f"a DeleteCitation could not be read: {exc}", raw_xml)
            else:
                pmids = [_int(value) for value in parsed.get("DeleteCitation", [])]
                yield ParsedDeletion(pmids=[p for p in pmids if p is not None], raw_xml=raw_xml)
            start += 1
            continue
        stop = start
        while stop < len(group) and group[stop][0] in ("PubmedArticle", "PubmedBookArticle"):
            stop += 1
        run = group[start:stop]
        try:
            parsed = _entrez_read(doctype, [raw for _, raw in run])
        except PubmedDTDError:
            raise
        except PubmedXMLError:
            for tag, raw_xml in run:
                yield _read_alone(doctype, tag, raw_xml)
        else:
            queues = _articles_by_tag(parsed)
            for tag, raw_xml in run:
                if queues[tag]:
                    yield _record_of(tag, queues[tag].pop(0), raw_xml)
                else:
                    yield _failure(raw_xml, f"the {tag} element could not be read")
        start = stop


def iter_records(
    source: IO[bytes] | bytes | str | Path,
    *,
    group_size: int = 50,
    group_chars: int = 2_000_000,
    chunk_size: int = 65536,
    max_element_chars: int = MAX_ELEMENT_CHARS,
) -> Iterator[Record]:
    """Parse PubMed XML (bytes, a binary stream or a .xml / .xml.gz path), one record at a time.

    An article that cannot be read comes as a ParsedFailure (with its PMID when
    that can be found), and the others are read. Raises PubmedXMLError when the
    data as a whole is not PubMed XML or ends early, after yielding the records
    that were complete before that point.
    """
    owned = True
    if isinstance(source, bytes):
        stream: IO[bytes] = io.BytesIO(source)
    elif isinstance(source, str | Path):
        path = Path(source)
        # Closed in the finally clause below (a generator cannot use `with` across yields
        # as neatly when the caller may also pass an open stream).
        stream = gzip.open(path, "rb") if path.suffix == ".gz" else path.open("rb")  # noqa: SIM115
    else:
        stream, owned = source, False
    try:
        group: list[tuple[str, Any]] = []
        doctype = DEFAULT_DOCTYPE
        error: PubmedXMLError | None = None
        try:
            chars = 0
            for doctype, tag, raw in _iter_elements(stream, chunk_size, max_element_chars):
                group.append((tag, raw))
                chars += len(raw) if isinstance(raw, str) else 0
                # Each Entrez.read costs ~15 ms of set-up, so groups are read at
                # once; their size in characters bounds the memory.
                if len(group) >= group_size or chars >= group_chars:
                    yield from _records_of(doctype, group)
                    group, chars = [], 0
        except PubmedXMLError as exc:
            error = exc
        except (OSError, EOFError) as exc:
            error = PubmedXMLError(f"the file could not be read: {exc}")
        yield from _records_of(doctype, group)
        if error is not None:
            raise error
    finally:
        if owned:
            stream.close()


def parse_pubmed_xml(data: bytes, *, max_element_chars: int = MAX_ELEMENT_CHARS) -> list[Record]:
    """All records of one efetch answer; PubmedXMLError if the answer as a whole is bad.

    An answer holds at most 200 articles and is in memory already: it is read
    in one Entrez.read (each costs ~15 ms of DTD set-up) rather than groups of 50.
    """
    return list(
        iter_records(
            data,
            group_size=200,
            group_chars=len(data) + 1,
            max_element_chars=max_element_chars,
        )
    )


_REFERENCE_LIST = re.compile(r"<ReferenceList\b[^>]*>(.*?)</ReferenceList>", re.DOTALL)
_REFERENCE_PMID = re.compile(r'<ArticleId\s+IdType="pubmed"\s*>\s*(\d{1,12})\s*</ArticleId>')


def reference_pmids(raw_xml: str) -> list[int]:
    """The PMIDs of an article's reference list (PubMed's <ReferenceList>), in order, once each.

    Read from the stored <PubmedArticle> (Citation.raw_xml), so papers fetched
    before this was written have their references too. References without a
    PMID are left out.
    """
    found: dict[int, None] = {}
    for block in _REFERENCE_LIST.findall(raw_xml or ""):
        for value in _REFERENCE_PMID.findall(block):
            found.setdefault(int(value), None)
    return list(found)
