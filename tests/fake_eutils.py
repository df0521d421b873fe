"""A fake NCBI E-utilities server for the offline test suite.

A real HTTP server (ThreadingHTTPServer on 127.0.0.1, port chosen by the OS)
that the real Bio.Entrez talks to, through citations/entrez.py with
ENTREZ_BASE_URL pointing here. It serves the recorded responses of
tests/fixtures/entrez/ (see the README there):

- efetch.fcgi (GET or POST, db=pubmed): the recorded <PubmedArticle> of each
  known PMID, in the order asked, under the recorded DOCTYPE; unknown PMIDs
  are left out, as NCBI does (so an unknown PMID alone gets an empty set).
  `WebEnv` + `query_key` from an epost work too.
- esearch.fcgi: `<doi>[doi]` (quoted or not) finds the PMID with that DOI, and
  `<PMC id>[pmcid]` the PMID whose recorded article lists that PMC id (pubmed4.xml:
  27797938 is PMC5442267); no hit gives NCBI's recorded "no items found" answer
  (esearch8.xml).
- esearch.fcgi for a saved search's query registered with `add_search(term, {pmid:
  "YYYY/MM/DD" entry date})`: the PMIDs whose entry date lies within
  `mindate`..`maxdate` (datetype=edat), newest first as PubMed sorts, with
  `usehistory=y` kept on the history server (WebEnv + QueryKey, esearch2.xml's
  shape) for efetch with `retstart`/`retmax`. `reject(term)` answers a query
  with NCBI's recorded ErrorList (esearch8.xml: PhraseNotFound).
- elink.fcgi (dbfrom=pubmed, db=pubmed, one `id`, one `linkname`): the links of
  elink1.xml (recorded for PMID 9298984: pubmed_pubmed, _citedin, _refs, ...)
  and those added with `add_links(pmid, linkname, [(pmid, score or None)])`,
  in elink1.xml's shape; a score is written as `<Score>`, which elink.dtd
  (20101123) declares inside `<Link>` for cmd=neighbor_score. `elink_error(pmid,
  message)` answers with an `<ERROR>` element in the LinkSet (the DTD allows it
  there). A PMID without links gets a LinkSet with no LinkSetDb.
- epost.fcgi: stores the ids and answers WebEnv/QueryKey (epost1.xml shape),
  or NCBI's recorded error for an empty or invalid id list (epost3.xml).

It counts every request (`requests`, with monotonic timestamps), can enforce a
rate limit with 429s (`rate_limit`), and injects faults on demand: `inject("500")`,
"503", "429", "stall" (no answer for `stall_seconds`), "truncated" (the XML cut
in half), "html" (the recorded HTML page), "empty" (a 200 with no body),
"trickle" (the whole answer, status line included, one byte every
`trickle_interval` seconds for at most `trickle_seconds`, then the connection
is closed: a server that never stalls long enough for a socket timeout).
`add_synthetic(count)` registers renumbered copies of the recorded articles
(rendered on demand, so 10,000 of them cost little memory).
"""

from __future__ import annotations

import itertools
import re
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "entrez"
FAULTS = {"500", "503", "429", "stall", "truncated", "html", "empty", "trickle"}

_ARTICLE_RE = re.compile(r"<PubmedArticle>.*?</PubmedArticle>", re.DOTALL)
_PMID_RE = re.compile(r"<PMID[^>]*>(\d+)</PMID>")
_DOI_RE = re.compile(
    r'<ArticleId IdType="doi">([^<]+)</ArticleId>'
    r'|<ELocationID EIdType="doi"[^>]*>([^<]+)</ELocationID>'
)
_PMC_ID_RE = re.compile(r'<ArticleId IdType="pmc">([^<]+)</ArticleId>')
_DOCTYPE_RE = re.compile(r"<!DOCTYPE PubmedArticleSet[^>]*>")
_LINKSETDB_RE = re.compile(
    r"<LinkSetDb>\s*<DbTo>pubmed</DbTo>\s*<LinkName>([^<]+)</LinkName>(.*?)</LinkSetDb>",
    re.DOTALL,
)
_LINK_RE = re.compile(r"<Link>\s*<Id>([^<]*)</Id>\s*(?:<Score>([^<]*)</Score>\s*)?</Link>")
_ELINK_DOCTYPE = (
    '<!DOCTYPE eLinkResult PUBLIC "-//NLM//DTD elink 20101123//EN" '
    '"https://eutils.ncbi.nlm.nih.gov/eutils/dtd/20101123/elink.dtd">'
)


@dataclass
class Request:
    at: float  # time.monotonic()
    method: str
    endpoint: str  # "efetch", "esearch", "epost", ...
    params: dict[str, str]
    status: int = 200
    fault: str = ""

    @property
    def ids(self) -> list[str]:
        return [part for part in self.params.get("id", "").split(",") if part]


@dataclass
class _Fault:
    kind: str
    remaining: int | None  # None: until cleared
    endpoint: str | None


@dataclass
class FakeEutils:
    fixtures: Path = FIXTURES
    rate_limit: float | None = None  # requests per second; more get HTTP 429
    stall_seconds: float = 5.0
    trickle_interval: float = 0.2
    trickle_seconds: float = 10.0
    requests: list[Request] = field(default_factory=list)

    def __post_init__(self):
        self._lock = threading.Lock()
        self._faults: deque[_Fault] = deque()
        self._articles: dict[int, str] = {}
        self._synthetic: dict[int, int] = {}  # new PMID -> recorded PMID it copies
        self._rendered: dict[int, str] = {}  # a synthetic PMID -> its renumbered XML
        self._dois: dict[str, int] = {}
        self._pmcids: dict[str, int] = {}
        self._posted: dict[str, list[str]] = {}
        self._searches: dict[str, dict[int, str]] = {}
        self._rejected: set[str] = set()
        self._links: dict[tuple[int, str], list[tuple[str, int | None]]] = {}
        self._elink_errors: dict[int, str] = {}
        self._webenv_ids = itertools.count(1)
        self.doctype = ""
        for path in sorted(self.fixtures.glob("pubmed*.xml")):
            text = path.read_text(encoding="utf-8")
            if not self.doctype:
                found = _DOCTYPE_RE.search(text)
                self.doctype = found.group(0) if found else ""
            for article in _ARTICLE_RE.findall(text):
                self.add_article(article)
        recorded_links = self.fixtures / "elink1.xml"
        if recorded_links.exists():
            text = recorded_links.read_text(encoding="utf-8")
            source = int(re.search(r"<IdList>\s*<Id>(\d+)</Id>", text).group(1))
            for linkname, body in _LINKSETDB_RE.findall(text):
                links = [(i.strip(), int(s) if s else None) for i, s in _LINK_RE.findall(body)]
                self._links[(source, linkname)] = links
        self.html_page = (self.fixtures / "pubmed3.html").read_bytes()
        self.no_hits = (self.fixtures / "esearch8.xml").read_bytes()
        self.search_hits = (self.fixtures / "esearch1.xml").read_bytes()
        self.epost_error = (self.fixtures / "epost3.xml").read_bytes()
        self._server: ThreadingHTTPServer | None = None

    # -- content ------------------------------------------------------------

    @property
    def recorded_pmids(self) -> list[int]:
        return sorted(self._articles)

    def add_article(self, article_xml: str) -> int:
        """Serve one <PubmedArticle>; returns its PMID."""
        pmid = int(_PMID_RE.search(article_xml).group(1))
        self._articles[pmid] = article_xml
        self._rendered.clear()  # copies of an article replaced are rendered anew
        doi = _doi_of(article_xml)
        if doi:
            self._dois[doi] = pmid
        # The article's own PMC id: in PubmedData, after the references' lists.
        own = _PMC_ID_RE.findall(article_xml.rsplit("</ReferenceList>", 1)[-1])
        if own:
            self._pmcids[own[0].strip().upper()] = pmid
        return pmid

    def article_xml(self, pmid: int) -> str | None:
        if pmid in self._articles:
            return self._articles[pmid]
        rendered = self._rendered.get(pmid)
        if rendered is not None:
            return rendered
        source = self._synthetic.get(pmid)
        if source is None:
            return None
        # Kept: NCBI's work costs the machine nothing, the fake's would (the ingestion
        # benchmark renders every answer once before the timed run).
        rendered = self._rendered[pmid] = renumber(self._articles[source], pmid)
        return rendered

    def add_search(self, term: str, entries: dict[int, str]) -> None:
        """A query PubMed answers with these PMIDs, each with its entry date "YYYY/MM/DD"."""
        self._searches.setdefault(term, {}).update(entries)

    def reject(self, term: str) -> None:
        """A query PubMed answers with an ErrorList (the recorded esearch8.xml)."""
        self._rejected.add(term)

    def _search(self, term: str, params: dict[str, str]) -> bytes:
        entries = self._searches[term]
        low, high = params.get("mindate", ""), params.get("maxdate", "")
        if params.get("datetype", "edat") != "edat":
            raise ValueError("the fake knows entry dates (edat) only")
        ids = sorted(
            (
                pmid
                for pmid, day in entries.items()
                if (not low or day >= low) and (not high or day <= high)
            ),
            reverse=True,
        )
        history = ""
        if params.get("usehistory") == "y":
            webenv = f"MCID_FAKE{next(self._webenv_ids):06d}"
            self._posted[webenv] = [str(pmid) for pmid in ids]
            history = f"<QueryKey>1</QueryKey><WebEnv>{webenv}</WebEnv>"
        retstart = int(params.get("retstart", 0))
        retmax = int(params.get("retmax", 20))
        shown = "".join(f"<Id>{pmid}</Id>" for pmid in ids[retstart : retstart + retmax])
        safe_term = term.replace("&", "&amp;").replace("<", "&lt;")
        return (
            '<?xml version="1.0" encoding="UTF-8" ?>\n'
            '<!DOCTYPE eSearchResult PUBLIC "-//NLM//DTD esearch 20060628//EN" '
            '"https://eutils.ncbi.nlm.nih.gov/eutils/dtd/20060628/esearch.dtd">\n'
            f"<eSearchResult><Count>{len(ids)}</Count><RetMax>{min(retmax, len(ids))}</RetMax>"
            f"<RetStart>{retstart}</RetStart>{history}<IdList>{shown}</IdList><TranslationSet/>"
            f"<QueryTranslation>{safe_term}</QueryTranslation></eSearchResult>\n"
        ).encode()

    def add_links(self, pmid: int, linkname: str, links: list) -> None:
        """elink answers `linkname` for `pmid` with these links: PMIDs or (PMID, score).

        A link may be any string, so that a test can serve a non-numeric id.
        """
        self._links[(int(pmid), linkname)] = [
            (str(link[0]), link[1]) if isinstance(link, tuple) else (str(link), None)
            for link in links
        ]

    def elink_error(self, pmid: int, message: str | None) -> None:
        """elink answers for `pmid` with NCBI's <ERROR> element in the LinkSet (None: no
        longer)."""
        if message is None:
            self._elink_errors.pop(int(pmid), None)
        else:
            self._elink_errors[int(pmid)] = message

    def _elink(self, params: dict[str, str]) -> bytes:
        pmid = int(params["id"])
        linkname = params.get("linkname", "")
        if pmid in self._elink_errors:
            inner = f"<ERROR>{_escape(self._elink_errors[pmid])}</ERROR>"
        else:
            links = self._links.get((pmid, linkname), [])
            with_scores = params.get("cmd") == "neighbor_score"
            shown = "".join(
                f"<Link><Id>{_escape(link)}</Id>"
                + (f"<Score>{score}</Score>" if with_scores and score is not None else "")
                + "</Link>"
                for link, score in links
            )
            inner = (
                f"<LinkSetDb><DbTo>pubmed</DbTo><LinkName>{linkname}</LinkName>{shown}</LinkSetDb>"
                if links
                else ""
            )
        return (
            f'<?xml version="1.0" encoding="UTF-8" ?>\n{_ELINK_DOCTYPE}\n<eLinkResult><LinkSet>'
            f"<DbFrom>pubmed</DbFrom><IdList><Id>{pmid}</Id></IdList>{inner}"
            "</LinkSet></eLinkResult>\n"
        ).encode()

    def add_synthetic(self, count: int, first_pmid: int = 90_000_001) -> list[int]:
        """Register `count` renumbered copies of the recorded articles; returns their PMIDs.

        Each copy has its own PMID and DOI (10.5555/rarederm.<pmid>) and
        otherwise the content of a recorded article, taken in turn.
        """
        sources = self.recorded_pmids
        pmids = list(range(first_pmid, first_pmid + count))
        for index, pmid in enumerate(pmids):
            self._synthetic[pmid] = sources[index % len(sources)]
            self._rendered.pop(pmid, None)
            self._dois[synthetic_doi(pmid)] = pmid
        return pmids

    def document(self, pmids: list[int]) -> bytes:
        articles = [xml for xml in (self.article_xml(pmid) for pmid in pmids) if xml]
        return (
            '<?xml version="1.0" ?>\n'
            + self.doctype
            + "\n<PubmedArticleSet>\n"
            + "\n".join(articles)
            + "\n</PubmedArticleSet>\n"
        ).encode("utf-8")

    # -- faults and counting ------------------------------------------------

    def inject(self, kind: str, times: int | None = 1, endpoint: str | None = None) -> None:
        """The next `times` requests (to `endpoint`, or any) get this fault; None: all."""
        if kind not in FAULTS:
            raise ValueError(f"unknown fault {kind!r}: use one of {sorted(FAULTS)}")
        with self._lock:
            self._faults.append(_Fault(kind, times, endpoint))

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def _take_fault(self, endpoint: str) -> str:
        with self._lock:
            for fault in list(self._faults):
                if fault.endpoint not in (None, endpoint):
                    continue
                if fault.remaining is not None:
                    fault.remaining -= 1
                    if fault.remaining <= 0:
                        self._faults.remove(fault)
                return fault.kind
        return ""

    def _over_rate(self, now: float) -> bool:
        if not self.rate_limit:
            return False
        recent = [r for r in self.requests if r.at > now - 1.0 and r.status != 429]
        return len(recent) >= self.rate_limit

    def count(self, endpoint: str | None = None) -> int:
        return sum(1 for r in self.requests if endpoint in (None, r.endpoint))

    def max_in_any_second(self, endpoint: str | None = None) -> int:
        """The most requests that arrived within any one-second window."""
        times = sorted(r.at for r in self.requests if endpoint in (None, r.endpoint))
        best = 0
        start = 0
        for end, at in enumerate(times):
            while at - times[start] >= 1.0:
                start += 1
            best = max(best, end - start + 1)
        return best

    def reset_counts(self) -> None:
        with self._lock:
            self.requests.clear()

    # -- serving ------------------------------------------------------------

    @property
    def url(self) -> str:
        assert self._server is not None, "start() the server first"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/entrez/eutils/"

    def start(self) -> FakeEutils:
        fake = self

        class Handler(_Handler):
            server_fake = fake

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeEutils:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def answer(self, request: Request) -> tuple[int, str, bytes, dict[str, str]]:
        """(status, content type, body, extra headers) for one request."""
        xml = "text/xml; charset=UTF-8"
        if request.endpoint == "efetch":
            ids = request.ids
            if not ids and "WebEnv" in request.params:
                ids = self._posted.get(request.params["WebEnv"], [])
                start = int(request.params.get("retstart", 0))
                ids = ids[start : start + int(request.params.get("retmax", 10_000))]
            if not all(part.strip().isdigit() for part in ids):
                return 400, "text/plain", b"Error: invalid id", {}
            return 200, xml, self.document([int(part) for part in ids]), {}
        if request.endpoint == "esearch":
            term = request.params.get("term", "")
            if term in self._rejected:
                return 200, xml, self.no_hits, {}
            if term in self._searches:
                return 200, xml, self._search(term, request.params), {}
            match = re.fullmatch(r'\s*"?([^"\[]+?)"?\s*\[doi\]\s*', term, re.IGNORECASE)
            by_pmc = re.fullmatch(r"\s*(PMC\d+)\s*\[pmcid\]\s*", term, re.IGNORECASE)
            if by_pmc:
                pmid = self._pmcids.get(by_pmc.group(1).upper())
                if pmid is None:
                    return 200, xml, self.no_hits, {}
                return 200, xml, esearch_answer([pmid], term), {}
            if not match:
                return 200, xml, self.search_hits, {}
            pmid = self._dois.get(match.group(1).strip().lower())
            if pmid is None:
                return 200, xml, self.no_hits, {}
            return 200, xml, esearch_answer([pmid], term), {}
        if request.endpoint == "elink":
            if not request.params.get("id", "").strip().isdigit():
                return 400, "text/plain", b"Error: invalid id", {}
            return 200, xml, self._elink(request.params), {}
        if request.endpoint == "epost":
            ids = request.ids
            if not ids or not all(part.strip().isdigit() for part in ids):
                return 200, xml, self.epost_error, {}
            webenv = f"MCID_FAKE{next(self._webenv_ids):06d}"
            self._posted[webenv] = ids
            body = (
                '<?xml version="1.0" encoding="UTF-8" ?>\n'
                '<!DOCTYPE ePostResult PUBLIC "-//NLM//DTD epost 20090526//EN" '
                '"https://eutils.ncbi.nlm.nih.gov/eutils/dtd/20090526/epost.dtd">'
                f"<ePostResult><QueryKey>1</QueryKey><WebEnv>{webenv}</WebEnv></ePostResult>\n"
            ).encode()
            return 200, xml, body, {}
        return 404, "text/plain", b"unknown E-utility", {}


class _Handler(BaseHTTPRequestHandler):
    server_fake: FakeEutils
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args):
        pass  # quiet test output

    def do_GET(self):
        self._handle(urlparse(self.path).query)

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode("utf-8", "replace")
        query = urlparse(self.path).query
        self._handle("&".join(part for part in (query, body) if part))

    def _handle(self, query: str):
        fake = self.server_fake
        params = {key: values[-1] for key, values in parse_qs(query).items()}
        endpoint = urlparse(self.path).path.rstrip("/").rsplit("/", 1)[-1].removesuffix(".fcgi")
        now = time.monotonic()
        request = Request(at=now, method=self.command, endpoint=endpoint, params=params)
        with fake._lock:
            over = fake._over_rate(now)
            fake.requests.append(request)
        if over:
            request.status = 429
            return self._send(429, "application/json", b'{"error":"API rate limit exceeded"}')
        fault = fake._take_fault(endpoint)
        request.fault = fault
        if fault in {"500", "503", "429"}:
            request.status = int(fault)
            return self._send(int(fault), "text/html", b"<html><body>Error</body></html>")
        if fault == "stall":
            time.sleep(fake.stall_seconds)
        if fault == "html":
            return self._send(200, "text/html; charset=UTF-8", fake.html_page)
        if fault == "empty":
            return self._send(200, "text/xml; charset=UTF-8", b"")
        status, content_type, body, headers = fake.answer(request)
        request.status = status
        if fault == "trickle":
            return self._trickle(status, content_type, body)
        if fault == "truncated":
            body = body[: len(body) // 2]
        self._send(status, content_type, body, headers)

    def _trickle(self, status, content_type, body):
        fake = self.server_fake
        head = (
            f"HTTP/1.1 {status} OK\r\nContent-Type: {content_type}\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        ).encode()
        stop = time.monotonic() + fake.trickle_seconds
        self.close_connection = True
        try:
            for byte in head + body:
                if time.monotonic() > stop:
                    break
                self.wfile.write(bytes([byte]))
                self.wfile.flush()
                time.sleep(fake.trickle_interval)
        except OSError:
            pass  # the client gave up, as it should

    def _send(self, status, content_type, body, headers=None):
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (a stall past its timeout)


def _doi_of(article_xml: str) -> str:
    # PubmedData's ArticleIdList comes after the references' lists in no case
    # that matters here; the first DOI outside <ReferenceList> is the article's.
    head = article_xml.split("<ReferenceList", 1)[0]
    ids = _DOI_RE.findall(head)
    # Prefer ArticleId (PubmedData) over ELocationID, as the parser does.
    for article_id, _ in ids:
        if article_id:
            return article_id.strip().lower()
    for _, location in ids:
        if location:
            return location.strip().lower()
    return ""


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def synthetic_doi(pmid: int) -> str:
    return f"10.5555/rarederm.{pmid}"


def renumber(article_xml: str, pmid: int) -> str:
    """A copy of a recorded article under another PMID, DOI and no PMC id."""
    old = _PMID_RE.search(article_xml).group(1)
    doi = _doi_of(article_xml)
    xml = _PMID_RE.sub(f'<PMID Version="1">{pmid}</PMID>', article_xml, count=1)
    xml = xml.replace(f'<ArticleId IdType="pubmed">{old}</ArticleId>', "", 1)
    xml = re.sub(r'<ArticleId IdType="pmc">[^<]*</ArticleId>', "", xml)
    xml = (
        xml.replace(
            "<ArticleIdList>", f'<ArticleIdList><ArticleId IdType="pubmed">{pmid}</ArticleId>', 1
        )
        if "<ArticleIdList>" in xml
        else xml
    )
    if doi:
        xml = re.sub(
            r"(IdType=\"doi\"[^>]*>|EIdType=\"doi\"[^>]*>)" + re.escape(doi) + "<",
            lambda m: m.group(1) + synthetic_doi(pmid) + "<",
            xml,
            flags=re.IGNORECASE,
        )
    return xml


def esearch_answer(pmids: list[int], term: str) -> bytes:
    ids = "".join(f"<Id>{pmid}</Id>" for pmid in pmids)
    safe_term = term.replace("&", "&amp;").replace("<", "&lt;")
    return (
        '<?xml version="1.0" encoding="UTF-8" ?>\n'
        '<!DOCTYPE eSearchResult PUBLIC "-//NLM//DTD esearch 20060628//EN" '
        '"https://eutils.ncbi.nlm.nih.gov/eutils/dtd/20060628/esearch.dtd">\n'
        f"<eSearchResult><Count>{len(pmids)}</Count><RetMax>{len(pmids)}</RetMax>"
        f"<RetStart>0</RetStart><IdList>{ids}</IdList><TranslationSet/>"
        f"<QueryTranslation>{safe_term}</QueryTranslation></eSearchResult>\n"
    ).encode()
