"""Open-access figures of a paper, from PubMed Central (citations/pmc.py does the talking).

`open_access_figures(citation)` downloads the paper's package and gives its
figures with caption, credit and licence pre-filled (the licence read from the
article, one of curation/licences.py's list, else NOASSERTION: private).
`fetch_open_access_package` is the Celery task's work: it keeps them as
OpenAccessFigure rows for the curator to pick (curation.actions.figures).
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from citations import pmc
from curation import licences
from curation.actions.cases import CaseActionError
from curation.models import OpenAccessFigure, OpenAccessPackage
from curation.models.figure import figure_storage, panel_from_label

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class OfferedFigure:
    """A figure of the paper's PMC package, with what attach_figure needs pre-filled."""

    id: str  # the JATS <fig id>: F2
    label: str  # Figure 2
    caption: str
    licence: str  # SPDX id; NOASSERTION when the article's licence is not one of ours
    licence_note: str  # the licence as PMC and the article give it
    credit: str
    data: bytes
    file_name: str = ""  # in the package

    @property
    def panel_label(self) -> str:
        return panel_from_label(self.label)


class NoOpenAccessFigures(CaseActionError):
    """The paper's figures cannot be taken from PMC; the message says why."""


def open_access_figures(citation) -> list[OfferedFigure]:
    """The figures of the paper's package in PMC's open-access subset (a network call).

    The licence is read from the article (its <license> link, one of ours) and
    is NOASSERTION (the figure stays private) when it is not a licence of the
    list. Raises NoOpenAccessFigures with the reason.
    """
    if not citation.pmcid:
        raise NoOpenAccessFigures(
            f"PMID {citation.pmid} has no PMC id: it is not in PubMed Central."
        )
    try:
        record = pmc.oa_record(citation.pmcid)
        package = pmc.read_package(pmc.download_package(record))
    except pmc.PMCError as exc:
        raise NoOpenAccessFigures(str(exc)) from None
    licence = licences.from_url(package.licence_url)
    note = "; ".join(part for part in (record.licence, package.licence_url) if part)
    credit = f"{record.citation} ({record.pmcid})" if record.citation else record.pmcid
    return [
        OfferedFigure(
            id=figure.id,
            label=figure.label,
            caption=figure.caption,
            licence=licence.id if licence else licences.NOT_KNOWN,
            licence_note=note,
            credit=credit,
            data=figure.data,
            file_name=figure.file_name,
        )
        for figure in package.figures
    ]


def fetch_open_access_package(package_id: int) -> None:
    """The task's work: download the package, keep its figures (files in the figures
    storage, unchecked until attached), or record why not."""
    package = OpenAccessPackage.objects.select_related("citation").filter(pk=package_id).first()
    if package is None:
        return
    try:
        offered = open_access_figures(package.citation)
    except Exception as exc:
        # The curator sees why, and may fetch again; a fault of ours is logged too.
        if not isinstance(exc, NoOpenAccessFigures):
            logger.exception("fetching the open-access figures of %s failed", package.citation)
            exc = f"The fetch stopped ({exc.__class__.__name__}): fetch again in a while."
        OpenAccessPackage.objects.filter(pk=package_id).update(
            state=OpenAccessPackage.State.FAILED, error=str(exc), fetched_at=timezone.now()
        )
        return
    storage = figure_storage()
    rows = []
    for position, item in enumerate(offered):
        extension = item.file_name.rsplit(".", 1)[-1].lower() if "." in item.file_name else "img"
        digest = hashlib.sha256(item.data).hexdigest()
        name = f"open-access/{digest[:2]}/{digest}.{extension}"
        if not storage.exists(name):
            name = storage.save(name, ContentFile(item.data))
        rows.append(
            OpenAccessFigure(
                position=position,
                fig_id=item.id[:200],
                label=item.label[:200],
                caption=item.caption,
                file=name,
            )
        )
    first = offered[0] if offered else None
    with transaction.atomic():
        package = OpenAccessPackage.objects.select_for_update().get(pk=package_id)
        package.figures.all().delete()
        for row in rows:
            row.package = package
        OpenAccessFigure.objects.bulk_create(rows)
        package.state = OpenAccessPackage.State.DONE
        package.error = "" if rows else "The package has no figure."
        package.licence = first.licence if first else ""
        package.licence_note = (first.licence_note if first else "")[:500]
        package.credit = (first.credit if first else "")[:500]
        package.fetched_at = timezone.now()
        package.save()
