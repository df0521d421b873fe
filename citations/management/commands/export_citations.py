"""export_citations --format json|csl-json|ris|bibtex|csv|ama [--pmid PMID ...]"""

from django.core.management.base import BaseCommand, CommandError

from citations import exports
from citations.models import Citation


class Command(BaseCommand):
    help = "Write citations to standard output in one of: " + ", ".join(exports.FORMATS)

    def add_arguments(self, parser):
        parser.add_argument("--format", required=True, choices=list(exports.FORMATS))
        parser.add_argument("--pmid", nargs="+", default=[], metavar="PMID")

    def handle(self, *args, format, pmid, **options):
        citations = Citation.objects.order_by("pmid")
        if pmid:
            wrong = [value for value in pmid if not value.isdigit()]
            if wrong:
                raise CommandError(f"Not a PMID: {', '.join(wrong)}")
            wanted = [int(value) for value in pmid]
            citations = citations.filter(pmid__in=wanted)
            found = set(citations.values_list("pmid", flat=True))
            unknown = [str(value) for value in wanted if value not in found]
            if unknown:
                raise CommandError(f"No citation with PMID {', '.join(unknown)}")
        records = citations.with_authors().iterator(chunk_size=500)
        self.stdout.write(exports.export(records, format), ending="")
