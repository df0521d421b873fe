"""The inline rows of the case form (formsets): IHC results, fusions, other molecular
findings, treatments and clinical events."""

from __future__ import annotations

import re

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.urls import reverse

from curation import molecular
from curation.actions.cases import FusionResolution, resolve_fusion_text
from curation.actions.proposals import PendingTerm
from curation.forms.fields import (
    Markers,
    ProposeTerm,
    VocabularyField,
    _choices,
    _model_field,
    _text,
    unknown_text,
)
from curation.models import (
    ClinicalEvent,
    FusionFinding,
    Gene,
    IHCResult,
    MolecularFinding,
    TermProposal,
    Treatment,
    resolve_gene,
)
from curation.notation import NotationError, format_fusion
from curation.symbols import UNKNOWN

HGNC_ID = re.compile(r"^HGNC:[0-9]+$")

MAX_ROWS = 100  # IHC rows or fusions on one case


class IHCRowForm(forms.Form):
    def __init__(self, *args, markers: Markers, **kwargs):
        super().__init__(*args, **kwargs)
        self.markers = markers
        self.fields["marker"] = VocabularyField(
            label="Marker", vocabulary=markers, datalist="marker-options"
        )
        self.fields["clone"] = _model_field(IHCResult, "clone")
        self.fields["clone"].widget.attrs.update(
            {
                # The marker's known clones, suggested as the curator types.
                "list": "clone-options",
                "autocomplete": "off",
                "hx-get": reverse("curation:autocomplete", args=["clone"]),
                "hx-trigger": "focus, input changed delay:250ms",
                "hx-target": "#clone-options",
                "hx-swap": "innerHTML",
                "hx-sync": "this:replace",
            }
        )
        self.propose_marker = ProposeTerm(self, "marker")
        self.fields["clone_propose"] = forms.BooleanField(
            required=False, label="Propose this clone for the marker's list"
        )
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

    proposal: PendingTerm | None = None
    clone_term = None

    def clean(self):
        data = super().clean()
        self.proposal, self.clone_term = None, None
        text = unknown_text(self, "marker")
        if text and self.propose_marker.wanted():
            del self._errors["marker"]
            data["marker"] = None
            self.proposal = PendingTerm(
                TermProposal.Kind.MARKER,
                TermProposal.Field.IHC_MARKER,
                text[:200],
                **self.propose_marker.values(),
            )
        if self.errors:
            return data
        if not data.get("marker") and self.proposal is None:
            self.add_error("marker", "Choose the marker of this row (or remove the row).")
        if not data.get("result"):
            self.add_error("result", "Choose the result: positive, negative, equivocal…")
        clone = " ".join(data.get("clone", "").split())
        if data.get("marker") and clone:
            self.clone_term = self.markers.clone(data["marker"], clone)
            if self.clone_term is not None:
                data["clone"] = self.clone_term.name
            elif data.get("clone_propose"):
                self.proposal = PendingTerm(
                    TermProposal.Kind.CLONE,
                    TermProposal.Field.IHC_CLONE,
                    clone[:100],
                    marker=data["marker"],
                )
        return data

    @property
    def unknown_marker(self) -> str:
        return unknown_text(self, "marker") if self.is_bound else ""

    def is_other_clone(self) -> bool:
        """A clone typed that is not in the marker's list (kept as "other", may be proposed)."""
        data = getattr(self, "cleaned_data", {})
        return bool(data.get("marker") and data.get("clone") and self.clone_term is None)

    def row(self) -> dict:
        data = self.cleaned_data
        values = {
            "clone": data.get("clone", ""),
            "result": data["result"],
            "extent": data.get("extent", ""),
            "intensity": data.get("intensity", ""),
            "pattern": data.get("pattern", ""),
            "percent_cells": data.get("percent_cells"),
            "as_reported": data.get("as_reported", ""),
        }
        if data.get("marker") is None:  # the marker is proposed: the row waits in the proposal
            self.proposal.row.update(values)
            return {"proposal": self.proposal}
        row = {"marker": data["marker"], "clone_term": self.clone_term, **values}
        if self.proposal is not None:
            row["proposal"] = self.proposal
        return row

    @staticmethod
    def initial_for(row: IHCResult) -> dict:
        return {
            "marker": row.marker,
            "clone": row.clone_term.name if row.clone_term_id else row.clone,
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
    five_prime_transcript = forms.CharField(
        label="5' transcript", required=False, max_length=20, help_text="RefSeq, NM_…"
    )
    three_prime_transcript = forms.CharField(
        label="3' transcript", required=False, max_length=20, help_text="RefSeq, NM_…"
    )
    several_partners = forms.BooleanField(label="Several partners reported", required=False)
    breakpoint = forms.CharField(label="Breakpoint as reported", required=False, max_length=300)
    method = forms.ChoiceField(required=False, choices=_choices(FusionFinding.Method.choices))
    assay = forms.CharField(
        label="Assay as reported",
        required=False,
        max_length=200,
        help_text="The paper's words: “targeted RNA sequencing”.",
    )

    resolution: FusionResolution | None = None
    genes: tuple[Gene | None, Gene | None] = (None, None)
    proposal: PendingTerm | None = None

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.propose_gene = ProposeTerm(
            self, "gene", code_label="HGNC ID", code_help="e.g. HGNC:427, if HGNC has it."
        )

    def unknown_partner(self) -> str:
        """The one partner symbol that is not an HGNC symbol RareDerm knows (to propose it)."""
        if self.resolution is None:
            return ""
        unknown = [
            found.resolution.query
            for found in (self.resolution.five_prime, self.resolution.three_prime)
            if found is not None and found.resolution.status == UNKNOWN
        ]
        return unknown[0] if len(unknown) == 1 else ""

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
        self.proposal = None
        proposed = self.unknown_partner() if self.propose_gene.wanted() else ""
        if proposed:
            values = self.propose_gene.values()
            if values["code"] and not HGNC_ID.match(values["code"]):
                self.add_error("gene_code", "An HGNC ID is written HGNC:427.")
                return data
            five_proposed = self.resolution.five_prime is not None and (
                self.resolution.five_prime.resolution.query == proposed
            )
            end = (
                TermProposal.Field.FUSION_FIVE
                if five_proposed
                else TermProposal.Field.FUSION_THREE
            )
            self.proposal = PendingTerm(TermProposal.Kind.GENE, end, proposed, **values)
        five = (
            None
            if self.proposal and self.proposal.field == TermProposal.Field.FUSION_FIVE
            else self._gene(self.resolution.five_prime, data.get("five_prime_choice"), "5'")
        )
        three = (
            None
            if self.proposal and self.proposal.field == TermProposal.Field.FUSION_THREE
            else self._gene(self.resolution.three_prime, data.get("three_prime_choice"), "3'")
        )
        if five is not None and five == three:
            self.add_error("written", "The two partners of a fusion are different genes.")
        # With a proposed partner, the row waits in the proposal with its known partner.
        self.other_gene = five or three
        self.genes = (None, None) if self.proposal else (five, three)
        partner_unknown = self.resolution.five_prime is None
        if data.get("several_partners") and not partner_unknown:
            self.add_error(
                "several_partners",
                "With several partners, write the rearranged gene alone (ALK rearrangement) "
                "and the partners in the breakpoint text.",
            )
        if partner_unknown and (data.get("five_prime_exon") or data.get("five_prime_transcript")):
            self.add_error(
                "five_prime_exon",
                "The 5' partner is not known: its exon or transcript cannot be given.",
            )
        for name in ("five_prime_transcript", "three_prime_transcript"):
            message = molecular.transcript_error(data.get(name, ""))
            if message:
                self.add_error(name, message)
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
        if self.proposal is not None:  # a partner is proposed: the row waits in the proposal
            other = self.other_gene
            self.proposal.row.update(
                {
                    "other_gene": other.pk if other else None,
                    "five_prime_exon": data.get("five_prime_exon", ""),
                    "three_prime_exon": data.get("three_prime_exon", ""),
                    "method": data.get("method", ""),
                    "as_reported": self.resolution.parsed.written,
                }
            )
            return {"proposal": self.proposal}
        if five is not None:
            status = FusionFinding.PartnerStatus.KNOWN
        elif data.get("several_partners"):
            status = FusionFinding.PartnerStatus.MULTIPLE
        else:
            status = FusionFinding.PartnerStatus.UNKNOWN
        return {
            "five_prime_gene": five,
            "three_prime_gene": three,
            "partner_status": status,
            "five_prime_transcript": data.get("five_prime_transcript", ""),
            "three_prime_transcript": data.get("three_prime_transcript", ""),
            "five_prime_exon": data.get("five_prime_exon", ""),
            "three_prime_exon": data.get("three_prime_exon", ""),
            "breakpoint": data.get("breakpoint", ""),
            "method": data.get("method", ""),
            "assay": data.get("assay", ""),
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
            "five_prime_transcript": row.five_prime_transcript,
            "three_prime_transcript": row.three_prime_transcript,
            "several_partners": row.partner_status == FusionFinding.PartnerStatus.MULTIPLE,
            "breakpoint": row.breakpoint,
            "method": row.method,
            "assay": row.assay,
            "notation": row.notation,
        }


class MolecularRowForm(forms.Form):
    """A sequence variant, copy-number change or other finding; the gene typed as the
    paper writes it and resolved to HGNC (V600E without "p." is accepted and normalised)."""

    kind = forms.ChoiceField(label="Type", choices=_choices(MolecularFinding.Kind.choices))
    gene = forms.CharField(label="Gene", required=False, max_length=40)
    hgvs_protein = forms.CharField(
        label="Protein (HGVS)", required=False, max_length=100, help_text="e.g. p.V600E"
    )
    hgvs_cdna = forms.CharField(
        label="cDNA (HGVS)", required=False, max_length=100, help_text="e.g. c.1799T>A"
    )
    transcript = forms.CharField(
        label="Transcript",
        required=False,
        max_length=20,
        help_text="RefSeq, e.g. NM_004333.6 (BRAF)",
    )
    copy_number = forms.ChoiceField(
        label="Copy-number change",
        required=False,
        choices=_choices(MolecularFinding.CopyNumber.choices),
    )
    description = forms.CharField(label="Description", required=False, max_length=300)
    method = forms.ChoiceField(required=False, choices=_choices(MolecularFinding.Method.choices))
    assay = forms.CharField(label="Assay as reported", required=False, max_length=200)
    as_reported = forms.CharField(label="As reported", required=False, max_length=300)

    gene_row: Gene | None = None

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].error_messages["required"] = (
            "Choose the type: sequence variant, copy-number change or other (or remove the row)."
        )

    def clean(self):
        data = super().clean()
        self.gene_row = None
        symbol = " ".join(data.get("gene", "").split())
        if symbol:
            found = resolve_gene(symbol)
            if found.gene is None:
                self.add_error("gene", found.resolution.message or f"“{symbol}”: unknown gene.")
            self.gene_row = found.gene
        if self.errors:
            return data
        finding = MolecularFinding(kind=data["kind"], gene=self.gene_row, **self._values(data))
        try:
            finding.clean()
        except ValidationError as exc:
            for name, messages in exc.message_dict.items():
                self.add_error(name if name in self.fields else None, messages)
            return data
        data["hgvs_protein"], data["hgvs_cdna"] = finding.hgvs_protein, finding.hgvs_cdna
        return data

    @staticmethod
    def _values(data) -> dict:
        return {
            name: data.get(name, "")
            for name in (
                "hgvs_protein",
                "hgvs_cdna",
                "transcript",
                "copy_number",
                "description",
                "method",
                "assay",
                "as_reported",
            )
        }

    def row(self) -> dict:
        data = self.cleaned_data
        return {"kind": data["kind"], "gene": self.gene_row, **self._values(data)}

    @staticmethod
    def initial_for(row: MolecularFinding) -> dict:
        return {
            "kind": row.kind,
            "gene": row.gene.symbol if row.gene_id else "",
            "hgvs_protein": row.hgvs_protein,
            "hgvs_cdna": row.hgvs_cdna,
            "transcript": row.transcript,
            "copy_number": row.copy_number,
            "description": row.description,
            "method": row.method,
            "assay": row.assay,
            "as_reported": row.as_reported,
        }


def _months_field():
    return forms.DecimalField(
        label="Months from diagnosis",
        required=False,
        min_value=0,
        max_value=1_200,
        max_digits=6,
        decimal_places=1,
        error_messages={
            "min_value": "Months from diagnosis cannot be negative.",
            "max_value": "At most 1,200 months (100 years).",
            "invalid": "Enter a number of months, e.g. 14 or 2.5.",
            "max_digits": "That number is too large.",
        },
    )


class TreatmentRowForm(forms.Form):
    kind = forms.ChoiceField(label="Treatment", choices=_choices(Treatment.Kind.choices))
    agent = forms.CharField(
        label="Agent", required=False, max_length=200, help_text="e.g. crizotinib"
    )
    margins = forms.ChoiceField(required=False, choices=_choices(Treatment.Margins.choices))
    as_reported = forms.CharField(label="As reported", required=False, max_length=300)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["months"] = _months_field()
        self.fields["kind"].error_messages["required"] = (
            "Choose the treatment (or remove the row)."
        )

    def clean(self):
        data = super().clean()
        if data.get("kind") == Treatment.Kind.SYSTEMIC and not data.get("agent"):
            self.add_error("agent", "Name the agent of the systemic therapy, e.g. crizotinib.")
        return data

    def row(self) -> dict:
        data = self.cleaned_data
        return {
            "kind": data["kind"],
            "agent": data.get("agent", ""),
            "margins": data.get("margins", ""),
            "months": data.get("months"),
            "as_reported": data.get("as_reported", ""),
        }

    @staticmethod
    def initial_for(row: Treatment) -> dict:
        return {
            "kind": row.kind,
            "agent": row.agent,
            "margins": row.margins,
            "months": row.months,
            "as_reported": row.as_reported,
        }


class EventRowForm(forms.Form):
    kind = forms.ChoiceField(label="Event", choices=_choices(ClinicalEvent.Kind.choices))
    site = forms.CharField(
        label="Site", required=False, max_length=200, help_text="For a metastasis: e.g. lung"
    )
    as_reported = forms.CharField(label="As reported", required=False, max_length=300)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["months"] = _months_field()
        self.fields["kind"].error_messages["required"] = "Choose the event (or remove the row)."

    def row(self) -> dict:
        data = self.cleaned_data
        return {
            "kind": data["kind"],
            "months": data.get("months"),
            "site": data.get("site", ""),
            "as_reported": data.get("as_reported", ""),
        }

    @staticmethod
    def initial_for(row: ClinicalEvent) -> dict:
        return {
            "kind": row.kind,
            "months": row.months,
            "site": row.site,
            "as_reported": row.as_reported,
        }


class _RowFormSet(forms.BaseFormSet):
    def rows(self) -> list[dict]:
        """The valid rows (a row in error is left out: CaseForms keeps its text)."""
        return [
            form.row()
            for form in self.forms
            if form.has_changed() or form in self.initial_forms
            if not self._should_delete_form(form)
            if not form.errors
        ]


def _formset(form):
    return forms.formset_factory(
        form,
        formset=_RowFormSet,
        extra=0,
        can_delete=True,
        max_num=MAX_ROWS,
        validate_max=True,
        absolute_max=MAX_ROWS,
    )


IHCFormSet = _formset(IHCRowForm)
FusionFormSet = _formset(FusionRowForm)
MolecularFormSet = _formset(MolecularRowForm)
TreatmentFormSet = _formset(TreatmentRowForm)
EventFormSet = _formset(EventRowForm)
