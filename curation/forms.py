"""The curator's forms: the case form and its inline rows (IHC results, fusions).

Forms validate; curation.actions.submission writes. Every field has a bound
(length or range) and a message that says what to type; nothing here is
required for a draft — what a submission needs is checked by
`missing_for_submission`.

Vocabulary fields (diagnosis, site, marker) are text inputs backed by a
<datalist>: the curator types or picks, and the text is resolved here to the
vocabulary row (by its label, name, code or a synonym), or refused with a
message next to the field.
"""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator, MaxValueValidator, MinValueValidator
from django.urls import reverse

from curation.actions.cases import FusionResolution, resolve_fusion_text
from curation.models import Case, Diagnosis, FusionFinding, Gene, IHCResult, Marker, Topography
from curation.notation import NotationError, format_fusion

# Free-text fields (histology, treatment, notes...): a case report's longest
# paragraph is a few thousand characters; a pasted 100 KB blob is refused with
# a message rather than stored.
TEXT_LIMIT = 20_000
# Ages above these are typing errors, not patients.
MAX_AGE = {"years": 120, "months": 1_440, "weeks": 6_300, "days": 44_000}
MAX_SIZE_MM = 2_000
MAX_FOLLOW_UP_MONTHS = 1_200
MAX_ROWS = 100  # IHC rows or fusions on one case
VOCABULARY_INPUT_LIMIT = 300


# -- vocabularies -----------------------------------------------------------------


def _fold(text: str) -> str:
    return " ".join(str(text).split()).casefold()


class Vocabulary:
    """One vocabulary loaded once per request, looked up by any name a curator may type."""

    noun = "term"
    key = ""  # the URL name of its autocomplete endpoint's vocabulary
    model: type = None

    def __init__(self):
        self._rows = None
        self._index: dict[str, object] = {}

    @property
    def rows(self) -> list:
        if self._rows is None:
            self._rows = list(self.queryset())
            for row in self._rows:
                for key in self.keys(row):
                    self._index.setdefault(_fold(key), row)
        return self._rows

    def queryset(self):
        return self.model.objects.order_by("name")

    def keys(self, row) -> list[str]:
        return [self.label(row), row.name, *(getattr(row, "synonyms", None) or [])]

    def label(self, row) -> str:
        return str(row)

    def option(self, row) -> tuple[str, str]:
        """(value, hint) of a <datalist> option; the hint lists synonyms, so typing one works."""
        synonyms = [k for k in self.keys(row)[1:] if _fold(k) not in _fold(self.label(row))]
        return self.label(row), "; ".join(dict.fromkeys(synonyms))

    def find(self, text: str):
        self.rows  # noqa: B018 (loads the index)
        return self._index.get(_fold(text))

    def suggest(self, text: str, limit: int = 20) -> list:
        """Rows whose label, name or synonym contains the typed words; label matches first."""
        words = _fold(text).split()[:6]
        hits = []
        for row in self.rows:
            keys = [_fold(key) for key in self.keys(row)]
            if all(any(word in key for key in keys) for word in words):
                starts = any(key.startswith(words[0]) for key in keys) if words else True
                hits.append((not starts, self.label(row).casefold(), row))
        hits.sort(key=lambda hit: hit[:2])
        return [row for *_, row in hits[:limit]]


class Diagnoses(Vocabulary):
    noun = "diagnosis"
    key = "diagnosis"
    model = Diagnosis

    def keys(self, row) -> list[str]:
        return [*super().keys(row), *([row.icdo3_code] if row.icdo3_code else [])]


class Sites(Vocabulary):
    noun = "site"
    key = "topography"
    model = Topography

    def queryset(self):
        return Topography.objects.order_by("code")

    def keys(self, row) -> list[str]:
        return [self.label(row), row.code, row.name]


class Markers(Vocabulary):
    noun = "marker"
    key = "marker"
    model = Marker


VOCABULARIES = {"diagnosis": Diagnoses, "topography": Sites, "marker": Markers}


class VocabularyField(forms.CharField):
    """A vocabulary row chosen by typing its name (or a synonym, or its code)."""

    def __init__(self, *, vocabulary: Vocabulary | None = None, datalist: str = "", **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("max_length", VOCABULARY_INPUT_LIMIT)
        self.vocabulary = vocabulary
        self.datalist = datalist
        super().__init__(**kwargs)

    def widget_attrs(self, widget):
        attrs = super().widget_attrs(widget)
        attrs["autocomplete"] = "off"
        if self.datalist:
            attrs["list"] = self.datalist
            # Suggestions from the server as the curator types (synonyms included).
            attrs["hx-get"] = reverse("curation:autocomplete", args=[self.vocabulary.key])
            attrs["hx-trigger"] = "input changed delay:250ms"
            attrs["hx-target"] = f"#{self.datalist}"
            attrs["hx-swap"] = "innerHTML"
            attrs["hx-sync"] = "this:replace"
        return attrs

    def prepare_value(self, value):
        if hasattr(value, "_meta"):
            return self.vocabulary.label(value)
        return value

    def clean(self, value):
        text = super().clean(value)
        if not text:
            return None
        row = self.vocabulary.find(text)
        if row is None:
            raise ValidationError(
                f"“{text[:80]}” is not in the {self.vocabulary.noun} list: pick one of the "
                "suggestions (a reviewer can add a missing term).",
                code="unknown",
            )
        return row


def _text(label="", *, limit=TEXT_LIMIT, rows=3, help_text=""):
    return forms.CharField(
        label=label or None,
        required=False,
        strip=True,
        widget=forms.Textarea(attrs={"rows": rows}),
        validators=[MaxLengthValidator(limit)],
        error_messages={
            "max_length": f"At most {limit:,} characters here (you typed %(show_value)s)."
        },
        help_text=help_text,
    )


def _model_field(model, name, **overrides):
    field = model._meta.get_field(name).formfield(**overrides)
    field.required = False
    return field


def _choices(choices) -> list:
    return [("", "—"), *choices]


# -- the case form ------------------------------------------------------------------


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
        for field in f.values():
            if isinstance(field, forms.DecimalField):
                field.widget.attrs.setdefault("step", "0.1")
                field.error_messages.setdefault("max_digits", "That number is too large.")
                field.error_messages["invalid"] = "Enter a number, e.g. 38 or 2.5."

    def clean_label(self):
        label = self.cleaned_data.get("label", "")
        if label and not self.case.revision_of_id:
            clash = (
                Case.objects.filter(
                    citation_id=self.case.citation_id, label=label, revision_of__isnull=True
                )
                .exclude(pk=self.case.pk)
                .values_list("pk", flat=True)
                .first()
            )
            if clash:
                raise ValidationError(
                    f"This paper already has a case labelled “{label}” (case {clash}): "
                    "give this one the paper's own label, e.g. Case 2.",
                    code="duplicate_label",
                )
        return label

    def clean(self):
        data = super().clean()
        age, unit = data.get("age"), data.get("age_unit")
        if age is not None:
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
        return data

    def values(self) -> dict:
        """The cleaned values as the actions take them ("" for blank text, None for blank FKs)."""
        return dict(self.cleaned_data)

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


# -- inline rows ---------------------------------------------------------------------


class IHCRowForm(forms.Form):
    def __init__(self, *args, markers: Markers, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["marker"] = VocabularyField(
            label="Marker", vocabulary=markers, datalist="marker-options"
        )
        self.fields["clone"] = _model_field(IHCResult, "clone")
        self.fields["result"] = forms.ChoiceField(
            required=False, choices=_choices(IHCResult.Result.choices)
        )
        self.fields["intensity"] = forms.ChoiceField(
            required=False, choices=_choices(IHCResult.Intensity.choices)
        )
        self.fields["extent"] = forms.ChoiceField(
            required=False, choices=_choices(IHCResult.Extent.choices)
        )
        self.fields["pattern"] = _model_field(IHCResult, "pattern")
        self.fields["percent_cells"] = forms.IntegerField(
            label="% cells",
            required=False,
            validators=[MinValueValidator(0), MaxValueValidator(100)],
            error_messages={"invalid": "Enter a whole number from 0 to 100."},
        )
        self.fields["as_reported"] = _text("As reported", limit=2_000)
        self.fields["as_reported"].widget = forms.TextInput()

    def clean_percent_cells(self):
        value = self.cleaned_data.get("percent_cells")
        if value is not None and not 0 <= value <= 100:
            raise ValidationError("A percentage of cells is between 0 and 100.")
        return value

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        if not data.get("marker"):
            self.add_error("marker", "Choose the marker of this row (or remove the row).")
        if not data.get("result"):
            self.add_error("result", "Choose the result: positive, negative, equivocal…")
        return data

    def row(self) -> dict:
        data = self.cleaned_data
        return {
            "marker": data["marker"],
            "clone": data.get("clone", ""),
            "result": data["result"],
            "extent": data.get("extent", ""),
            "intensity": data.get("intensity", ""),
            "pattern": data.get("pattern", ""),
            "percent_cells": data.get("percent_cells"),
            "as_reported": data.get("as_reported", ""),
        }

    @staticmethod
    def initial_for(row: IHCResult) -> dict:
        return {
            "marker": row.marker,
            "clone": row.clone,
            "result": row.result,
            "intensity": row.intensity,
            "extent": row.extent,
            "pattern": row.pattern,
            "percent_cells": row.percent_cells,
            "as_reported": row.as_reported,
        }


class FusionRowForm(forms.Form):
    """A fusion as the paper writes it (`CARS-ALK`), resolved to HGNC genes on the spot."""

    written = forms.CharField(
        label="Fusion as written",
        required=False,
        max_length=FusionFinding._meta.get_field("as_reported").max_length,
        help_text="As the paper writes it: CARS-ALK, CARS1::ALK, “ALK rearrangement”.",
    )
    # The gene the curator chose where a symbol is ambiguous (a Gene pk).
    five_prime_choice = forms.IntegerField(required=False, widget=forms.HiddenInput)
    three_prime_choice = forms.IntegerField(required=False, widget=forms.HiddenInput)
    five_prime_exon = forms.CharField(label="5' exon", required=False, max_length=20)
    three_prime_exon = forms.CharField(label="3' exon", required=False, max_length=20)
    method = forms.ChoiceField(required=False, choices=_choices(FusionFinding.Method.choices))

    resolution: FusionResolution | None = None
    genes: tuple[Gene | None, Gene | None] = (None, None)

    def clean(self):
        data = super().clean()
        written = data.get("written", "")
        if "written" in self.errors:
            return data
        if not written:
            self.add_error("written", "Write the fusion, e.g. CARS-ALK (or remove the row).")
            return data
        try:
            self.resolution = resolve_fusion_text(written)
        except NotationError as exc:
            self.add_error("written", str(exc))
            return data
        five = self._gene(self.resolution.five_prime, data.get("five_prime_choice"), "5'")
        three = self._gene(self.resolution.three_prime, data.get("three_prime_choice"), "3'")
        if five is not None and five == three:
            self.add_error("written", "The two partners of a fusion are different genes.")
        self.genes = (five, three)
        return data

    def _gene(self, found, chosen_pk, end):
        if found is None:  # partner unknown
            return None
        if found.gene is not None:
            return found.gene
        if found.candidates:
            for candidate in found.candidates:
                if candidate.pk == chosen_pk:
                    return candidate
            self.add_error(
                "five_prime_choice" if end == "5'" else "three_prime_choice",
                found.resolution.message,
            )
            return None
        self.add_error("written", f"{end} partner: {found.resolution.message}")
        return None

    def partners(self) -> list[dict]:
        """Each partner as written and what it resolved to, for the row's live feedback."""
        if self.resolution is None:
            return []
        data = getattr(self, "cleaned_data", {})
        out = []
        for end, name, found in (
            ("5'", "five_prime_choice", self.resolution.five_prime),
            ("3'", "three_prime_choice", self.resolution.three_prime),
        ):
            if found is None:
                out.append({"end": end, "field": name, "unknown_partner": True})
                continue
            res = found.resolution
            out.append(
                {
                    "end": end,
                    "field": name,
                    "html_name": self.add_prefix(name),
                    "written": res.query,
                    "status": res.status,
                    "gene": found.gene,
                    "candidates": found.candidates if found.gene is None else [],
                    "message": res.message,
                    "chosen": data.get(name),
                }
            )
        return out

    @property
    def notation(self) -> str:
        five, three = self.genes
        if three is None:
            return ""
        return format_fusion(five.symbol if five else None, three.symbol)

    def row(self) -> dict:
        five, three = self.genes
        data = self.cleaned_data
        return {
            "five_prime_gene": five,
            "three_prime_gene": three,
            "five_prime_exon": data.get("five_prime_exon", ""),
            "three_prime_exon": data.get("three_prime_exon", ""),
            "method": data.get("method", ""),
            "as_reported": self.resolution.parsed.written,
        }

    @staticmethod
    def initial_for(row: FusionFinding) -> dict:
        return {
            "written": row.as_reported or row.notation,
            "five_prime_choice": row.five_prime_gene_id,
            "three_prime_choice": row.three_prime_gene_id,
            "five_prime_exon": row.five_prime_exon,
            "three_prime_exon": row.three_prime_exon,
            "method": row.method,
            "notation": row.notation,
        }


class _RowFormSet(forms.BaseFormSet):
    def rows(self) -> list[dict]:
        return [
            form.row()
            for form in self.forms
            if form.has_changed() or form in self.initial_forms
            if not self._should_delete_form(form)
        ]


IHCFormSet = forms.formset_factory(
    IHCRowForm,
    formset=_RowFormSet,
    extra=0,
    can_delete=True,
    max_num=MAX_ROWS,
    validate_max=True,
    absolute_max=MAX_ROWS,
)
FusionFormSet = forms.formset_factory(
    FusionRowForm,
    formset=_RowFormSet,
    extra=0,
    can_delete=True,
    max_num=MAX_ROWS,
    validate_max=True,
    absolute_max=MAX_ROWS,
)


class CaseForms:
    """The case form and its two formsets, bound or not, validated together."""

    def __init__(self, case: Case, data=None):
        self.case = case
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

    @property
    def error_count(self) -> int:
        count = len(self.form.errors)
        for formset in (self.ihc, self.fusions):
            count += len(formset.non_form_errors())
            count += sum(len(errors) for errors in formset.errors) if formset.is_bound else 0
        return count

    def values(self) -> dict:
        return {
            "fields": self.form.values(),
            "ihc_rows": self.ihc.rows(),
            "fusion_rows": self.fusions.rows(),
        }
