"""What the search's facets are over: the age bands, the child-row facets, the list's order.

Shared by the SQL filter and ordering (engine.py) and the facet index (bitmaps.py), so
that a rule -- which ages make a band, which rows give a case a treatment -- is written
once for both.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Case as SqlCase
from django.db.models import (
    CharField,
    DecimalField,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Trim

from curation import molecular
from curation.models import ClinicalEvent, FusionFinding, MolecularFinding, Treatment
from curation.search.params import AGE_BAND_KEYS, AGE_BANDS

# How many days, weeks or months make a year (age is stored as reported).
PER_YEAR = {"years": 1, "months": 12, "weeks": Decimal("52.1775"), "days": Decimal("365.25")}
# The result list's order after relevance: newest publication first (the facet
# index keeps each case's place in it: bitmaps.in_order).
LIST_ORDER = ("-published_at", "-pk")


# The clone an IHC result was stained with, as the stains page groups results: the
# controlled term's name when the clone is a known one, else the text entered (spaces
# trimmed); "" when none.
CLONE_KEY = Coalesce("clone_term__name", Trim("clone"))


def age_in_years():
    """The age in years as an expression (for sorting): NULL when not reported."""
    whens = [
        When(age_unit=unit, then=ExpressionWrapper(F("age") / Value(per), DecimalField()))
        for unit, per in PER_YEAR.items()
    ]
    return SqlCase(*whens, default=Value(None), output_field=DecimalField())


def _band_ranges(key: str):
    """(unit, lowest age, age not reached or None) of age band `key`, in each unit an age
    may be reported in: the one rule of the age bands (filter, facet, statistics)."""
    _, _, low, high = next(band for band in AGE_BANDS if band[0] == key)
    for unit, per in PER_YEAR.items():
        yield unit, low * per, None if high is None else high * per


def _band_q(unit: str, low, high) -> Q:
    bounds = Q(age_unit=unit, age__gte=low)
    return bounds & Q(age__lt=high) if high is not None else bounds


def age_band_q(key: str) -> Q:
    """One age band as ranges over (age_unit, age): served by curation_case_age_idx."""
    condition = Q(pk__in=[])
    for unit, low, high in _band_ranges(key):
        condition |= _band_q(unit, low, high)
    return condition


def age_band(unit: str, age) -> str:
    """The age band key of an age as reported ("" when it is in none)."""
    for key in AGE_BAND_KEYS:
        for band_unit, low, high in _band_ranges(key):
            if unit == band_unit and age >= low and (high is None or age < high):
                return key
    return ""


def age_band_expression():
    """The age band key of a case, computed in the database (the statistics page)."""
    whens = [
        When(_band_q(unit, low, high), then=Value(key))
        for key in AGE_BAND_KEYS
        for unit, low, high in _band_ranges(key)
    ]
    return SqlCase(*whens, default=Value(""), output_field=CharField())


@dataclass(frozen=True)
class ChildRowFacet:
    """A facet over child rows of a case (treatments, events, molecular findings): a case
    has a value when one of its rows has it, in any of `sources` ((model, column)
    pairs; the finding type and the method are read from fusions and other findings).
    Several values chosen: cases with any of them."""

    sources: tuple[tuple[type, str], ...]
    labels: dict

    def condition(self, values) -> Q:
        condition = Q(pk__in=[])
        for model, column in self.sources:
            if column == "fusion":  # every fusion row is of type "fusion"
                if "fusion" in values:
                    condition |= Q(Exists(model.objects.filter(case=OuterRef("pk"))))
                continue
            rows = model.objects.filter(case=OuterRef("pk"), **{f"{column}__in": values})
            condition |= Q(Exists(rows))
        return condition


CHILD_FACETS = {
    "finding": ChildRowFacet(
        ((FusionFinding, "fusion"), (MolecularFinding, "kind")),
        {"fusion": "Fusion", **dict(MolecularFinding.Kind.choices)},
    ),
    "method": ChildRowFacet(
        ((FusionFinding, "method"), (MolecularFinding, "method")),
        dict(molecular.METHOD_CHOICES),
    ),
    "treatment": ChildRowFacet(((Treatment, "kind"),), dict(Treatment.Kind.choices)),
    "event": ChildRowFacet(((ClinicalEvent, "kind"),), dict(ClinicalEvent.Kind.choices)),
}
