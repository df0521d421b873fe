"""Readers flag an error in a published case; curators work the flag queue (issue 17).

/cases/<id>/flag/      the public form (also on the case page): message, optional e-mail
/review/flags/         open flags, oldest first (curators)
/review/flags/<id>/    POST: start a revision, or dismiss with a reason
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from accounts.throttle import client_address
from curation.actions.cases import CaseActionError
from curation.actions.flags import (
    MAX_MESSAGE,
    FlagRefused,
    FlagThrottled,
    dismiss_flag,
    flag_case,
    may_resolve,
    resolve_flag_with_revision,
)
from curation.models import Case, CaseFlag


class FlagForm(forms.Form):
    message = forms.CharField(
        label="What looks wrong?",
        widget=forms.Textarea(attrs={"rows": 3, "maxlength": MAX_MESSAGE}),
        help_text="e.g. “The age is 48 in the paper, not 38 (Table 1).”",
        required=False,
    )
    email = forms.CharField(
        label="Your e-mail (optional)",
        required=False,
        help_text="Only to tell you what was done; never shown.",
        widget=forms.EmailInput,
    )
    # A field people do not see (hidden by CSS, skipped by keyboard and screen
    # readers): a form that fills it in is a robot's.
    website = forms.CharField(required=False, label="Leave this empty")


def _published(pk: int) -> Case:
    case = Case.objects.published().filter(pk=pk, revision_of__isnull=True).first()
    if case is None:
        raise Http404("No such published case.")
    return case


def case_flag(request, pk: int):
    case = _published(pk)
    form = FlagForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        if data["website"]:
            # A robot: it is thanked like anyone, and nothing is stored.
            messages.success(request, "Thank you: a curator will look at your report.")
            return redirect(case.get_absolute_url())
        try:
            flag_case(
                case,
                message=data["message"],
                email=data["email"],
                address=client_address(request),
            )
        except FlagRefused as refused:
            for field, text in refused.errors.items():
                form.add_error(None if field == "__all__" else field, text)
            status = 429 if isinstance(refused, FlagThrottled) else 400
        else:
            messages.success(request, "Thank you: a curator will look at your report.")
            return redirect(case.get_absolute_url())
    return render(request, "curation/flag.html", {"case": case, "form": form}, status=status)


@login_required
def flag_queue(request):
    if not may_resolve(request.user):
        raise PermissionDenied("This page is for curators.")
    flags = (
        CaseFlag.objects.open()
        .select_related("case", "case__final_diagnosis")
        .order_by("created_at", "pk")
    )
    return render(request, "curation/review/flags.html", {"flags": flags})


@login_required
@require_POST
def flag_resolve(request, pk: int):
    flag = get_object_or_404(CaseFlag, pk=pk)
    if not may_resolve(request.user):
        raise PermissionDenied("Only a curator may resolve a flag.")
    try:
        if request.POST.get("action") == "revise":
            revision = resolve_flag_with_revision(flag, by=request.user)
            messages.success(
                request,
                f"Flag resolved: correct the case in the revision ({revision.number}).",
            )
            if revision.created_by_id == request.user.pk:
                return redirect(reverse("curation:case_edit", args=[revision.pk]))
            return redirect(reverse("curation:flag_queue"))
        if request.POST.get("action") == "dismiss":
            dismiss_flag(flag, by=request.user, reason=request.POST.get("reason", ""))
            messages.success(request, "Flag dismissed; the flagger is told why.")
            return redirect(reverse("curation:flag_queue"))
        messages.error(request, "Choose to start a revision or to dismiss the flag.")
    except (FlagRefused, CaseActionError) as refused:
        messages.error(request, str(refused))
    return redirect(reverse("curation:flag_queue"))
