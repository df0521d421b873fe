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
