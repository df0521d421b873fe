"""Review pages: the queue, a case's review page, comments, revisions and the activity log."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django import forms
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from accounts.roles import ADMIN, CURATOR, REVIEWER, has_role
from citations.models import Author
from config.csvfile import csv_download, csv_lines
from curation import diff, permissions, workflow
from curation.actions.cases import CaseActionError
from curation.actions.review import (
    COMMENT_MAX_LENGTH,
    AlreadyDecided,
    RevisionExists,
    approve_case,
    comment_on_case,
    reject_case,
    request_changes,
    start_revision,
)
from curation.actions.submission import find_duplicates
from curation.models import (
    Case,
    CaseEvent,
    Diagnosis,
    IHCResult,
    VocabularyEdit,
)
from curation.search.related import FUSIONS

QUEUE_PAGE_SIZE = 50
ACTIVITY_PAGE_SIZE = 100

_IHC = Prefetch(
    "ihc_results",
    queryset=IHCResult.objects.select_related("marker").order_by("position", "pk"),
)


def _require(request, role: str) -> None:
    if not has_role(request.user, role):
        raise PermissionDenied(f"This page is for {role}s.")


# -- the queue -------------------------------------------------------------------


class QueueFilter(forms.Form):
    diagnosis = forms.ModelChoiceField(
        queryset=Diagnosis.objects.none(), required=False, empty_label="any diagnosis"
    )
    submitter = forms.ModelChoiceField(
        queryset=get_user_model().objects.none(), required=False, empty_label="anyone"
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        waiting = Case.objects.filter(status=workflow.SUBMITTED)
        self.fields["diagnosis"].queryset = Diagnosis.objects.filter(
            pk__in=waiting.values("final_diagnosis_id")
        ).order_by("name")
        self.fields["submitter"].queryset = (
            get_user_model()
            .objects.filter(pk__in=waiting.values("created_by_id"))
            .order_by("username")
        )
        self.fields["submitter"].label_from_instance = lambda u: u.get_username()


@login_required
def review_queue(request):
    """Submitted cases and revisions, oldest first: what reviewers have to decide."""
    _require(request, REVIEWER)
    form = QueueFilter(request.GET or None)
    cases = (
        Case.objects.filter(status=workflow.SUBMITTED)
        .select_related("citation", "final_diagnosis", "created_by", "topography")
        .prefetch_related(FUSIONS)
        .order_by("submitted_at", "pk")
    )
    if form.is_bound and form.is_valid():
        if form.cleaned_data["diagnosis"]:
            cases = cases.filter(final_diagnosis=form.cleaned_data["diagnosis"])
        if form.cleaned_data["submitter"]:
            cases = cases.filter(created_by=form.cleaned_data["submitter"])
    elif form.is_bound:
        cases = cases.none()
    page = Paginator(cases, QUEUE_PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "curation/review/queue.html",
        {"form": form, "page": page, "now": timezone.now(), "query": query.urlencode()},
    )


# -- the review page ---------------------------------------------------------------


class DecisionForm(forms.Form):
    DECISIONS = [
        ("approve", "Approve and publish"),
        ("request_changes", "Request changes"),
        ("reject", "Reject"),
    ]
    decision = forms.ChoiceField(choices=DECISIONS, widget=forms.RadioSelect)
    comment = forms.CharField(
        required=False,
        max_length=COMMENT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Required to request changes or reject: say what and why.",
    )
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    diagnosis_review = forms.ChoiceField(
        label="The current diagnosis (WHO 5th edition) the curator assigned",
        required=False,
        choices=[("", "— not assessed"), *Case.DiagnosisReview.choices],
    )
    diagnosis_review_comment = forms.CharField(
        label="Why (shown on the case page)",
        required=False,
        max_length=2_000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def clean(self):
        data = super().clean()
        if (
            data.get("decision") in ("request_changes", "reject")
            and not (data.get("comment") or "").strip()
        ):
            self.add_error("comment", "Say why: a comment is required for this decision.")
        if (
            data.get("diagnosis_review") == Case.DiagnosisReview.DISAGREES
            and not (data.get("diagnosis_review_comment") or "").strip()
        ):
            self.add_error(
                "diagnosis_review_comment", "Say why you do not agree with the diagnosis."
            )
        return data


_DECIDE = {"approve": approve_case, "request_changes": request_changes, "reject": reject_case}
_DONE = {
    "approve": "approved and published",
    "request_changes": "sent back to its curator with your comment",
    "reject": "rejected",
}


def _case_for_review(request, pk: int) -> Case:
    _require(request, REVIEWER)
    case = (
        Case.objects.visible_to(request.user)
        .with_record()
        .prefetch_related(
            Prefetch("citation__authors", queryset=Author.objects.order_by("position")),
            "other_citations",
        )
        .filter(pk=pk)
        .first()
    )
    if case is None:
        raise Http404("No such case.")
    return case


def _applied_revision_redirect(request, pk: int):
    """A revision that was approved is gone: say so and show the case it was applied to."""
    gone = Case.history.filter(id=pk, history_type="-").order_by("-history_date").first()
    if gone is None or not gone.revision_of_id:
        raise Http404("No such case.")
    message = (
        f"This revision has already been decided: it was approved and applied to case "
        f"{gone.revision_of_id}."
    )
    if request.method == "POST":
        messages.error(request, message + " Nothing was changed.")
    else:
        messages.info(request, message)
    return redirect("curation:review_case", pk=gone.revision_of_id)


@login_required
def review_case(request, pk: int):
    """The case beside its abstract; for a revision, what it changes; the decision form."""
    try:
        case = _case_for_review(request, pk)
    except Http404:
        return _applied_revision_redirect(request, pk)
    can_decide = permissions.may_decide(request.user, case)
    form = DecisionForm(initial={"version": case.version})
    if request.method == "POST":
        form = DecisionForm(request.POST)
        if not can_decide and case.status != workflow.SUBMITTED:
            messages.error(
                request,
                f"This case has already been decided: it is now "
                f"“{case.get_status_display().lower()}”. Nothing was changed.",
            )
            return redirect("curation:review_case", pk=case.pk)
        if form.is_valid():
            decision = form.cleaned_data["decision"]
            try:
                extra = {}
                if decision == "approve":
                    extra = {
                        "diagnosis_review": form.cleaned_data["diagnosis_review"],
                        "diagnosis_review_comment": form.cleaned_data["diagnosis_review_comment"],
                    }
                decided = _DECIDE[decision](
                    case,
                    request.user,
                    form.cleaned_data["comment"],
                    expected_version=form.cleaned_data["version"],
                    **extra,
                )
            except AlreadyDecided as exc:
                messages.error(request, str(exc))
                if not Case.objects.filter(pk=case.pk).exists():
                    return redirect("curation:review_queue")
                return redirect("curation:review_case", pk=case.pk)
            except CaseActionError as exc:  # a stale page (Conflict)
                form.add_error(None, str(exc))
            except workflow.TransitionError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, f"{decided} {_DONE[decision]}.")
                return redirect("curation:review_queue")
    changes = diff.revision_changes(case) if case.revision_of_id else None
    from curation.views.terms import families, pending_for

    proposals = list(pending_for(case))
    return render(
        request,
        "curation/review/case.html",
        {
            "proposals": proposals,
            "families": families() if proposals else [],
            "case": case,
            "ihc": list(case.ihc_results.all()),
            "fusions": list(case.fusions.all()),
            "figures": list(case.figures.select_related("marker").order_by("position", "pk")),
            "form": form,
            "can_decide": can_decide,
            "own_case": permissions.is_author(request.user, case),
            "diff": changes,
            "duplicates": find_duplicates(case, user=request.user),
        },
        status=400 if request.method == "POST" else 200,
    )


# -- comments and revisions ----------------------------------------------------------


def _back(request, default: str) -> str:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


@login_required
@require_POST
def case_comment(request, pk: int):
    """Add a comment to a case's timeline (its curator and reviewers only)."""
    case = Case.objects.visible_to(request.user).filter(pk=pk).first()
    if case is None:
        raise Http404("No such case.")
    if case.status != workflow.DRAFT and not permissions.may_comment(request.user, case):
        raise PermissionDenied("Only the case's curator and reviewers may comment on it.")
    try:
        comment_on_case(case, request.user, request.POST.get("comment", ""))
    except CaseActionError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, "Your comment is on the timeline.")
    return redirect(_back(request, case.get_absolute_url()) + "#timeline")


def _edit_url(case: Case) -> str:
    """The curator's edit form when it exists (the curator workflow), else the case page."""
    for name in ("curation:case_edit", "curation:edit_case"):
        try:
            return reverse(name, args=[case.pk])
        except NoReverseMatch:
            continue
    return case.get_absolute_url()


@login_required
@require_POST
def case_revise(request, pk: int):
    """Start a revision of a published case (a curator proposes a change)."""
    _require(request, CURATOR)
    case = Case.objects.published().filter(pk=pk, revision_of__isnull=True).first()
    if case is None:
        raise Http404("No such published case.")
    try:
        revision = start_revision(case, request.user)
    except RevisionExists as exc:
        messages.info(request, str(exc))
        if exc.revision.created_by_id == request.user.pk:
            return redirect(_edit_url(exc.revision))
        return redirect(case.get_absolute_url())
    except CaseActionError as exc:
        messages.error(request, str(exc))
        return redirect(case.get_absolute_url())
    messages.success(
        request,
        f"Revision started ({revision.number}). The public keeps seeing {case.number} "
        "until a reviewer approves your changes.",
    )
    return redirect(_edit_url(revision))


# -- the activity log ----------------------------------------------------------------


class ActivityFilter(forms.Form):
    STATUS_CHOICES = [("", "any status"), ("comment", "comments only"), *CaseEvent.STATUS_CHOICES]

    actor = forms.CharField(required=False, max_length=150, label="Who (username)")
    status = forms.ChoiceField(choices=STATUS_CHOICES, required=False, label="New status")
    date_from = forms.DateField(
        required=False, label="From", widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        required=False, label="To", widget=forms.DateInput(attrs={"type": "date"})
    )

    def clean(self):
        data = super().clean()
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            raise forms.ValidationError("“From” is after “To”.")
        return data


def _by_actor_and_date(queryset, data: dict):
    """The activity filters that events and vocabulary edits share: who, from, to."""
    if data.get("actor"):
        queryset = queryset.filter(actor__username__iexact=data["actor"].strip())
    zone = timezone.get_current_timezone()
    if data.get("date_from"):
        queryset = queryset.filter(
            created_at__gte=datetime.combine(data["date_from"], time.min, tzinfo=zone)
        )
    if data.get("date_to"):
        queryset = queryset.filter(
            created_at__lt=datetime.combine(data["date_to"] + timedelta(days=1), time.min, zone)
        )
    return queryset


def _activity_filter(request) -> tuple[ActivityFilter, dict | None]:
    """The filter form and its values (None when they are not valid: show nothing)."""
    _require(request, ADMIN)
    form = ActivityFilter(request.GET or None)
    if form.is_bound and not form.is_valid():
        return form, None
    return form, (form.cleaned_data if form.is_bound else {})


def _case_events(data: dict | None):
    """Case events under the activity filters, newest first."""
    events = CaseEvent.objects.select_related("actor", "case").order_by("-created_at", "-pk")
    if data is None:
        return events.none()
    if data.get("status") == "comment":
        events = events.comments()
    elif data.get("status"):
        events = events.transitions().filter(to_status=data["status"])
    return _by_actor_and_date(events, data)


def _vocabulary_edits(data: dict | None):
    """Vocabulary edits under the same filters (a case status filter leaves them out)."""
    edits = VocabularyEdit.objects.select_related("actor")
    if data is None or data.get("status"):
        return edits.none()
    return _by_actor_and_date(edits, data)


@login_required
def activity(request):
    """Every event of every case, newest first, for admins."""
    form, data = _activity_filter(request)
    page = Paginator(_case_events(data), ACTIVITY_PAGE_SIZE).get_page(request.GET.get("page"))
    edits = Paginator(_vocabulary_edits(data), ACTIVITY_PAGE_SIZE).get_page(
        request.GET.get("edits_page")
    )
    query = request.GET.copy()
    query.pop("page", None)
    query.pop("edits_page", None)
    return render(
        request,
        "curation/review/activity.html",
        {"form": form, "page": page, "edits": edits, "query": query.urlencode()},
    )


CSV_HEADER = ["when", "case", "who", "role", "from", "to", "kind", "comment"]


@login_required
def activity_csv(request):
    """The filtered activity log as CSV, streamed row by row (any size)."""
    _form, data = _activity_filter(request)
    events = _case_events(data)
    rows = (
        [
            e.created_at.isoformat(),
            e.case_id,
            e.actor.get_username() if e.actor_id else "",
            e.role,
            e.from_status,
            e.to_status,
            e.kind,
            e.comment,
        ]
        for e in events.iterator(chunk_size=1000)
    )
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    return csv_download(csv_lines(CSV_HEADER, rows), f"rarederm-activity-{stamp}.csv")
