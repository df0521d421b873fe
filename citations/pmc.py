"""PubMed Central's Open Access subset: the OA web service, packages, and their figures.

The same rules as citations/entrez.py, whose machinery this module uses:
PMC is NCBI, so every request takes a slot of the deployment-wide NCBI rate
limiter; each socket operation has ENTREZ_TIMEOUT and the whole answer
PMC_DOWNLOAD_DEADLINE; 429, 5xx, timeouts and broken connections are tried
again with backoff, ENTREZ_MAX_TRIES times in all. Base URLs are settings
(PMC_OA_URL, PMC_FILES_URL) so that tests and mirrors can point elsewhere.

- `oa_record(pmcid)` asks the OA web service (oa.fcgi) for an article's
  licence (as PMC words it: "CC BY", "CC BY-NC-ND", "NO-CC CODE"...) and the
  link of its package (a .tar.gz). An article outside the subset is
  `NotOpenAccess`.
- `download_package(record)` fetches the package, at most
  PMC_MAX_PACKAGE_BYTES.
- `read_package(data)` reads a package without ever writing it to disk, and
  refuses a package (`UnsafePackage`, with the reason) that has a member
  named with `..` or an absolute path, a link or a device, more than
  PMC_MAX_MEMBERS members, or more than PMC_MAX_UNPACKED_BYTES once
  unpacked (a zip bomb). It returns the article's JATS XML and its figures:
  id, label, caption, the licence link of the article, and the image file.

Django-free apart from reading settings.
"""

from __future__ import annotations

import io
import posixpath
import re
import tarfile
import time
import urllib.request
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

from django.conf import settings

from citations import entrez

PMCID = re.compile(r"PMC\d{1,10}")
# Image files of a package, best first for the same figure (TIFFs are the largest).
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".tif", ".tiff", ".gif")
XLINK = "{http://www.w3.org/1999/xlink}href"


class PMCError(Exception):
    """PMC could not give what was asked; the message is meant for curators."""


class NotOpenAccess(PMCError):
    pass


class UnsafePackage(PMCError):
    """A package refused before anything in it was used."""


@dataclass(frozen=True)
class OARecord:
    pmcid: str
    licence: str  # as the OA service words it: "CC BY", "CC BY-NC-ND", ...
    citation: str
    package_url: str  # the .tar.gz, already on PMC_FILES_URL
    retracted: bool = False


@dataclass(frozen=True)
class PackageFigure:
    id: str  # the JATS <fig id>
    label: str  # "Figure 2"
    caption: str
    file_name: str  # the member it was read from
    data: bytes


@dataclass
class Package:
    article_xml: bytes
    licence_url: str  # <license xlink:href> of the article, "" if none
    figures: list[PackageFigure] = field(default_factory=list)


# -- the OA web service ---------------------------------------------------------


def oa_record(pmcid: str) -> OARecord:
    if not PMCID.fullmatch(pmcid or ""):
        raise ValueError(f"{pmcid!r} is not a PMC id (PMC followed by digits)")
    url = f"{settings.PMC_OA_URL}?id={pmcid}"
    body = _get(f"PMC OA look-up of {pmcid}", url, limit=1_000_000)
    return parse_oa_answer(body, pmcid)


def parse_oa_answer(body: bytes, pmcid: str) -> OARecord:
    try:
        root = ET.fromstring(body)  # noqa: S314 - see the import
    except ET.ParseError as exc:
        raise PMCError(f"PMC's OA service sent an answer that is not XML ({exc}).") from None
    error = root.find("error")
    if error is not None:
        code = error.get("code", "")
        text = (error.text or "").strip()
        if code in ("idIsNotOpenAccess", "idDoesNotExist"):
            raise NotOpenAccess(
                f"{pmcid} is not in PMC's open-access subset ({text or code}): its figures "
                "cannot be taken from PMC."
            )
        raise PMCError(f"PMC's OA service refused {pmcid}: {text or code}")
    record = root.find("records/record")
    if record is None:
        raise NotOpenAccess(f"PMC's OA service has no record of {pmcid}.")
    link = next((ln for ln in record.findall("link") if ln.get("format") == "tgz"), None)
    if link is None or not link.get("href"):
        raise NotOpenAccess(f"PMC offers no package of {pmcid} (only a PDF, or nothing).")
    return OARecord(
        pmcid=record.get("id", pmcid),
        licence=record.get("license", ""),
        citation=record.get("citation", ""),
        package_url=files_url(link.get("href")),
        retracted=record.get("retracted", "no") == "yes",
    )


def files_url(href: str) -> str:
    """A package link on PMC_FILES_URL: PMC still answers ftp:// links, served over HTTPS too."""
    for prefix in ("ftp://ftp.ncbi.nlm.nih.gov/", "https://ftp.ncbi.nlm.nih.gov/"):
        if href.startswith(prefix):
            return settings.PMC_FILES_URL.rstrip("/") + "/" + href[len(prefix) :]
    raise PMCError(f"PMC's package link points outside NCBI's file server: {href}")


def download_package(record: OARecord) -> bytes:
    return _get(
        f"download of {record.pmcid}'s package", record.package_url, settings.PMC_MAX_PACKAGE_BYTES
    )


# -- requests -------------------------------------------------------------------


class _TooLarge(PMCError):
    pass


def _get(action: str, url: str, limit: int) -> bytes:
    """GET `url` through entrez's limiter, deadline and retry rules; at most `limit` bytes."""
    tries = settings.ENTREZ_MAX_TRIES
    for attempt in range(1, tries + 1):
        entrez.wait_for_slot()
        try:
            return _receive(url, limit)
        except PMCError:
            raise
        except Exception as exc:
            reason, retryable = entrez._describe(exc)
            reason = reason.replace("NCBI", "PMC")
            if not retryable or attempt == tries:
                suffix = f" (after {attempt} tries)" if attempt > 1 else ""
                raise PMCError(f"{action}: {reason}{suffix}") from exc
            time.sleep(entrez.backoff_delay(attempt))
    raise AssertionError("unreachable")  # pragma: no cover


def _receive(url: str, limit: int) -> bytes:
    request = urllib.request.Request(url, headers={"User-Agent": settings.ENTREZ_TOOL})  # noqa: S310 - http(s) from settings
    with entrez._Deadline(settings.PMC_DOWNLOAD_DEADLINE) as deadline:
        try:
            handle = entrez._opener.open(request, timeout=settings.ENTREZ_TIMEOUT)
            try:
                body = _read_at_most(handle, limit)
            finally:
                handle.close()
        except _TooLarge:
            raise
        except Exception as exc:
            if deadline.expired:
                raise entrez.AnswerTooSlow() from exc
            raise
        if deadline.expired:
            raise entrez.AnswerTooSlow()
    return body


def _read_at_most(handle, limit: int) -> bytes:
    chunks, size = [], 0
    while chunk := handle.read(65536):
        size += len(chunk)
        if size > limit:
            raise _TooLarge(f"the file is larger than {limit / 1e6:g} MB: not downloaded.")
        chunks.append(chunk)
    return b"".join(chunks)


# -- packages -------------------------------------------------------------------


def _check_member(member: tarfile.TarInfo) -> None:
    name = member.name
    parts = name.replace("\\", "/").split("/")
    if name.startswith(("/", "\\")) or ".." in parts or re.match(r"^[A-Za-z]:", name):
        raise UnsafePackage(
            f"The package names a file outside itself ({name!r}): refused, nothing was used."
        )
    if member.issym() or member.islnk():
        raise UnsafePackage(f"The package holds a link ({name!r}): refused, nothing was used.")
    if not (member.isfile() or member.isdir()):
        raise UnsafePackage(
            f"The package holds a device or other special file ({name!r}): refused."
        )


def read_package(data: bytes) -> Package:
    """The article XML and figures of a PMC package (.tar.gz); UnsafePackage says why not.

    Every member is checked before any is read; nothing is written to disk.
    """
    max_members = settings.PMC_MAX_MEMBERS
    max_unpacked = settings.PMC_MAX_UNPACKED_BYTES
    try:
        archive = tarfile.open(fileobj=io.BytesIO(data), mode="r:*")  # noqa: SIM115
    except (tarfile.TarError, EOFError, OSError) as exc:
        raise UnsafePackage(f"The package is not a readable .tar.gz ({exc}).") from None
    with archive:
        members, declared = [], 0
        try:
            for member in archive:
                members.append(member)
                if len(members) > max_members:
                    raise UnsafePackage(f"The package has more than {max_members} files: refused.")
                _check_member(member)
                declared += member.size
                if declared > max_unpacked:
                    raise UnsafePackage(
                        f"The package unpacks to more than {max_unpacked / 1e6:g} MB (a zip "
                        "bomb, or far larger than an article): refused."
                    )
        except (tarfile.TarError, EOFError, OSError, ValueError) as exc:
            raise UnsafePackage(f"The package is damaged ({exc}).") from None
        files = {posixpath.basename(m.name): m for m in members if m.isfile()}
        xml_member = next((m for name, m in files.items() if name.endswith(".nxml")), None)
        if xml_member is None:
            raise UnsafePackage("The package has no article XML (.nxml).")
        article_xml = _read_member(archive, xml_member)
        licence_url, wanted = _figures_in(article_xml)
        figures = []
        for fig_id, label, caption, href in wanted:
            member = _image_member(files, href)
            if member is None:
                continue
            figures.append(
                PackageFigure(fig_id, label, caption, member.name, _read_member(archive, member))
            )
    return Package(article_xml, licence_url, figures)


def _read_member(archive: tarfile.TarFile, member: tarfile.TarInfo) -> bytes:
    handle = archive.extractfile(member)
    if handle is None:  # pragma: no cover - only files are read
        raise UnsafePackage(f"{member.name!r} cannot be read.")
    data = handle.read(member.size + 1)
    if len(data) != member.size:
        raise UnsafePackage(f"{member.name!r} is not the size the package says: refused.")
    return data


def _image_member(files: dict[str, tarfile.TarInfo], href: str) -> tarfile.TarInfo | None:
    """The package's file of a <graphic xlink:href> (which often has no extension)."""
    base = posixpath.basename(href)
    if base in files:
        return files[base]
    stem = base.rsplit(".", 1)[0] if "." in base else base
    for extension in IMAGE_EXTENSIONS:
        if stem + extension in files:
            return files[stem + extension]
    return None


def _text(element) -> str:
    return re.sub(r"\s+", " ", "".join(element.itertext())).strip() if element is not None else ""


def _figures_in(article_xml: bytes) -> tuple[str, list[tuple[str, str, str, str]]]:
    """(licence link, [(fig id, label, caption, graphic href)]) of a JATS article."""
    try:
        root = ET.fromstring(article_xml)  # noqa: S314 - see the import
    except ET.ParseError as exc:
        raise UnsafePackage(f"The article XML cannot be read ({exc}).") from None
    licence = root.find(".//permissions/license")
    licence_url = (licence.get(XLINK) or "") if licence is not None else ""
    if not licence_url and licence is not None:
        link = licence.find(".//ext-link")
        licence_url = (link.get(XLINK) or "") if link is not None else ""
    figures = []
    for fig in root.iter("fig"):
        graphic = fig.find(".//graphic")
        if graphic is None or not graphic.get(XLINK):
            continue
        figures.append(
            (
                fig.get("id", ""),
                _text(fig.find("label")),
                _text(fig.find("caption")),
                graphic.get(XLINK),
            )
        )
    return licence_url, figures
