"""Reviewers' page of saved PubMed searches (/citations/saved-searches/): list, create, edit,
enable or disable. Every write goes through citations.actions.searches, which asks PubMed
first, so a query NCBI rejects is refused with NCBI's message when it is saved."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from accounts.roles import REVIEWER, has_role
from citations.actions.searches import (
    CONFIRM_ABOVE,
    add_saved_search,
    change_saved_search,
    set_saved_search_enabled,
)
from citations.models import SavedSearch


class SavedSearchForm(forms.Form):
    name = forms.CharField(max_length=100)
    query = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="PubMed syntax; PubMed is asked when you save, and its complaints shown.",
    )
    schedule = forms.ChoiceField(choices=SavedSearch.Schedule.choices)
    confirm_large = forms.BooleanField(
        required=False,
        label=f"Save it even if it matches more than {CONFIRM_ABOVE:,} records",
    )


def _reviewer(request) -> None:
    if not has_role(request.user, REVIEWER):
        raise PermissionDenied("Only reviewers manage saved searches.")


def _save(request, form: SavedSearchForm, search: SavedSearch | None):
    """Run the action; a ValidationError lands on the form's fields (NCBI's words)."""
    data = form.cleaned_data
    try:
        if search is None:
            return add_saved_search(
                data["name"],
                data["query"],
                schedule=data["schedule"],
                confirm_large=data["confirm_large"],
                by=request.user,
            )
        return change_saved_search(
            search,
            name=data["name"],
            query=data["query"],
            schedule=data["schedule"],
            confirm_large=data["confirm_large"],
        )
    except ValidationError as exc:
        form.add_error(None, exc)
        return None


@login_required
@require_http_methods(["GET", "POST"])
def saved_search_list(request):
    """The saved searches, their last run, and a form to add one."""
    _reviewer(request)
    form = SavedSearchForm(request.POST or None, initial={"schedule": "weekly"})
    if request.method == "POST" and form.is_valid():
        search = _save(request, form, None)
        if search is not None:
            messages.success(request, f"Saved search “{search.name}” saved; PubMed took it.")
            return redirect("citations:saved_searches")
    searches = SavedSearch.objects.annotate(run_count=Count("runs")).order_by("name")
    return render(
        request,
        "citations/saved_searches.html",
        {"searches": searches, "form": form},
        status=400 if form.errors else 200,
    )


@login_required
@require_http_methods(["GET", "POST"])
def saved_search_edit(request, pk: int):
    _reviewer(request)
    search = get_object_or_404(SavedSearch, pk=pk)
    form = SavedSearchForm(
        request.POST or None,
        initial={"name": search.name, "query": search.query, "schedule": search.schedule},
    )
    if request.method == "POST" and form.is_valid() and _save(request, form, search):
        messages.success(request, f"Saved search “{search.name}” changed.")
        return redirect("citations:saved_searches")
    return render(
        request,
        "citations/saved_search_edit.html",
        {"search": search, "form": form},
        status=400 if form.errors else 200,
    )


@login_required
@require_POST
def saved_search_enabled(request, pk: int):
    _reviewer(request)
    search = get_object_or_404(SavedSearch, pk=pk)
    enabled = request.POST.get("enabled") == "1"
    set_saved_search_enabled(search, enabled)
    state = "enabled: it runs when due" if enabled else "disabled: it does not run"
    messages.success(request, f"Saved search “{search.name}” {state}.")
    return redirect("citations:saved_searches")
