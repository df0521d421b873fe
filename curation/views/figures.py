"""Figures: the curator's pages (add, edit, remove, PMC's open-access figures), and the
files served safely (originals, web copies, the deep-zoom viewer and its tiles).

A figure's file is answered with the type stored for it (never guessed from
the content by the browser: nosniff), an original as a download. Who sees
what is `Figure.objects.visible_to`: the figures of cases the user may see,
and a figure without a licence that allows showing it only to curators and
reviewers.
"""

from __future__ import annotations

from csp.decorators import csp_update
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from curation import permissions, workflow
from curation.actions.cases import CaseActionError
from curation.actions.figures import (
    FigureRefused,
    attach_figure,
    attach_open_access_figure,
    remove_figure,
    request_open_access_figures,
    update_figure,
)
from curation.forms.figure import FigureEditForm, FigureForm
from curation.images import DERIVATIVES
from curation.models import Case, Figure, OpenAccessFigure, OpenAccessPackage
from curation.models.figure import figure_storage
from curation.views.curate import curator_required

KINDS = ("original", *DERIVATIVES)
# OpenSeadragon adds one <style> of its own (a focus outline rule for touch
# screens); the page's CSP allows exactly that text by its hash
# (tests/curation/test_figure_deep_zoom.py checks it against the vendored file).
OPENSEADRAGON_STYLE = "@media (hover: none) {    .openseadragon-canvas:focus {" + (
    "        outline: none !important;    }}"
)
OPENSEADRAGON_STYLE_HASH = "'sha256-9xTiqzfwFaL2SGb1rmr8gysEwVVjIvqWAgmZgqFqpEE='"


def _visible_figure(request, pk: int) -> Figure:
    return get_object_or_404(Figure.objects.visible_to(request.user).select_related("case"), pk=pk)


def _serve(
    figure: Figure, name: str, content_type: str, *, filename: str = "", download: bool = False
) -> FileResponse:
    """A stored file of the figure with its type said (never sniffed); a download if asked."""
    response = FileResponse(
        figure_storage().open(name, "rb"),
        content_type=content_type,
        as_attachment=download,
        filename=filename,
    )
    response["X-Content-Type-Options"] = "nosniff"
    # Only a licensed figure of a published case may sit in shared caches.
    shared = figure.is_public and figure.case.status == workflow.PUBLISHED
    response["Cache-Control"] = "public, max-age=3600" if shared else "private, no-store"
    return response


def figure_file(request, pk: int, kind: str):
    if kind not in KINDS:
        raise Http404("No such file of a figure.")
    figure = _visible_figure(request, pk)
    field = getattr(figure, kind)
    if not field:
        raise Http404("This copy of the figure is still being made.")
    extension = field.name.rsplit(".", 1)[-1]
    filename = f"rarederm-case-{figure.case_id}-figure-{figure.pk}-{kind}.{extension}"
    if kind == "original":
        return _serve(figure, field.name, figure.content_type, filename=filename, download=True)
    return _serve(figure, field.name, DERIVATIVES[kind][2], filename=filename)


@csp_update({"style-src": [OPENSEADRAGON_STYLE_HASH]})
def figure_zoom(request, pk: int):
    """The deep-zoom viewer (OpenSeadragon) of a large figure."""
    figure = _visible_figure(request, pk)
    if not figure.deep_zoom:
        raise Http404("This figure has no deep-zoom view (it is small, or still being made).")
    return render(request, "curation/figure_zoom.html", {"figure": figure})


def figure_dzi(request, pk: int):
    figure = _visible_figure(request, pk)
    if not figure.deep_zoom:
        raise Http404("This figure has no deep-zoom view.")
    return _serve(figure, figure.deep_zoom.name, "application/xml")


def figure_tile(request, pk: int, level: int, column: int, row: int):
    figure = _visible_figure(request, pk)
    if not figure.deep_zoom:
        raise Http404("This figure has no deep-zoom view.")
    folder = figure.deep_zoom.name.removesuffix(".dzi") + "_files"
    name = f"{folder}/{level}/{column}_{row}.jpg"
    if not figure_storage().exists(name):
        raise Http404("No such tile.")
    return _serve(figure, name, "image/jpeg")


def _figures_case(request, pk: int) -> Case:
    """A case whose figures this curator may change: their own draft (or case sent
    back), or a published case (the figures then go into a revision)."""
    case = get_object_or_404(
        Case.objects.visible_to(request.user).select_related("citation"), pk=pk
    )
    mine = case.created_by_id == request.user.pk and case.status in workflow.EDITABLE
    if not (mine or permissions.may_revise(request.user, case)):
        raise PermissionDenied("Only the case's curator changes its figures while it is a draft.")
    return case


@curator_required
def case_figures(request, pk: int):
    case = _figures_case(request, pk)
    form = FigureForm(request.POST or None, request.FILES or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            upload = form.cleaned_data["file"]
            # A byte past the limit is enough to refuse it: the rest is never read.
            data = upload.read(settings.FIGURE_MAX_BYTES + 1)
            fields = {k: v for k, v in form.cleaned_data.items() if k != "file"}
            try:
                figure = attach_figure(case, by=request.user, data=data, **fields)
            except FigureRefused as exc:
                for field, text in exc.errors.items():
                    form.add_error(field if field in form.fields else None, text)
            except CaseActionError as exc:
                form.add_error(None, str(exc))
            else:
                if figure.case_id != case.pk:
                    messages.success(
                        request,
                        f"{figure.title} was added to your revision ({figure.case.number}). "
                        "Submit the revision for review: the public sees it once approved.",
                    )
                else:
                    messages.success(request, f"{figure.title} was added.")
                return redirect("curation:case_figures", pk=figure.case_id)
        status = 400
    figures = list(case.figures.select_related("marker").order_by("position", "pk"))
    package = (
        OpenAccessPackage.objects.filter(citation_id=case.citation_id).first()
        if case.citation.pmcid
        else None
    )
    context = {
        "package": package,
        "offered": list(package.figures.order_by("position", "pk")) if package else [],
        "case": case,
        "form": form,
        "figures": figures,
        "stains": FigureForm.stain_options(),
        "editable": case.status in workflow.EDITABLE,
        "max_megabytes": settings.FIGURE_MAX_BYTES // (1024 * 1024),
    }
    return render(request, "curation/curate/figures.html", context, status=status)


@curator_required
@require_POST
def figure_remove(request, pk: int):
    figure = get_object_or_404(
        Figure.objects.select_related("case"), pk=pk, case__created_by=request.user
    )
    try:
        remove_figure(figure, by=request.user)
    except CaseActionError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"{figure.title} was removed.")
    return redirect("curation:case_figures", pk=figure.case_id)


@curator_required
def figure_edit(request, pk: int):
    """Change what a figure of the curator's draft (or revision) says."""
    figure = get_object_or_404(
        Figure.objects.select_related("case", "marker"), pk=pk, case__created_by=request.user
    )
    if request.method == "POST":
        form = FigureEditForm(request.POST)
        if form.is_valid():
            try:
                update_figure(figure, by=request.user, **form.cleaned_data)
            except FigureRefused as exc:
                for field, text in exc.errors.items():
                    form.add_error(field if field in form.fields else None, text)
            except CaseActionError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, f"{figure.title} was changed.")
                return redirect("curation:case_figures", pk=figure.case_id)
        status = 400
    else:
        form = FigureEditForm(initial=FigureEditForm.initial_for(figure))
        status = 200
    context = {"figure": figure, "form": form, "stains": FigureForm.stain_options()}
    return render(request, "curation/curate/figure_edit.html", context, status=status)


@curator_required
@require_POST
def open_access_fetch(request, pk: int):
    """Ask a worker for the figures of the case's paper in PMC's open-access subset."""
    case = _figures_case(request, pk)
    try:
        request_open_access_figures(case.citation, by=request.user)
    except CaseActionError as exc:
        messages.error(request, str(exc))
    else:
        messages.info(
            request,
            f"Fetching the open-access figures of {case.citation.pmcid}: reload in a moment.",
        )
    return redirect("curation:case_figures", pk=case.pk)


@curator_required
@require_POST
def open_access_attach(request, pk: int, figure_pk: int):
    """One of the paper's open-access figures onto the case (through a revision when
    the case is published)."""
    case = _figures_case(request, pk)
    offered = get_object_or_404(
        OpenAccessFigure.objects.select_related("package"),
        pk=figure_pk,
        package__citation_id=case.citation_id,
    )
    try:
        figure = attach_open_access_figure(case, offered, by=request.user)
    except FigureRefused as exc:
        reasons = " ".join(exc.errors.values())
        messages.error(request, f"{offered} was not attached: {reasons}")
        return redirect("curation:case_figures", pk=case.pk)
    except CaseActionError as exc:
        messages.error(request, str(exc))
        return redirect("curation:case_figures", pk=case.pk)
    where = " to your revision" if figure.case_id != case.pk else ""
    messages.success(request, f"{offered} was added{where} as {figure.title}.")
    return redirect("curation:case_figures", pk=figure.case_id)
