"""The case form, and `CaseForms`: the form with its two formsets, validated together.

Forms validate; curation.actions.submission writes. Every field has a bound
(length or range) and a message that says what to type; nothing here is
required for a draft — what a submission needs is checked by
`missing_for_submission`.
"""

from __future__ import annotations

import re
from decimal import Decimal

from django import forms
from django.core.exceptions import ValidationError

from curation.actions.proposals import PendingTerm
from curation.actions.submission import duplicate_label_message
from curation.forms.fields import (
    VOCABULARIES,
    ProposeTerm,
    Vocabulary,
    VocabularyField,
    _choices,
    _model_field,
    _text,
    unknown_text,
)
from curation.forms.rows import FusionFormSet, FusionRowForm, IHCFormSet, IHCRowForm
from curation.models import Case, TermProposal
from curation.models.vocabulary import ICDO_MORPHOLOGY_RE

# Ages above these are typing errors, not patients.
MAX_AGE = {"years": 120, "months": 1_440, "weeks": 6_300, "days": 44_000}
MAX_SIZE_MM = 2_000
MAX_FOLLOW_UP_MONTHS = 1_200


class CaseForm(forms.Form):
    def __init__(self, *args, case: Case, vocabularies: dict[str, Vocabulary], **kwargs):
        super().__init__(*args, **kwargs)
        self.case = case
        diagnoses, sites = vocabularies["diagnosis"], vocabularies["topography"]
        f = self.fields
        f["label"] = _model_field(Case, "label")
        f["label"].widget.attrs["placeholder"] = "e.g. Case 2"
        f["age"] = forms.DecimalField(
            required=False,
            min_value=0,
            max_digits=5,
            decimal_places=1,
            error_messages={"min_value": "An age cannot be negative."},
        )
        f["age_unit"] = forms.ChoiceField(required=False, choices=_choices(Case.AgeUnit.choices))
        f["sex"] = forms.ChoiceField(required=False, choices=_choices(Case.Sex.choices))
        f["topography"] = VocabularyField(
            label="Site (ICD-O-3 topography)", vocabulary=sites, datalist="topography-options"
        )
        f["site_detail"] = _model_field(Case, "site_detail")
        f["laterality"] = forms.ChoiceField(
            required=False, choices=_choices(Case.Laterality.choices)
        )
        f["size_mm"] = forms.DecimalField(
            label="Size (mm)",
            required=False,
            min_value=0,
            max_value=MAX_SIZE_MM,
            max_digits=6,
            decimal_places=1,
            help_text="Greatest dimension.",
            error_messages={
                "min_value": "A size cannot be negative.",
                "max_value": f"At most {MAX_SIZE_MM:,} mm: is the unit right?",
            },
        )
        f["clinical_presentation"] = _text()
        f["duration"] = _model_field(Case, "duration")
        f["clinical_diagnosis"] = _model_field(Case, "clinical_diagnosis")
        f["initial_diagnosis"] = VocabularyField(
            label="Initial diagnosis", vocabulary=diagnoses, datalist="diagnosis-options"
        )
        f["final_diagnosis"] = VocabularyField(
            label="Final diagnosis", vocabulary=diagnoses, datalist="diagnosis-options"
        )
        f["histology"] = _text("Histology (description)", rows=4)
        f["histology_pattern"] = _model_field(Case, "histology_pattern")
        f["cell_type"] = forms.ChoiceField(required=False, choices=_choices(Case.CellType.choices))
        f["inflammatory_background"] = _model_field(Case, "inflammatory_background")
        f["depth"] = forms.ChoiceField(required=False, choices=_choices(Case.Depth.choices))
        f["epidermal_involvement"] = forms.ChoiceField(
            required=False, choices=_choices(Case.EpidermalInvolvement.choices)
        )
        f["treatment"] = _text()
        f["follow_up_months"] = forms.DecimalField(
            label="Follow-up (months)",
            required=False,
            min_value=0,
            max_value=MAX_FOLLOW_UP_MONTHS,
            max_digits=6,
            decimal_places=1,
            error_messages={
                "min_value": "A follow-up cannot be negative.",
                "max_value": f"At most {MAX_FOLLOW_UP_MONTHS:,} months (100 years).",
            },
        )
        f["outcome"] = forms.ChoiceField(required=False, choices=_choices(Case.Outcome.choices))
        f["notes"] = _text()
        self.propose = {
            name: ProposeTerm(
                self,
                name,
                code_label="ICD-O-3.2 code",
                code_help="If you know it, e.g. 8825/1.",
            )
            for name in ("final_diagnosis", "initial_diagnosis")
        }
        self.proposals = []
        for field in f.values():
            if isinstance(field, forms.DecimalField):
                field.widget.attrs.setdefault("step", "0.1")
                field.error_messages.setdefault("max_digits", "That number is too large.")
                field.error_messages["invalid"] = "Enter a number, e.g. 38 or 2.5."

    def clean_label(self):
        label = self.cleaned_data.get("label", "")
        if not self.case.revision_of_id:
            message = duplicate_label_message(
                self.case.citation_id,
                label,
                author_id=self.case.created_by_id,
                exclude_pk=self.case.pk,
            )
            if message:
                raise ValidationError(message, code="duplicate_label")
        return label

    def clean(self):
        data = super().clean()
        age, unit = data.get("age"), data.get("age_unit")
        if age is None and "age" not in self.errors:
            # The unit is preselected (initial_for): without an age it says nothing.
            data["age_unit"] = ""
        elif age is not None:
            if not unit:
                self.add_error(
                    "age_unit", "Say whether the age is in years, months, weeks or days."
                )
            elif age > MAX_AGE[unit]:
                self.add_error(
                    "age", f"An age of {age} {unit} is not plausible (at most {MAX_AGE[unit]:,})."
                )
        if data.get("follow_up_months") is not None and not data.get("outcome"):
            self.add_error("outcome", "Give the outcome at the end of the follow-up.")
        self.proposals = []
        for name, propose in self.propose.items():
            text = unknown_text(self, name)
            if not (text and propose.wanted()):
                continue
            values = propose.values()
            if values["code"] and not re.match(ICDO_MORPHOLOGY_RE, values["code"]):
                self.add_error(
                    f"{name}_code",
                    "An ICD-O-3.2 code is written 8825/1: four digits, a slash, a behaviour "
                    "digit (0, 1, 2, 3, 6 or 9). Leave it empty if you are not sure.",
                )
                continue
            del self._errors[name]
            data[name] = None
            self.proposals.append(
                PendingTerm(TermProposal.Kind.DIAGNOSIS, name, text[:200], **values)
            )
        return data

    @property
    def unknowns(self) -> dict[str, str]:
        """{field: text} of the diagnosis fields whose text is not in the vocabulary, or
        whose proposal box is ticked: where the form offers to propose the term."""
        if not self.is_bound:
            return {}
        out = {}
        for name in self.propose:
            text = unknown_text(self, name)
            if not text and self.data.get(self.add_prefix(f"{name}_propose")):
                text = " ".join(str(self.data.get(self.add_prefix(name), "")).split())
            if text:
                out[name] = text
        return out

    # Fields one rule of clean() reads together: one in error keeps the other unsaved too
    # (an age without its unit, a follow-up without its outcome).
    TOGETHER = (("age", "age_unit"), ("follow_up_months", "outcome"))

    def values(self) -> dict:
        """The cleaned values as the actions take them ("" for blank text, None for blank
        FKs): of the valid fields only, when some are in error (the rest stay unsaved)."""
        proposal_fields = {
            name
            for prefix in self.propose
            for name in self.fields
            if name.startswith(f"{prefix}_")
        }
        unsaved = set(self.errors)
        for group in self.TOGETHER:
            if unsaved.intersection(group):
                unsaved.update(group)
        return {
            k: v
            for k, v in self.cleaned_data.items()
            if k not in proposal_fields and k not in unsaved
        }

    @staticmethod
    def initial_for(case: Case) -> dict:
        from curation.actions.cases import CASE_FIELDS

        initial = {name: _plain_number(getattr(case, name)) for name in CASE_FIELDS}
        # Most ages in case reports are in years: preselected, so typing "38" is enough.
        initial["age_unit"] = case.age_unit or Case.AgeUnit.YEARS
        return initial


def _plain_number(value):
    """38.0 shown as 38 (and 2.5 as 2.5): what the curator typed, not the column's scale."""
    if isinstance(value, Decimal) and value == value.to_integral_value():
        return int(value)
    return value


class CaseForms:
    """The case form and its two formsets, bound or not, validated together."""

    def __init__(self, case: Case, data=None):
        self.case = case
        self.data = data
        self.vocabularies = {name: cls() for name, cls in VOCABULARIES.items()}
        source = case
        ihc, fusions = [], []
        if data is None:
            ihc = list(source.ihc_results.select_related("marker").order_by("position", "pk"))
            fusions = list(
                source.fusions.select_related("five_prime_gene", "three_prime_gene").order_by(
                    "position", "pk"
                )
            )
        # What is saved, when this form shows it (so the page need not count again).
        self.saved_rows = bool(ihc or fusions) if data is None else None
        self.form = CaseForm(
            data,
            case=case,
            vocabularies=self.vocabularies,
            initial=CaseForm.initial_for(source),
        )
        self.ihc = IHCFormSet(
            data,
            prefix="ihc",
            # A bound formset gets no initial: every row with data is then "changed",
            # validated and kept, whatever the management form claims.
            initial=[IHCRowForm.initial_for(r) for r in ihc] if data is None else None,
            form_kwargs={"markers": self.vocabularies["marker"]},
        )
        self.fusions = FusionFormSet(
            data,
            prefix="fusion",
            initial=[FusionRowForm.initial_for(r) for r in fusions] if data is None else None,
        )

    def is_valid(self) -> bool:
        # Validate all three so that every error shows at once.
        results = [self.form.is_valid(), self.ihc.is_valid(), self.fusions.is_valid()]
        return all(results)

    def values(self) -> dict:
        """What save_draft takes: every valid field and row (after is_valid()). A row in
        error is left out; a formset whose management data is wrong leaves its rows as
        saved (None)."""
        ihc_rows = self.ihc.rows()
        fusion_rows = self.fusions.rows()
        proposals = list(self.form.proposals)
        # Rows whose marker or gene is proposed wait in their proposal (with the rest
        # of the row) until a reviewer resolves the term; they are not case rows yet.
        proposals += [r.pop("proposal") for r in ihc_rows + fusion_rows if "proposal" in r]
        return {
            "fields": self.form.values(),
            "ihc_rows": self._rows(self.ihc, [r for r in ihc_rows if "marker" in r]),
            "fusion_rows": self._rows(
                self.fusions, [r for r in fusion_rows if "three_prime_gene" in r]
            ),
            "proposals": proposals,
            "withdrawn": self.withdrawn,
        }

    @staticmethod
    def _rows(formset, rows):
        return None if formset.is_bound and formset.non_form_errors() else rows

    def still_to_correct(self) -> list[str]:
        """What is in error, one line per field or row: "Age: An age cannot be negative."."""
        out = [
            f"{self._label(self.form, name)}: {' '.join(errors)}"
            for name, errors in self.form.errors.items()
        ]
        for title, formset in (("IHC result", self.ihc), ("Fusion", self.fusions)):
            if not formset.is_bound:
                continue
            out += [f"{title}s: {message}" for message in formset.non_form_errors()]
            for number, form in enumerate(formset.forms, start=1):
                for name, errors in form.errors.items():
                    field = self._label(form, name)
                    out.append(f"{title} row {number} ({field}): {' '.join(errors)}")
        return out

    @staticmethod
    def _label(form, name) -> str:
        if name == forms.forms.NON_FIELD_ERRORS or name not in form.fields:
            return "Form"
        return str(form.fields[name].label or name.replace("_", " ").capitalize())

    @property
    def withdrawn(self) -> tuple[int, ...]:
        """Pending proposals the curator ticked "withdraw" for (ids of this case's)."""
        if self.data is None:
            return ()
        ids = [v for v in self.data.getlist("withdraw_proposal") if v.isdigit() and len(v) < 10]
        return tuple(int(v) for v in ids)
