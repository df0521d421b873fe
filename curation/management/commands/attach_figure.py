"""attach_figure CASE_ID FILE --caption TEXT --licence SPDX-ID: the upload form, scripted."""

from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from curation import licences
from curation.actions.cases import CaseActionError
from curation.actions.figures import FigureRefused, attach_figure
from curation.models import Case


class Command(BaseCommand):
    help = (
        "Attach a PNG, JPEG or TIFF figure to a case, with the checks of the upload form. "
        "On a published case the figure goes into a revision (the curator's open one, or a "
        "new one) for review. Exits non-zero with the reason when the file or a field is "
        "refused; nothing is stored then."
    )

    def add_arguments(self, parser):
        parser.add_argument("case_id", metavar="CASE_ID", type=int)
        parser.add_argument("file", metavar="FILE")
        parser.add_argument("--caption", required=True)
        parser.add_argument(
            "--licence",
            required=True,
            metavar="SPDX-ID",
            help=f"One of: {', '.join(licences.licences())}.",
        )
        parser.add_argument("--stain", default="", help="H&E, a marker (ALK, S100...), other")
        parser.add_argument("--magnification", default="", help="\u00d7200, 200x or 200")
        parser.add_argument("--credit", default="")
        parser.add_argument("--panel", default="", help="The panel's label in the paper: 2A")
        parser.add_argument(
            "--permission",
            default="",
            help="The publisher's permission (with --licence LicenseRef-publisher-permission)",
        )
        parser.add_argument(
            "--by", default="", metavar="USERNAME", help="The curator (default: the case's)"
        )

    def handle(self, *args, case_id, file, **options):
        case = Case.objects.select_related("created_by").filter(pk=case_id).first()
        if case is None:
            raise CommandError(f"No case {case_id}.")
        by = case.created_by
        if options["by"]:
            by = get_user_model().objects.filter(username=options["by"]).first()
            if by is None:
                raise CommandError(f"No user {options['by']!r}.")
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"No such file: {file}")
        with path.open("rb") as handle:
            # One byte past the limit is enough to refuse a file that is too large.
            data = handle.read(settings.FIGURE_MAX_BYTES + 1)
        try:
            figure = attach_figure(
                case,
                by=by,
                data=data,
                caption=options["caption"],
                licence=options["licence"],
                stain=options["stain"],
                magnification=options["magnification"],
                credit=options["credit"],
                panel_label=options["panel"],
                permission_reference=options["permission"],
            )
        except FigureRefused as exc:
            reasons = "\n".join(f"  {field}: {text}" for field, text in exc.errors.items())
            raise CommandError(f"{file} was not attached (nothing stored):\n{reasons}") from None
        except CaseActionError as exc:
            raise CommandError(f"{file} was not attached: {exc}") from None
        where = figure.case
        if where.pk != case.pk:
            self.stdout.write(
                f"{figure.title} added to {where.number}, the revision of {case.number}: "
                "submit the revision for review to publish it."
            )
        else:
            self.stdout.write(f"{figure.title} added to {where.number}.")
