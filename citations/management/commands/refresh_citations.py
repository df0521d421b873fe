"""refresh_citations [--sync] [--pmid PMID ...]: the retraction and correction watch by hand."""

from django.core.management.base import BaseCommand, CommandError

from citations.actions.refresh import request_refresh, run_refresh
from citations.models import RefreshRun


class Command(BaseCommand):
    help = (
        "Fetch every cited PMID (or those given) from PubMed again and record retractions, "
        "errata, expressions of concern and changed metadata. Queues the run for a worker, "
        "or with --sync runs it here and prints what it found."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--pmid", nargs="+", default=[], metavar="PMID", help="only these stored PMIDs"
        )
        parser.add_argument(
            "--sync", action="store_true", help="run in this process instead of a worker"
        )

    def handle(self, *args, pmid, sync, **options):
        try:
            run = request_refresh(pmid, source="refresh_citations command", queue=not sync)
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        if not sync:
            self.stdout.write(f"Citation refresh {run.pk} queued.")
            return
        run = run_refresh(run.pk)
        for change in run.changes.select_related("citation").order_by("citation__pmid", "pk"):
            self.stdout.write(
                f"PMID {change.citation.pmid}: {change.get_kind_display().lower()}: "
                f"{change.summary}"
            )
        summary = (
            f"Citation refresh {run.pk}: {run.requested} PMID(s) asked, {run.checked} checked, "
            f"{run.missing} not in PubMed's answer, {run.changed} change(s), "
            f"{run.requests} request(s)"
        )
        if run.state == RefreshRun.State.FAILED:
            raise CommandError(f"{summary}; failed: {run.error}")
        self.stdout.write(summary + ".")
