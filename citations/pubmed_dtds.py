"""The PubMed DTDs, read from disk by file name: never downloaded. Free of Django.

Every PubMed XML file names its DTD in its DOCTYPE line, by a URL that NCBI
has moved over the years (http://www.ncbi.nlm.nih.gov/entrez/query/DTD/,
http://www.ncbi.nlm.nih.gov/corehtml/query/DTD/, then http:// and https://
dtd.nlm.nih.gov/ncbi/pubmed/out/; a file saved through a library's web proxy
names the proxy). Biopython's DataHandler refuses any http:// URL and
downloads a DTD it does not ship; the parser uses `OfflineDataHandler`
instead, which reads the DTD named by the URL's last path segment from
`citations/dtds/` (what RareDerm ships, first) or from Biopython's own
`Bio/Entrez/DTDs/`, and nothing else: not Biopython's download cache, not
the network. Which versions, and where each file comes from, is in
citations/dtds/README.md.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import IO
from urllib.parse import urlparse

from Bio.Entrez.Parser import DataHandler

SHIPPED_DIR = Path(__file__).resolve().parent / "dtds"
BIOPYTHON_DIR = Path(DataHandler.global_dtd_dir)
SEARCH_PATH = (SHIPPED_DIR, BIOPYTHON_DIR)

# The DTDs a PubmedArticleSet may name, oldest first. NCBI published those from
# 2012 on (pubmed_120101 ... pubmed_250101; citations/dtds/README.md names the
# sources); the 2008-2011 ones come with Biopython and are read as well.
PUBMED_DTDS = (
    "pubmed_080101.dtd",
    "pubmed_090101.dtd",
    "pubmed_100101.dtd",
    "pubmed_100301.dtd",
    "pubmed_110101.dtd",
    "pubmed_120101.dtd",
    "pubmed_130101.dtd",
    "pubmed_130501.dtd",
    "pubmed_140101.dtd",
    "pubmed_150101.dtd",
    "pubmed_160101.dtd",  # shipped in citations/dtds/
    "pubmed_170101.dtd",  # shipped in citations/dtds/
    "pubmed_180101.dtd",
    "pubmed_180601.dtd",
    "pubmed_190101.dtd",
    "pubmed_230101.dtd",
    "pubmed_240101.dtd",
    "pubmed_250101.dtd",
)

_EXTERNAL_ID = re.compile(
    r"""<!DOCTYPE\s+\S+\s+(?:PUBLIC\s+(["'])[^"']*\1\s+|SYSTEM\s+)(["'])([^"']*)\2""",
    re.IGNORECASE,
)
_FILE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")


class DTDNotAvailable(ValueError):
    """A DTD (or a file it includes) that RareDerm does not have; it is never downloaded."""

    def __init__(self, name: str, *, included: bool = False):
        self.name = name
        what = "a file the DTD includes" if included else "the file's DTD"
        first, last = PUBMED_DTDS[0], PUBMED_DTDS[-1]
        super().__init__(
            f"{what}, {name!r}, is not one RareDerm has: it reads PubMed DTDs "
            f"{first} to {last} from its own copies and never downloads one"
        )


def file_name(system_id: str) -> str:
    """The last path segment of a DTD's URL or relative path ('' when there is none)."""
    path = urlparse(system_id).path if "://" in system_id else system_id
    return path.replace("\\", "/").rstrip("/").rsplit("/", 1)[-1]


def doctype_dtd(doctype: str) -> str | None:
    """The file name of the DTD a DOCTYPE line names; None when it names none."""
    match = _EXTERNAL_ID.search(doctype)
    return file_name(match.group(3)) if match else None


def check_doctype(doctype: str) -> None:
    """Raise DTDNotAvailable unless the DOCTYPE names one of PUBMED_DTDS (or none)."""
    name = doctype_dtd(doctype)
    if name is not None and name not in PUBMED_DTDS:
        raise DTDNotAvailable(name)


def find(name: str) -> Path | None:
    """Where a DTD or DTD module of this file name is on disk, or None."""
    if not _FILE_NAME.fullmatch(name):
        return None
    for directory in SEARCH_PATH:
        path = directory / name
        if path.is_file():
            return path
    return None


class OfflineDataHandler(DataHandler):
    """Biopython's DataHandler, reading DTDs only from SEARCH_PATH, by file name.

    The URL in a DOCTYPE or an entity declaration only names the file: its
    scheme and host are not looked at, as nothing is fetched.
    """

    def externalEntityRefHandler(self, context, base, systemId, publicId):
        name = file_name(systemId or "")
        path = find(name)
        if path is None:
            raise DTDNotAvailable(name or str(systemId), included=bool(self.dtd_urls))
        self.dtd_urls.append(name)  # Biopython's marker that a DTD is being read
        try:
            parser = self.parser.ExternalEntityParserCreate(context)
            parser.ElementDeclHandler = self.elementDecl
            with path.open("rb") as handle:
                parser.ParseFile(handle)
        finally:
            self.dtd_urls.pop()
        self.parser.StartElementHandler = self.startElementHandler
        return 1

    def open_dtd_file(self, filename: str) -> IO[bytes] | None:
        path = find(filename)
        return path.open("rb") if path else None

    def save_dtd_file(self, filename: str, text: bytes) -> None:
        """Nothing is downloaded, so nothing is cached."""

    def schemaHandler(self, name, attrs):
        # PubMed XML has no XML Schema; Biopython would download the one named.
        schema = attrs.get(f"{self.schema_namespace} noNamespaceSchemaLocation", "")
        raise DTDNotAvailable(file_name(schema) or "an XML Schema")
