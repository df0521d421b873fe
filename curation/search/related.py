"""Cases related to a case: other published cases with its fusion or its final diagnosis."""

from __future__ import annotations

from django.db.models import Prefetch, Q

from curation.models import Case, FusionFinding

RELATED_LIMIT = 10

# A case's fusion rows in their written order, genes joined: every page that lists them.
FUSIONS = Prefetch(
    "fusions",
    queryset=FusionFinding.objects.select_related("five_prime_gene", "three_prime_gene").order_by(
        "position", "pk"
    ),
)


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
        Case.objects.counted()
        .filter(wanted)
        .exclude(pk=case.pk)
        .exclude(pk=case.revision_of_id or 0)
        .select_related("citation", "final_diagnosis", "topography")
        .prefetch_related(FUSIONS)
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
