"""Proposed terms: the reviewer's list, and the decision on one (accept or map).

A curator proposes a missing diagnosis, marker, clone or gene from the case
form (curation.forms); the case keeps it as a pending value. Here a reviewer
accepts it into the vocabulary or maps it to an existing term, and the case
takes the term (curation.actions.proposals).
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from accounts.roles import REVIEWER, has_role
from curation.actions.proposals import ProposalRefused, accept_proposal, map_proposal
from curation.forms.fields import Diagnoses, Markers, _fold
from curation.models import DiagnosisFamily, TermProposal, resolve_gene

MAX_SHOWN = 200


def _reviewer(request) -> None:
    if not has_role(request.user, REVIEWER):
        raise PermissionDenied("Only reviewers decide on proposed terms.")


def families() -> list[DiagnosisFamily]:
    return list(
        DiagnosisFamily.objects.select_related("category").order_by(
            "category__position", "position"
        )
    )


def pending_for(case=None):
    proposals = TermProposal.objects.pending().select_related(
        "case", "marker", "proposed_by", "case__citation"
    )
    if case is not None:
        proposals = proposals.filter(case=case)
    return proposals.order_by("created_at", "pk")


@login_required
@require_GET
def term_queue(request):
    _reviewer(request)
    proposals = list(pending_for()[:MAX_SHOWN])
    return render(
        request,
        "curation/review/terms.html",
        {"proposals": proposals, "families": families(), "shown": MAX_SHOWN},
    )


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(choices=[("accept", "accept"), ("map", "map")])
    name = forms.CharField(required=False, max_length=200)
    code = forms.CharField(required=False, max_length=40)
    family = forms.ModelChoiceField(queryset=DiagnosisFamily.objects.all(), required=False)
    gene = forms.CharField(required=False, max_length=40)
    term = forms.CharField(required=False, max_length=300)


@login_required
@require_POST
def term_decide(request, pk: int):
    _reviewer(request)
    proposal = get_object_or_404(TermProposal.objects.select_related("marker"), pk=pk)
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
        back = ""
    form = DecisionForm(request.POST)
    if not form.is_valid():
        messages.error(request, "That decision could not be read: nothing was changed.")
        return redirect(back or "curation:term_queue")
    data = form.cleaned_data
    try:
        if data["decision"] == "accept":
            gene = None
            if proposal.kind == TermProposal.Kind.MARKER and data["gene"]:
                gene = resolve_gene(data["gene"]).gene
                if gene is None:
                    raise ProposalRefused(f"“{data['gene']}” is not a gene RareDerm knows.")
            decided = accept_proposal(
                proposal,
                by=request.user,
                name=data["name"],
                code=data["code"],
                family=data["family"],
                gene=gene,
                symbol=data["name"],
            )
        else:
            decided = map_proposal(
                proposal, by=request.user, term=_existing(proposal, data["term"])
            )
    except ProposalRefused as exc:
        messages.error(request, f"Not decided: {exc}")
        return redirect(back or "curation:term_queue")
    messages.success(
        request,
        f"“{decided.text}” {decided.get_status_display().lower()}: {decided.resolved_term}; "
        f"case {decided.case_id} updated.",
    )
    return redirect(back or "curation:term_queue")


def _existing(proposal: TermProposal, text: str):
    """The existing term a reviewer typed, in the proposal's vocabulary; refused if none."""
    text = " ".join(text.split())
    if not text:
        raise ProposalRefused("Type the existing term to map the proposal to.")
    if proposal.kind == TermProposal.Kind.DIAGNOSIS:
        term = Diagnoses().find(text)
    elif proposal.kind == TermProposal.Kind.MARKER:
        term = Markers().find(text)
    elif proposal.kind == TermProposal.Kind.CLONE:
        term = next(
            (c for c in proposal.marker.clones.all() if _fold(c.name) == _fold(text)), None
        )
    else:
        term = resolve_gene(text).gene
    if term is None:
        raise ProposalRefused(
            f"“{text[:80]}” is not a {proposal.get_kind_display().lower()} in the vocabulary."
        )
    return term
