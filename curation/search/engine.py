"""Run a search: filters, facet counts (in the database), one page of results.

The number of SQL queries is fixed whatever the page size: one COUNT, one
page of ids, its rows by primary key, three prefetches (IHC, fusions,
authors), one GROUP BY per facet, one grouped query for an immunoprofile,
and a few look-ups of what the URL names (gene symbols, markers).

Counts, the total, the profile's matches and each page's ids are cached per
registry generation (curation/search/cache.py): a repeated search costs the
look-ups and the page's rows only; the first one after a change pays the rest.

Facets are "OR within, AND across": ticking two diagnoses shows cases of
either; a diagnosis and a site, cases of both. A facet's own counts ignore
its own selection (so its other values stay visible with their counts);
IHC and fusion-partner filters all must hold and narrow every count.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from decimal import Decimal
from functools import cached_property

from django.core.paginator import Paginator
from django.db.models import Case as SqlCase
from django.db.models import (
    CharField,
    Count,
    DecimalField,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Prefetch,
    Q,
    Value,
    When,
)
from django.db.models.functions import NullIf

from citations.models import Author
from config.text import american_spelling
from curation import molecular
from curation.models import (
    Case,
    ClinicalEvent,
    Diagnosis,
    FusionFinding,
    IHCResult,
    Marker,
    MolecularFinding,
    Treatment,
    is_gene_symbol,
    resolve_gene,
)
from curation.notation import NotationError, parse_fusion
from curation.search import cache, fulltext
from curation.search.immunoprofile import (
    Likelihood,
    Profile,
    consistent_filter,
    marker_key,
    marker_rows,
    parse_profile,
    profile_counts,
    profile_matches,
    rank_differential,
    with_agreement,
)
from curation.search.params import AGE_BANDS, COLUMN_SORTS, SITE_GROUPS, SearchParams

# How many days, weeks or months make a year (age is stored as reported).
_PER_YEAR = {"years": 1, "months": 12, "weeks": Decimal("52.1775"), "days": Decimal("365.25")}
# q tokens that are written like fusions ("CARS1::ALK", "CARS-ALK") also filter by fusion.
_FUSIONISH = re.compile(r"^[A-Za-z0-9]{2,20}(::|-|/|\u2013)[A-Za-z0-9]{2,20}$")
MAX_FUSION_TOKENS = 2
FACET_LIMIT = 30  # values shown per facet (the largest counts)


def age_in_years():
    """The age in years as an expression (for sorting): NULL when not reported."""
    whens = [
        When(age_unit=unit, then=ExpressionWrapper(F("age") / Value(per), DecimalField()))
        for unit, per in _PER_YEAR.items()
    ]
    return SqlCase(*whens, default=Value(None), output_field=DecimalField())


def age_band_q(key: str) -> Q:
    """One age band as ranges over (age_unit, age): served by curation_case_age_idx."""
    _, _, low, high = next(band for band in AGE_BANDS if band[0] == key)
    condition = Q(pk__in=[])
    for unit, per in _PER_YEAR.items():
        bounds = Q(age_unit=unit, age__gte=low * per)
        if high is not None:
            bounds &= Q(age__lt=high * per)
        condition |= bounds
    return condition


def age_band_expression():
    """The age band key of a case, computed in the database (for the facet)."""
    whens = []
    for key, _, low, high in AGE_BANDS:
        for unit, per in _PER_YEAR.items():
            bounds = Q(age_unit=unit, age__gte=low * per)
            if high is not None:
                bounds &= Q(age__lt=high * per)
            whens.append(When(bounds, then=Value(key)))
    return SqlCase(*whens, default=Value(""), output_field=CharField())


@dataclass
class FacetValue:
    value: object
    label: str
    count: int
    selected: bool
    link: str = ""  # filled in by the view (SearchParams.facet_link), not by the counting
    children: list[FacetValue] = field(default_factory=list)


@dataclass
class Facet:
    name: str  # the URL parameter
    title: str
    values: list[FacetValue]


@dataclass
class SearchResult:
    params: SearchParams
    page: object  # django Page of Case
    total: int
    facets: dict[str, Facet]
    messages: list[str]
    profile: Profile | None
    genes: dict[str, str]  # "five"/"three" -> resolved approved symbol
    fusion_terms: list[str]  # fusion-like words of q also used as fusion filters
    differential: list[Likelihood] = field(default_factory=list)  # for a profile
    named_diagnoses: list[tuple[int, str]] = field(default_factory=list)  # that q names


class Resolved:
    """What the URL names, looked up once: genes, markers, profile, q's fusions."""

    def __init__(self, params: SearchParams, *, bypass_cache: bool = False):
        self.bypass_cache = bypass_cache
        self.messages: list[str] = [*params.notes, *params.errors]
        # Input that cannot be read (a facet value, a profile): the page shows it and
        # applies no such filter; the API answers 400 with it.
        self.errors: list[str] = list(params.errors)
        self.genes: dict[str, list] = {}
        self.gene_symbols: dict[str, str] = {}
        for name in ("five", "three"):
            text = getattr(params, name)
            if not text:
                continue
            found = resolve_gene(text)
            genes = [found.gene] if found.gene else list(found.candidates)
            # An unknown symbol filters to nothing (with a message), never to everything.
            self.genes[name] = genes
            partner = "5'" if name == "five" else "3'"
            if found.gene:
                self.gene_symbols[name] = found.gene.symbol
                if found.gene.symbol.upper() != text.upper():
                    self.messages.append(
                        f"{partner} partner “{text}” is shown as its approved symbol "
                        f"{found.gene.symbol}."
                    )
            elif genes:
                self.gene_symbols[name] = " or ".join(g.symbol for g in genes)
                self.messages.append(
                    f"{partner} partner “{text}” could mean {self.gene_symbols[name]}; "
                    "cases with any of them are shown."
                )
            else:
                self.messages.append(
                    f"{partner} partner “{text}”: {found.resolution.message or 'unknown gene.'}"
                )
        self.markers: dict[str, int] = {}
        if params.ihc:
            names = {m.lower() for m, _ in params.ihc}
            # The whole marker table (a few dozen rows): names match whatever the case.
            rows = Marker.objects.values_list("name", "id")
            self.markers = {name.lower(): pk for name, pk in rows if name.lower() in names}
            for unknown in sorted(names - set(self.markers)):
                self.messages.append(f"“{unknown}” is not a marker RareDerm knows; ignored.")
        self.profile: Profile | None = None
        if params.profile:
            self.profile = parse_profile(params.profile, marker_rows())
            self.messages += [f"Immunoprofile: {e}" for e in self.profile.errors]
            # The page applies what could be read (and says so); the API and the
            # downloads refuse a profile with a term they cannot read (400).
            self.errors += [f"Immunoprofile: {e}" for e in self.profile.errors]
            if self.profile.errors and self.profile.usable:
                self.messages.append(
                    f"Immunoprofile applied as {self.profile.normalised}; "
                    "what could not be read is left out."
                )
            elif self.profile.errors:
                self.messages.append(
                    "Immunoprofile: nothing in it could be read, so no case is listed."
                )
        # Words of q written like fusions (CARS1::ALK, CARS-ALK) filter structurally:
        # token -> (5' genes or None for "any", 3' genes), resolved once here.
        self.fusions: dict[str, tuple[list | None, list]] = {}
        for token in params.q.split()[:20]:
            if len(self.fusions) >= MAX_FUSION_TOKENS or not _FUSIONISH.match(token):
                continue
            try:
                parsed = parse_fusion(token, is_symbol=is_gene_symbol)
            except NotationError:
                continue
            three = _genes(resolve_gene(parsed.three_prime))
            five = _genes(resolve_gene(parsed.five_prime)) if parsed.five_prime else None
            if three and (five is None or five):
                self.fusions[token] = (five, three)
        # The free text left for full-text search: fusion words are matched
        # structurally above; text of punctuation only (quotes, &|!:*) looks for nothing.
        self.text = " ".join(word for word in params.q.split() if word not in self.fusions)
        if not re.search(r"\w", self.text):
            self.text = ""
        # Diagnoses the text names (by name, synonym, older name or search term:
        # "inflammatory pseudotumor" finds IMT cases whatever their text says). A
        # single word must be a whole term ("melanoma"), so that "tumor" alone does
        # not pull in every tumour; a phrase may be part of one.
        self.text_diagnoses: list[int] = []
        # What else the text names in the structured record: a gene (any partner of a
        # fusion, or a variant's gene), a marker (any reported result), or IHC results
        # written in the box ("ALK+", "S100 negative": they act as the IHC filter).
        self.text_genes: list = []
        self.text_markers: list[int] = []
        self.text_ihc: list[tuple[int, str]] = []
        if self.text:
            phrase = _fold(self.text)
            several = " " in phrase
            self.text_diagnoses = [
                pk
                for pk, terms in diagnosis_terms(bypass=bypass_cache).items()
                if any(phrase == term or (several and phrase in term) for term in terms)
            ]
            self._structured_words(self.text)

    def _structured_words(self, text: str) -> None:
        """What the words name, looked up once per registry generation (cached)."""
        found = cache.cached(
            "textwords", [text], lambda: _words_in_record(text), bypass=self.bypass_cache
        )
        self.text_ihc, self.text_markers, self.text_genes = found
        if self.text_ihc:
            self.text = ""  # every word is a stain and its result: the IHC filter

    def structured_match(self) -> Q | None:
        """Cases the text names in their structured record (see __init__), or None."""
        conditions = []
        if self.text_diagnoses:
            conditions.append(
                Q(final_diagnosis_id__in=self.text_diagnoses)
                | Q(final_diagnosis__parent_id__in=self.text_diagnoses)
            )
        if self.text_genes:
            genes = self.text_genes
            conditions += [
                Q(
                    Exists(
                        FusionFinding.objects.filter(
                            case=OuterRef("pk"), three_prime_gene__in=genes
                        )
                    )
                ),
                Q(
                    Exists(
                        FusionFinding.objects.filter(
                            case=OuterRef("pk"), five_prime_gene__in=genes
                        )
                    )
                ),
                Q(Exists(MolecularFinding.objects.filter(case=OuterRef("pk"), gene__in=genes))),
            ]
        if self.text_markers:
            conditions.append(
                Q(
                    Exists(
                        IHCResult.objects.filter(
                            case=OuterRef("pk"), marker_id__in=self.text_markers
                        )
                    )
                )
            )
        if not conditions:
            return None
        match = conditions[0]
        for condition in conditions[1:]:
            match |= condition
        return match

    @property
    def fusion_terms(self) -> list[str]:
        return list(self.fusions)

    @cached_property
    def matches(self) -> dict[int, int]:
        """{case id: agreeing markers} for the profile: one query per request at most,
        none while the registry's generation is unchanged (cached)."""
        profile = self.profile
        if not (profile and profile.usable):
            return {}
        return cache.cached(
            "profile",
            [(t.marker_id, t.result) for t in profile.terms],
            lambda: profile_matches(profile),
            bypass=self.bypass_cache,
        )


def _words_in_record(text: str) -> tuple[list, list, list]:
    """(IHC results written as `ALK+ SMA-`, marker ids, gene ids) that `text` names."""
    rows = marker_rows()
    if re.search(r"[+\-\u2212]\s*$|\b(?:pos|neg|positive|negative)\b", text, re.I):
        written = parse_profile(text, rows)
        if written.terms and not written.errors:
            return [(t.marker_id, t.result) for t in written.terms], [], []
    key = marker_key(text)
    markers = [
        marker_id
        for marker_id, name, synonyms in rows
        if key in {marker_key(str(n)) for n in (name, *(synonyms or []))}
    ]
    genes = []
    if " " not in text.strip() and len(text) <= 40:
        found = resolve_gene(text.strip())
        if found.gene is not None:
            genes = [found.gene.pk]
    return [], markers, genes


def _fold(text: str) -> str:
    """Words folded, British spellings as American ("tumour" finds "tumor")."""
    return " ".join(american_spelling(w) for w in re.findall(r"\w+", text.casefold()))


def diagnosis_terms(*, bypass: bool = False) -> dict[int, list[str]]:
    """{diagnosis id: every name and search term, folded}: one query per registry generation."""

    def compute():
        rows = Diagnosis.objects.values_list(
            "pk", "name", "synonyms", "older_names", "search_terms"
        ).order_by()
        return {
            pk: [_fold(t) for t in [name, *(syn or []), *(old or []), *(search or [])]]
            for pk, name, syn, old, search in rows
        }

    return cache.cached("dxterms", (), compute, bypass=bypass)


def _genes(found) -> list:
    return [found.gene] if found.gene else list(found.candidates)


def filtered(params: SearchParams, resolved: Resolved, *, skip: str = ""):
    """Published cases matching every filter except facet `skip` (for its own counts);
    those of retracted papers only with `retracted=include` (Case.objects.counted)."""
    cases = Case.objects.counted(retracted=params.retracted)
    for five, three in resolved.fusions.values():
        # The fusion is matched structurally; its words need not be in the text.
        findings = FusionFinding.objects.filter(case=OuterRef("pk"), three_prime_gene__in=three)
        if five is not None:
            findings = findings.filter(five_prime_gene__in=five)
        cases = cases.filter(Exists(findings))
    cases = fulltext.text_filter(cases, resolved.text, resolved.structured_match())
    for marker_id, result in resolved.text_ihc:
        cases = cases.filter(
            Exists(
                IHCResult.objects.filter(case=OuterRef("pk"), marker_id=marker_id, result=result)
            )
        )
    if params.family and skip != "family":
        cases = cases.filter(final_diagnosis__family_id__in=params.family)
    if params.dx and skip != "dx":
        cases = cases.filter(final_diagnosis_id__in=params.dx)
    if params.site and skip != "site":
        codes = [s for s in params.site if "." in s]
        groups = [s for s in params.site if "." not in s]
        condition = Q(topography__code__in=codes)
        for group in groups:
            condition |= Q(topography__code__startswith=group + ".")
        cases = cases.filter(condition)
    for name, column in (("five", "five_prime_gene__in"), ("three", "three_prime_gene__in")):
        if name in resolved.genes:
            cases = cases.filter(
                Exists(
                    FusionFinding.objects.filter(
                        case=OuterRef("pk"), **{column: resolved.genes[name]}
                    )
                )
            )
    for marker, result in params.ihc:
        marker_id = resolved.markers.get(marker.lower())
        if marker_id is not None:
            cases = cases.filter(
                Exists(
                    IHCResult.objects.filter(
                        case=OuterRef("pk"), marker_id=marker_id, result=result
                    )
                )
            )
    if params.sex and skip != "sex":
        cases = cases.filter(sex__in=params.sex)
    if params.age and skip != "age":
        condition = Q(pk__in=[])
        for key in params.age:
            condition |= age_band_q(key)
        cases = cases.filter(condition)
    if params.year and skip != "year":
        cases = cases.filter(citation__year__in=params.year)
    if params.outcome and skip != "outcome":
        cases = cases.filter(outcome__in=params.outcome)
    if params.grade and skip != "grade":
        cases = cases.filter(evidence_grade__in=params.grade)
    if params.source and skip != "source":
        cases = cases.filter(source_depth__in=params.source)
    for name, facet in CHILD_FACETS.items():
        values = getattr(params, name)
        if values and skip != name:
            cases = cases.filter(facet.condition(values))
    if resolved.profile is not None and skip != "profile":
        # An unreadable profile matches nothing (never every case).
        cases = consistent_filter(cases, resolved.matches)
    return cases


def _ids(cases):
    return cases.order_by().values("pk")


def _facet_values(params: SearchParams, name: str, rows, label, selected_values) -> list:
    return [
        FacetValue(
            value=value,
            label=label(value, extra),
            count=count,
            selected=value in selected_values,
        )
        for value, extra, count in rows
    ]


@dataclass(frozen=True)
class CaseColumnFacet:
    """A facet over one column of the case (or of its citation or diagnosis).

    Counted by count_case_column: one GROUP BY over the search's cases with
    this facet's own filter left out, so its values show what choosing them
    would give.
    """

    column: str  # grouped by; a value of the facet
    name_column: str = ""  # a column holding the value's label (a vocabulary term's name)
    labels: dict | None = None  # else: the label of each value (a model's choices)
    order: tuple[str, ...] = ()  # default: most cases first
    limit: int | None = FACET_LIMIT


def count_case_column(
    definition: CaseColumnFacet, name: str, params: SearchParams, resolved: Resolved
) -> list[FacetValue]:
    """The one counting function of the case-column facets."""
    column, name_column = definition.column, definition.name_column
    grouped = (column, name_column) if name_column else (column,)
    # A choice column holds "" when not reported; any other column, NULL.
    unreported = {column: ""} if definition.labels is not None else {f"{column}__isnull": True}
    rows = (
        filtered(params, resolved, skip=name)
        .exclude(**unreported)
        .order_by()
        .values(*grouped)
        .annotate(n=Count("*"))
        .order_by(*(definition.order or ("-n", name_column or column)))
    )
    if definition.limit:
        rows = rows[: definition.limit]
    labels = definition.labels
    return _facet_values(
        params,
        name,
        [(r[column], r.get(name_column), r["n"]) for r in rows],
        lambda value, term: term if name_column else (labels or {}).get(value, str(value)),
        getattr(params, name),
    )


def _count_site(params: SearchParams, resolved: Resolved) -> list[FacetValue]:
    """ICD-O topography codes under their groups (C44, then C44.4 under it): a tree."""
    rows = (
        filtered(params, resolved, skip="site")
        .filter(topography__isnull=False)
        .order_by()
        .values("topography__code", "topography__name")
        .annotate(n=Count("*"))
        .order_by("topography__code")
    )
    groups: dict[str, FacetValue] = {}
    for row in rows:
        code = row["topography__code"]
        group = code.split(".")[0]
        if group not in groups:
            groups[group] = FacetValue(
                group,
                f"{SITE_GROUPS.get(group, group)} ({group})",
                0,
                group in params.site,
            )
        # Each case has one site, so a group's count is the sum of its codes' counts.
        groups[group].count += row["n"]
        groups[group].children.append(
            FacetValue(
                code,
                f"{code} {row['topography__name']}",
                row["n"],
                code in params.site,
            )
        )
    return list(groups.values())


def _count_partner(name: str, column: str):
    """A fusion partner facet: cases counted through their fusion rows."""

    def count(params: SearchParams, resolved: Resolved) -> list[FacetValue]:
        rows = (
            FusionFinding.objects.filter(case__in=_ids(filtered(params, resolved)))
            .exclude(**{f"{column}__isnull": True})
            .order_by()
            .values(column)
            .annotate(n=Count("case", distinct=True))
            .order_by("-n", column)[:FACET_LIMIT]
        )
        chosen = resolved.gene_symbols.get(name, "")
        return [FacetValue(r[column], r[column], r["n"], r[column] == chosen) for r in rows]

    return count


def _count_ihc(params: SearchParams, resolved: Resolved) -> list[FacetValue]:
    """Marker and result pairs, cases counted through their IHC rows."""
    rows = (
        IHCResult.objects.filter(
            case__in=_ids(filtered(params, resolved)), result__in=["positive", "negative"]
        )
        .order_by()
        .values("marker__name", "result")
        .annotate(n=Count("case", distinct=True))
        .order_by("-n", "marker__name", "result")[:FACET_LIMIT]
    )
    chosen = {(m.lower(), r) for m, r in params.ihc}
    return [
        FacetValue(
            f"{r['marker__name']}:{r['result']}",
            f"{r['marker__name']} {r['result']}",
            r["n"],
            (r["marker__name"].lower(), r["result"]) in chosen,
        )
        for r in rows
    ]


def _count_age(params: SearchParams, resolved: Resolved) -> list[FacetValue]:
    """Age bands (a computed column), in the bands' own order."""
    band_labels = {key: label for key, label, _, _ in AGE_BANDS}
    rows = (
        filtered(params, resolved, skip="age")
        .filter(age__isnull=False)
        .order_by()
        .annotate(band=age_band_expression())
        .values("band")
        .annotate(n=Count("*"))
        .order_by("band")
    )
    counts = {r["band"]: r["n"] for r in rows if r["band"]}
    return _facet_values(
        params,
        "age",
        [(key, None, counts[key]) for key in band_labels if key in counts],
        lambda v, _: band_labels[v],
        params.age,
    )


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

    def count(self, name: str, params: SearchParams, resolved: Resolved) -> list[FacetValue]:
        cases = _ids(filtered(params, resolved, skip=name))
        counted: dict[str, set] = {}
        totals: dict[str, int] = {}
        for model, column in self.sources:
            rows = model.objects.filter(case__in=cases).order_by()
            if column == "fusion":
                totals["fusion"] = rows.values("case").distinct().count()
                continue
            for row in rows.values(column).annotate(n=Count("case", distinct=True)):
                value = row[column]
                if value:
                    counted.setdefault(value, set()).add(model)
                    totals[value] = totals.get(value, 0) + row["n"]
        # A value counted from two tables (a method of a fusion and of a variant) may
        # count a case twice: count those distinct cases once.
        for value, models in counted.items():
            if len(models) > 1:
                totals[value] = (
                    Case.objects.filter(pk__in=cases).filter(self.condition([value])).count()
                )
        order = list(self.labels)
        return _facet_values(
            params,
            name,
            sorted(
                ((v, None, n) for v, n in totals.items() if n),
                key=lambda row: (-row[2], order.index(row[0]) if row[0] in order else 0),
            ),
            lambda value, _: self.labels.get(value, value),
            getattr(params, name),
        )


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


def _child_rows(name: str):
    return lambda params, resolved, _name: CHILD_FACETS[name].count(name, params, resolved)


def _case_column(definition: CaseColumnFacet):
    return lambda params, resolved, name: count_case_column(definition, name, params, resolved)


def _own(count):
    return lambda params, resolved, name: count(params, resolved)


# Every facet, in the order the search page shows them: (URL parameter, title, counting).
# A facet over a case column is one row here; the others (a tree, child rows, a computed
# band) have a counting function of their own.
FACETS: tuple[tuple[str, str, object], ...] = (
    # The WHO family of the final diagnosis ("all myofibroblastic tumours"), then the
    # diagnosis itself: one GROUP BY each over (id, name).
    (
        "family",
        "WHO family",
        _case_column(
            CaseColumnFacet("final_diagnosis__family_id", "final_diagnosis__family__name")
        ),
    ),
    (
        "dx",
        "Diagnosis",
        _case_column(CaseColumnFacet("final_diagnosis_id", "final_diagnosis__name")),
    ),
    ("site", "Site", _own(_count_site)),
    ("five", "Fusion: 5' partner", _own(_count_partner("five", "five_prime_gene__symbol"))),
    ("three", "Fusion: 3' partner", _own(_count_partner("three", "three_prime_gene__symbol"))),
    ("ihc", "Immunohistochemistry", _own(_count_ihc)),
    (
        "sex",
        "Sex",
        _case_column(CaseColumnFacet("sex", labels=dict(Case.Sex.choices), limit=None)),
    ),
    ("age", "Age", _own(_count_age)),
    (
        "year",
        "Publication year",
        _case_column(CaseColumnFacet("citation__year", order=("-citation__year",))),
    ),
    (
        "grade",
        "Evidence grade",
        _case_column(
            CaseColumnFacet(
                "evidence_grade",
                labels=dict(Case.Grade.choices),
                order=("evidence_grade",),
                limit=None,
            )
        ),
    ),
    ("finding", "Molecular finding", _child_rows("finding")),
    ("method", "Molecular method", _child_rows("method")),
    ("treatment", "Treatment", _child_rows("treatment")),
    ("event", "Clinical course", _child_rows("event")),
    (
        "outcome",
        "Status at last follow-up",
        _case_column(CaseColumnFacet("outcome", labels=dict(Case.Outcome.choices), limit=None)),
    ),
    (
        "source",
        "Curated from",
        _case_column(
            CaseColumnFacet("source_depth", labels=dict(Case.SourceDepth.choices), limit=None)
        ),
    ),
)


def compute_facets(params: SearchParams, resolved: Resolved) -> dict[str, Facet]:
    """Every facet's counts (FACETS), one GROUP BY query each.

    COUNT(*) rather than COUNT(id): with nothing but facet filters, PostgreSQL
    then answers from the (status, column) indexes alone (index-only scans).
    """
    return {
        name: Facet(name, title, count(params, resolved, name)) for name, title, count in FACETS
    }


def with_rows(cases, *, table: bool = False):
    """What a result row shows, fetched in a fixed number of queries (the table view
    also shows treatments and the other molecular findings: two more)."""
    cases = cases.select_related(
        "citation", "final_diagnosis__family", "topography"
    ).prefetch_related(
        Prefetch(
            "ihc_results",
            queryset=IHCResult.objects.select_related("marker").order_by("position", "pk"),
        ),
        Prefetch(
            "fusions",
            queryset=FusionFinding.objects.select_related(
                "five_prime_gene", "three_prime_gene"
            ).order_by("position", "pk"),
        ),
        Prefetch("citation__authors", queryset=Author.objects.order_by("position")),
    )
    if table:
        cases = cases.prefetch_related(
            Prefetch(
                "molecular_findings",
                queryset=MolecularFinding.objects.select_related("gene").order_by(
                    "position", "pk"
                ),
            ),
            Prefetch("treatments", queryset=Treatment.objects.order_by("position", "pk")),
        )
    return cases


def _sort_column(key: str):
    """The expression a column sort orders by (params.COLUMN_SORTS); "" is not reported."""
    if key == "age":
        return age_in_years()
    column = {
        "grade": "evidence_grade",
        "diagnosis": "final_diagnosis__name",
        "sex": "sex",
        "site": "topography__code",
        "size": "size_mm",
        "outcome": "outcome",
        "follow_up": "follow_up_months",
        "year": "citation__year",
    }[key]
    if key in ("sex", "outcome"):  # choice columns hold "" when not reported
        return NullIf(F(column), Value(""))
    return F(column)


def ordered(cases, params: SearchParams, resolved: Resolved):
    """Sort: relevance (rank, or agreeing markers for a profile), or a column (year, age,
    and the table's: params.COLUMN_SORTS), cases without the value last either way."""
    text = resolved.text
    key = params.sort.removeprefix("-")
    if key in COLUMN_SORTS:
        descending = COLUMN_SORTS[key][3] != params.sort.startswith("-")
        cases = cases.annotate(sort_value=_sort_column(key))
        value = F("sort_value")
        order = value.desc(nulls_last=True) if descending else value.asc(nulls_last=True)
        return cases.order_by(order, "-pk")
    keys = []
    if resolved.profile and resolved.profile.usable:
        cases = with_agreement(cases, resolved.matches)
        keys.append(F("profile_agree").desc())
    structured = resolved.structured_match() if text else None
    if structured is not None:
        # A case whose record names what was typed comes before one whose text only does.
        cases = cases.annotate(
            structured=SqlCase(When(structured, then=Value(1)), default=Value(0))
        )
        keys.append(F("structured").desc())
    if text and fulltext.on_postgresql():
        cases = fulltext.rank(cases, text)
        keys.append(F("rank").desc())
    return cases.order_by(*keys, "-published_at", "-pk")


class _CountedPaginator(Paginator):
    """A paginator told its count (cached with the facets) instead of running COUNT(*)."""

    def __init__(self, object_list, per_page, count: int):
        super().__init__(object_list, per_page)
        self._known_count = count

    @cached_property
    def count(self) -> int:
        return self._known_count


def counts(params: SearchParams, resolved: Resolved) -> tuple[int, dict[str, Facet]]:
    """(matching cases, facets): cached per registry generation and normalised query.

    The key is the query without its page (facet links keep sort and page size).
    """

    def compute():
        total = filtered(params, resolved).order_by().count()
        return total, compute_facets(params, resolved)

    # The cases, not how they are shown: the cards and the table share the counts.
    return cache.cached(
        "facets", params.presentation.as_pairs(page=False), compute, bypass=resolved.bypass_cache
    )


def _page(cases, params: SearchParams, resolved: Resolved, total: int):
    """One page of results: its ids (cached per registry generation and full query),
    then its rows by primary key (select_related and prefetches bounded to the page).

    The ordering (rank, agreeing markers, year, age) may have to look at every
    matching case -- tens of thousands at registry scale -- so a warm page
    costs a primary-key fetch whatever the sort; the first request after a
    change pays the ORDER BY ... LIMIT once.
    """
    paginator = _CountedPaginator(cases.values_list("pk", flat=True), params.per_page, total)
    page = paginator.get_page(params.page)
    key = [*params.as_pairs(page=False), ("page", page.number), ("per_page", params.per_page)]
    ids = cache.cached(
        "page",
        key,
        lambda: list(page.object_list),
        bypass=resolved.bypass_cache,
    )
    table = params.view == "table"
    rows = (
        {c.pk: c for c in with_rows(Case.objects.published().filter(pk__in=ids), table=table)}
        if ids
        else {}
    )
    if resolved.profile and resolved.profile.usable:
        for case in rows.values():  # what the ordering annotated, for the row's text
            case.profile_agree = resolved.matches.get(case.pk, 0)
    page.object_list = [rows[pk] for pk in ids if pk in rows]
    return page


def differential(params: SearchParams, resolved: Resolved) -> list[Likelihood]:
    """The profile as a differential: diagnoses ranked by the likelihood of the profile
    (immunoprofile.rank_differential) from the counts of the cases matching the search's
    other filters, the diagnosis and WHO family chosen left out (choosing a diagnosis of
    the ranking to see its cases keeps the ranking). One grouped query, cached per
    registry generation."""
    profile = resolved.profile
    if not (profile and profile.usable):
        return []
    others = replace(params, dx=(), family=(), sort="relevance", page=1)
    return cache.cached(
        "differential",
        [
            *others.as_pairs(page=False),
            ("terms", [(t.marker_id, t.result) for t in profile.terms]),
        ],
        lambda: rank_differential(
            profile, profile_counts(profile, filtered(others, resolved, skip="profile"))
        ),
        bypass=resolved.bypass_cache,
    )


MAX_NAMED = 5


def named_diagnoses(resolved: Resolved) -> list[tuple[int, str]]:
    """(id, name) of the diagnoses the words name (`IMT`), for a link to their pages:
    one query when the words name any, cached per registry generation."""
    ids = sorted(resolved.text_diagnoses)
    if not ids:
        return []
    return cache.cached(
        "dxnames",
        ids,
        lambda: list(
            Diagnosis.objects.filter(pk__in=ids)
            .order_by("name")
            .values_list("pk", "name")[:MAX_NAMED]
        ),
        bypass=resolved.bypass_cache,
    )


def run_search(params: SearchParams, *, bypass_cache: bool = False) -> SearchResult:
    resolved = Resolved(params, bypass_cache=bypass_cache)
    total, facets = counts(params, resolved)
    cases = ordered(filtered(params, resolved), params, resolved)
    page = _page(cases, params, resolved, total)
    return SearchResult(
        params=params,
        page=page,
        total=total,
        facets=facets,
        messages=resolved.messages,
        profile=resolved.profile,
        genes=resolved.gene_symbols,
        fusion_terms=resolved.fusion_terms,
        differential=differential(params, resolved),
        named_diagnoses=named_diagnoses(resolved),
    )


def export_cases(params: SearchParams, resolved: Resolved | None = None):
    """Every case of a search, in result order, for the streaming exports (no page).

    The exports read the rows themselves, a chunk at a time (curation/search/exports.py).
    """
    resolved = resolved or Resolved(params)
    return ordered(filtered(params, resolved), params, resolved)
