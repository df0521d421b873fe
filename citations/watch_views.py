"""The retraction and correction watch on a page (/citations/watch/): its runs, what they
found (retractions, errata, expressions of concern, changed metadata), and, for reviewers,
a button that checks every cited paper now instead of at the next monthly run."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from accounts.roles import CURATOR, REVIEWER, has_role
from citations.actions.refresh import live_runs, request_refresh
from citations.models import CitationChange, RefreshRun

RUNS_SHOWN = 20
CHANGES_PAGE_SIZE = 50


@login_required
@require_GET
def watch(request):
    """Curators and reviewers: the last runs and the changes found, newest first."""
    if not has_role(request.user, CURATOR):
        raise PermissionDenied("Only curators and reviewers see the retraction watch.")
    kinds = dict(CitationChange.Kind.choices)
    kind = request.GET.get("kind", "")
    changes = CitationChange.objects.select_related("citation", "run").order_by("-found_at", "-pk")
    error = ""
    if kind and kind not in kinds:
        error = f"“{kind[:50]}” is not a kind of change: give one of {', '.join(kinds)}."
        kind = ""
    if kind:
        changes = changes.filter(kind=kind)
    page = Paginator(changes, CHANGES_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "citations/watch.html",
        {
            "runs": RefreshRun.objects.order_by("-created_at", "-pk")[:RUNS_SHOWN],
            "page": page,
            "kinds": kinds,
            "kind": kind,
            "error": error,
            "can_start": has_role(request.user, REVIEWER),
        },
        status=400 if error else 200,
    )


@login_required
@require_POST
def watch_start(request):
    """Reviewers: check every cited paper now (a run queued for a worker)."""
    if not has_role(request.user, REVIEWER):
        raise PermissionDenied("Only reviewers start the retraction watch.")
    running = live_runs().order_by("pk").first()
    if running is not None:
        messages.warning(
            request,
            f"Run {running.pk} is checking the cited papers now "
            f"(since {running.started_at:%Y-%m-%d %H:%M} UTC); no second run was started.",
        )
    else:
        run = request_refresh(source=f"watch page, {request.user.get_username()}"[:100])
        messages.success(
            request,
            f"Run {run.pk} queued: every cited paper will be fetched from PubMed again. "
            "Reload this page to follow it.",
        )
    return redirect("citations:watch")
