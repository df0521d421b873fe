"""prune_figure_files: remove the files of figures that no row refers to any more."""

from datetime import timedelta

from django.core.management.base import BaseCommand
from django.utils import timezone

from curation.models import Figure, OpenAccessFigure
from curation.models.figure import figure_storage

# A file younger than this may belong to an upload whose row is not committed yet.
MIN_AGE = timedelta(days=1)


def _walk(storage, folder: str = ""):
    try:
        directories, files = storage.listdir(folder)
    except FileNotFoundError:  # no figure was ever stored
        return
    for name in files:
        yield f"{folder}/{name}" if folder else name
    for directory in directories:
        yield from _walk(storage, f"{folder}/{directory}" if folder else directory)


class Command(BaseCommand):
    help = (
        "Remove from the figures storage the files no figure refers to any more (a removed "
        "figure's, a discarded draft's, an open-access package fetched again), when older "
        "than a day. A figure's files are kept while any row (a published case's, a "
        "revision's copy) shows the same original. --dry-run lists them only."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true")

    def handle(self, *args, dry_run, **options):
        storage = figure_storage()
        used_figures = {
            f"{sha[:2]}/{sha}/" for sha in Figure.objects.values_list("sha256", flat=True)
        }
        used_files = set(OpenAccessFigure.objects.values_list("file", flat=True))
        cutoff = timezone.now() - MIN_AGE
        removed = 0
        for name in _walk(storage):
            # A figure's files are in "<sha[:2]>/<sha>/" (tiles deeper still).
            folder = "/".join(name.split("/")[:2]) + "/"
            if name in used_files or folder in used_figures:
                continue
            if storage.get_modified_time(name) > cutoff:
                continue
            removed += 1
            if dry_run:
                self.stdout.write(name)
            else:
                storage.delete(name)
        verb = "would be removed" if dry_run else "removed"
        self.stdout.write(f"{removed} unused file(s) {verb}.")
