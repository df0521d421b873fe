"""Figures of a case: attach (upload form, `manage.py attach_figure`, PMC), edit, remove.

`attach_figure` is the one way a figure gets in. It reads everything the
curator gave (caption, licence, stain, magnification...) and checks the file
(curation/images.py) before anything is written, and answers every problem
at once, by field (`FigureRefused.errors`); a refused figure leaves nothing
behind, in the database or in the storage. A figure is a child row of its
case like an IHC result: adding one to a draft bumps the case's version
(optimistic locking); on a published case it goes into a revision (the
curator's open one, or a new one), which a reviewer approves like any other.
The web derivatives are made by a Celery task queued once the figure is
committed. `update_figure` changes what a figure says (never its file) and
`remove_figure` takes it off, on the same terms as any edit of the case;
`request_open_access_figures` / `attach_open_access_figure` offer and attach
the paper's figures from PubMed Central (curation/open_access.py).
"""

from __future__ import annotations

import logging
import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from config.celery import queue_task
from config.text import stored_text
from curation import images, licences, workflow
from curation.actions.cases import CaseActionError, NotEditable, _bump, _lock_for_edit
from curation.actions.review import RevisionExists, start_revision
from curation.forms.fields import Markers
from curation.models import Case, Figure, OpenAccessFigure, OpenAccessPackage
from curation.models.figure import figure_storage, storage_name
from curation.open_access import NoOpenAccessFigures

__all__ = [
    "FigureRefused",
    "attach_figure",
    "attach_open_access_figure",
    "parse_magnification",
    "parse_stain",
    "remove_figure",
    "request_open_access_figures",
    "update_figure",
]

logger = logging.getLogger(__name__)
CAPTION_MAX_LENGTH = 5000
_MAGNIFICATION = re.compile(
    r"^(?:original\s+magnification\s*)?[x\u00d7]?\s*(\d{1,5})\s*[x\u00d7]?$", re.I
)
_HE = {"h&e", "he", "h and e", "hematoxylin and eosin", "haematoxylin and eosin", "h-e"}


class FigureRefused(CaseActionError):
    """What is wrong with a figure, by field (file, caption, licence, stain, ...)."""

    def __init__(self, errors: dict[str, str]):
        self.errors = errors
        super().__init__(" ".join(f"{field}: {text}" for field, text in errors.items()))


def parse_stain(text: str) -> tuple[str, object]:
    """(Figure.Stain, Marker or None) from “H&E”, a marker's name or synonym, or “other”.

    ValueError says why not."""
    text = (text or "").strip()
    if not text:
        return "", None
    if text.lower() in _HE:
        return Figure.Stain.HE, None
    if text.lower() == "other":
        return Figure.Stain.OTHER, None
    marker = Markers().find(text)
    if marker is None:
        raise ValueError(
            f"“{text}” is neither H&E nor a marker of the vocabulary "
            "(write “other” and name the stain in the caption, or propose the marker)."
        )
    return Figure.Stain.IHC, marker


def parse_magnification(text) -> int | None:
    """200 from “x200” (or with the multiplication sign), “200x” or “200”; None when empty.

    ValueError says why not."""
    if text is None or str(text).strip() == "":
        return None
    match = _MAGNIFICATION.match(str(text).strip())
    if not match or int(match.group(1)) < 1:
        raise ValueError(f"“{text}” is not a magnification: write it as \u00d7200, 200x or 200.")
    return int(match.group(1))


def _described(
    *, caption, licence, stain, magnification, credit, panel_label, permission_reference
) -> tuple[dict, dict[str, str]]:
    """What a figure says about itself, checked: (model fields, errors by field)."""
    errors: dict[str, str] = {}
    fields = {
        "caption": stored_text(caption),
        "credit": stored_text(credit),
        "panel_label": stored_text(panel_label),
        "permission_reference": stored_text(permission_reference),
    }
    if not fields["caption"]:
        errors["caption"] = "Give the figure's caption (as in the paper, or your own)."
    elif len(fields["caption"]) > CAPTION_MAX_LENGTH:
        errors["caption"] = f"A caption can be at most {CAPTION_MAX_LENGTH} characters."
    chosen = licences.lookup(licence)
    if not (licence or "").strip():
        errors["licence"] = (
            "Choose the licence the figure was published under (NOASSERTION, “No licence”, "
            "if it is not known yet: the figure then stays private)."
        )
    elif chosen is None:
        errors["licence"] = (
            f"“{licence}” is not a licence of the list: give its SPDX identifier "
            f"({', '.join(list(licences.licences())[:3])}, …)."
        )
    else:
        fields["licence"] = chosen.id
        if chosen.needs_reference and not fields["permission_reference"]:
            errors["permission_reference"] = (
                "Say which permission the publisher gave (a letter, a licence number)."
            )
    try:
        fields["stain"], fields["marker"] = parse_stain(stain)
    except ValueError as exc:
        errors["stain"] = str(exc)
    try:
        fields["magnification"] = parse_magnification(magnification)
    except ValueError as exc:
        errors["magnification"] = str(exc)
    return fields, errors


def attach_figure(
    case: Case,
    *,
    by,
    data: bytes,
    caption: str,
    licence: str,
    stain: str = "",
    magnification="",
    credit: str = "",
    panel_label: str = "",
    permission_reference: str = "",
    expected_version: int | None = None,
) -> Figure:
    """Attach the picture in `data` to `case` (or to a revision of it, when published).

    Raises FigureRefused (the figure's own problems, by field) or NotEditable /
    Conflict / RevisionExists (the case cannot take it now). Returns the
    figure; `figure.case` is the revision when the case was published.
    """
    fields, errors = _described(
        caption=caption,
        licence=licence,
        stain=stain,
        magnification=magnification,
        credit=credit,
        panel_label=panel_label,
        permission_reference=permission_reference,
    )
    try:
        checked = images.check_image(
            data,
            max_bytes=settings.FIGURE_MAX_BYTES,
            max_pixels=settings.FIGURE_MAX_PIXELS,
            max_pages=settings.FIGURE_MAX_PAGES,
        )
    except images.ImageRefused as exc:
        errors["file"] = str(exc)
    if errors:
        raise FigureRefused(errors)
    return _attach(case, by, checked, fields, expected_version)


@transaction.atomic
def _attach(case, by, checked: images.CheckedImage, fields: dict, expected_version) -> Figure:
    target = _editable_case(case, by, expected_version)
    figure = Figure(
        case=target,
        position=target.figures.count(),
        original=storage_name(checked.sha256, "original", checked.extension),
        content_type=checked.content_type,
        width=checked.width,
        height=checked.height,
        sha256=checked.sha256,
        created_by=by,
        **fields,
    )
    try:
        figure.full_clean()
    except ValidationError as exc:  # pragma: no cover - the checks above say it first
        raise FigureRefused({k: " ".join(v) for k, v in exc.message_dict.items()}) from None
    storage = figure_storage()
    created = not storage.exists(figure.original.name)
    if created:
        figure.original.name = storage.save(figure.original.name, ContentFile(checked.data))
    try:
        figure.save()
        _bump(target, by)
    except BaseException:
        # Nothing of a refused figure stays behind. (A commit that fails after
        # this would leave an unused file: harmless, and not reachable.)
        if created:
            storage.delete(figure.original.name)
        raise
    figure_id = figure.pk
    transaction.on_commit(lambda: _queue("curation.make_figure_derivatives", figure_id))
    return figure


def _queue(name: str, *args) -> None:
    """Queue a task once the row it works on is committed; with the broker down, the
    row waits for the sweep (curation.sweep_figures) instead of failing the request."""
    try:
        queue_task(name, *args)
    except Exception:
        logger.exception("could not queue %s%r; the figures sweep will", name, args)


def _editable_case(case: Case, by, expected_version: int | None) -> Case:
    """The case row to add to, locked: the case itself, or the curator's revision of it."""
    status = Case.objects.filter(pk=case.pk).values_list("status", "revision_of_id").first()
    if status and status[0] == workflow.PUBLISHED and status[1] is None:
        try:
            revision = start_revision(case, by)
        except RevisionExists as exc:
            if exc.revision.created_by_id != by.pk:
                raise
            revision = exc.revision
        return _lock_for_edit(revision, by, _current_version(revision))
    if expected_version is None:
        expected_version = _current_version(case)
    return _lock_for_edit(case, by, expected_version)


def _current_version(case: Case) -> int:
    return Case.objects.filter(pk=case.pk).values_list("version", flat=True).get()


def update_figure(
    figure: Figure,
    *,
    by,
    caption: str,
    licence: str,
    stain: str = "",
    magnification="",
    credit: str = "",
    panel_label: str = "",
    permission_reference: str = "",
    expected_version: int | None = None,
) -> Figure:
    """Change what a figure says (caption, stain, licence...) on a draft or a revision;
    its file stays. FigureRefused by field, NotEditable / Conflict as for any edit."""
    fields, errors = _described(
        caption=caption,
        licence=licence,
        stain=stain,
        magnification=magnification,
        credit=credit,
        panel_label=panel_label,
        permission_reference=permission_reference,
    )
    if errors:
        raise FigureRefused(errors)
    with transaction.atomic():
        if expected_version is None:
            expected_version = _current_version(figure.case)
        locked = _lock_for_edit(figure.case, by, expected_version)
        row = Figure.objects.select_for_update().get(pk=figure.pk, case=locked)
        for name, value in fields.items():
            setattr(row, name, value)
        row.full_clean()
        row.save(update_fields=list(fields))
        _bump(locked, by)
    return row


@transaction.atomic
def remove_figure(figure: Figure, *, by, expected_version: int | None = None) -> None:
    """Take a figure off a draft (or a revision); its files stay (a published copy may
    share them)."""
    if expected_version is None:
        expected_version = _current_version(figure.case)
    locked = _lock_for_edit(figure.case, by, expected_version)
    Figure.objects.filter(pk=figure.pk, case=locked).delete()
    _bump(locked, by)


# -- open-access figures from PubMed Central ---------------------------------------
# (fetching them is curation/open_access.py, which the task runs)


def request_open_access_figures(citation, *, by) -> OpenAccessPackage:
    """Ask a worker to fetch the paper's open-access figures (again): the row is written
    first, the task queued once it is committed."""
    if not citation.pmcid:
        raise NoOpenAccessFigures(
            f"PMID {citation.pmid} has no PMC id: it is not in PubMed Central."
        )
    with transaction.atomic():
        package, _ = OpenAccessPackage.objects.select_for_update().update_or_create(
            citation=citation,
            defaults={
                "state": OpenAccessPackage.State.QUEUED,
                "error": "",
                "requested_by": by,
                "requested_at": timezone.now(),
            },
        )
        package_id = package.pk
        transaction.on_commit(lambda: _queue("curation.fetch_open_access_figures", package_id))
    return package


def attach_open_access_figure(case: Case, offered: OpenAccessFigure, *, by) -> Figure:
    """A figure of the paper's package onto the case, its caption, credit and licence
    pre-filled; the upload's checks (FigureRefused) and the case's rules apply."""
    package = offered.package
    if package.citation_id not in {
        case.citation_id,
        *case.other_citations.values_list("pk", flat=True),
    }:
        raise NotEditable("This figure is from another paper than the case's.")
    with offered.file.open("rb") as handle:
        data = handle.read(settings.FIGURE_MAX_BYTES + 1)
    return attach_figure(
        case,
        by=by,
        data=data,
        caption=offered.caption or offered.label,
        licence=package.licence or licences.NOT_KNOWN,
        credit=package.credit,
        panel_label=offered.panel_label,
    )
