"""attach_oa_figures CASE_ID: the figures of the case's paper from PMC's open-access subset."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from curation.actions.cases import CaseActionError
from curation.actions.figures import FigureRefused, attach_figure
from curation.models import Case
from curation.open_access import open_access_figures


class Command(BaseCommand):
    help = (
        "List the figures of the case's paper in PMC's open-access package (label, licence, "
        "caption), or attach the ones named with --figure (or --all) with their caption, "
        "credit and licence pre-filled, through the same checks as the upload form. The "
        "licence comes from the article; a figure whose licence is not on RareDerm's list "
        "is attached as NOASSERTION (private to curators and reviewers)."
    )

    def add_arguments(self, parser):
        parser.add_argument("case_id", metavar="CASE_ID", type=int)
        parser.add_argument("--figure", action="append", default=[], metavar="FIG_ID")
        parser.add_argument("--all", action="store_true")
        parser.add_argument("--by", default="", metavar="USERNAME")

    def handle(self, *args, case_id, figure, all, by, **options):
        case = Case.objects.select_related("citation", "created_by").filter(pk=case_id).first()
        if case is None:
            raise CommandError(f"No case {case_id}.")
        user = case.created_by
        if by:
            user = get_user_model().objects.filter(username=by).first()
            if user is None:
                raise CommandError(f"No user {by!r}.")
        try:
            offered = open_access_figures(case.citation)
        except CaseActionError as exc:
            raise CommandError(str(exc)) from None
        if not offered:
            raise CommandError(f"{case.citation.pmcid}'s package has no figure.")
        if not (figure or all):
            for item in offered:
                self.stdout.write(f"{item.id}\t{item.label}\t{item.licence}\t{item.caption[:100]}")
            return
        by_id = {item.id: item for item in offered}
        unknown = [fig for fig in figure if fig not in by_id]
        if unknown:
            raise CommandError(
                f"No figure {', '.join(unknown)} in the package (it has {', '.join(by_id)})."
            )
        failures = 0
        for item in offered if all else [by_id[fig] for fig in figure]:
            try:
                attached = attach_figure(
                    case,
                    by=user,
                    data=item.data,
                    caption=item.caption or item.label,
                    licence=item.licence,
                    credit=item.credit,
                    panel_label=item.panel_label,
                )
            except FigureRefused as exc:
                failures += 1
                reasons = "; ".join(f"{k}: {v}" for k, v in exc.errors.items())
                self.stderr.write(f"{item.id} ({item.label}) not attached: {reasons}")
                continue
            except CaseActionError as exc:
                raise CommandError(str(exc)) from None
            self.stdout.write(
                f"{item.id}: {attached.title} added to {attached.case.number} ({item.licence})."
            )
        if failures:
            raise CommandError(f"{failures} figure(s) were not attached.")
