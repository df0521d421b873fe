"""The inline rows of the case form: IHC results and fusions (formsets)."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator

from curation.actions.cases import FusionResolution, resolve_fusion_text
from curation.forms.fields import Markers, VocabularyField, _choices, _model_field, _text
from curation.models import FusionFinding, Gene, IHCResult
from curation.notation import NotationError, format_fusion

MAX_ROWS = 100  # IHC rows or fusions on one case


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
