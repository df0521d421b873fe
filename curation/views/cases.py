"""The public case page: one published case, at a glance and in full."""

from django.db.models import Prefetch, Q
from django.http import Http404
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils.safestring import mark_safe

from citations.exports import ama_html
from citations.models import Author, Citation
from curation.models import Case, FusionFinding, IHCResult

RELATED_LIMIT = 10

_FUSIONS = Prefetch(
    "fusions",
    queryset=FusionFinding.objects.select_related("five_prime_gene", "three_prime_gene").order_by(
        "position", "pk"
    ),
)


def get_visible_case(request, pk: int) -> Case:
    """The case if this user may see it; 404 otherwise — a draft's existence is not public."""
    queryset = (
        Case.objects.visible_to(request.user)
        .select_related(
            "citation", "topography", "final_diagnosis", "initial_diagnosis", "revision_of"
        )
        .prefetch_related(
            Prefetch("citation__authors", queryset=Author.objects.order_by("position")),
            Prefetch(
                "ihc_results",
                queryset=IHCResult.objects.select_related("marker", "marker__gene").order_by(
                    "position", "pk"
                ),
            ),
            _FUSIONS,
            Prefetch("other_citations", queryset=Citation.objects.order_by("year", "pmid")),
            "differentials",
        )
    )
    try:
        return queryset.get(pk=pk)
    except Case.DoesNotExist:
        raise Http404("No such case.") from None


def related_cases(case: Case) -> list[tuple[Case, list[str]]]:
    """Other published cases with the same fusion or final diagnosis, and why (two queries)."""
    fusions = list(case.fusions.all())
    same_fusion = Q()
    for finding in fusions:
        if finding.five_prime_gene_id is None:
            same_fusion |= Q(three_prime_gene_id=finding.three_prime_gene_id)
        else:
            same_fusion |= Q(
                five_prime_gene_id=finding.five_prime_gene_id,
                three_prime_gene_id=finding.three_prime_gene_id,
            )
    wanted = Q()
    if same_fusion:
        wanted |= Q(pk__in=FusionFinding.objects.filter(same_fusion).values("case_id"))
    if case.final_diagnosis_id:
        wanted |= Q(final_diagnosis_id=case.final_diagnosis_id)
    if not wanted:
        return []
    others = (
        Case.objects.published()
        .filter(wanted)
        .exclude(pk=case.pk)
        .exclude(pk=case.revision_of_id or 0)
        .select_related("citation", "final_diagnosis", "topography")
        .prefetch_related(_FUSIONS)
        .order_by("-published_at", "-pk")[:RELATED_LIMIT]
    )
    mine = {f.notation for f in fusions}
    mine_three = {f.three_prime_gene_id for f in fusions if f.partner_unknown}
    result = []
    for other in others:
        reasons = []
        shared = sorted(
            f.notation
            for f in other.fusions.all()
            if f.notation in mine or f.three_prime_gene_id in mine_three
        )
        if shared:
            reasons.append("same fusion (" + ", ".join(shared) + ")")
        if case.final_diagnosis_id and other.final_diagnosis_id == case.final_diagnosis_id:
            reasons.append("same diagnosis")
        result.append((other, reasons))
    return result


def case_detail(request, pk: int):
    case = get_visible_case(request, pk)
    ihc = list(case.ihc_results.all())
    context = {
        "case": case,
        "ihc": ihc,
        "positive_ihc": [r for r in ihc if r.result == IHCResult.Result.POSITIVE],
        "negative_ihc": [r for r in ihc if r.result == IHCResult.Result.NEGATIVE],
        "fusions": list(case.fusions.all()),
        # ama_html escapes every part itself.
        "citation_html": mark_safe(ama_html(case.citation)),  # noqa: S308
        "related": related_cases(case),
    }
    return render(request, "curation/case_detail.html", context)


def citing_cases_section(request, citation: Citation) -> str:
    """The last section of a citation's page: the published cases citing the paper
    (as their source or as another report of the patient). One query.

    citations' page knows no case: curation.apps adds this section to it."""
    cited = Q(citation=citation) | Q(pk__in=citation.other_cases.values("pk"))
    cases = list(Case.objects.published().filter(cited).order_by("pk")[:100])
    return render_to_string("curation/_citing_cases.html", {"cases": cases}, request=request)
