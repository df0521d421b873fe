"""Pages of citations: the list with search, a citation, exports, a fetch job."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import Http404, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_POST

from accounts.roles import CURATOR, REVIEWER, has_role
from citations import actions, counts, exports, hooks
from citations.counts import citation_count
from citations.models import Citation, FetchJob, FetchJobItem
from config.pagecache import kept

PAGE_SIZE = 25
JOB_ITEMS_SHOWN = 500
MAX_EXPORT = 10_000


def _job_for(request, pk: int) -> FetchJob:
    """A fetch job its requester, a reviewer or an admin may see; 404 for anyone else."""
    job = get_object_or_404(FetchJob.objects.select_related("requested_by"), pk=pk)
    user = request.user
    if job.requested_by_id == user.pk and has_role(user, CURATOR):
        return job
    if has_role(user, REVIEWER):
        return job
    raise Http404("No such fetch job.")


@kept(counts.generation, seconds=counts.LIST_SECONDS)
def citation_list(request):
    query = request.GET.get("q", "").strip()[:200]
    citations = Citation.objects.search(query).order_by("-year", "-pmid").with_authors()
    paginator = Paginator(citations, PAGE_SIZE)
    if not query:
        # The whole list: a cached count instead of a COUNT over every row.
        paginator.count = citation_count()
    page = paginator.get_page(request.GET.get("page"))
    return render(
        request,
        "citations/list.html",
        {"page": page, "q": query, "formats": exports.FORMATS},
    )


def citation_detail(request, pmid: int):
    citation = get_object_or_404(Citation.objects.with_authors(), pmid=pmid)
    authors = exports.authors_of(citation)
    return render(
        request,
        "citations/detail.html",
        {
            "citation": citation,
            "authors": authors,
            # What apps above citations add (curation: the cases that cite it).
            "sections": hooks.render_citation_page_sections(request, citation),
            "ama": mark_safe(exports.ama_html(citation)),  # noqa: S308 (escaped in ama_html)
            "formats": exports.FORMATS,
        },
    )


@login_required
@require_POST
def citation_chase(request, pmid: int):
    """A curator asks for a citation's references, citing and related papers now."""
    from citations.actions.links import queue_chase

    if not has_role(request.user, CURATOR):
        raise PermissionDenied("Only curators and reviewers fetch a paper's links.")
    citation = get_object_or_404(Citation, pmid=pmid)
    queue_chase(citation)
    messages.success(
        request,
        f"Fetching the references, citing and related papers of PMID {pmid} from PubMed; "
        "reload this page in a moment.",
    )
    return redirect(citation.get_absolute_url())


def citation_export(request):
    fmt = request.GET.get("format", "")
    if fmt not in exports.FORMATS:
        return HttpResponseBadRequest(
            f"Unknown format. Use one of: {', '.join(exports.FORMATS)}.",
            content_type="text/plain",
        )
    citations = Citation.objects.all()
    pmids = request.GET.getlist("pmid")
    if pmids:
        if not all(pmid.isdigit() for pmid in pmids) or len(pmids) > 1000:
            return HttpResponseBadRequest(
                "pmid must be PubMed IDs (digits), at most 1,000.", content_type="text/plain"
            )
        citations = citations.filter(pmid__in=[int(pmid) for pmid in pmids])
    else:
        citations = citations.search(request.GET.get("q", ""))
    records = list(citations.order_by("-year", "-pmid").with_authors()[:MAX_EXPORT])
    if pmids and not records:
        raise Http404("No citation with that PMID.")
    content_type, extension = exports.FORMATS[fmt]
    name = f"pmid{records[0].pmid}" if len(records) == 1 else "citations"
    response = HttpResponse(
        exports.export(records, fmt), content_type=f"{content_type}; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{name}.{extension}"'
    return response


@login_required
def job_detail(request, pk: int):
    job = _job_for(request, pk)
    return render_job_progress(request, job_progress_context(request, job), "citations/job.html")


# The one partial showing a job's progress; a page adds to it by extending it.
JOB_PROGRESS = "citations/_job_progress.html"


def render_job_progress(request, context: dict, page: str, partial: str = JOB_PROGRESS):
    """A page following a fetch job or, to the htmx poll from that page, its progress alone.

    Every page that follows a job answers this way: citations' job page, a
    curator's new report and bulk import (curation), each with its own page
    and, where it adds to the partial (a block), its own extension of it. The
    partial polls the URL it was served from, so each page polls itself.
    """
    context = {**context, "progress_template": partial}
    if request.headers.get("HX-Request"):
        return render(request, partial, context)
    return render(request, page, context)


def job_progress_context(
    request, job: FetchJob, *, items_shown: int = JOB_ITEMS_SHOWN, retry_url: str = ""
) -> dict:
    """What a job's progress partial shows: two queries (counts, first items).

    retry_url is where "Retry failed" posts (citations' own retry by default).
    """
    Status = FetchJobItem.Status
    counts = job.items.aggregate(
        total=Count("pk"),
        pending=Count("pk", filter=Q(status=Status.PENDING)),
        new=Count("pk", filter=Q(status=Status.NEW)),
        updated=Count("pk", filter=Q(status=Status.UPDATED)),
        failed=Count("pk", filter=Q(status=Status.FAILED)),
    )
    done = counts["total"] - counts["pending"]
    items = list(job.items.order_by("position").select_related("citation")[:items_shown])
    user = request.user
    return {
        "job": job,
        "counts": counts,
        "done": done,
        "percent": round(100 * done / counts["total"]) if counts["total"] else 100,
        "items": items,
        "items_cut": counts["total"] > len(items),
        "finished": job.state == FetchJob.State.DONE,
        "can_retry": counts["failed"] > 0
        and job.state == FetchJob.State.DONE
        and (has_role(user, REVIEWER) or job.requested_by_id == user.pk),
        "retry_url": retry_url or reverse("citations:job_retry", args=[job.pk]),
    }


@login_required
@require_POST
def job_retry(request, pk: int):
    job = _job_for(request, pk)
    if not (has_role(request.user, REVIEWER) or job.requested_by_id == request.user.pk):
        raise PermissionDenied
    if job.state != FetchJob.State.DONE:
        messages.info(request, "This job is still running; retry its failures when it ends.")
        return redirect(job)
    retried = actions.retry_failed(job, by=request.user)
    if retried:
        messages.success(request, f"Trying {retried} failed PubMed record(s) again.")
    else:
        messages.info(request, "Nothing to retry: the failures were not PMIDs or DOIs.")
    return redirect(job)
