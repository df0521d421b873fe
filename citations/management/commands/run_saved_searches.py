"""run_saved_searches [--sync] [NAME ...]: run saved searches now (all enabled ones by default)."""

from django.core.management.base import BaseCommand, CommandError

from citations.actions.searches import run_saved_search
from citations.models import SavedSearch, SavedSearchRun
from config.celery import queue_task


class Command(BaseCommand):
    help = (
        "Run saved PubMed searches now: the named ones (enabled or not), or every enabled one. "
        "Queued for the workers, or with --sync run here with each run's counts printed."
    )

    def add_arguments(self, parser):
        parser.add_argument("names", nargs="*", metavar="NAME")
        parser.add_argument("--sync", action="store_true", help="run here instead of a worker")

    def handle(self, *args, names, sync, **options):
        if names:
            searches = list(SavedSearch.objects.filter(name__in=names).order_by("name"))
            missing = sorted(set(names) - {s.name for s in searches})
            if missing:
                raise CommandError(f"No saved search called: {', '.join(missing)}")
        else:
            searches = list(SavedSearch.objects.filter(enabled=True).order_by("name"))
        failed = 0
        for search in searches:
            if not sync:
                queue_task("citations.run_saved_search", search.pk)
                self.stdout.write(f"{search.name}: queued")
                continue
            run = run_saved_search(search.pk)
            if run is None:
                self.stdout.write(f"{search.name}: another run is on; skipped")
                continue
            window = f"{run.mindate or 'the beginning'} to {run.maxdate}"
            line = (
                f"{search.name}: {run.get_state_display().lower()} ({window}): "
                f"{run.found} found, {run.fetched} fetched, {run.added} new, "
                f"{run.failed} failed, {run.requests} requests"
            )
            if run.state == SavedSearchRun.State.FAILED:
                failed += 1
                line += f"; error: {run.error}"
            self.stdout.write(line)
        if failed:
            raise CommandError(f"{failed} saved search(es) failed; the next run catches up.")
