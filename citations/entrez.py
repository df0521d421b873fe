"""The only module that talks to NCBI's E-utilities, through Biopython's Bio.Entrez.

Biopython leaves four things to us, all done here:

- Base URL. Bio.Entrez hard-codes https://eutils.ncbi.nlm.nih.gov/. Every
  request it makes goes through `Bio.Entrez.urlopen`, which this module
  replaces (in whichever process imports it: web, worker, command) by
  `_open_url`: it rewrites the URL to settings.ENTREZ_BASE_URL, sends
  efetch/epost as POST, and sets a timeout.
- Timeouts. Biopython sets none, so a silent server hangs a worker forever.
  ENTREZ_TIMEOUT bounds each socket operation, and ENTREZ_DEADLINE the whole
  answer, status line to last byte: a watchdog shuts the socket down when it
  passes, so a server that trickles a byte a second cannot hold a worker.
- One rate limit for the deployment. Biopython's limiter is per process, so
  N workers would send N times too many requests. Here every request first
  takes a slot from a schedule kept in Redis (a Lua script, so reserving a
  slot is atomic across processes and hosts; Redis's clock is the only clock).
  Without Redis, an in-process schedule.
- Retries. Biopython retries 5xx at once, with no pause, and 429s likewise.
  Here Biopython makes one try and this module retries 429, 5xx, timeouts,
  connection errors and garbled answers (HTML, cut-short XML) with
  exponential backoff and jitter, ENTREZ_MAX_TRIES times in all.
"""

from __future__ import annotations

import contextlib
import http.client
import logging
import random
import re
import socket
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, TypeVar

from Bio import Entrez
from django.conf import settings

from citations import pubmed

logger = logging.getLogger(__name__)

NCBI_BASE_URL = "https://eutils.ncbi.nlm.nih.gov/entrez/eutils/"
# A slot every 1/rate s, plus 10 % headroom: requests are spaced at their
# start, and network jitter must not push two of them into one of NCBI's
# one-second windows (Biopython pads 1/3 s to 0.37 s for the same reason).
RATE_HEADROOM = 1.1
T = TypeVar("T")


class EntrezError(Exception):
    """NCBI could not give an answer; the message is meant for curators."""

    def __init__(self, message: str, *, retryable: bool = False):
        super().__init__(message)
        self.retryable = retryable


# -- configuration -----------------------------------------------------------


def _base_url() -> str:
    return settings.ENTREZ_BASE_URL.rstrip("/") + "/"


class _Deadline:
    """The whole-answer deadline of the request this thread is sending.

    The connections opened for the request register their sockets here; when
    the deadline passes, a timer thread shuts them down, which ends any read
    blocked on them at once (a per-socket timeout never fires while bytes keep
    trickling in).
    """

    def __init__(self, seconds: float):
        self.seconds = seconds
        self.expired = False
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds, self.expire)
        self._timer.daemon = True

    def __enter__(self) -> _Deadline:
        _current.deadline = self
        self._timer.start()
        return self

    def __exit__(self, *exc) -> None:
        self._timer.cancel()
        _current.deadline = None

    def register(self, sock: socket.socket) -> None:
        with self._lock:
            self._sockets.append(sock)
            if self.expired:
                _shut(sock)

    def expire(self) -> None:
        with self._lock:
            self.expired = True
            for sock in self._sockets:
                _shut(sock)


def _shut(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)


_current = threading.local()


class AnswerTooSlow(TimeoutError):
    """The whole answer did not arrive before ENTREZ_DEADLINE."""


def _tracked(connection_class):
    """A connection class whose socket obeys the current request's deadline."""

    def connect(self):
        connection_class.connect(self)
        deadline = getattr(_current, "deadline", None)
        if deadline is not None:
            deadline.register(self.sock)

    return type(f"Tracked{connection_class.__name__}", (connection_class,), {"connect": connect})


class _HTTPHandler(urllib.request.HTTPHandler):
    connection_class = _tracked(http.client.HTTPConnection)

    def http_open(self, req):
        return self.do_open(self.connection_class, req)


class _HTTPSHandler(urllib.request.HTTPSHandler):
    connection_class = _tracked(http.client.HTTPSConnection)

    def https_open(self, req):
        return self.do_open(self.connection_class, req, context=self._context)


_opener = urllib.request.build_opener(_HTTPHandler, _HTTPSHandler)


def _open_url(request: urllib.request.Request, *args, **kwargs):
    """Bio.Entrez's urlopen: other base URL, POST for id lists, always a timeout."""
    url = request.full_url
    if url.startswith(NCBI_BASE_URL):
        url = _base_url() + url[len(NCBI_BASE_URL) :]
    path, _, query = url.partition("?")
    if request.get_method() == "GET" and query and path.endswith(("/efetch.fcgi", "/epost.fcgi")):
        # NCBI asks for POST when sending many ids; Biopython only switches at 200.
        request.data = query.encode("utf-8")
        request.method = "POST"
        request.add_header("Content-Type", "application/x-www-form-urlencoded")
        url = path
    request.full_url = url
    return _opener.open(request, timeout=settings.ENTREZ_TIMEOUT)


def configure() -> None:
    """Point Bio.Entrez at this module's opener and the project's cache folder."""
    cache = Path(settings.ENTREZ_CACHE_DIR)
    cache.mkdir(parents=True, exist_ok=True)
    # Downloaded DTDs go here instead of ~/.config/biopython.
    Entrez.local_cache = str(cache)
    Entrez.max_tries = 1  # we retry, with backoff
    Entrez.urlopen = _open_url


configure()


def _params() -> dict[str, str | None]:
    return {
        "email": settings.ENTREZ_EMAIL,
        "tool": settings.ENTREZ_TOOL,
        "api_key": settings.ENTREZ_API_KEY or None,
    }


# -- the rate limiter --------------------------------------------------------

# KEYS[1]: the next free slot (microseconds on Redis's clock).
# ARGV[1]: interval between requests in microseconds.
# Returns how long the caller must wait for its slot, in microseconds.
_RESERVE_SLOT = """
local now = redis.call('TIME')
local now_us = tonumber(now[1]) * 1000000 + tonumber(now[2])
local next_us = tonumber(redis.call('GET', KEYS[1]) or '0')
local slot = math.max(now_us, next_us)
redis.call('SET', KEYS[1], tostring(slot + tonumber(ARGV[1])), 'PX', 60000)
return slot - now_us
"""


class _LocalLimiter:
    def __init__(self):
        self._lock = threading.Lock()
        self._next = 0.0

    def reserve(self, interval: float) -> float:
        with self._lock:
            now = time.monotonic()
            slot = max(now, self._next)
            self._next = slot + interval
            return slot - now


_local_limiter = _LocalLimiter()
_redis_clients: dict[str, Any] = {}


def _redis(url: str):
    client = _redis_clients.get(url)
    if client is None:
        import redis

        client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)
        _redis_clients[url] = client
    return client


def wait_for_slot() -> float:
    """Block until this process may send one request; return the time waited."""
    interval = RATE_HEADROOM / settings.ENTREZ_RATE_LIMIT
    wait = None
    if settings.REDIS_URL:
        import redis

        try:
            client = _redis(settings.REDIS_URL)
            key = f"{settings.REDIS_KEY_PREFIX}:entrez:next-slot"
            wait = int(client.eval(_RESERVE_SLOT, 1, key, int(interval * 1_000_000)))
            wait = wait / 1_000_000
        except redis.RedisError as exc:
            # No Redis means no broker either; a command run with --sync still
            # stays polite within its own process.
            logger.warning("Redis rate limiter unavailable (%s); limiting in-process", exc)
    if wait is None:
        wait = _local_limiter.reserve(interval)
    if wait > 0:
        time.sleep(wait)
    return wait


# -- requests with retries ---------------------------------------------------


def backoff_delay(attempt: int) -> float:
    """Exponential backoff with jitter: about base x 2^(attempt-1), never in lock-step."""
    ceiling = settings.ENTREZ_BACKOFF * (2 ** (attempt - 1))
    ceiling = min(ceiling, settings.ENTREZ_BACKOFF * 32)
    return ceiling / 2 + random.uniform(0, ceiling / 2)  # noqa: S311 (jitter, not crypto)


def _read_all(handle) -> bytes:
    chunks = []
    while True:
        chunk = handle.read(65536)
        if not chunk:
            break
        chunks.append(chunk.encode("utf-8") if isinstance(chunk, str) else chunk)
    return b"".join(chunks)


def _receive(request: Callable[[], Any]) -> bytes:
    """Send a request and read its whole answer before ENTREZ_DEADLINE, or AnswerTooSlow."""
    with _Deadline(settings.ENTREZ_DEADLINE) as deadline:
        try:
            handle = request()
            try:
                body = _read_all(handle)
            finally:
                handle.close()
        except Exception as exc:
            if deadline.expired:
                raise AnswerTooSlow() from exc
            raise
        if deadline.expired:  # the shutdown ended the read early: the body is cut short
            raise AnswerTooSlow()
    return body


def _describe(exc: BaseException) -> tuple[str, bool]:
    """A curator-readable reason and whether trying again may help."""
    if isinstance(exc, urllib.error.HTTPError):
        if exc.code == 429:
            return "NCBI said too many requests (HTTP 429)", True
        if exc.code >= 500:
            return f"NCBI had a server error (HTTP {exc.code})", True
        return f"NCBI refused the request (HTTP {exc.code} {exc.reason})", False
    if isinstance(exc, AnswerTooSlow):
        return (
            f"NCBI's answer did not arrive whole within {settings.ENTREZ_DEADLINE:g} s",
            True,
        )
    if isinstance(exc, TimeoutError | socket.timeout):
        return f"NCBI did not answer within {settings.ENTREZ_TIMEOUT:g} s", True
    if isinstance(exc, urllib.error.URLError):
        reason = exc.reason
        if isinstance(reason, TimeoutError | socket.timeout):
            return f"NCBI did not answer within {settings.ENTREZ_TIMEOUT:g} s", True
        return f"could not reach NCBI ({reason})", True
    if isinstance(exc, http.client.HTTPException | ConnectionError):
        return f"the connection to NCBI broke ({exc.__class__.__name__})", True
    if isinstance(exc, pubmed.PubmedXMLError):
        return f"NCBI sent a bad answer: {exc}", True
    return f"{exc.__class__.__name__}: {exc}", False


def _call(
    action: str, request: Callable[[], Any], interpret: Callable[[bytes], T]
) -> tuple[T, int]:
    """Send a request (with limiter and retries) and interpret its body.

    Returns (result, tries). Raises EntrezError after the last try.
    """
    tries = settings.ENTREZ_MAX_TRIES
    for attempt in range(1, tries + 1):
        wait_for_slot()
        # Our limiter replaces Biopython's per-process pause.
        Entrez._open.previous = 0.0
        try:
            return interpret(_receive(request)), attempt
        except EntrezError:
            raise
        except Exception as exc:
            reason, retryable = _describe(exc)
            if not retryable or attempt == tries:
                suffix = f" (after {attempt} tries)" if attempt > 1 else ""
                raise EntrezError(f"{action}: {reason}{suffix}", retryable=retryable) from exc
            delay = backoff_delay(attempt)
            retry_after = _retry_after(exc)
            if retry_after is not None:
                delay = max(delay, min(retry_after, settings.ENTREZ_BACKOFF * 32))
            logger.info(
                "%s: %s; try %d of %d in %.2f s", action, reason, attempt + 1, tries, delay
            )
            time.sleep(delay)
    raise AssertionError("unreachable")  # pragma: no cover


def _retry_after(exc: BaseException) -> float | None:
    if isinstance(exc, urllib.error.HTTPError) and exc.headers:
        value = exc.headers.get("Retry-After", "")
        if value and value.strip().isdigit():
            return float(value.strip())
    return None


# -- E-utilities -------------------------------------------------------------


def batches(items: Iterable[T], size: int | None = None) -> Iterator[list[T]]:
    size = min(size or settings.ENTREZ_BATCH_SIZE, 200)
    batch: list[T] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def fetch_articles(pmids: list[int]) -> tuple[list[pubmed.Record], int]:
    """efetch one batch of at most 200 PMIDs (POST); parsed records and tries used.

    A PMID PubMed does not know is simply absent from the answer. An article
    that cannot be read is a ParsedFailure among the records: the answer as a
    whole was fine, so it is not asked for again (asking again gives the same).
    """
    if not pmids:
        return [], 0
    if len(pmids) > 200:
        raise ValueError("NCBI takes at most 200 PMIDs per efetch; use batches()")
    ids = ",".join(str(int(pmid)) for pmid in pmids)
    return _call(
        f"efetch of {len(pmids)} PMID(s)",
        lambda: Entrez.efetch(db="pubmed", id=ids, retmode="xml", **_params()),
        lambda body: pubmed.parse_pubmed_xml(
            body, max_element_chars=settings.PUBMED_MAX_ARTICLE_CHARS
        ),
    )


def _read_esearch(body: bytes) -> dict:
    import io

    from Bio.Entrez.Parser import CorruptedXMLError, NotXMLError, ValidationError

    try:
        return Entrez.read(io.BytesIO(body))
    except (CorruptedXMLError, NotXMLError, ValidationError, ValueError) as exc:
        raise pubmed.PubmedXMLError(f"not an E-utilities XML answer ({exc})") from None
    except RuntimeError as exc:  # an <ERROR> element: NCBI's own message
        raise EntrezError(f"NCBI answered with an error: {exc}") from None


def resolve_doi(doi: str) -> int | None:
    """The PMID of a DOI through esearch `<doi>[doi]`; None when PubMed has none."""
    normalized = pubmed.normalize_doi(doi)
    if not normalized:
        raise ValueError(f"{doi!r} is not a DOI")
    if '"' in normalized:
        # PubMed's query language has no escape inside a quoted phrase: the
        # quote would end it and the rest would be read as query syntax.
        raise ValueError(
            f"PubMed's search cannot look up a DOI containing a double quote ({normalized}): "
            "give the article's PMID instead."
        )
    # Quotes keep DOI punctuation (parentheses, semicolons) out of query syntax.
    return _pmid_of(f'"{normalized}"[doi]', f"the DOI {normalized}")


def resolve_pmcid(pmcid: str) -> int | None:
    """The PMID of a PubMed Central id (PMC5442267) through esearch `<id>[pmcid]`; None
    when PubMed has none."""
    if not re.fullmatch(r"PMC\d{1,10}", pmcid or ""):
        raise ValueError(f"{pmcid!r} is not a PMC id (PMC followed by digits)")
    return _pmid_of(f"{pmcid}[pmcid]", f"the PMC id {pmcid}")


def _pmid_of(term: str, what: str) -> int | None:
    """The one PMID an esearch term finds; None for none, EntrezError for several."""
    result, _ = _call(
        f"lookup of {what}",
        lambda: Entrez.esearch(db="pubmed", term=term, retmax=2, **_params()),
        _read_esearch,
    )
    ids = [int(value) for value in result.get("IdList", []) if re.fullmatch(r"\d+", value)]
    if len(ids) > 1:
        raise EntrezError(f"{what} matches several PubMed records: {ids}")
    return ids[0] if ids else None


# -- saved searches: esearch on the history server, efetch from it --------------


class QueryRejected(EntrezError):
    """PubMed did not take the query as written (ErrorList / WarningList): NCBI's words."""


def _problems(result: dict, *, warnings: bool) -> list[str]:
    """NCBI's complaints about a query: its ErrorList (and WarningList) entries as text."""
    found = []
    lists = [result.get("ErrorList") or {}]
    if warnings:
        lists.append(result.get("WarningList") or {})
    for entries in lists:
        for kind, values in entries.items():
            for value in values if isinstance(values, list) else [values]:
                if kind == "OutputMessage" and str(value).strip() == "No items found.":
                    continue  # a query that matches nothing is not wrong
                found.append(f"{kind}: {value}")
    return found


def search_history(
    term: str, *, mindate: str = "", maxdate: str = "", strict: bool = False
) -> dict:
    """esearch `term` with usehistory=y, by entry date (YYYY/MM/DD) when given.

    Returns {"count", "webenv", "query_key", "tries"}. QueryRejected with NCBI's
    message when the answer has an ErrorList (and, if `strict`, a WarningList:
    when a reviewer saves a query, not when it runs).
    """
    dates = {"datetype": "edat", "mindate": mindate, "maxdate": maxdate} if maxdate else {}
    result, tries = _call(
        "search of PubMed",
        lambda: Entrez.esearch(
            db="pubmed", term=term, usehistory="y", retmax=0, **dates, **_params()
        ),
        _read_esearch,
    )
    problems = _problems(result, warnings=strict)
    if problems:
        raise QueryRejected("PubMed rejected the query: " + "; ".join(problems))
    return {
        "count": int(result.get("Count", 0)),
        "webenv": str(result.get("WebEnv", "")),
        "query_key": str(result.get("QueryKey", "")),
        "tries": tries,
    }


def fetch_history(
    webenv: str, query_key: str, retstart: int, retmax: int = 200
) -> tuple[list[pubmed.Record], int]:
    """efetch records retstart..retstart+retmax (≤ 200) of an esearch on the history server."""
    if retmax > 200:
        raise ValueError("NCBI takes at most 200 records per efetch")
    return _call(
        f"efetch of records {retstart + 1}-{retstart + retmax} of a search",
        lambda: Entrez.efetch(
            db="pubmed",
            WebEnv=webenv,
            query_key=query_key,
            retstart=retstart,
            retmax=retmax,
            retmode="xml",
            **_params(),
        ),
        lambda body: pubmed.parse_pubmed_xml(
            body, max_element_chars=settings.PUBMED_MAX_ARTICLE_CHARS
        ),
    )


# -- citation chasing: elink ---------------------------------------------------

# Link names as NCBI's E-utilities spell them (elink's `linkname`).
REFERENCES = "pubmed_pubmed_refs"  # the papers this one cites
CITED_BY = "pubmed_pubmed_citedin"  # the papers that cite this one
RELATED = "pubmed_pubmed"  # PubMed's similar articles, with scores
RELATED_LIMIT = 20


def _read_links(body: bytes, pmid: int, linkname: str) -> list[tuple[int, int | None]]:
    """The (PMID, score) pairs of one elink answer, checked before anything is kept.

    elink.dtd (20101123, as Biopython ships it) declares `Link (Id, Score?)`
    and an `ERROR` in the result, a LinkSet or a LinkSetDb: any ERROR, or an
    id that is not a number, makes the whole answer an EntrezError.
    """
    result = _read_esearch(body)  # Bio.Entrez.read: an <ERROR> is already an EntrezError
    what = f"elink {linkname} of PMID {pmid}"
    if not isinstance(result, list):
        raise EntrezError(f"{what}: NCBI sent a bad answer: not an eLinkResult")
    found: list[tuple[int, int | None]] = []
    for linkset in result:
        if not isinstance(linkset, dict):
            raise EntrezError(f"{what}: NCBI sent a bad answer: a LinkSet without fields")
        errors = [str(e) for e in [linkset.get("ERROR")] if e] + [
            str(db["ERROR"]) for db in linkset.get("LinkSetDb", []) if db.get("ERROR")
        ]
        if errors:
            raise EntrezError(f"{what}: NCBI answered with an error: {'; '.join(errors)}")
        for linksetdb in linkset.get("LinkSetDb", []):
            if str(linksetdb.get("LinkName", "")) != linkname:
                continue
            for link in linksetdb.get("Link", []):
                value = str(link.get("Id", "")).strip()
                score = str(link.get("Score", "")).strip()
                if not re.fullmatch(r"\d{1,10}", value) or (score and not score.isdigit()):
                    raise EntrezError(
                        f"{what}: NCBI sent a bad answer: link {value!r} (score {score!r}) "
                        "is not a PMID with a numeric score"
                    )
                found.append((int(value), int(score) if score else None))
    return found


def elink(pmid: int, linkname: str) -> tuple[list[tuple[int, int | None]], int]:
    """One elink request from PubMed to PubMed: [(PMID, score or None)], tries used.

    Related articles (`pubmed_pubmed`) are asked for with cmd=neighbor_score, so
    each comes with PubMed's similarity score; they are returned best first.
    """
    if linkname not in (REFERENCES, CITED_BY, RELATED):
        raise ValueError(f"unknown link name {linkname!r}")
    pmid = int(pmid)
    cmd = "neighbor_score" if linkname == RELATED else "neighbor"
    links, tries = _call(
        f"elink {linkname} of PMID {pmid}",
        lambda: Entrez.elink(
            dbfrom="pubmed", db="pubmed", id=str(pmid), linkname=linkname, cmd=cmd, **_params()
        ),
        lambda body: _read_links(body, pmid, linkname),
    )
    links = [(other, score) for other, score in links if other != pmid]
    if linkname == RELATED:
        links.sort(key=lambda pair: -(pair[1] or 0))
    return links, tries


def chase(pmid: int) -> dict[str, list[tuple[int, int | None]]]:
    """References, cited-by and the top 20 related articles of a PMID (three elinks).

    All three answers are read and checked before this returns, so a caller
    that stores the result stores all of it or nothing.
    """
    references, _ = elink(pmid, REFERENCES)
    cited_by, _ = elink(pmid, CITED_BY)
    related, _ = elink(pmid, RELATED)
    return {
        REFERENCES: _unique(references),
        CITED_BY: _unique(cited_by),
        RELATED: _unique(related)[:RELATED_LIMIT],
    }


def _unique(links: list[tuple[int, int | None]]) -> list[tuple[int, int | None]]:
    seen: set[int] = set()
    kept = []
    for pmid, score in links:
        if pmid not in seen:
            seen.add(pmid)
            kept.append((pmid, score))
    return kept
