"""export_citations --format json|csl-json|ris|bibtex|csv|ama [--pmid PMID|DOI|PMC id|link ...]"""

from django.core.management.base import BaseCommand, CommandError
from django.db.models import Q

from citations import exports
from citations.actions import parse_identifier
from citations.models import Citation


class Command(BaseCommand):
    help = "Write citations to standard output in one of: " + ", ".join(exports.FORMATS)

    def add_arguments(self, parser):
        parser.add_argument("--format", required=True, choices=list(exports.FORMATS))
        parser.add_argument(
            "--pmid",
            "--id",
            nargs="+",
            default=[],
            metavar="ID",
            help="stored citations by PMID, DOI, PMC id or PubMed/doi.org/PMC link",
        )

    def handle(self, *args, format, pmid, **options):
        citations = Citation.objects.order_by("pmid")
        if pmid:
            found = [parse_identifier(value) for value in pmid]
            wrong = [f.error for f in found if f.error]
            if wrong:
                raise CommandError(" ".join(wrong))
            wanted = Q()
            for identifier in found:
                wanted |= Q(**identifier.lookup)
            citations = citations.filter(wanted)
            stored = list(citations.values_list("pmid", "doi", "pmcid"))
            unknown = [
                f.query
                for f in found
                if not any(f.query in (str(p), d, c) for p, d, c in stored if f.query)
            ]
            if unknown:
                raise CommandError(f"No stored citation with {', '.join(unknown)}")
        records = citations.with_authors().iterator(chunk_size=500)
        self.stdout.write(exports.export(records, format), ending="")
