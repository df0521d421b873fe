"""make_release: freeze everything published into a named, citable release (issue 17).

The files go through Django's storage API (STORAGES["releases"]: a folder
under DATA_DIR by default) under "<name>/"; the Release row and its cases are
written last, in one transaction. So:
- a release that is listed is complete (a storage that fails half-way leaves
  files but no row, and the next try with that name removes them first);
- a name that is taken is refused, and a listed release is never rewritten;
- one maker per name at a time (a PostgreSQL advisory lock, held from the
  check of the name to the row): a second one is refused before it touches
  the files, so it cannot remove or overwrite the first one's.
"""

from __future__ import annotations

import hashlib
import logging
from contextlib import contextmanager

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import storages
from django.db import IntegrityError, connection, transaction
from django.urls import reverse
from django.utils import timezone

from config.site import site_url
from curation import licences
from curation import releases as content
from curation.models import Case, Release, ReleaseCase
from curation.models.release import name_validator

log = logging.getLogger(__name__)


class ReleaseRefused(Exception):
    """The release cannot be made (the name is taken or unreadable); nothing was written."""


def release_lock_key(name: str) -> int:
    """The PostgreSQL advisory lock a maker of release `name` holds (a signed 64-bit number)."""
    digest = hashlib.sha256(f"rarederm release {name}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def release_storage():
    return storages["releases"]


def release_licence() -> licences.Licence:
    licence = licences.lookup(settings.RELEASE_LICENCE)
    if licence is None:  # settings.py checks it at start; a test may not have
        raise ReleaseRefused(f"RELEASE_LICENCE {settings.RELEASE_LICENCE!r} is no SPDX licence.")
    return licence


def default_name(now=None) -> str:
    """The month's release: 2026-12."""
    return timezone.localtime(now or timezone.now()).strftime("%Y-%m")


def check_name(name: str) -> str:
    try:
        name_validator(name)
    except ValidationError as error:
        raise ReleaseRefused(error.messages[0]) from error
    if Release.objects.filter(name=name).exists():
        raise ReleaseRefused(f"Release {name} exists already; a release is never rewritten.")
    return name


@contextmanager
def sole_maker_of(name: str):
    """Hold release `name`'s advisory lock while making it; refuse if another maker holds it.

    A session lock, not a transaction's: the files are written outside any
    transaction. It goes with the connection if the process dies. (SQLite, for
    trying RareDerm out on one machine, has no such locks and needs none.)
    """
    if connection.vendor != "postgresql":
        yield
        return
    key = release_lock_key(name)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [key])
        (held,) = cursor.fetchone()
    if not held:
        raise ReleaseRefused(f"Release {name} is being made by another process.")
    try:
        yield
    finally:
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [key])
        except Exception:  # a connection that broke took the lock with it
            log.warning("release %s: could not release its lock", name, exc_info=True)


def _remove_leftovers(storage, name: str) -> None:
    """Files of an earlier try with this name that never became a release."""
    try:
        _, files = storage.listdir(name)
    except (FileNotFoundError, OSError):
        return
    for file in files:
        storage.delete(f"{name}/{file}")


def _write(storage, name: str, file: str, text: str) -> dict:
    data = text.encode("utf-8")
    path = f"{name}/{file}"
    saved = storage.save(path, ContentFile(data))
    if saved != path:  # another maker of the same name is at work
        storage.delete(saved)
        raise ReleaseRefused(f"Release {name} is being made by another process.")
    return {"name": file, "size": len(data), "sha256": hashlib.sha256(data).hexdigest()}


def make_release(name: str | None = None, *, now=None) -> Release:
    """Write release `name` (default: this month, 2026-12) of everything published."""
    now = now or timezone.now()
    name = name or default_name(now)
    check_name(name)
    with sole_maker_of(name):
        return _make_release(check_name(name), now)


def _make_release(name: str, now) -> Release:
    licence = release_licence()
    storage = release_storage()
    _remove_leftovers(storage, name)

    published = Case.objects.published()
    versions = dict(published.order_by("pk").values_list("pk", "version"))
    cases = Case.objects.filter(pk__in=list(versions)).order_by("pk")
    previous = Release.objects.order_by("-created_at", "-pk").first()
    previous_versions = (
        dict(ReleaseCase.objects.filter(release=previous).values_list("case_id", "version"))
        if previous
        else {}
    )
    vocabularies = content.vocabulary_snapshot()
    log_ = content.changelog(
        previous.name if previous else None,
        previous_versions,
        versions,
        previous.vocabularies if previous else {},
        vocabularies,
    )
    base = site_url()
    citation = content.how_to_cite(
        name, timezone.localtime(now).year, f"{base}{reverse('curation:release_list')}", licence
    )
    citation_files, citation_count = content.citation_files(cases)
    counts = {"cases": len(versions), "citations": citation_count}
    texts = {
        "README.md": content.readme(
            name, now.isoformat(timespec="seconds"), citation, licence, counts, vocabularies
        ),
        "LICENSE.txt": content.licence_text(licence, citation),
        "CITATION.txt": citation + "\n",
        "CHANGELOG.md": content.changelog_markdown(name, log_),
        "changelog.json": content.json.dumps(log_, ensure_ascii=False, indent=1) + "\n",
        **content.case_files(cases, versions, base),
        **citation_files,
        **content.vocabulary_files(),
    }
    order = [file for file, _ in content.FILES if file != "SHA256SUMS"]
    try:
        written = [_write(storage, name, file, texts[file]) for file in order]
        sums = "".join(f"{item['sha256']}  {item['name']}\n" for item in written)
        written.append(_write(storage, name, "SHA256SUMS", sums))
        with transaction.atomic():
            release = Release.objects.create(
                name=name,
                created_at=now,
                licence=licence.id,
                files=written,
                case_count=counts["cases"],
                citation_count=citation_count,
                vocabularies=vocabularies,
                changelog=log_,
            )
            ReleaseCase.objects.bulk_create(
                ReleaseCase(release=release, case_id=pk, version=version)
                for pk, version in versions.items()
            )
    except IntegrityError as error:
        raise ReleaseRefused(f"Release {name} exists already.") from error
    except ReleaseRefused:
        raise
    except Exception:
        log.exception("release %s failed; its files are removed", name)
        try:
            _remove_leftovers(storage, name)
        except Exception:
            log.warning("release %s: leftovers stay until the next try", name)
        raise
    log.info("release %s: %s cases, %s files", name, counts["cases"], len(written))
    return release


def open_release_file(release: Release, file: str):
    """The stored file of a listed release (FileNotFoundError if it is not one of its files)."""
    if file not in {item["name"] for item in release.files}:
        raise FileNotFoundError(file)
    return release_storage().open(f"{release.name}/{file}", "rb")
