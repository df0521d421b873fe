"""import_pubmed_xml FILE [FILE ...]: load efetch XML or PubMed baseline files."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from citations import actions


class Command(BaseCommand):
    help = (
        "Import PubMed XML: efetch answers or PubMed baseline/update files, .xml or .xml.gz, "
        "streamed (bounded memory). Prints counts: new, updated, failed."
    )

    def add_arguments(self, parser):
        parser.add_argument("files", nargs="+", metavar="FILE")

    def handle(self, *args, files, **options):
        paths = [Path(name) for name in files]
        missing = [str(path) for path in paths if not path.is_file()]
        if missing:
            raise CommandError(f"No such file: {', '.join(missing)}")
        total = actions.ImportCounts(errors=[])
        for path in paths:
            counts = actions.import_pubmed_file(path)
            for error in counts.errors or []:
                self.stderr.write(error)
            self.stdout.write(
                f"{path}: new {counts.new}, updated {counts.updated}, failed {counts.failed}"
                + (f", withdrawn {counts.deleted}" if counts.deleted else "")
            )
            total.new += counts.new
            total.updated += counts.updated
            total.failed += counts.failed
            total.deleted += counts.deleted
        summary = f"new {total.new}, updated {total.updated}, failed {total.failed}"
        if total.failed:
            raise CommandError(summary)
        self.stdout.write(summary)
