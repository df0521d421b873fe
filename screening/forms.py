from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model

from accounts.roles import CURATOR, REVIEWER
from screening.models import Candidate, ExclusionReason


def curators():
    """Everyone who may curate: curators and reviewers, by user name."""
    return (
        get_user_model()
        .objects.filter(is_active=True, groups__name__in=[CURATOR, REVIEWER])
        .distinct()
        .order_by("username")
    )


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(
        choices=[c for c in Candidate.Status.choices if c[0] != Candidate.Status.NEW],
        error_messages={"required": "Choose include, exclude or maybe."},
    )
    reason = forms.ModelChoiceField(
        queryset=ExclusionReason.objects.filter(active=True).order_by("position", "label"),
        required=False,
        empty_label="— reason to exclude —",
    )
    assign_to = forms.ModelChoiceField(
        queryset=curators(), required=False, empty_label="— curator (you) —"
    )
    note = forms.CharField(required=False, max_length=2000)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assign_to"].queryset = curators()
        self.fields["assign_to"].label_from_instance = lambda user: user.get_username()

    def clean(self):
        data = super().clean()
        if data.get("decision") == Candidate.Status.EXCLUDED and not data.get("reason"):
            self.add_error("reason", "Say why the paper is excluded.")
        return data


class SuggestForm(forms.Form):
    identifier = forms.CharField(
        label="PMID, DOI or link",
        max_length=500,
        help_text="e.g. 35560368, 10.1111/cup.14261 or https://pubmed.ncbi.nlm.nih.gov/35560368/",
        error_messages={"required": "Enter the paper's PMID, DOI or a link to it."},
    )
    note = forms.CharField(
        label="Why it matters (optional)",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="e.g. “a cutaneous IMT with a new ALK partner”.",
    )
    email = forms.CharField(
        label="Your e-mail (optional)",
        required=False,
        help_text="Only to ask you about the paper; never shown.",
        widget=forms.EmailInput,
    )
    # A field people do not see (hidden, skipped by keyboard and screen readers):
    # a form that fills it in is a robot's.
    website = forms.CharField(required=False, label="Leave this empty")
