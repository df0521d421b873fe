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

from curation import course, molecular
from curation.actions.proposals import PendingTerm
from curation.actions.submission import duplicate_label_message
from curation.forms.fields import (
    VOCABULARIES,
    ProposeTerm,
    Vocabulary,
    VocabularyField,
    VocabularyListField,
    _choices,
    _model_field,
    _text,
    unknown_text,
)
from curation.forms.rows import (
    EventFormSet,
    EventRowForm,
    FusionFormSet,
    FusionRowForm,
    IHCFormSet,
    IHCRowForm,
    MolecularFormSet,
    MolecularRowForm,
    TreatmentFormSet,
    TreatmentRowForm,
)
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
        f["source_depth"] = forms.ChoiceField(
            label="Curated from",
            required=False,
            choices=_choices(Case.SourceDepth.choices),
            help_text="What you read: the abstract only, the full text, or its figures too.",
        )
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
            label="Final diagnosis (current WHO entity)",
            vocabulary=diagnoses,
            datalist="diagnosis-options",
        )
        f["diagnosis_as_reported"] = _model_field(Case, "diagnosis_as_reported")
        f["reported_diagnosis"] = VocabularyField(
            label="Diagnosis as reported (term)",
            vocabulary=diagnoses,
            datalist="diagnosis-options",
            help_text="The list's term for what the paper called it, e.g. Spitz nevus.",
        )
        f["differentials"] = VocabularyListField(
            label="Differential diagnoses considered",
            vocabulary=diagnoses,
            help_text="Names from the diagnosis list, separated by “;”.",
        )
        f["differentials_as_reported"] = _text(
            "Differential diagnoses as reported", limit=3_000, rows=2
        )
        f["histology"] = _text("Histology (description)", rows=4)
        f["histology_pattern"] = _model_field(Case, "histology_pattern")
        f["cell_type"] = forms.ChoiceField(required=False, choices=_choices(Case.CellType.choices))
        f["inflammatory_background"] = _model_field(Case, "inflammatory_background")
        f["depth"] = forms.ChoiceField(required=False, choices=_choices(Case.Depth.choices))
        f["depth_mm"] = _number("Depth (mm)", 0, 500, max_digits=5)
        f["mitoses"] = _number("Mitoses", 0, 10_000)
        f["mitoses_unit"] = forms.ChoiceField(
            label="Mitoses per", required=False, choices=_choices(Case.MitosesUnit.choices)
        )
        for name in ("necrosis", "lymphovascular_invasion", "perineural_invasion"):
            f[name] = forms.ChoiceField(
                label=name.replace("_", " ").capitalize(),
                required=False,
                choices=[("", "not reported"), *Case.Presence.choices],
            )
        f["focality"] = forms.ChoiceField(
            label="Multifocality", required=False, choices=_choices(Case.Focality.choices)
        )
        f["epidermal_involvement"] = forms.ChoiceField(
            required=False, choices=_choices(Case.EpidermalInvolvement.choices)
        )
        f["treatment"] = _text("Treatment as reported", rows=2)
        f["follow_up_months"] = forms.DecimalField(
            label="Last follow-up (months)",
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
        f["outcome"] = forms.ChoiceField(
            label="Status at last follow-up",
            required=False,
            choices=_choices(Case.Outcome.choices),
        )
        f["notes"] = _text()
        f["grade_lowered_to"] = forms.ChoiceField(
            label="Lower the evidence grade to",
            required=False,
            choices=[("", "— (the grade the findings support)"), *Case.Grade.choices],
            help_text="Only lower: e.g. when the paper's molecular result is doubtful.",
        )
        f["grade_lowered_reason"] = _text("Why the grade is lowered", limit=2_000, rows=2)
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
            self.add_error("outcome", "Give the status at the last follow-up.")
        if data.get("mitoses") is not None and not data.get("mitoses_unit"):
            self.add_error("mitoses_unit", "Say whether the count is per mm² or per 10 HPF.")
        if data.get("grade_lowered_to") and not data.get("grade_lowered_reason"):
            self.add_error("grade_lowered_reason", "Say why the grade is lowered.")
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
    TOGETHER = (
        ("age", "age_unit"),
        ("follow_up_months", "outcome"),
        ("mitoses", "mitoses_unit"),
        ("grade_lowered_to", "grade_lowered_reason"),
    )

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
        initial["differentials"] = list(case.differentials.order_by("name")) if case.pk else []
        return initial


def _number(label, low, high, *, max_digits=6):
    return forms.DecimalField(
        label=label,
        required=False,
        min_value=low,
        max_value=high,
        max_digits=max_digits,
        decimal_places=1,
        error_messages={
            "min_value": f"{label} cannot be negative.",
            "max_value": f"At most {high:,}: is the unit right?",
        },
    )


def _plain_number(value):
    """38.0 shown as 38 (and 2.5 as 2.5): what the curator typed, not the column's scale."""
    if isinstance(value, Decimal) and value == value.to_integral_value():
        return int(value)
    return value


# The formsets of the case form: (kind in curation.actions.cases.ROW_KINDS, formset,
# row form, title in messages, the query of saved rows).
ROW_FORMSETS = (
    ("ihc", IHCFormSet, IHCRowForm, "IHC result", ("marker", "clone_term")),
    ("fusion", FusionFormSet, FusionRowForm, "Fusion", ("five_prime_gene", "three_prime_gene")),
    ("molecular", MolecularFormSet, MolecularRowForm, "Molecular finding", ("gene",)),
    ("treatment", TreatmentFormSet, TreatmentRowForm, "Treatment", ()),
    ("event", EventFormSet, EventRowForm, "Clinical event", ()),
)


class CaseForms:
    """The case form and its formsets (one per row kind), bound or not, validated together."""

    def __init__(self, case: Case, data=None):
        from curation.actions.cases import ROW_KINDS

        self.case = case
        self.data = data
        self.vocabularies = {name: cls() for name, cls in VOCABULARIES.items()}
        saved = {}
        if data is None:
            saved = {
                kind: list(
                    getattr(case, ROW_KINDS[kind].related_name)
                    .select_related(*related)
                    .order_by("position", "pk")
                )
                for kind, _fs, _form, _title, related in ROW_FORMSETS
            }
        # What is saved, when this form shows it (so the page need not count again).
        self.saved_rows = any(saved.values()) if data is None else None
        self.form = CaseForm(
            data,
            case=case,
            vocabularies=self.vocabularies,
            initial=CaseForm.initial_for(case),
        )
        self.formsets = {}
        for kind, formset, row_form, _title, _related in ROW_FORMSETS:
            # A form posted without a kind's rows at all (a script, a form saved before the
            # kind existed) leaves them as saved: the formset stays unbound (rows: None).
            posted = data if data is None or f"{kind}-TOTAL_FORMS" in data else None
            self.formsets[kind] = formset(
                posted,
                prefix=kind,
                # A bound formset gets no initial: every row with data is then "changed",
                # validated and kept, whatever the management form claims.
                initial=[row_form.initial_for(r) for r in saved[kind]] if data is None else None,
                form_kwargs={"markers": self.vocabularies["marker"]} if kind == "ihc" else {},
            )
        self.ihc = self.formsets["ihc"]
        self.fusions = self.formsets["fusion"]
        self.molecular = self.formsets["molecular"]
        self.treatments = self.formsets["treatment"]
        self.events = self.formsets["event"]

    def is_valid(self) -> bool:
        # Validate all so that every error shows at once.
        results = [self.form.is_valid()] + [
            fs.is_valid() for fs in self.formsets.values() if fs.is_bound
        ]
        if self.form.is_bound:
            self._check_timeline()
            self._check_grade()
        return all(results) and not self.form.errors and not self._row_errors()

    def _row_errors(self) -> bool:
        return any(form.errors for fs in self.formsets.values() for form in fs.forms)

    def _kept(self, kind: str) -> list:
        """The row forms of a kind that will be saved (valid, not deleted), in order."""
        formset = self.formsets[kind]
        return [
            form
            for form in formset.forms
            if (form.has_changed() or form in formset.initial_forms)
            and not formset._should_delete_form(form)
            and not form.errors
        ]

    def _check_timeline(self) -> None:
        """The course's one timeline rule (curation.course), each problem by its field."""
        data = self.form.cleaned_data if hasattr(self.form, "cleaned_data") else {}
        rows = {}
        for kind, model_kind in (("event", "event"), ("treatment", "treatment")):
            rows[kind] = [
                (
                    form,
                    course.Timed(
                        form.cleaned_data["kind"],
                        dict(form.fields["kind"].choices).get(form.cleaned_data["kind"], ""),
                        form.cleaned_data.get("months"),
                    ),
                )
                for form in self._kept(model_kind)
            ]
        problems = course.timeline_problems(
            data.get("follow_up_months"),
            data.get("outcome", ""),
            [timed for _form, timed in rows["event"]],
            [timed for _form, timed in rows["treatment"]],
        )
        for problem in problems:
            if isinstance(problem.where, tuple):
                group, index = problem.where
                form = rows[group][index][0]
                form.add_error("months", problem.message)
            elif problem.where not in self.form.errors:
                self.form.add_error(problem.where, problem.message)

    def _check_grade(self) -> None:
        """A curator may lower the grade the findings support, never raise it."""
        lowered = getattr(self.form, "cleaned_data", {}).get("grade_lowered_to", "")
        if not lowered:
            return
        methods = [f.cleaned_data.get("method", "") for f in self._kept("fusion")]
        methods += [f.cleaned_data.get("method", "") for f in self._kept("molecular")]
        results = [f.cleaned_data.get("result", "") for f in self._kept("ihc")]
        supported = molecular.supported_grade(methods, results)
        message = molecular.lowering_error(supported, lowered)
        if message and "grade_lowered_to" not in self.form.errors:
            self.form.add_error("grade_lowered_to", message)

    def values(self) -> dict:
        """What save_draft takes: every valid field and row (after is_valid()). A row in
        error is left out; a formset whose management data is wrong leaves its rows as
        saved (None)."""
        rows = {kind: fs.rows() for kind, fs in self.formsets.items()}
        proposals = list(self.form.proposals)
        # Rows whose marker or gene is proposed wait in their proposal (with the rest
        # of the row) until a reviewer resolves the term; they are not case rows yet.
        proposals += [r.pop("proposal") for r in rows["ihc"] + rows["fusion"] if "proposal" in r]
        rows["ihc"] = [r for r in rows["ihc"] if "marker" in r]
        rows["fusion"] = [r for r in rows["fusion"] if "three_prime_gene" in r]
        return {
            "fields": self.form.values(),
            **{
                f"{kind}_rows": self._rows(self.formsets[kind], kind_rows)
                for kind, kind_rows in rows.items()
            },
            "proposals": proposals,
            "withdrawn": self.withdrawn,
        }

    def _rows(self, formset, rows):
        if self.data is not None and not formset.is_bound:
            return None  # not posted: as saved
        return None if formset.is_bound and formset.non_form_errors() else rows

    def still_to_correct(self) -> list[str]:
        """What is in error, one line per field or row: "Age: An age cannot be negative."."""
        out = [
            f"{self._label(self.form, name)}: {' '.join(errors)}"
            for name, errors in self.form.errors.items()
        ]
        for _kind, _fs, _form, title, _related in ROW_FORMSETS:
            formset = self.formsets[_kind]
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
