"""The licences a figure may carry, as SPDX identifiers (curation/vocabularies/licences.json).

The list, its source (the SPDX License List, with its version) and which
licences let a figure be shown to everybody are in the data file; this
module only reads it. Django-free.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

FILE = Path(__file__).resolve().parent / "vocabularies" / "licences.json"
PUBLISHER_PERMISSION = "LicenseRef-publisher-permission"
NOT_KNOWN = "NOASSERTION"


@dataclass(frozen=True)
class Licence:
    id: str  # SPDX identifier, e.g. CC-BY-4.0
    name: str  # SPDX full name
    short: str  # the badge: "CC BY 4.0"
    url: str
    public: bool  # a figure under it may be shown to everybody
    needs_reference: bool = False  # the figure names the permission

    def __str__(self) -> str:
        return self.short


@cache
def licences() -> dict[str, Licence]:
    """SPDX id -> Licence, in the file's order."""
    data = json.loads(FILE.read_text(encoding="utf-8"))
    return {row["id"]: Licence(**row) for row in data["licences"]}


def source() -> dict:
    return json.loads(FILE.read_text(encoding="utf-8"))["source"]


def public_ids() -> list[str]:
    return [key for key, licence in licences().items() if licence.public]


def lookup(text: str) -> Licence | None:
    """The licence named by its SPDX id, in any case ("cc-by-4.0"); None if unknown."""
    wanted = (text or "").strip().lower()
    return next((lic for key, lic in licences().items() if key.lower() == wanted), None)


def from_url(url: str) -> Licence | None:
    """The licence whose deed is at `url` (http or https, with or without the last
    slash or a "legalcode" page): how a JATS article names its licence."""
    wanted = _deed(url)
    if not wanted:
        return None
    return next((lic for lic in licences().values() if lic.url and _deed(lic.url) == wanted), None)


def _deed(url: str) -> str:
    url = (url or "").strip().lower().split("?", 1)[0].split("#", 1)[0]
    url = url.removeprefix("https://").removeprefix("http://").removeprefix("www.")
    url = url.removesuffix("/").removesuffix("/legalcode").removesuffix("/deed.en")
    return url.removesuffix("/")
