"""The curator's pages: from a citation to a submitted case record.

(new report: curation/views/new_report.py) -> cases of that report (add,
copy from the previous case) -> the case form (explicit save and autosave,
duplicate warnings) -> submit; "My drafts"; autocomplete and gene lookups.
"""

from __future__ import annotations

import re
from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Prefetch, Q
from django.http import Http404, HttpResponseBadRequest, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.roles import CURATOR, has_role
from citations.models import Author, Citation
from curation import diff, workflow
from curation.actions.cases import CaseActionError, Conflict, NotEditable
from curation.actions.submission import (
    Incomplete,
    discard_draft,
    duplicate_label_message,
    find_duplicates,
    keep_unsaved_input,
    link_other_report,
    missing_for_submission,
    save_draft,
    start_case,
    submit_case,
)
from curation.forms import VOCABULARIES, CaseForms
from curation.forms.fields import Clones
from curation.models import Case, CaseDraftInput, CaseEvent, FusionFinding, TermProposal

AUTOSAVE_SECONDS = 15
# What the form's inputs suggest as the curator types: the vocabularies, and the clones.
AUTOCOMPLETE = {**VOCABULARIES, "clone": Clones}
SUGGESTIONS = 20


def curator_required(view):
    """Logged in (else the login page) and a curator (else 403)."""

    @login_required
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not has_role(request.user, CURATOR):
            raise PermissionDenied("Only curators enter cases.")
        return view(request, *args, **kwargs)

    return wrapped


def own_case(request, pk: int) -> Case:
    """The user's own case; 404 for anyone else's (a draft's existence is private)."""
    try:
        return Case.objects.select_related(
            "citation", "topography", "final_diagnosis", "initial_diagnosis"
        ).get(pk=pk, created_by=request.user)
    except Case.DoesNotExist:
        raise Http404("No such case among yours.") from None


def _citation_with_authors(**lookup) -> Citation:
    queryset = Citation.objects.prefetch_related(
        Prefetch("authors", queryset=Author.objects.order_by("position"))
    )
    return get_object_or_404(queryset, **lookup)


# -- the report and its cases ------------------------------------------------------


def _case_rows():
    return Prefetch(
        "fusions",
        queryset=FusionFinding.objects.select_related(
            "five_prime_gene", "three_prime_gene"
        ).order_by("position", "pk"),
    )


@curator_required
@require_GET
def report(request, pmid: int):
    citation = _citation_with_authors(pmid=pmid)
    cases = list(
        Case.objects.visible_to(request.user)
        .filter(Q(citation=citation) | Q(other_citations=citation))
        .distinct()
        .select_related("final_diagnosis", "topography", "created_by")
        .prefetch_related(_case_rows())
        .order_by("pk")
    )
    mine = [
        c for c in cases if c.created_by_id == request.user.pk and c.citation_id == citation.pk
    ]
    labels = {c.label for c in cases if c.citation_id == citation.pk}
    suggested = ""
    if cases:
        n = len([c for c in cases if c.citation_id == citation.pk]) + 1
        while f"Case {n}" in labels:
            n += 1
        suggested = f"Case {n}"
    return render(
        request,
        "curation/curate/report.html",
        {
            "citation": citation,
            "cases": cases,
            "copyable": [c for c in cases if c.citation_id == citation.pk],
            "mine": mine,
            "suggested_label": suggested,
        },
    )


@curator_required
@require_POST
def case_new(request, pmid: int):
    citation = get_object_or_404(Citation, pmid=pmid)
    label = " ".join(request.POST.get("label", "").split())[:100]
    copy_from = None
    copy_pk = request.POST.get("copy_from", "")
    if copy_pk:
        if not copy_pk.isdigit():
            raise Http404("No such case to copy.")
        copy_from = get_object_or_404(Case.objects.visible_to(request.user), pk=int(copy_pk))
    message = duplicate_label_message(citation.pk, label, author_id=request.user.pk)
    if message:
        messages.error(request, message)
        return redirect("curation:report", pmid=pmid)
    try:
        case = start_case(citation, by=request.user, label=label, copy_from=copy_from)
    except (CaseActionError, ValidationError) as exc:
        messages.error(request, _message(exc))
        return redirect("curation:report", pmid=pmid)
    if copy_from is not None:
        messages.success(
            request, f"Started a new case with the shared fields of case {copy_from.pk}."
        )
    return redirect("curation:case_edit", pk=case.pk)


def _message(exc) -> str:
    if isinstance(exc, ValidationError):
        return " ".join(exc.messages)
    return str(exc)


# -- the case form ----------------------------------------------------------------


def _posted_version(request) -> int | None:
    text = request.POST.get("version_override") or request.POST.get("version", "")
    return int(text) if text.isdigit() and len(text) < 10 else None


def _already_submitted_by(case: Case, user) -> bool:
    return case.status == workflow.SUBMITTED and CaseEvent.objects.submitter_id(case) == user.pk


@curator_required
@require_http_methods(["GET", "POST"])
def case_edit(request, pk: int):
    case = own_case(request, pk)
    if case.status not in workflow.EDITABLE:
        if request.method == "POST" and _already_submitted_by(case, request.user):
            messages.info(request, "This case was submitted for review (once).")
        else:
            messages.info(
                request,
                f"This case is {case.get_status_display().lower()}: it is read-only for you "
                "until a reviewer sends it back.",
            )
        return redirect("curation:case_detail", pk=case.pk)

    if request.method == "GET":
        unsaved = CaseDraftInput.objects.filter(case=case).first()
        if unsaved is None:
            return _render_case_form(request, case, CaseForms(case))
        # What could not be saved yet, as typed, with what still needs correcting.
        bundle = CaseForms(case, unsaved.as_query_dict())
        bundle.is_valid()
        return _render_case_form(request, case, bundle, version=unsaved.version, unsaved=unsaved)

    bundle = CaseForms(case, request.POST)
    version = _posted_version(request)
    if version is None:
        messages.error(
            request, "The form lost its version number: nothing was saved. Reload the page."
        )
        return _render_case_form(request, case, bundle, status=400)
    complete = bundle.is_valid()
    values = bundle.values()
    try:
        result = _save(request, case, values, version, complete=complete)
    except Conflict as exc:
        current = Case.objects.get(pk=case.pk)
        if request.POST.get("action") == "submit" and _already_submitted_by(current, request.user):
            messages.info(request, "This case was submitted for review (once).")
            return redirect("curation:case_detail", pk=case.pk)
        return _render_case_form(
            request,
            case,
            bundle,
            status=409,
            conflict=diff.conflict_changes(exc, current, values, version),
            version=version,
        )
    except NotEditable as exc:
        messages.error(request, str(exc))
        return redirect("curation:case_detail", pk=case.pk)
    except ValidationError as exc:  # a database rule the form did not foresee
        messages.error(request, "Not saved: " + _message(exc))
        return _render_case_form(request, case, bundle, status=422, version=version)
    case = result.case
    if not complete:
        messages.error(
            request,
            ("Not submitted. " if request.POST.get("action") == "submit" else "")
            + f"Saved what is valid (version {case.version}); correct the fields marked "
            "below — your text is kept in the draft.",
        )
        return _render_case_form(request, case, bundle, status=422)

    if request.POST.get("action") == "submit":
        try:
            submit_case(case, by=request.user, expected_version=case.version)
        except Incomplete as exc:
            fresh = CaseForms(case, request.POST)
            fresh.is_valid()  # it was: the same data was just saved
            for name, message in exc.errors.items():
                if name in fresh.form.fields:
                    fresh.form.add_error(name, message)
            messages.error(
                request, "Saved as a draft, but not submitted: complete the fields marked below."
            )
            return _render_case_form(
                request, case, fresh, findings_error=exc.errors.get("findings", ""), status=422
            )
        except (CaseActionError, workflow.TransitionError) as exc:
            messages.error(request, str(exc))
            return redirect("curation:case_edit", pk=case.pk)
        messages.success(request, "Submitted for review. A reviewer will look at it.")
        return redirect("curation:case_detail", pk=case.pk)

    if result.changed:
        messages.success(request, f"Saved (version {case.version}).")
    else:
        messages.info(request, "Nothing changed since the last save.")
    return redirect("curation:case_edit", pk=case.pk)


def _save(request, case, values: dict, version: int, *, complete: bool):
    """Save every valid field and row of the posted form (`CaseForms.values()`); keep
    the posted text in the draft while any of it is in error (also when nothing could be
    saved: a conflict, a database rule), forget it once everything is saved."""
    try:
        result = save_draft(case, by=request.user, expected_version=version, **values)
    except (Conflict, ValidationError):
        keep_unsaved_input(case, request.POST, version=version)
        raise
    keep_unsaved_input(case, None if complete else request.POST, version=result.case.version)
    return result


def _render_case_form(
    request,
    case,
    bundle,
    *,
    status=200,
    conflict=None,
    findings_error="",
    version=None,
    unsaved=None,
):
    """The case page. `version`: the one the form carries — the posted one when nothing
    was saved (so that a stale form stays stale), else the case's."""
    citation = _citation_with_authors(pk=case.citation_id)
    pending = list(
        TermProposal.objects.pending().filter(case=case).select_related("marker").order_by("pk")
    )
    duplicates = find_duplicates(case, user=request.user)
    linked = set(case.other_citations.values_list("pk", flat=True))
    sent_back = None
    if case.status == workflow.CHANGES_REQUESTED:
        sent_back = (
            CaseEvent.objects.transitions()
            .filter(case=case, to_status=workflow.CHANGES_REQUESTED)
            .select_related("actor")
            .order_by("-created_at", "-pk")
            .first()
        )
    context = {
        "case": case,
        "sent_back": sent_back,
        "citation": citation,
        "bundle": bundle,
        "form": bundle.form,
        "ihc": bundle.ihc,
        "fusions": bundle.fusions,
        "molecular": bundle.molecular,
        "treatments": bundle.treatments,
        "events": bundle.events,
        "vocabularies": {
            name: [vocabulary.option(row) for row in vocabulary.suggest("", limit=400)]
            for name, vocabulary in bundle.vocabularies.items()
        },
        "pending": pending,
        "duplicates": duplicates,
        "linked": linked,
        "missing": missing_for_submission(case, pending=pending, has_rows=bundle.saved_rows),
        "conflict": conflict,
        "form_version": version or case.version,
        "findings_error": findings_error,
        "autosave_seconds": AUTOSAVE_SECONDS,
        "unsaved": unsaved,
        "still_to_correct": bundle.still_to_correct() if bundle.data is not None else [],
        "can_discard": case.status == workflow.DRAFT and not case.submitted_at,
    }
    return render(request, "curation/curate/case_form.html", context, status=status)


@curator_required
@require_POST
def case_autosave(request, pk: int):
    """The periodic autosave (static/js/curate.js): the same save, answered in JSON."""
    case = own_case(request, pk)
    if case.status not in workflow.EDITABLE:
        return JsonResponse(
            {"status": "readonly", "message": "This case is no longer a draft: not saved."},
            status=409,
        )
    version = _posted_version(request)
    if version is None:
        return JsonResponse(
            {"status": "invalid", "message": "No version: reload the page."}, status=400
        )
    bundle = CaseForms(case, request.POST)
    complete = bundle.is_valid()
    try:
        result = _save(request, case, bundle.values(), version, complete=complete)
    except Conflict as exc:
        return JsonResponse(
            {
                "status": "conflict",
                "version": exc.current_version,
                "message": "Someone saved this case elsewhere (version "
                f"{exc.current_version}). Autosave stopped: press Save to compare both versions.",
            },
            status=409,
        )
    except (NotEditable, ValidationError) as exc:
        return JsonResponse({"status": "invalid", "message": "Not autosaved: " + _message(exc)})
    saved_at = timezone.localtime().strftime("%H:%M:%S")
    if not complete:
        to_correct = bundle.still_to_correct()
        return JsonResponse(
            {
                "status": "partial",
                "version": result.case.version,
                "to_correct": to_correct,
                "message": f"Autosaved what is valid at {saved_at} (version "
                f"{result.case.version}). Still to correct (your text is kept): "
                + " ".join(to_correct),
            }
        )
    return JsonResponse(
        {
            "status": "saved" if result.changed else "unchanged",
            "version": result.case.version,
            "message": (
                f"Autosaved at {saved_at} (version {result.case.version})."
                if result.changed
                else f"All changes saved (version {result.case.version})."
            ),
        }
    )


@curator_required
@require_POST
def case_link_report(request, pk: int):
    """Link this case to another report of the same patient (other_citations)."""
    case = own_case(request, pk)
    other_pk = request.POST.get("other_case", "")
    if not other_pk.isdigit():
        raise Http404("No such case.")
    other = get_object_or_404(
        Case.objects.visible_to(request.user).select_related("citation"), pk=int(other_pk)
    )
    version = _posted_version(request)
    try:
        link_other_report(case, other.citation, by=request.user, expected_version=version or 0)
    except Conflict:
        messages.error(
            request,
            "The case changed since this page was loaded: nothing was linked. Save your "
            "changes, then link again.",
        )
    except (CaseActionError, ValidationError) as exc:
        messages.error(request, _message(exc))
    else:
        messages.success(
            request,
            f"Linked to {other.citation} as another report of the same patient "
            f"({other.reference}).",
        )
    return redirect("curation:case_edit", pk=case.pk)


@curator_required
@require_POST
def report_same_patient_view(request, pmid: int):
    """“This paper reports case N's patient again”: a revision of published case N with
    the paper among its other reports (the patient stays one case)."""
    from curation.actions.review import report_same_patient

    citation = get_object_or_404(Citation, pmid=pmid)
    number = "".join(ch for ch in request.POST.get("case", "") if ch.isdigit())[:9]
    case = (
        Case.objects.published().filter(pk=int(number), revision_of__isnull=True).first()
        if number
        else None
    )
    if case is None:
        messages.error(
            request,
            f"“{request.POST.get('case', '')[:20]}” is not the number of a published case: "
            "give its RareDerm number, e.g. 7.",
        )
        return redirect("curation:report", pmid=pmid)
    try:
        revision = report_same_patient(case, citation, by=request.user)
    except (CaseActionError, ValidationError) as exc:
        messages.error(request, _message(exc))
        return redirect("curation:report", pmid=pmid)
    messages.success(
        request,
        f"PMID {pmid} is added to a revision of {case.number} as another report of the "
        "same patient: check the record against this paper, then submit it for review.",
    )
    return redirect("curation:case_edit", pk=revision.pk)


@curator_required
@require_POST
def case_discard(request, pk: int):
    case = own_case(request, pk)
    pmid = case.citation.pmid
    try:
        discard_draft(case, by=request.user, expected_version=_posted_version(request) or 0)
    except Conflict:
        messages.error(request, "The case changed since this page was loaded: it was kept.")
        return redirect("curation:case_edit", pk=case.pk)
    except CaseActionError as exc:
        messages.error(request, str(exc))
        return redirect("curation:case_edit", pk=case.pk)
    messages.success(request, "The draft was discarded.")
    return redirect("curation:report", pmid=pmid)


# -- autocomplete and gene resolution ---------------------------------------------------


@curator_required
@require_GET
def autocomplete(request, vocabulary: str):
    """Suggestions for a vocabulary field: <option>s for a <datalist>, or JSON."""
    if vocabulary not in AUTOCOMPLETE:
        raise Http404("No such vocabulary.")
    q = request.GET.get("q")
    if q is None:
        # htmx sends the input under its own name (final_diagnosis, ihc-0-marker...).
        q = next((v for k, v in request.GET.items() if k not in ("format",)), "")
    q = q[:100]
    vocab = AUTOCOMPLETE[vocabulary]()
    rows = vocab.suggest(q, limit=SUGGESTIONS)
    if request.GET.get("format") == "json":
        return JsonResponse(
            {"results": [{"id": row.pk, "label": vocab.label(row)} for row in rows]}
        )
    return render(
        request,
        "curation/curate/_options.html",
        {"options": [vocab.option(row) for row in rows]},
    )


_PREFIX_RE = re.compile(r"^[a-z_]{1,20}-\d{1,3}$")


@curator_required
@require_GET
def fusion_resolve(request):
    """How a fusion as written resolves, shown under its input while the curator types."""
    from curation.forms import FusionRowForm

    prefix = request.GET.get("prefix", "")
    if not _PREFIX_RE.match(prefix):
        return HttpResponseBadRequest("Bad row prefix.", content_type="text/plain")
    form = FusionRowForm(
        {f"{prefix}-{k}": v for k, v in _row_params(request, prefix).items()}, prefix=prefix
    )
    form.is_valid()
    return render(request, "curation/curate/_fusion_resolution.html", {"row": form, "live": True})


def _row_params(request, prefix: str) -> dict:
    names = (
        "written",
        "five_prime_choice",
        "three_prime_choice",
        "gene_propose",
        "gene_code",
        "gene_source",
    )
    values = {name: request.GET.get(f"{prefix}-{name}", "")[:500] for name in names}
    return {name: value for name, value in values.items() if value or name == "written"}


# -- drafts ----------------------------------------------------------------------------


@curator_required
@require_GET
def my_drafts(request):
    """The curator's unfinished work: drafts, cases sent back or rejected (with why), waiting."""
    cases = list(
        Case.objects.filter(created_by=request.user)
        .exclude(status=workflow.PUBLISHED)
        .select_related("citation", "final_diagnosis", "topography")
        .prefetch_related(_case_rows())
        .annotate(ihc_count=Count("ihc_results"))
        .order_by("-updated_at", "-pk")[:500]
    )
    # The decision that sent each case back or rejected it, with the reviewer's words.
    decided = [c.pk for c in cases if c.status in (workflow.CHANGES_REQUESTED, workflow.REJECTED)]
    decisions: dict[int, CaseEvent] = {}
    for event in (
        CaseEvent.objects.transitions()
        .filter(case_id__in=decided, from_status=workflow.SUBMITTED)
        .select_related("actor")
        .order_by("created_at", "pk")
    ):
        decisions[event.case_id] = event  # the latest wins
    for case in cases:
        case.decision = decisions.get(case.pk)
    return render(
        request,
        "curation/curate/my_drafts.html",
        {
            "editable": [c for c in cases if c.status in workflow.EDITABLE],
            "waiting": [c for c in cases if c.status == workflow.SUBMITTED],
            "rejected": [c for c in cases if c.status == workflow.REJECTED],
        },
    )
