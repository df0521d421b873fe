"""Celery tasks of the curation app: thin, take ids, queued after commit."""

from __future__ import annotations

import logging
from datetime import timedelta

from celery import shared_task
from django.core.files.base import ContentFile
from django.utils import timezone

from curation.notifications import queue_emails_of_event_id

log = logging.getLogger(__name__)


@shared_task(name="curation.send_case_event_emails")
def send_case_event_emails(event_id: int) -> int:
    """A message queued before e-mails went through the outbox (an upgrade): the event's
    e-mails are written to the outbox now, which sends them; how many were written.

    Idempotent: an e-mail the outbox holds already (keyed by event and
    recipient) is not written twice.
    """
    return queue_emails_of_event_id(event_id)


@shared_task(name="curation.make_figure_derivatives")
def make_figure_derivatives(figure_id: int) -> list[str]:
    """The web copies of a figure (thumbnail, screen-size JPEG, WebP, and for a large
    one a Deep Zoom tile pyramid); the names made.

    Idempotent: a copy already in the storage is not made again, and every
    row showing the same original (a revision's copy of a figure, its
    published case's) gets the names. A figure deleted meanwhile is skipped.
    """
    from curation.images import DERIVATIVES, make_derivatives, needs_deep_zoom
    from curation.models.figure import Figure, figure_storage, storage_name

    figure = Figure.objects.filter(pk=figure_id).first()
    if figure is None:
        return []
    storage = figure_storage()
    names = {
        kind: storage_name(figure.sha256, kind, extension)
        for kind, (_side, _fmt, _type, extension) in DERIVATIVES.items()
    }
    made = []
    if not all(storage.exists(name) for name in names.values()):
        with figure.original.open("rb") as original:
            copies = make_derivatives(original.read())
        for kind, name in names.items():
            if not storage.exists(name):
                storage.save(name, ContentFile(copies[kind]))
                made.append(name)
    Figure.objects.filter(sha256=figure.sha256).update(**names)
    if needs_deep_zoom(figure.width, figure.height):
        made += _make_deep_zoom(figure, storage)
    return made


def _make_deep_zoom(figure, storage) -> list[str]:
    """The tile pyramid of a large figure, then its .dzi (written last: its presence
    means the tiles are all there)."""
    from curation.images import deep_zoom_descriptor, deep_zoom_tiles
    from curation.models.figure import Figure, storage_name

    descriptor = storage_name(figure.sha256, "zoom", "dzi")
    made = []
    if not storage.exists(descriptor):
        folder = descriptor.removesuffix(".dzi") + "_files"
        with figure.original.open("rb") as original:
            data = original.read()
        for level, column, row, tile in deep_zoom_tiles(data):
            name = f"{folder}/{level}/{column}_{row}.jpg"
            if not storage.exists(name):
                storage.save(name, ContentFile(tile))
        storage.save(descriptor, ContentFile(deep_zoom_descriptor(figure.width, figure.height)))
        made.append(descriptor)
    Figure.objects.filter(sha256=figure.sha256).update(deep_zoom=descriptor)
    return made


@shared_task(name="curation.fetch_open_access_figures")
def fetch_open_access_figures(package_id: int) -> None:
    """Download a paper's PMC open-access package and record its figures
    (curation.open_access.fetch_open_access_package). Fetching again replaces them."""
    from curation.open_access import fetch_open_access_package

    fetch_open_access_package(package_id)


# Work older than this without a result had its message lost (the broker was
# down when it was committed, or restarted empty); younger work may be running.
SWEEP_AFTER = timedelta(minutes=2)
# ...and older than this is given up on (a picture whose copies fail every time).
SWEEP_UNTIL = timedelta(days=1)


@shared_task(name="curation.sweep_figures")
def sweep_figures() -> int:
    """Queue again the figures still without web copies and the open-access fetches
    still waiting, a while after they were committed (beat sends this every minute).

    Both tasks do nothing twice, so a copy queued again while the first runs is harmless.
    """
    from curation.models import Figure, OpenAccessPackage

    now = timezone.now()
    window = {"gt": now - SWEEP_UNTIL, "lt": now - SWEEP_AFTER}
    figures = list(
        Figure.objects.filter(
            thumbnail="", created_at__gt=window["gt"], created_at__lt=window["lt"]
        ).values_list("pk", flat=True)[:200]
    )
    packages = list(
        OpenAccessPackage.objects.filter(
            state=OpenAccessPackage.State.QUEUED,
            requested_at__gt=window["gt"],
            requested_at__lt=window["lt"],
        ).values_list("pk", flat=True)[:50]
    )
    for pk in figures:
        make_figure_derivatives.delay(pk)
    for pk in packages:
        fetch_open_access_figures.delay(pk)
    return len(figures) + len(packages)


@shared_task(name="curation.make_monthly_release")
def make_monthly_release() -> str:
    """The month's release (beat: the 1st at 03:00); skipped when it exists already."""
    from curation.actions.releases import ReleaseRefused, default_name, make_release

    name = default_name()
    try:
        return make_release(name).name
    except ReleaseRefused as refused:
        log.info("monthly release %s not made: %s", name, refused)
        return ""


@shared_task(name="curation.send_subscription_digests")
def send_subscription_digests() -> int:
    """Beat, daily: readers' subscription digests due now, to the outbox."""
    from curation.subscriptions import queue_subscription_digests

    return queue_subscription_digests()
