"""make_release [--name 2026-12]: freeze everything published into a release."""

from django.core.management.base import BaseCommand, CommandError

from curation.actions.releases import ReleaseRefused, make_release


class Command(BaseCommand):
    help = (
        "Write a release of every published case, its IHC and molecular findings, citations "
        "and vocabularies (CSV, TSV, JSON, RIS, CSL-JSON), with README, licence, how to cite, "
        "changelog and SHA-256 checksums, through the 'releases' storage. A name that is taken "
        "is refused: a release is never rewritten."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--name", default="", help="The release's name (default: this month, e.g. 2026-12)"
        )

    def handle(self, *args, name="", **options):
        try:
            release = make_release(name or None)
        except ReleaseRefused as refused:
            raise CommandError(str(refused)) from refused
        log = release.changelog
        self.stdout.write(
            f"Release {release.name}: {release.case_count} cases, {release.citation_count} "
            f"citations, {len(release.files)} files ({release.total_size} bytes); "
            f"{len(log['cases_added'])} cases added, {len(log['cases_changed'])} changed, "
            f"{len(log['cases_withdrawn'])} withdrawn since "
            f"{log['previous_release'] or 'no earlier release'}."
        )
