"""A fake PubMed Central: the OA web service (oa.fcgi) and NCBI's file server, on 127.0.0.1.

The OA answers follow the shape documented for the service
(https://www.ncbi.nlm.nih.gov/pmc/tools/oa-service/): <OA><records><record id
citation license retracted><link format="tgz" href="ftp://ftp.ncbi.nlm.nih.gov/pub/
pmc/oa_package/..."/></record></records></OA>, or <OA><error code=
"idIsNotOpenAccess">...</error></OA>. Packages are .tar.gz files made by the
tests (`make_package`), like PMC's: the article's .nxml (JATS) beside its images.
`inject("503")` answers the next request with that status.
"""

from __future__ import annotations

import io
import tarfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import pytest

DOCTYPE = (
    '<!DOCTYPE article PUBLIC "-//NLM//DTD JATS (Z39.96) Journal Archiving and Interchange '
    'DTD v1.2 20190208//EN" "JATS-archivearticle1.dtd">'
)
JATS = (
    """<?xml version="1.0" encoding="UTF-8"?>
"""
    + DOCTYPE
    + """
<article xmlns:xlink="http://www.w3.org/1999/xlink" article-type="case-report">
<front><article-meta>
<title-group><article-title>A cutaneous ALK-rearranged tumour</article-title></title-group>
<permissions><copyright-statement>© 2022 The Authors</copyright-statement>
<license xlink:href="{licence_url}"><license-p>Open access.</license-p></license></permissions>
</article-meta></front>
<body>{figures}</body></article>
"""
)
FIG = """<fig id="{id}"><label>{label}</label><caption><p>{caption}</p></caption>
<graphic xlink:href="{href}"/></fig>"""


def make_package(
    pmcid: str,
    figures: list[tuple[str, str, str, str, bytes]],
    licence_url: str = "https://creativecommons.org/licenses/by/4.0/",
    extra: list[tarfile.TarInfo | tuple[tarfile.TarInfo, bytes]] = (),
) -> bytes:
    """A .tar.gz like PMC's: `figures` are (fig id, label, caption, file name, bytes);
    each <graphic> names its file without the extension, as PMC's JATS does."""
    body = "".join(
        FIG.format(id=i, label=label, caption=caption, href=name.rsplit(".", 1)[0])
        for i, label, caption, name, _ in figures
    )
    members = [
        (f"{pmcid}/article.nxml", JATS.format(licence_url=licence_url, figures=body).encode())
    ]
    members += [(f"{pmcid}/{name}", data) for *_, name, data in figures]
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz") as archive:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
        for item in extra:
            info, data = item if isinstance(item, tuple) else (item, None)
            archive.addfile(info, io.BytesIO(data) if data is not None else None)
    return out.getvalue()


def oa_answer(pmcid: str, licence: str = "CC BY", citation: str = "J Cutan Pathol. 2022") -> bytes:
    href = f"ftp://ftp.ncbi.nlm.nih.gov/pub/pmc/oa_package/8e/71/{pmcid}.tar.gz"
    return (
        f'<?xml version="1.0"?><OA><responseDate>2026-12-03 06:00:00</responseDate>'
        f'<request id="{pmcid}">oa.fcgi?id={pmcid}</request>'
        f'<records returned-count="1" total-count="1">'
        f'<record id="{pmcid}" citation="{citation}" license="{licence}" retracted="no">'
        f'<link format="pdf" updated="2022-05-01 10:00:00" href="ftp://ftp.ncbi.nlm.nih.gov/pub/pmc/oa_pdf/x.pdf"/>'
        f'<link format="tgz" updated="2022-05-01 10:00:00" href="{href}"/>'
        f"</record></records></OA>"
    ).encode()


NOT_OPEN_ACCESS = (
    b'<?xml version="1.0"?><OA><responseDate>2026-12-03 06:00:00</responseDate>'
    b'<request id="PMC1">oa.fcgi?id=PMC1</request>'
    b"<error code=\"idIsNotOpenAccess\">identifier 'PMC1' is not Open Access</error></OA>"
)


class FakePMC:
    def __init__(self):
        self.records: dict[str, bytes] = {}
        self.packages: dict[str, bytes] = {}
        self.faults: list[int] = []
        self.requests: list[str] = []
        self._server: ThreadingHTTPServer | None = None

    def add(self, pmcid: str, package: bytes, **record) -> None:
        self.records[pmcid] = oa_answer(pmcid, **record)
        self.packages[f"/pub/pmc/oa_package/8e/71/{pmcid}.tar.gz"] = package

    def inject(self, status: int) -> None:
        self.faults.append(status)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> FakePMC:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format, *args):
                pass

            def do_GET(self):
                fake.requests.append(self.path)
                if fake.faults:
                    self._send(fake.faults.pop(0), b"<html>busy</html>", "text/html")
                    return
                parsed = urlparse(self.path)
                if parsed.path == "/oa.fcgi":
                    pmcid = parse_qs(parsed.query).get("id", [""])[0]
                    self._send(200, fake.records.get(pmcid, NOT_OPEN_ACCESS), "text/xml")
                elif parsed.path in fake.packages:
                    self._send(200, fake.packages[parsed.path], "application/x-gzip")
                else:
                    self._send(404, b"not found", "text/plain")

            def _send(self, status, body, content_type):
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def fake_pmc(settings):
    """A fake PMC (OA service and file server) on 127.0.0.1, with settings pointing at it."""
    server = FakePMC().start()
    settings.PMC_OA_URL = f"{server.url}/oa.fcgi"
    settings.PMC_FILES_URL = f"{server.url}/"
    settings.ENTREZ_BACKOFF = 0.01
    try:
        yield server
    finally:
        server.stop()
