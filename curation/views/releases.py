"""The releases page (/releases/) and a release's files (/releases/<name>/<file>)."""

from __future__ import annotations

from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, render

from curation.actions.releases import open_release_file
from curation.models import Release

# How a browser should take each kind of file (the rest: plain text).
CONTENT_TYPES = {
    ".csv": "text/csv; charset=utf-8",
    ".tsv": "text/tab-separated-values; charset=utf-8",
    ".json": "application/json",
    ".ris": "application/x-research-info-systems",
    ".md": "text/markdown; charset=utf-8",
}


def release_list(request):
    releases = Release.objects.order_by("-created_at", "-pk")
    return render(request, "curation/releases.html", {"releases": releases})


def release_file(request, name: str, file: str):
    release = get_object_or_404(Release, name=name)
    try:
        handle = open_release_file(release, file)
    except FileNotFoundError:
        raise Http404("No such file in this release.") from None
    suffix = file[file.rfind(".") :] if "." in file else ""
    response = FileResponse(
        handle,
        as_attachment=suffix not in (".md", ".txt") and file != "SHA256SUMS",
        filename=f"rarederm-{release.name}-{file}",
        content_type=CONTENT_TYPES.get(suffix, "text/plain; charset=utf-8"),
    )
    # A release is never rewritten: its files may be cached for good.
    response["Cache-Control"] = "public, max-age=31536000, immutable"
    return response
