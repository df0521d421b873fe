"""add_saved_search NAME QUERY [--schedule weekly|daily] [--confirm-large] [--disabled]."""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from citations.actions.searches import CONFIRM_ABOVE, add_saved_search


class Command(BaseCommand):
    help = (
        "Save a PubMed query that runs on a schedule. PubMed is asked first: a query it "
        "rejects is refused with NCBI's message."
    )

    def add_arguments(self, parser):
        parser.add_argument("name")
        parser.add_argument("query", help="a PubMed query, as typed in PubMed's search box")
        parser.add_argument("--schedule", choices=["daily", "weekly"], default="weekly")
        parser.add_argument(
            "--confirm-large",
            action="store_true",
            help=f"save a query that matches more than {CONFIRM_ABOVE:,} records",
        )
        parser.add_argument(
            "--disabled", action="store_true", help="save it switched off (no scheduled runs)"
        )

    def handle(self, *args, name, query, schedule, confirm_large, disabled, **options):
        try:
            search = add_saved_search(name, query, schedule=schedule, confirm_large=confirm_large)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from None
        if disabled:
            search.enabled = False
            search.save(update_fields=["enabled"])
        state = "disabled" if disabled else f"runs {schedule}"
        self.stdout.write(f"Saved search {search.name!r} ({state}): {search.query}")
