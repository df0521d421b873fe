"""The search state as it lives in the URL: parsed strictly, bounded, re-encoded.

Plain Python (no database). Anything a user can put in a query string gives
a SearchParams; what cannot be read is dropped and, where the user would
wonder why, reported in `notes`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from urllib.parse import urlencode

from config.text import search_text
from curation import course, molecular

MAX_TEXT = 300  # characters of free text kept (a 10 KB query string is cut, not refused)
MAX_VALUES = 20  # values kept per multi-valued facet
PAGE_SIZES = (10, 25, 50, 100)
DEFAULT_PAGE_SIZE = 25
MAX_PAGE = 10_000
SORTS = {
    "relevance": "Relevance",
    "year": "Publication year (newest first)",
    "age": "Age (youngest first)",
}
# The results as a table (view=table): its columns, in order, and those it sorts by.
# A column sort is `sort=<key>` (the direction of COLUMN_SORTS) or `sort=-<key>`
# (the other way); `year` and `age` are also the form's sorts.
VIEWS = ("cards", "table")
COLUMNS = {
    "grade": "Grade",
    "diagnosis": "Diagnosis",
    "age": "Age",
    "sex": "Sex",
    "site": "Site",
    "size": "Size (mm)",
    "ihc": "IHC",
    "finding": "Finding",
    "method": "Method",
    "treatment": "Treatment",
    "outcome": "Outcome",
    "follow_up": "Follow-up (months)",
    "reference": "Reference",
}
# key -> (what it sorts by, the order of `sort=<key>`, of `sort=-<key>`, newest first?)
COLUMN_SORTS = {
    "grade": ("evidence grade", "A first", "D first", False),
    "diagnosis": ("diagnosis", "A to Z", "Z to A", False),
    "age": ("age", "youngest first", "oldest first", False),
    "sex": ("sex", "female first", "male first", False),
    "site": ("site", "by ICD-O-3 code", "by ICD-O-3 code, reversed", False),
    "size": ("size", "smallest first", "largest first", False),
    "outcome": ("status at last follow-up", "A to Z", "Z to A", False),
    "follow_up": ("follow-up", "shortest first", "longest first", False),
    "year": ("publication year", "newest first", "oldest first", True),
}
# The column a table header sorts by (reference: its paper's year).
COLUMN_SORT_KEYS = {**{key: key for key in COLUMN_SORTS if key in COLUMNS}, "reference": "year"}
IHC_RESULTS = ("positive", "negative", "equivocal")
SEXES = ("female", "male")
# The status at last follow-up (Case.Outcome) and the record's other controlled lists
# (curation.models): the facet values a URL may carry.
OUTCOMES = ("ned", "awd", "dod", "doc")
GRADES = molecular.GRADES
SOURCE_DEPTHS = ("abstract", "full_text", "full_text_figures")
FINDING_TYPES = ("fusion", "variant", "copy_number", "other")
METHODS = tuple(m.code for m in molecular.METHODS)
TREATMENTS = tuple(code for code, _label in course.TREATMENT_KINDS)
EVENTS = tuple(code for code, _label in course.EVENT_KINDS)
# Age bands in years: (key, label, low inclusive, high exclusive or None).
AGE_BANDS = (
    ("0-9", "0\u20139 years", 0, 10),
    ("10-19", "10\u201319 years", 10, 20),
    ("20-39", "20\u201339 years", 20, 40),
    ("40-59", "40\u201359 years", 40, 60),
    ("60-79", "60\u201379 years", 60, 80),
    ("80+", "80 years and over", 80, None),
)
AGE_BAND_KEYS = tuple(band[0] for band in AGE_BANDS)
# Topography groups (ICD-O-3): a site filter value is a code ("C44.4") or a group.
# ICD-O-3 three-character site titles of the topography RareDerm ships (skin,
# soft tissue, and the skin-bearing sites coded elsewhere).
SITE_GROUPS = {
    "C00": "Lip",
    "C44": "Skin",
    "C47": "Peripheral nerves and autonomic nervous system",
    "C49": "Soft tissue",
    "C50": "Breast (nipple)",
    "C51": "Vulva",
    "C60": "Penis",
    "C63": "Other and unspecified male genital organs (scrotum)",
    "C69": "Eye and adnexa (conjunctiva)",
}
_SITE = re.compile(r"^C[0-9]{2}(\.[0-9])?$")
# `retracted=include`: the cases whose paper was retracted, left out by default
# (Case.objects.counted), are counted and listed too. Every page that counts reads it here.
RETRACTED_PARAM = "retracted"
RETRACTED_INCLUDE = "include"


def read_retracted(query) -> tuple[bool, str]:
    """(include the cases of retracted papers?, the error for a value that is not `include`)."""
    values = [clean_text(str(v), 40) for v in _raw_many(query, RETRACTED_PARAM)]
    value = values[-1].lower() if values else ""
    if value in ("", RETRACTED_INCLUDE):
        return value == RETRACTED_INCLUDE, ""
    return False, (
        f"Retracted “{value[:20]}” is not “{RETRACTED_INCLUDE}”: cases whose paper was "
        "retracted are left out."
    )


def clean_text(value: str, limit: int = MAX_TEXT) -> str:
    """One line of searched text, at most MAX_TEXT characters unless told (config.text)."""
    return search_text(value, limit)


def _int(value: str, low: int, high: int) -> int | None:
    value = (value or "").strip()
    if not value.isascii() or not value.isdigit() or len(value) > 6:
        return None
    number = int(value)
    return number if low <= number <= high else None


def _unique(values) -> tuple:
    seen = []
    for value in values:
        if value not in seen:
            seen.append(value)
    return tuple(seen[:MAX_VALUES])


@dataclass(frozen=True)
class SearchParams:
    q: str = ""
    dx: tuple[int, ...] = ()  # final diagnosis ids
    family: tuple[int, ...] = ()  # WHO family ids of the final diagnosis
    site: tuple[str, ...] = ()  # topography codes or groups (C44, C49)
    five: str = ""  # 5' partner, any symbol the user typed
    three: str = ""  # 3' partner
    ihc: tuple[tuple[str, str], ...] = ()  # (marker name, result); all must hold
    sex: tuple[str, ...] = ()
    age: tuple[str, ...] = ()  # AGE_BAND_KEYS
    year: tuple[int, ...] = ()  # publication years
    outcome: tuple[str, ...] = ()
    grade: tuple[str, ...] = ()  # evidence grades A-D
    source: tuple[str, ...] = ()  # what the curator read (SOURCE_DEPTHS)
    finding: tuple[str, ...] = ()  # FINDING_TYPES: cases with such a molecular finding
    method: tuple[str, ...] = ()  # METHODS: cases with a finding by such a method
    treatment: tuple[str, ...] = ()  # TREATMENTS
    event: tuple[str, ...] = ()  # EVENTS in the clinical course
    profile: str = ""  # immunoprofile, "ALK+ SMA+ S100- SOX10-"
    retracted: bool = False  # retracted=include: cases of retracted papers too
    sort: str = "relevance"  # SORTS, or a column sort: "size", "-size" (COLUMN_SORTS)
    view: str = "cards"  # VIEWS
    cols: tuple[str, ...] = ()  # the table's columns (COLUMNS); () is every column
    page: int = 1
    per_page: int = DEFAULT_PAGE_SIZE
    notes: tuple[str, ...] = field(default=(), compare=False)
    # Facet values that could not be read: the page says so and the API answers 400.
    errors: tuple[str, ...] = field(default=(), compare=False)

    # -- reading ---------------------------------------------------------------

    @classmethod
    def from_query(cls, query) -> SearchParams:
        """From a QueryDict (or a dict of lists): never raises."""

        def many(name: str) -> list[str]:
            if hasattr(query, "getlist"):
                values = query.getlist(name)
            else:
                values = query.get(name, [])
                values = [values] if isinstance(values, str) else list(values)
            return [clean_text(str(v), 100) for v in values[: MAX_VALUES * 5]]

        def one(name: str, limit: int = MAX_TEXT) -> str:
            values = many(name) if limit <= 100 else _raw_many(query, name)
            return clean_text(values[-1], limit) if values else ""

        notes = []
        q = clean_text(_raw_many(query, "q")[-1] if _raw_many(query, "q") else "")
        raw_q = _raw_many(query, "q")
        if raw_q and len(clean_text(raw_q[-1], 100_000)) > MAX_TEXT:
            notes.append(f"Only the first {MAX_TEXT} characters of the search text were used.")
        errors: list[str] = []

        def kept(name: str, label: str, read, expected: str) -> tuple:
            """The values of a facet that read; each one that does not is an error."""
            values = []
            for raw in many(name):
                if not raw:
                    continue  # an empty field of a form: no filter, no error
                value = read(raw)
                if value is None:
                    errors.append(f"{label} “{raw[:40]}” is not {expected}.")
                else:
                    values.append(value)
            return _unique(values)

        def known(choices):
            return lambda raw: raw.lower() if raw.lower() in choices else None

        def ihc_value(raw: str):
            marker, sep, result = raw.rpartition(":")
            if sep and marker.strip() and result.strip().lower() in IHC_RESULTS:
                return (marker.strip(), result.strip().lower())
            return None

        def ident(raw: str):
            return _int(raw, 1, 2**31 - 1)

        dx = kept("dx", "Diagnosis", ident, "a diagnosis number")
        family = kept("family", "WHO family", ident, "a family number")
        site = kept(
            "site",
            "Site",
            lambda raw: raw.upper() if _SITE.match(raw.upper()) else None,
            "an ICD-O-3 topography code such as C44 or C44.4",
        )
        ihc = kept("ihc", "IHC filter", ihc_value, "marker:result, e.g. ALK:positive")
        sort = one("sort", 20).lower()
        if sort and sort not in SORTS and sort.removeprefix("-") not in COLUMN_SORTS:
            notes.append(
                f"Sort “{sort[:20]}” is not one of {', '.join(SORTS)} or a column "
                f"({', '.join(COLUMN_SORTS)}, - before it for the other way); "
                "sorted by relevance."
            )
            sort = "relevance"
        view = one("view", 20).lower()
        if view and view not in VIEWS:
            notes.append(f"View “{view}” is not one of {', '.join(VIEWS)}; cards shown.")
        cols = []
        for raw in many("cols"):
            for name in (part.strip().lower() for part in raw.split(",")):
                if name in COLUMNS:
                    cols.append(name)
                elif name:
                    notes.append(
                        f"Column “{name[:20]}” is not one of {', '.join(COLUMNS)}; left out."
                    )
        cols = [name for name in COLUMNS if name in cols]  # the table's own order
        per_page = _int(one("per_page", 10), 1, max(PAGE_SIZES))
        retracted, retracted_error = read_retracted(query)
        if retracted_error:
            errors.append(retracted_error)
        return cls(
            q=q,
            dx=dx,
            family=family,
            site=site,
            five=one("five", 60),
            three=one("three", 60),
            ihc=ihc,
            sex=kept("sex", "Sex", known(SEXES), "one of " + ", ".join(SEXES)),
            age=kept(
                "age",
                "Age",
                lambda raw: raw if raw in AGE_BAND_KEYS else None,
                "an age band (" + ", ".join(AGE_BAND_KEYS) + ")",
            ),
            year=kept(
                "year", "Year", lambda raw: _int(raw, 1800, 2200), "a year from 1800 to 2200"
            ),
            outcome=kept(
                "outcome",
                "Status at last follow-up",
                known(OUTCOMES),
                "one of " + ", ".join(OUTCOMES),
            ),
            grade=kept(
                "grade",
                "Evidence grade",
                lambda raw: raw.upper() if raw.upper() in GRADES else None,
                "one of A, B, C, D",
            ),
            **{
                name: kept(name, label, known(choices), "one of " + ", ".join(choices))
                for name, label, choices in (
                    ("source", "Curated from", SOURCE_DEPTHS),
                    ("finding", "Finding type", FINDING_TYPES),
                    ("method", "Method", METHODS),
                    ("treatment", "Treatment", TREATMENTS),
                    ("event", "Clinical event", EVENTS),
                )
            },
            profile=one("profile", MAX_TEXT),
            retracted=retracted,
            sort=sort or "relevance",
            view=view if view in VIEWS else "cards",
            cols=() if len(cols) == len(COLUMNS) else tuple(cols),
            page=_int(one("page", 10), 1, MAX_PAGE) or 1,
            per_page=per_page if per_page in PAGE_SIZES else DEFAULT_PAGE_SIZE,
            notes=tuple(notes),
            errors=tuple(dict.fromkeys(errors)),
        )

    # -- writing ---------------------------------------------------------------

    def as_pairs(self, *, page: bool = True) -> list[tuple[str, str]]:
        """The URL query as (name, value) pairs, defaults left out (short, stable links)."""
        pairs: list[tuple[str, str]] = []
        if self.q:
            pairs.append(("q", self.q))
        pairs += [("family", str(v)) for v in self.family]
        pairs += [("dx", str(v)) for v in self.dx]
        pairs += [("site", v) for v in self.site]
        if self.five:
            pairs.append(("five", self.five))
        if self.three:
            pairs.append(("three", self.three))
        pairs += [("ihc", f"{m}:{r}") for m, r in self.ihc]
        pairs += [("sex", v) for v in self.sex]
        pairs += [("age", v) for v in self.age]
        pairs += [("year", str(v)) for v in self.year]
        pairs += [("outcome", v) for v in self.outcome]
        for name in ("grade", "source", "finding", "method", "treatment", "event"):
            pairs += [(name, v) for v in getattr(self, name)]
        if self.profile:
            pairs.append(("profile", self.profile))
        if self.retracted:
            pairs.append((RETRACTED_PARAM, RETRACTED_INCLUDE))
        if self.sort != "relevance":
            pairs.append(("sort", self.sort))
        if self.view != "cards":
            pairs.append(("view", self.view))
        pairs += [("cols", v) for v in self.cols]
        if self.per_page != DEFAULT_PAGE_SIZE:
            pairs.append(("per_page", str(self.per_page)))
        if page and self.page != 1:
            pairs.append(("page", str(self.page)))
        return pairs

    def query_string(self, **changes) -> str:
        """This search with some fields changed, as "?..." (page back to 1 unless given)."""
        changes.setdefault("page", 1)
        return "?" + urlencode(replace(self, **changes).as_pairs())

    def toggle(self, name: str, value) -> str:
        """The link of a facet value: add it if absent, remove it if present."""
        current = getattr(self, name)
        if isinstance(current, tuple):
            new = tuple(v for v in current if v != value)
            if len(new) == len(current):
                new = (*current, value)
        else:
            new = "" if current == value else value
        return self.query_string(**{name: new})

    def facet_link(self, name: str, value, selected: bool) -> str:
        """The link of a counted facet value: adds it, or removes it when selected."""
        current = getattr(self, name)
        if not isinstance(current, tuple):
            return self.query_string(**{name: "" if selected else value})
        if name == "ihc":  # "ALK:positive"; a marker's name in any case is the same marker
            marker, _, result = str(value).rpartition(":")
            value = (marker, result)
            same = lambda v: (v[0].lower(), v[1]) == (marker.lower(), result)  # noqa: E731
        else:
            same = lambda v: v == value  # noqa: E731
        kept = tuple(v for v in current if not same(v))
        return self.query_string(**{name: kept if selected else (*kept, value)})

    def without(self, name: str) -> str:
        empty = () if isinstance(getattr(self, name), tuple) else ""
        return self.query_string(**{name: empty})

    @property
    def columns(self) -> tuple[str, ...]:
        """The table's columns: those chosen, else every one."""
        return self.cols or tuple(COLUMNS)

    def column_sort_link(self, column: str) -> str:
        """A table header's link: sort by it, or the other way when it is the sort."""
        key = COLUMN_SORT_KEYS[column]
        return self.query_string(sort="-" + key if self.sort == key else key)

    @property
    def presentation(self) -> SearchParams:
        """These cases shown another way: the same search without the view and columns."""
        return replace(self, view="cards", cols=())

    @property
    def is_empty(self) -> bool:
        return not replace(
            self, sort="relevance", page=1, per_page=DEFAULT_PAGE_SIZE, view="cards", cols=()
        ).as_pairs()

    @property
    def has_filters(self) -> bool:
        return not self.is_empty


def _raw_many(query, name: str) -> list[str]:
    if hasattr(query, "getlist"):
        return [str(v) for v in query.getlist(name)]
    values = query.get(name, [])
    return [values] if isinstance(values, str) else [str(v) for v in values]
