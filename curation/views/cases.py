"""The public case page: one published case, at a glance and in full."""

from django.db.models import Prefetch, Q
from django.http import Http404
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils.safestring import mark_safe

from citations.exports import ama_html
from citations.models import Author, Citation
from curation import care, permissions, workflow
from curation.models import Case, CaseFlag, Figure, IHCResult, ReleaseCase
from curation.provenance import provenance
from curation.search.pagecache import kept_per_generation
from curation.search.related import related_cases


def get_visible_case(request, pk: int) -> Case:
    """The case if this user may see it; 404 otherwise — a draft's existence is not public."""
    queryset = (
        Case.objects.visible_to(request.user)
        .with_record()
        .select_related("revision_of")
        .prefetch_related(
            Prefetch("citation__authors", queryset=Author.objects.order_by("position")),
            Prefetch("other_citations", queryset=Citation.objects.order_by("year", "pmid")),
            Prefetch(
                "figures",
                queryset=Figure.objects.licensed_for(request.user)
                .select_related("marker")
                .order_by("position", "pk"),
            ),
        )
    )
    try:
        return queryset.get(pk=pk)
    except Case.DoesNotExist:
        raise Http404("No such case.") from None


def shown_besides_the_registry(request, pk: int) -> tuple:
    """What a case page shows that changes without a new registry generation: its open
    error reports (templatetags/flags.py) and the releases that hold it (releases.py)."""
    return (
        CaseFlag.objects.open().filter(case_id=pk).count(),
        tuple(
            ReleaseCase.objects.filter(case_id=pk)
            .order_by("release_id")
            .values_list("release_id", "version")
        ),
    )


@kept_per_generation(also=shown_besides_the_registry)
def case_detail(request, pk: int):
    case = get_visible_case(request, pk)
    ihc = list(case.ihc_results.all())
    context = {
        "case": case,
        "ihc": ihc,
        "positive_ihc": [r for r in ihc if r.result == IHCResult.Result.POSITIVE],
        "negative_ihc": [r for r in ihc if r.result == IHCResult.Result.NEGATIVE],
        "fusions": list(case.fusions.all()),
        "figures": list(case.figures.all()),
        "may_add_figures": _may_add_figures(request.user, case),
        # ama_html escapes every part itself.
        "citation_html": mark_safe(ama_html(case.citation)),  # noqa: S308
        "related": related_cases(case),
        "care": care.completeness(
            case,
            rows={
                "ihc": len(ihc),
                "fusion": len(case.fusions.all()),
                "molecular": len(case.molecular_findings.all()),
                "treatment": len(case.treatments.all()),
                "event": len(case.clinical_events.all()),
            },
        ),
        "provenance": provenance(case) if case.is_published else None,
    }
    return render(request, "curation/case_detail.html", context)


def _may_add_figures(user, case: Case) -> bool:
    """The link to the figures page: the case's curator on a draft, any curator on a
    published case (through a revision)."""
    own_draft = case.created_by_id == user.pk and case.status in workflow.EDITABLE
    return own_draft or permissions.may_revise(user, case)


def citing_cases_section(request, citation: Citation) -> str:
    """The last section of a citation's page: the published cases citing the paper
    (as their source or as another report of the patient). One query.

    citations' page knows no case: curation.apps adds this section to it."""
    cited = Q(citation=citation) | Q(pk__in=citation.other_cases.values("pk"))
    cases = list(Case.objects.published().filter(cited).order_by("pk")[:100])
    return render_to_string("curation/_citing_cases.html", {"cases": cases}, request=request)
