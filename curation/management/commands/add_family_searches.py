"""manage.py add_family_searches: a disabled saved search per diagnosis family."""

from django.core.management.base import BaseCommand

from curation.family_searches import add_family_searches


class Command(BaseCommand):
    help = (
        "Add a disabled saved PubMed search for each diagnosis family of the vocabulary "
        "(its names and synonyms), asked of PubMed first; a reviewer enables them."
    )

    def handle(self, *args, **options):
        result = add_family_searches()
        for name in result["added"]:
            self.stdout.write(f"added (disabled): {name}")
        for name, message in result["refused"]:
            self.stderr.write(f"refused: {name}: {message}")
        self.stdout.write(
            f"{len(result['added'])} added, {len(result['skipped'])} skipped "
            f"(there already, or no names), {len(result['refused'])} refused by PubMed"
        )
