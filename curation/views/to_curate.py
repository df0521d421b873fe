"""To curate: the papers screening included and assigned to this curator.

"Start the report" posts the paper's PMID (else DOI) to the new-report page,
which opens the stored citation at once (or fetches it).
"""

from __future__ import annotations

from django.shortcuts import render
from django.views.decorators.http import require_GET

from curation.views.curate import curator_required
from screening.models import Candidate


@curator_required
@require_GET
def to_curate(request):
    candidates = (
        Candidate.objects.select_related("citation")
        .filter(status=Candidate.Status.INCLUDED, assigned_to=request.user)
        .order_by("decided_at", "pk")
    )
    return render(request, "curation/curate/to_curate.html", {"candidates": candidates})


def included_case_counts(citation_ids) -> dict[str, int]:
    """The PRISMA counts' last boxes (screening.hooks): the cases written from the papers
    screening included — drafts to published, revisions not counted again — and of them
    those published."""
    from curation import workflow
    from curation.models import Case

    cases = Case.objects.filter(citation_id__in=citation_ids, revision_of__isnull=True)
    return {
        "cases_curated": cases.count(),
        "cases_published": cases.filter(status=workflow.PUBLISHED).count(),
    }
