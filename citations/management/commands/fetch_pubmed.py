"""fetch_pubmed PMID [PMID ...] [--sync]: fetch PubMed records into the registry."""

from django.core.management.base import BaseCommand, CommandError

from citations import actions
from citations.models import FetchJobItem
from config.site import absolute_url


class Command(BaseCommand):
    help = (
        "Fetch PubMed records by PMID, DOI, PMC id or PubMed/doi.org/PMC link. "
        "Queues a fetch job for the workers, "
        "or with --sync fetches here and prints each outcome."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "pmids", nargs="+", metavar="PMID", help="PMIDs, DOIs, PMC ids or links"
        )
        parser.add_argument(
            "--sync", action="store_true", help="fetch in this process instead of a worker"
        )

    def handle(self, *args, pmids, sync, **options):
        try:
            job = actions.request_fetch(pmids, source="fetch_pubmed command", queue=not sync)
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        if not sync:
            job.refresh_from_db()
            self.stdout.write(
                f"Fetch job {job.pk} ({job.get_state_display().lower()}): "
                + absolute_url(job.get_absolute_url())
            )
            return
        actions.run_job(job.pk)
        items = list(job.items.order_by("position"))
        counts = dict.fromkeys(FetchJobItem.Status.values, 0)
        for item in items:
            counts[item.status] += 1
            if item.status == FetchJobItem.Status.FAILED:
                self.stderr.write(f"{item.query}: {item.error}")
            else:
                self.stdout.write(f"{item.query}: {item.get_status_display().lower()}")
        summary = f"new {counts['new']}, updated {counts['updated']}, failed {counts['failed']}"
        if counts["failed"]:
            raise CommandError(summary)
        self.stdout.write(summary)
