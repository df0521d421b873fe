"""New report: a PMID, DOI, PMC id or link -> the stored citation, or a fetch with progress.

If the citation is stored the curator goes straight to its report page;
otherwise a FetchJob is written (citations.actions.request_fetch, queued on
commit) and the page polls its progress with htmx until the citation
appears — or shows the reason and "try again".
"""

from __future__ import annotations

from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.roles import REVIEWER, has_role
from citations import actions as citation_actions
from citations.models import Citation, FetchJob
from citations.views import job_progress_context, render_job_progress
from curation.views.curate import _citation_with_authors, curator_required


class IdentifierForm(forms.Form):
    identifier = forms.CharField(
        label="PMID, DOI or PubMed link",
        max_length=500,
        help_text="e.g. 35560368, PMID: 35560368, 10.1111/cup.14261, "
        "https://pubmed.ncbi.nlm.nih.gov/35560368/, PMC5442267 or a PMC link",
        error_messages={"required": "Enter a PMID, a DOI or a PubMed link."},
    )

    def clean_identifier(self):
        found = citation_actions.parse_identifier(self.cleaned_data["identifier"])
        if found.error:
            raise ValidationError(found.error)
        return found


@curator_required
@require_http_methods(["GET", "POST"])
def new_report(request):
    form = IdentifierForm(
        request.POST or None, initial={"identifier": request.GET.get("q", "")[:500]}
    )
    if request.method == "POST" and form.is_valid():
        found = form.cleaned_data["identifier"]
        citation = Citation.objects.filter(**found.lookup).only("pmid").first()
        if citation is not None:
            return redirect("curation:report", pmid=citation.pmid)
        job = citation_actions.request_fetch([found.query], by=request.user, source="new report")
        return redirect("curation:report_fetch", pk=job.pk)
    return render(request, "curation/curate/new_report.html", {"form": form})


def _fetch_job_for(request, pk: int) -> FetchJob:
    job = get_object_or_404(FetchJob, pk=pk)
    if job.requested_by_id != request.user.pk and not has_role(request.user, REVIEWER):
        raise Http404("No such fetch job.")
    return job


@curator_required
@require_GET
def report_fetch(request, pk: int):
    """The progress of a new report's fetch (a job of one item), then the paper or why not."""
    job = _fetch_job_for(request, pk)
    context = job_progress_context(
        request,
        job,
        items_shown=1,
        retry_url=reverse("curation:report_fetch_retry", args=[job.pk]),
    )
    item = context["items"][0] if context["items"] else None
    context["item"] = item
    context["citation"] = (
        _citation_with_authors(pk=item.citation_id) if item and item.citation_id else None
    )
    return render_job_progress(
        request, context, "curation/curate/fetch.html", "curation/curate/_fetch_progress.html"
    )


@curator_required
@require_POST
def report_fetch_retry(request, pk: int):
    job = _fetch_job_for(request, pk)
    if job.state != FetchJob.State.DONE:
        return redirect("curation:report_fetch", pk=job.pk)
    if not citation_actions.retry_failed(job, by=request.user):
        item = job.items.order_by("position").first()
        messages.error(request, "That is not a PMID or a DOI: correct it and try again.")
        return redirect(reverse("curation:new_report") + "?" + _q(item.query if item else ""))
    return redirect("curation:report_fetch", pk=job.pk)


def _q(text: str) -> str:
    return urlencode({"q": text})
