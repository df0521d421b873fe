"""Run a search: filters, facet counts (in the facet index), one page of results.

Facet counts and the total are intersections of bitmaps in the facet index
(curation/search/bitmaps.py, class Counting): no GROUP BY per facet, a few
milliseconds for any combination of filters. The index is built per registry
generation; what it cannot answer -- the words of q -- is a set of ids from the
database (full text, GIN index), cached per generation like the page's ids.

The number of SQL queries is fixed whatever the page size: the words' ids, one
page of ids, its rows by primary key, three prefetches (IHC, fusions, authors),
one grouped query for a profile's differential, and a few look-ups of what the
URL names (gene symbols, markers).

Facets are "OR within, AND across": ticking two diagnoses shows cases of
either; a diagnosis and a site, cases of both. A facet's own counts ignore
its own selection (so its other values stay visible with their counts);
IHC and fusion-partner filters all must hold and narrow every count.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from functools import cached_property

from django.core.paginator import Paginator
from django.db.models import Case as SqlCase
from django.db.models import (
    Exists,
    F,
    OuterRef,
    Prefetch,
    Q,
    Value,
    When,
)
from django.db.models.functions import NullIf
from pyroaring import BitMap, FrozenBitMap

from citations.models import Author
from config.text import american_spelling
from curation.models import (
    Case,
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
from curation.search import bitmaps, cache, fulltext
from curation.search.facets import (
    CHILD_FACETS,
    LIST_ORDER,
    age_band_q,
    age_in_years,
)
from curation.search.immunoprofile import (
    Likelihood,
    Profile,
    consistent_filter,
    marker_key,
    marker_rows,
    parse_profile,
    rank_differential,
    with_agreement,
)
from curation.search.params import (
    AGE_BANDS,
    COLUMN_SORTS,
    SITE_GROUPS,
    SearchParams,
)

# q tokens that are written like fusions ("CARS1::ALK", "CARS-ALK") also filter by fusion.
_FUSIONISH = re.compile(r"^[A-Za-z0-9]{2,20}(::|-|/|\u2013)[A-Za-z0-9]{2,20}$")
MAX_FUSION_TOKENS = 2
FACET_LIMIT = 30  # values shown per facet (the largest counts)


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
        """{case id: agreeing markers} of the published cases consistent with the profile,
        from the facet index (bitmaps.agreement): no query."""
        profile = self.profile
        if not (profile and profile.usable):
            return {}
        return bitmaps.agreement(bitmaps.current(), profile.terms)


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


def with_words(cases, resolved: Resolved):
    """`cases` narrowed to those the words of q match: the fusions written in it
    (structurally: their words need not be in the text), then full text."""
    for five, three in resolved.fusions.values():
        findings = FusionFinding.objects.filter(case=OuterRef("pk"), three_prime_gene__in=three)
        if five is not None:
            findings = findings.filter(five_prime_gene__in=five)
        cases = cases.filter(Exists(findings))
    return fulltext.text_filter(cases, resolved.text, resolved.structured_match())


def filtered(params: SearchParams, resolved: Resolved, *, skip: str = ""):
    """Published cases matching every filter except facet `skip` (for its own counts);
    those of retracted papers only with `retracted=include` (Case.objects.counted)."""
    cases = with_words(Case.objects.counted(retracted=params.retracted), resolved)
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


@dataclass(frozen=True)
class ColumnFacet:
    """A facet over one column of the case (bitmaps.CASE_COLUMNS): its values' labels
    (a model's choices, or "dx"/"family": the vocabulary's names in the index; else the
    value itself), their order and how many are shown."""

    labels: dict | str | None = None
    order: str = "count"  # most cases first; "value" / "-value": by the value itself
    limit: int | None = FACET_LIMIT


COLUMN_FACETS = {
    "family": ColumnFacet("family"),
    "dx": ColumnFacet("dx"),
    "sex": ColumnFacet(dict(Case.Sex.choices), limit=None),
    "year": ColumnFacet(order="-value"),
    "grade": ColumnFacet(dict(Case.Grade.choices), order="value", limit=None),
    "outcome": ColumnFacet(dict(Case.Outcome.choices), limit=None),
    "source": ColumnFacet(dict(Case.SourceDepth.choices), limit=None),
}

# Every facet, in the order the search page shows them: (URL parameter, title).
FACETS: tuple[tuple[str, str], ...] = (
    ("family", "WHO family"),
    ("dx", "Diagnosis"),
    ("site", "Site"),
    ("five", "Fusion: 5' partner"),
    ("three", "Fusion: 3' partner"),
    ("ihc", "Immunohistochemistry"),
    ("sex", "Sex"),
    ("age", "Age"),
    ("year", "Publication year"),
    ("grade", "Evidence grade"),
    ("finding", "Molecular finding"),
    ("method", "Molecular method"),
    ("treatment", "Treatment"),
    ("event", "Clinical course"),
    ("outcome", "Status at last follow-up"),
    ("source", "Curated from"),
)


class Counting:
    """A search's cases and facet counts, from the facet index (curation/search/bitmaps.py).

    Facets are "OR within, AND across"; a facet's own counts ignore its own selection
    (`cases(skip=...)`); the IHC and fusion-partner filters all must hold and narrow
    every count, their own included. What the index cannot answer -- full text and
    the fusions written in q -- comes from the database as a set of ids (GIN index),
    intersected like any other filter.
    """

    def __init__(self, params: SearchParams, resolved: Resolved, *, profile: bool = True):
        """`profile=False`: the profile is not a filter (its differential's cases)."""
        self.params, self.resolved = params, resolved
        index = self.index = bitmaps.current()
        must = [bitmaps.counted(index, retracted=params.retracted)]
        words = _word_matches(params, resolved)
        if words is not None:
            must.append(words)
        for marker_id, result in resolved.text_ihc:
            must.append(index.cases("ihc", (marker_id, result)))
        for marker, result in params.ihc:
            marker_id = resolved.markers.get(marker.lower())
            if marker_id is not None:
                must.append(index.cases("ihc", (marker_id, result)))
        for name in ("five", "three"):
            if name in resolved.genes:
                must.append(index.union(name, [gene.pk for gene in resolved.genes[name]]))
        if profile and resolved.profile is not None:
            # An unreadable profile matches nothing (never every case).
            must.append(BitMap(resolved.matches))
        self.core = bitmaps.intersect(must)
        self.own: dict[str, BitMap] = {}  # facet -> the cases its chosen values allow
        for name in (*COLUMN_FACETS, "site", "age", *CHILD_FACETS):
            chosen = getattr(params, name)
            if chosen:
                self.own[name] = self._chosen(name, chosen)

    def _chosen(self, name: str, chosen) -> BitMap:
        index = self.index
        if name != "site":
            return index.union(name, chosen)
        codes = {s for s in chosen if "." in s}
        groups = tuple(s + "." for s in chosen if "." not in s)
        return index.union(
            "site", [c for c in index.values["site"] if c in codes or c.startswith(groups)]
        )

    def cases(self, skip: str = "") -> BitMap:
        """The matching cases, facet `skip`'s own selection left out."""
        others = [cases for name, cases in self.own.items() if name != skip]
        return bitmaps.intersect([self.core, *others]) if others else self.core

    @cached_property
    def total(self) -> int:
        return len(self.cases())

    def facets(self) -> dict[str, Facet]:
        return {name: Facet(name, title, self._count(name)) for name, title in FACETS}

    def _counted(self, name: str, cases: BitMap) -> list[tuple[object, int]]:
        """(value, cases) of facet `name` among `cases`, values with none left out."""
        return list(bitmaps.counts(self.index, name, cases).items())

    def _count(self, name: str) -> list[FacetValue]:
        params, labels = self.params, self.index.labels
        if name in COLUMN_FACETS:
            definition = COLUMN_FACETS[name]
            names = labels.get(definition.labels, {}) if isinstance(definition.labels, str) else {}
            choices = definition.labels if isinstance(definition.labels, dict) else {}

            def label(value) -> str:
                return names.get(value) or choices.get(value, str(value))

            rows = self._counted(name, self.cases(skip=name))
            if definition.order == "value":
                rows.sort(key=lambda row: row[0])
            elif definition.order == "-value":
                rows.sort(key=lambda row: row[0], reverse=True)
            elif isinstance(definition.labels, str):
                rows.sort(key=lambda row: (-row[1], label(row[0])))
            else:
                rows.sort(key=lambda row: (-row[1], row[0]))
            chosen = getattr(params, name)
            return [
                FacetValue(value, label(value), n, value in chosen)
                for value, n in rows[: definition.limit]
            ]
        if name == "site":
            return self._sites()
        if name in ("five", "three"):
            symbols = labels["gene"]
            rows = sorted(
                ((symbols[gene], n) for gene, n in self._counted(name, self.cases())),
                key=lambda row: (-row[1], row[0]),
            )
            chosen = self.resolved.gene_symbols.get(name, "")
            return [FacetValue(s, s, n, s == chosen) for s, n in rows[:FACET_LIMIT]]
        if name == "ihc":
            return self._ihc()
        if name == "age":
            counts = dict(self._counted("age", self.cases(skip="age")))
            return [
                FacetValue(key, label, counts[key], key in params.age)
                for key, label, _, _ in AGE_BANDS
                if key in counts
            ]
        definition = CHILD_FACETS[name]
        order = list(definition.labels)
        rows = sorted(
            self._counted(name, self.cases(skip=name)),
            key=lambda row: (-row[1], order.index(row[0]) if row[0] in order else 0),
        )
        chosen = getattr(params, name)
        return [
            FacetValue(value, definition.labels.get(value, value), n, value in chosen)
            for value, n in rows
        ]

    def _sites(self) -> list[FacetValue]:
        """ICD-O topography codes under their groups (C44, then C44.4 under it): a tree."""
        names, chosen = self.index.labels["site"], self.params.site
        groups: dict[str, FacetValue] = {}
        for code, n in sorted(self._counted("site", self.cases(skip="site"))):
            group = code.split(".")[0]
            if group not in groups:
                groups[group] = FacetValue(
                    group, f"{SITE_GROUPS.get(group, group)} ({group})", 0, group in chosen
                )
            # Each case has one site, so a group's count is the sum of its codes' counts.
            groups[group].count += n
            groups[group].children.append(
                FacetValue(code, f"{code} {names.get(code, '')}".strip(), n, code in chosen)
            )
        return list(groups.values())

    def _ihc(self) -> list[FacetValue]:
        """Marker and result pairs (positive and negative), with their cases."""
        names = self.index.labels["marker"]
        cases = self.cases()
        rows = sorted(
            (
                (names[marker_id], result, n)
                for (marker_id, result), n in self._counted("ihc", cases)
                if result in ("positive", "negative")
            ),
            key=lambda row: (-row[2], row[0], row[1]),
        )
        chosen = {(m.lower(), r) for m, r in self.params.ihc}
        return [
            FacetValue(f"{name}:{result}", f"{name} {result}", n, (name.lower(), result) in chosen)
            for name, result, n in rows[:FACET_LIMIT]
        ]


def _word_matches(params: SearchParams, resolved: Resolved) -> BitMap | None:
    """The published cases that the words of q match (full text, the fusions written in
    it): ids from the database, cached per registry generation; None: no words."""
    if not (resolved.text or resolved.fusions):
        return None

    def compute():
        cases = with_words(Case.objects.published(), resolved)
        return FrozenBitMap(cases.order_by().values_list("pk", flat=True))

    return cache.cached(
        "words",
        [resolved.text, sorted(resolved.fusions)],
        compute,
        bypass=resolved.bypass_cache,
    )


# What no result row shows and each would fetch: the paper's XML, abstract, MeSH terms,
# keywords and copyright, and the case's text-search vector (half a row's cost).
ROW_DEFERRED = (
    "search_vector",
    "citation__raw_xml",
    "citation__abstract",
    "citation__mesh_terms",
    "citation__keywords",
    "citation__copyright",
)


def with_rows(cases, *, table: bool = False):
    """What a result row shows, fetched in a fixed number of queries (the table view
    also shows treatments and the other molecular findings: two more). Of the paper's
    authors a row shows the first, and whether there are others: two are fetched."""
    cases = (
        cases.select_related("citation", "final_diagnosis__family", "topography")
        .defer(*ROW_DEFERRED)
        .prefetch_related(
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
            Prefetch(
                "citation__authors",
                queryset=Author.objects.filter(position__lt=2)
                .defer("affiliations")
                .order_by("position"),
            ),
        )
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


def _descending(sort: str) -> bool:
    """Does column sort `sort` ("size", "-size": params.COLUMN_SORTS) put the largest first?"""
    return COLUMN_SORTS[sort.removeprefix("-")][3] != sort.startswith("-")


def ordered(cases, params: SearchParams, resolved: Resolved):
    """Sort: relevance (rank, or agreeing markers for a profile), or a column (year, age,
    and the table's: params.COLUMN_SORTS), cases without the value last either way."""
    text = resolved.text
    key = params.sort.removeprefix("-")
    if key in COLUMN_SORTS:
        descending = _descending(params.sort)
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
    return cases.order_by(*keys, *LIST_ORDER)


class _CountedPaginator(Paginator):
    """A paginator told its count (cached with the facets) instead of running COUNT(*)."""

    def __init__(self, object_list, per_page, count: int):
        super().__init__(object_list, per_page)
        self._known_count = count

    @cached_property
    def count(self) -> int:
        return self._known_count


def _page(cases, params: SearchParams, resolved: Resolved, counting: Counting):
    """One page of results: its ids, then its rows by primary key (select_related and
    prefetches bounded to the page).

    In the list's own order (newest first; a profile's most agreeing first) the ids
    come from the facet index (bitmaps.in_order): no ORDER BY over every matching
    case. Ranked by the words, or sorted by a column, the ordering may have to look
    at every matching case -- tens of thousands at registry scale -- so those ids are
    cached per registry generation and full query: the first request after a change
    pays the ORDER BY ... LIMIT once.
    """
    total = counting.total
    column = params.sort.removeprefix("-")
    by_column = column in bitmaps.NUMBER_SORTS
    indexed = by_column or (params.sort == "relevance" and not resolved.text)
    profile = resolved.profile if resolved.profile and resolved.profile.usable else None
    if indexed:
        order = (
            _IndexColumnOrder(counting, column, params.sort)
            if by_column
            else _IndexOrder(counting, resolved.matches if profile else None)
        )
        paginator = _CountedPaginator(order, params.per_page, total)
        page = paginator.get_page(params.page)
        ids = list(page.object_list)
    else:
        paginator = _CountedPaginator(cases.values_list("pk", flat=True), params.per_page, total)
        page = paginator.get_page(params.page)
        # Sliced by the total, which the index counted: the index's generation is part of
        # the key, so a page cut while the previous index serves (the new one being
        # built) is kept for the readers of that moment only, never for the generation.
        key = [
            *params.as_pairs(page=False),
            ("page", page.number),
            ("per_page", params.per_page),
            ("index", counting.index.generation),
        ]
        ids = cache.cached(
            "page", key, lambda: list(page.object_list), bypass=resolved.bypass_cache
        )
    table = params.view == "table"
    rows = (
        {c.pk: c for c in with_rows(Case.objects.published().filter(pk__in=ids), table=table)}
        if ids
        else {}
    )
    if profile:
        for case in rows.values():  # what the ordering annotated, for the row's text
            case.profile_agree = resolved.matches.get(case.pk, 0)
    page.object_list = [rows[pk] for pk in ids if pk in rows]
    return page


class _IndexOrder:
    """The matching cases' ids in the list's order, sliced by the paginator."""

    def __init__(self, counting: Counting, matches):
        self.counting, self.matches = counting, matches

    def __len__(self) -> int:
        return self.counting.total

    def __getitem__(self, part: slice) -> list[int]:
        return bitmaps.in_order(
            self.counting.index, self.counting.cases(), part.start, part.stop, self.matches
        )


class _IndexColumnOrder(_IndexOrder):
    """The matching cases' ids sorted by a numeric column (bitmaps.in_column_order)."""

    def __init__(self, counting: Counting, column: str, sort: str):
        super().__init__(counting, None)
        self.column = column
        self.descending = _descending(sort)

    def __getitem__(self, part: slice) -> list[int]:
        return bitmaps.in_column_order(
            self.counting.index,
            self.counting.cases(),
            self.column,
            self.descending,
            part.start,
            part.stop,
        )


def differential(params: SearchParams, resolved: Resolved) -> list[Likelihood]:
    """The profile as a differential: diagnoses ranked by the likelihood of the profile
    (immunoprofile.rank_differential) from the counts of the cases matching the search's
    other filters, the diagnosis and WHO family chosen left out (choosing a diagnosis of
    the ranking to see its cases keeps the ranking). Counted in the facet index
    (bitmaps.tested_by_diagnosis): no query."""
    profile = resolved.profile
    if not (profile and profile.usable):
        return []
    others = replace(params, dx=(), family=(), sort="relevance", page=1)
    counting = Counting(others, resolved, profile=False)
    markers = [t.marker_id for t in profile.terms]
    return rank_differential(
        profile, bitmaps.tested_by_diagnosis(counting.index, counting.cases(), markers)
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
    counting = Counting(params, resolved)
    cases = ordered(filtered(params, resolved), params, resolved)
    page = _page(cases, params, resolved, counting)
    return SearchResult(
        params=params,
        page=page,
        total=counting.total,
        facets=counting.facets(),
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
